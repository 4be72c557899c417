package stagesync_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/internal/fixturedir"
	"github.com/stagesync/stagesync/stagesync"
)

// TestModelSnapshot round-trips random content through a snapshot: rounds
// of the model test's random source operations (creates, updates, deletes,
// relinks and reorders of every relation kind, publish, unpublish, edits
// after publish, localizations), then the source is exported
// (importapi.Export), the snapshot loaded (importapi.OpenSource) and
// synced into the destination, which must then equal the original source
// entry by entry (modelWorld.checkEqual); a sync from the original source
// must write nothing. The synthesized project, then the blog, social and
// pages-components fixtures.
func TestModelSnapshot(t *testing.T) {
	for _, name := range []string{"synthesized", "blog", "social", "pages-components"} {
		t.Run(name, func(t *testing.T) {
			var sdl string
			if name == "synthesized" {
				sdl = modelSDL(t, modelDescription)
			} else {
				b, err := os.ReadFile(fixturedir.Path(t, name+".graphql"))
				if err != nil {
					t.Fatal(err)
				}
				sdl = string(b)
			}
			for _, seed := range modelSeeds()[:min(2, len(modelSeeds()))] {
				w := newModelWorld(t, name, sdl, seed)
				w.enableOps()
				for range 5 {
					w.randomBatch(5 + w.rng.IntN(20))
				}
				ctx := context.Background()
				dir := filepath.Join(t.TempDir(), "snapshot")
				man, err := importapi.Export(ctx, w.ctl, w.p.srcSchema, dir, importapi.ExportOptions{MaxFileSize: 8 << 10})
				if err != nil {
					t.Fatalf("%s: export: %v", name, err)
				}
				src, err := importapi.OpenSource(ctx, dir)
				if err != nil {
					t.Fatalf("%s: open snapshot: %v", name, err)
				}
				defer src.Close()
				// The snapshot, under the source's endpoint: checkEqual
				// reads the identity map the state keeps for it.
				snapshot := stagesync.NewStage("snapshot", w.p.src.URL, "",
					stagesync.WithHTTPClient(&http.Client{Transport: inProcess{src.Emulator()}}),
					stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}))
				cfg := modelConfig(w.p, w.path, snapshot, nil)
				cfg.SourceSchema = src.Schema
				report, _, err := stagesync.Sync(ctx, cfg)
				if err != nil {
					t.Fatalf("%s: sync from the snapshot: %v", name, err)
				}
				failOnFailures(t, name+": sync from the snapshot", report)
				if w.checkEqual() == 0 {
					w.noop()
				}
				t.Logf("%s: seed %d: %d source operations, snapshot of %d files, %v", name, seed, len(w.log), len(man.Files), man.Counts)
			}
		})
	}
}

// inProcess answers HTTP requests with a handler in this process.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
