package importapi_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/filestack/filestacktest"
	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

const galleryYAML = `
locales: [en, de]
assets:
  system: legacy
  fields:
    alt: String localized
    caption: String
models:
  Post:
    title: String! unique
    cover: Asset
    gallery: "[Asset]"
`

// TestNDFRoundTripAssets: export --assets writes the asset files with
// their SHA-256; the import re-hosts them into the destination's bucket
// and links the posts to the new assets; a second import copies nothing.
func TestNDFRoundTripAssets(t *testing.T) {
	sdl, err := schema.SynthesizeDescription([]byte(galleryYAML))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("gallery.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	srcFS, dstFS := filestacktest.NewServer(t), filestacktest.NewServer(t)
	src := stagetest.NewServer(t, s, stagetest.WithAssets(srcFS, "SRC"))
	dst := stagetest.NewServer(t, s, stagetest.WithAssets(dstFS, "DST"))
	var assets []string
	for i := range 4 {
		data := bytes.Repeat([]byte(fmt.Sprintf("picture %d ", i)), 500+i)
		fields := map[string]any{"alt": fmt.Sprintf("Picture %d", i), "localizations": map[string]any{"de": map[string]any{"alt": fmt.Sprintf("Bild %d", i)}}}
		id, err := src.Stage.SeedAsset(fmt.Sprintf("p%d.txt", i), "text/plain", data, fields)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := src.Stage.Publish("Asset", id); err != nil {
				t.Fatal(err)
			}
		}
		assets = append(assets, id)
	}
	if _, err := src.Stage.Seed("Post", "PUBLISHED", map[string]any{"title": "One", "cover": assets[0], "gallery": []any{assets[2], assets[0]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Stage.Seed("Post", "DRAFT", map[string]any{"title": "Two", "cover": assets[1], "gallery": []any{assets[3]}}); err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	dir := t.TempDir()
	man, err := importapi.Export(ctx, localStage("source", src), s, dir, importapi.ExportOptions{Assets: true, HTTPClient: srcFS.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Assets) != 4 {
		t.Fatalf("manifest lists %d asset files, want 4", len(man.Assets))
	}
	for _, a := range man.Assets {
		b, err := os.ReadFile(filepath.Join(dir, a.Path))
		if err != nil {
			t.Fatal(err)
		}
		if sum := fmt.Sprintf("%x", sha256.Sum256(b)); sum != a.SHA256 || int64(len(b)) != a.Bytes {
			t.Errorf("asset file %s: %d bytes, sha256 %s; manifest %+v", a.Path, len(b), sum, a)
		}
	}

	dest := localStage("destination", dst)
	state := stagesync.NewState("snapshot", dest.Endpoint())
	cfg := stagesync.SyncConfig{Dest: dest, DestSchema: s, State: state,
		Assets: &stagesync.AssetOptions{Files: dstFS.Client("DST"), PollInterval: 2 * time.Millisecond}}
	report, _, err := importapi.Import(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("import failed: %+v", report.Failures())
	}
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{Source: localStage("source", src), Dest: dest, SourceSchema: s, DestSchema: s, State: state})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("destination differs: %s", d)
	}
	got := dst.Stage.All("Asset", "DRAFT")
	if len(got) != 4 {
		t.Fatalf("destination has %d assets, want 4", len(got))
	}
	for _, a := range got {
		srcID, _ := state.SourceID("Asset", a["id"].(string))
		want, _ := src.Stage.Get("Asset", srcID, "DRAFT")
		if a["alt"] != want["alt"] || a["fileName"] != want["fileName"] {
			t.Errorf("asset %s: %v, want %v", a["id"], a, want)
		}
		r, err := dstFS.Open(a["handle"].(string))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if !strings.HasPrefix(string(b), "picture ") || fmt.Sprint(len(b)) != fmt.Sprint(want["size"]) {
			t.Errorf("asset %s: the destination's file has %d bytes, want %v", a["id"], len(b), want["size"])
		}
	}
	if n := len(dst.Stage.All("Asset", "PUBLISHED")); n != 2 {
		t.Errorf("destination has %d published assets, want 2", n)
	}

	stores := dstFS.Counters()
	written := dst.Stage.Counters().EntriesWritten
	if _, plan, err := importapi.Import(ctx, dir, cfg); err != nil || plan.Writes() || dst.Stage.Counters().EntriesWritten != written {
		t.Errorf("second import: err %v, plan %+v, entries written %d", err, plan.Models(), dst.Stage.Counters().EntriesWritten-written)
	}
	if after := dstFS.Counters(); after.Stores != stores.Stores || after.Uploads != stores.Uploads {
		t.Errorf("the second import stored files again: %+v → %+v", stores, after)
	}

	// A file cut since the export is refused, naming it.
	cut := filepath.Join(dir, man.Assets[1].Path)
	if err := os.WriteFile(cut, []byte("picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := importapi.OpenSource(ctx, dir); err == nil || !strings.Contains(err.Error(), cut) || !strings.Contains(err.Error(), "the manifest says") {
		t.Errorf("a cut asset file: err = %v", err)
	}
}
