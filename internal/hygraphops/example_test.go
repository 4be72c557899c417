package hygraphops_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/stagesync/stagesync/internal/hygraphops"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// Example copies an asset the way the new asset system does: create it from
// the source file's URL, wait for the upload, publish it. The stage is an
// emulated one serving the package's own schema.
func Example() {
	s, err := schema.Load("schema.graphql")
	if err != nil {
		panic(err)
	}
	st, err := stagetest.NewStage(s)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	srv := httptest.NewServer(st)
	defer srv.Close()

	ctx := context.Background()
	c := stagesync.NewStage("master", srv.URL, "token").Client()
	url, name := "https://example.com/photo.png", "photo.png"
	created, err := hygraphops.CreateAsset(ctx, c, hygraphops.AssetCreateInput{UploadUrl: &url, FileName: &name})
	if err != nil {
		panic(err)
	}
	up, err := hygraphops.ReadAssetUpload(ctx, c, created.CreateAsset.Id)
	if err != nil {
		panic(err)
	}
	fmt.Println("upload:", *up.Asset.Upload.Status)
	if _, err := hygraphops.PublishAssets(ctx, c, []string{created.CreateAsset.Id}, nil); err != nil {
		panic(err)
	}
	page, err := hygraphops.ReadAssets(ctx, c, 100, nil, hygraphops.StagePublished)
	if err != nil {
		panic(err)
	}
	for _, a := range page.Assets {
		fmt.Println("published:", a.FileName, a.PublishedAt != nil)
	}
	// Output:
	// upload: ASSET_UPLOAD_COMPLETE
	// published: photo.png true
}
