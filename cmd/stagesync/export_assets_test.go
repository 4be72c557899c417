package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/filestack/filestacktest"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// TestExportImportAssetsCommand: export --assets, then import into a stage
// on the new asset system, which fetches each file from the snapshot.
func TestExportImportAssetsCommand(t *testing.T) {
	sdl, err := schema.SynthesizeDescription([]byte(`
locales: [en]
assets:
  system: upload
  fields:
    alt: String
models:
  Post:
    title: String! unique
    cover: Asset
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("gallery.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	src := stagetest.NewServer(t, s, stagetest.WithAssets(filestacktest.NewServer(t), "SRC"))
	dstFS := filestacktest.NewServer(t)
	dst := stagetest.NewServer(t, s, stagetest.WithAssets(dstFS, "DST"), stagetest.WithUploadMode(stagetest.UploadOnNextRequest))
	for i := range 2 {
		id, err := src.Stage.SeedAsset(fmt.Sprintf("a%d.txt", i), "text/plain", []byte(strings.Repeat("x", 100+i)), map[string]any{"alt": fmt.Sprint("alt ", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Stage.Seed("Post", "DRAFT", map[string]any{"title": fmt.Sprint("Post ", i), "cover": id}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap")
	code, stdout, stderr := runCLI(t, "export", "--from", src.URL, "--from-token-env", "SRC_TOKEN", "-o", snap, "--assets", "-q")
	if code != exitOK || !strings.Contains(stdout, "2 asset files") {
		t.Fatalf("export --assets: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "import", snap, "--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000", "--yes", "-q", "--state", filepath.Join(dir, "state.db"))
	if code != exitOK {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	assets := dst.Stage.All("Asset", "DRAFT")
	if len(assets) != 2 || len(dstFS.Files("DST")) != 2 {
		t.Fatalf("destination: %d assets, %d files; want 2 and 2", len(assets), len(dstFS.Files("DST")))
	}
	for _, p := range dst.Stage.All("Post", "DRAFT") {
		if p["cover"] == nil {
			t.Errorf("post %v lost its cover", p["title"])
		}
	}
}
