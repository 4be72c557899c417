package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/filestack/filestacktest"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// travelDesc is a project whose hotels reference destinations, reviews
// and assets; system is the asset system ("upload" or "legacy").
const travelDesc = `locales: [en]
assets:
  system: %SYSTEM%
models:
  Destination:
    name: String! unique
    hotels: "[Hotel] <- destination"
  Hotel:
    name: String! unique
    destination: Destination -> hotels
    reviews: "[Review] -> hotel"
    photos: "[Asset]"
  Review:
    title: String!
    hotel: Hotel <- reviews
`

// travelPair starts a seeded source and an empty destination on the asset
// system, each with an asset bucket, and returns the CLI arguments of a
// command between them.
// With a Filestack emulator (fs), both stages keep their files in it, in
// the buckets of the keys "source-key" and "dest-key".
func travelPair(t *testing.T, system string, fs ...*filestacktest.Server) (src, dst *stagetest.Server, args func(cmd string, extra ...string) []string) {
	t.Helper()
	sdl, err := schema.SynthesizeDescription([]byte(strings.Replace(travelDesc, "%SYSTEM%", system, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("travel.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	srcAssets, dstAssets := stagetest.WithAssets(nil, ""), stagetest.WithAssets(nil, "")
	if len(fs) > 0 {
		srcAssets, dstAssets = stagetest.WithAssets(fs[0], "source-key"), stagetest.WithAssets(fs[0], "dest-key")
	}
	src = stagetest.NewServer(t, s, srcAssets)
	dst = stagetest.NewServer(t, s, dstAssets, stagetest.WithUploadMode(stagetest.UploadOnNextRequest))
	photo, err := src.Stage.SeedAsset("photo.png", "image/png", []byte("a png"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Stage.Publish("Asset", photo); err != nil {
		t.Fatal(err)
	}
	dest, err := src.Stage.Seed("Destination", "PUBLISHED", map[string]any{"name": "Lisbon"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Ritz", "Ibis"} {
		h, err := src.Stage.Seed("Hotel", "PUBLISHED", map[string]any{"name": name, "destination": dest[0], "photos": []any{photo}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Stage.Seed("Review", "PUBLISHED", map[string]any{"title": "Nice", "hotel": h[0]}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	return src, dst, func(cmd string, extra ...string) []string {
		return append([]string{cmd, "--from", src.URL, "--from-token-env", "SRC_TOKEN",
			"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000",
			"--state", filepath.Join(dir, "state.db")}, extra...)
	}
}

// photosOf returns the photo ids of the destination's hotels.
func photosOf(dst *stagetest.Server) map[string][]any {
	out := map[string][]any{}
	for _, h := range dst.Stage.All("Hotel", "DRAFT") {
		list, _ := h["photos"].([]any)
		out[h["name"].(string)] = list
	}
	return out
}

func TestSyncCommandAssetsByDefault(t *testing.T) {
	_, dst, args := travelPair(t, "upload")
	code, stdout, stderr := runCLI(t, args("sync")...)
	if code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "Hotel.photos reference Asset: copying assets") {
		t.Errorf("stderr does not say assets are copied:\n%s", stderr)
	}
	assets := dst.Stage.All("Asset", "DRAFT")
	if len(assets) != 1 {
		t.Fatalf("the destination has %d assets, want 1", len(assets))
	}
	for name, photos := range photosOf(dst) {
		if len(photos) != 1 || photos[0] != assets[0]["id"] {
			t.Errorf("%s photos %v, want [%v]", name, photos, assets[0]["id"])
		}
	}
}

func TestSyncCommandAssetsFlag(t *testing.T) {
	_, dst, args := travelPair(t, "upload")
	code, stdout, stderr := runCLI(t, args("sync", "--assets", "-q")...)
	if code != exitOK {
		t.Fatalf("sync --assets: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(dst.Stage.All("Asset", "DRAFT")); n != 1 {
		t.Errorf("the destination has %d assets, want 1", n)
	}
	if code, _, stderr := runCLI(t, args("sync", "--assets", "--skip-assets")...); code != exitUsage || !strings.Contains(stderr, "--assets and --skip-assets") {
		t.Errorf("--assets --skip-assets: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
}

func TestSyncCommandSkipAssets(t *testing.T) {
	_, dst, args := travelPair(t, "upload")
	code, stdout, stderr := runCLI(t, args("sync", "--skip-assets")...)
	if code != exitOK {
		t.Fatalf("sync --skip-assets: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(dst.Stage.All("Asset", "DRAFT")); n != 0 {
		t.Errorf("the destination has %d assets, want none", n)
	}
	photos := photosOf(dst)
	if len(photos) != 2 {
		t.Fatalf("the destination has %d hotels, want 2", len(photos))
	}
	for name, p := range photos {
		if len(p) != 0 {
			t.Errorf("%s photos %v, want none (no asset in the destination)", name, p)
		}
	}
}

func TestSyncCommandAssetsNeedADecision(t *testing.T) {
	// On the legacy asset system copying needs the bucket's key: without
	// --assets-key-env the user decides.
	src, dst, args := travelPair(t, "legacy")
	code, stdout, stderr := runCLI(t, args("sync")...)
	if code != exitUsage {
		t.Fatalf("sync: exit %d, want %d\n%s\n%s", code, exitUsage, stdout, stderr)
	}
	for _, want := range []string{"Hotel.photos references Asset", "--assets-key-env", "--skip-assets"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// One query per stage: its introspection, done once.
	if q, m := src.Stage.Counters().Queries+dst.Stage.Counters().Queries, dst.Stage.Counters().Mutations; q != 2 || m != 0 {
		t.Errorf("the refused sync ran %d queries (want the 2 introspections) and %d mutations", q, m)
	}
}

// TestSyncCommandLegacyAssets: on the legacy asset system the CLI copies
// the files into the destination's bucket with its key (--assets-key-env)
// through the Filestack API at --filestack-url (here an emulated one); the
// second run stores no file.
func TestSyncCommandLegacyAssets(t *testing.T) {
	fs := filestacktest.NewServer(t)
	src, dst, args := travelPair(t, "legacy", fs)
	t.Setenv("DST_FILESTACK_KEY", "dest-key")
	flags := []string{"--assets-key-env", "DST_FILESTACK_KEY", "--filestack-url", fs.URL(), "-q"}
	code, stdout, stderr := runCLI(t, args("sync", flags...)...)
	if code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := src.Stage.AssetBucket().Files()
	got := dst.Stage.AssetBucket().Files()
	if len(want) != 1 || len(got) != 1 {
		t.Fatalf("buckets: source %d files, destination %d; want 1 and 1", len(want), len(got))
	}
	if got[0].SHA256 != want[0].SHA256 || got[0].Handle == want[0].Handle {
		t.Errorf("the destination's file %+v, want a copy of the source's %+v in its own bucket", got[0], want[0])
	}
	assets := dst.Stage.All("Asset", "DRAFT")
	for name, photos := range photosOf(dst) {
		if len(assets) != 1 || len(photos) != 1 || photos[0] != assets[0]["id"] {
			t.Errorf("%s photos %v, want the copied asset %v", name, photos, assets)
		}
	}
	uploads := fs.Counters()
	if code, stdout, stderr := runCLI(t, args("sync", flags...)...); code != exitOK {
		t.Fatalf("second sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if after := fs.Counters(); after != uploads {
		t.Errorf("the second sync called Filestack: %+v, then %+v", uploads, after)
	}
	if code, _, stderr := runCLI(t, args("sync", "--assets-key-env", "DST_FILESTACK_KEY", "--filestack-url", "not a url")...); code != exitUsage || !strings.Contains(stderr, "--filestack-url") {
		t.Errorf("--filestack-url \"not a url\": exit %d, want %d\n%s", code, exitUsage, stderr)
	}
}

// TestSyncCommandLegacyAssetsConfig: the same from stagesync.yaml, whose
// destination stage names the key's variable and the Filestack URL.
func TestSyncCommandLegacyAssetsConfig(t *testing.T) {
	fs := filestacktest.NewServer(t)
	src, dst, _ := travelPair(t, "legacy", fs)
	t.Setenv("DST_FILESTACK_KEY", "dest-key")
	dir := t.TempDir()
	config := filepath.Join(dir, "stagesync.yaml")
	yaml := fmt.Sprintf(`stages:
  src: {endpoint: %q, token_env: SRC_TOKEN}
  dst:
    endpoint: %q
    token_env: DST_TOKEN
    assets: {system: legacy, key_env: DST_FILESTACK_KEY, filestack_url: %q}
sync: [{from: src, to: dst, state: state.db, rate: 1000}]
`, src.URL, dst.URL, fs.URL())
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "sync", "--config", config, "--assets", "--yes", "-q")
	if code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(dst.Stage.AssetBucket().Files()); n != 1 {
		t.Errorf("the destination's bucket has %d files, want 1", n)
	}
}

func TestPlanCommandSubsetFails(t *testing.T) {
	_, dst, args := travelPair(t, "upload")
	code, stdout, stderr := runCLI(t, args("plan", "--models", "Destination,Hotel", "--skip-assets")...)
	if code != exitFailures {
		t.Fatalf("plan: exit %d, want %d\n%s\n%s", code, exitFailures, stdout, stderr)
	}
	// model, create, update, unchanged, delete, orphaned, publish, unpublish, skipped, failed
	if got := tableRow(stdout, "Hotel"); got != "Hotel 0 0 0 0 0 0 0 0 2" {
		t.Errorf("plan row of Hotel %q:\n%s", got, stdout)
	}
	for _, want := range []string{"3 would fail:", // the hotels, and the destination linking them (one entry, two reasons)
		"include Review in --models or sync it first", "Destination.hotels: Hotel"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, stdout)
		}
	}
	if n := dst.Stage.Counters().Mutations; n != 0 {
		t.Errorf("plan ran %d mutations", n)
	}
}

// TestPlanCommandFailuresCapped: a plan whose entries would fail prints
// the first maxFailureLines of them and says how many more there are.
func TestPlanCommandFailuresCapped(t *testing.T) {
	src, _, args := travelPair(t, "upload")
	for i := range 30 {
		h, err := src.Stage.Seed("Hotel", "DRAFT", map[string]any{"name": fmt.Sprintf("Hotel %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Stage.Seed("Review", "DRAFT", map[string]any{"title": "Fine", "hotel": h[0]}); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, args("plan", "--models", "Destination,Hotel", "--skip-assets")...)
	if code != exitFailures {
		t.Fatalf("plan: exit %d, want %d\n%s\n%s", code, exitFailures, stdout, stderr)
	}
	entries := 0
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "  ") && strings.Contains(line, ": relation: ") { // an entry's first reason
			entries++
		}
	}
	// 32 hotels and the destination linking two of them.
	if !strings.Contains(stdout, "33 would fail:") || entries != maxFailureLines ||
		!strings.Contains(stdout, "... and 13 more entries that would fail (plan --json lists every one)") {
		t.Errorf("%d entry lines, want %d and the count of the rest:\n%s", entries, maxFailureLines, stdout)
	}
}
