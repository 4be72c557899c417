package hygraphops

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// systemSchema synthesizes the schema of a project with no content models
// on the given asset system ("legacy" or "upload"): what a real stage of
// that system serves, without legacy_assets.graphqls.
func systemSchema(t *testing.T, assets string) *ast.Schema {
	t.Helper()
	sdl, err := schema.SynthesizeDescription([]byte("locales: [en]\nassets: " + assets + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString(assets+".graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOperationsValidatePerSystem checks that every operation is valid
// against the real schema of each asset system it is for: the committed
// schema is a superset of both.
func TestOperationsValidatePerSystem(t *testing.T) {
	newOnly := []string{"ReadAssetUpload"}
	files, err := filepath.Glob(filepath.Join("queries", "*.graphql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no operations: %v", err)
	}
	for _, system := range []string{"legacy", "upload"} {
		s := systemSchema(t, system)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc, gerr := parser.ParseQuery(&ast.Source{Name: file, Input: string(b)})
			if gerr != nil {
				t.Fatal(gerr)
			}
			for _, op := range doc.Operations {
				if system == "legacy" && slices.Contains(newOnly, op.Name) {
					continue
				}
				one := &ast.QueryDocument{Operations: ast.OperationList{op}}
				if errs := validator.ValidateWithRules(s, one, nil); len(errs) > 0 {
					t.Errorf("%s: %s is not valid on the %s asset system: %v", file, op.Name, system, errs)
				}
			}
		}
	}
}

// serve starts an emulated stage serving s and returns a client for it.
func serve(t *testing.T, s *ast.Schema) *stagesync.Stage {
	t.Helper()
	srv := stagetest.NewServer(t, s)
	return stagesync.NewStage("test", srv.URL, srv.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 10*time.Millisecond))
}

func ptr[T any](v T) *T { return &v }

func TestLegacyAssetLifecycle(t *testing.T) {
	ctx := context.Background()
	c := serve(t, systemSchema(t, "legacy")).Client()

	ref, err := CreateAsset(ctx, c, AssetCreateInput{
		Handle: ptr("h4ndl3"), FileName: ptr("photo.png"), MimeType: ptr("image/png"),
		Size: ptr(1234.0), Width: ptr(640.0), Height: ptr(480.0),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := ref.CreateAsset.Id
	if ref.CreateAsset.Handle != "h4ndl3" || !strings.HasPrefix(ref.CreateAsset.Url, "https://") {
		t.Errorf("created %+v", ref.CreateAsset)
	}
	// A second asset with no optional fields: they stay null.
	if _, err := CreateAsset(ctx, c, AssetCreateInput{Handle: ptr("other"), FileName: ptr("other.bin")}); err != nil {
		t.Fatal(err)
	}

	page, err := ReadAssets(ctx, c, 100, nil, StageDraft)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Assets) != 2 {
		t.Fatalf("read %d assets, want 2", len(page.Assets))
	}
	var a, b Asset
	for _, x := range page.Assets {
		if x.Id == id {
			a = x
		} else {
			b = x
		}
	}
	if a.FileName != "photo.png" || a.MimeType == nil || *a.MimeType != "image/png" || a.Width == nil || *a.Width != 640 ||
		a.PublishedAt != nil || len(a.DocumentInStages) != 0 {
		t.Errorf("asset as read: %+v", a)
	}
	if b.MimeType != nil || b.Size != nil || b.Width != nil || b.Height != nil {
		t.Errorf("unset fields are not null: %+v", b)
	}
	// Paging: one per page, the second page after the first id.
	first, err := ReadAssets(ctx, c, 1, nil, StageDraft)
	if err != nil || len(first.Assets) != 1 {
		t.Fatalf("first page: %v %+v", err, first)
	}
	second, err := ReadAssets(ctx, c, 1, &first.Assets[0].Id, StageDraft)
	if err != nil || len(second.Assets) != 1 || second.Assets[0].Id == first.Assets[0].Id {
		t.Fatalf("second page: %v %+v", err, second)
	}

	if _, err := UpdateAsset(ctx, c, id, AssetUpdateInput{FileName: ptr("renamed.png")}); err != nil {
		t.Fatal(err)
	}
	pub, err := PublishAssets(ctx, c, []string{id}, ptr(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.PublishManyAssetsConnection.Edges) != 1 {
		t.Errorf("published %+v", pub.PublishManyAssetsConnection)
	}
	published, err := ReadAssets(ctx, c, 100, nil, StagePublished)
	if err != nil {
		t.Fatal(err)
	}
	if len(published.Assets) != 1 || published.Assets[0].FileName != "renamed.png" || published.Assets[0].Size == nil || *published.Assets[0].Size != 1234 {
		t.Errorf("published assets: %+v", published.Assets)
	}
	if _, err := UnpublishAssets(ctx, c, []string{id}, nil); err != nil {
		t.Fatal(err)
	}
	if after, err := ReadAssets(ctx, c, 100, nil, StagePublished); err != nil || len(after.Assets) != 0 {
		t.Errorf("after unpublish: %v %+v", err, after)
	}
}

func TestUploadAssetLifecycle(t *testing.T) {
	ctx := context.Background()
	s, err := schema.Load("schema.graphql") // the committed schema is on the new asset system
	if err != nil {
		t.Fatal(err)
	}
	c := serve(t, s).Client()
	ref, err := CreateAsset(ctx, c, AssetCreateInput{UploadUrl: ptr("https://example.com/photo.png"), FileName: ptr("photo.png")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := ReadAssetUpload(ctx, c, ref.CreateAsset.Id)
	if err != nil {
		t.Fatal(err)
	}
	if up.Asset == nil || up.Asset.Upload == nil || up.Asset.Upload.Status == nil || *up.Asset.Upload.Status != AssetUploadStatusAssetUploadComplete ||
		up.Asset.Upload.Error != nil {
		t.Errorf("upload state: %+v", up.Asset)
	}
	none, err := ReadAssetUpload(ctx, c, "nope")
	if err != nil || none.Asset != nil {
		t.Errorf("unknown asset: %v %+v", err, none.Asset)
	}
}
