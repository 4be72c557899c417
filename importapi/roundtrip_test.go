package importapi_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// hotelsSchema is the hotels example's delta stage: two-way relations,
// rich text, a location, an enum and German localizations.
func hotelsSchema(t testing.TB) *ast.Schema {
	t.Helper()
	s, err := schema.Load("../examples/hotels/schema/delta.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func localStage(name string, s *stagetest.Server) *stagesync.Stage {
	return stagesync.NewStage(name, s.URL, s.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond),
		stagesync.WithMaxConcurrency(8))
}

func richText(s string) map[string]any {
	return map[string]any{"children": []any{map[string]any{"type": "paragraph", "children": []any{map[string]any{"text": s}}}}}
}

// seedHotels fills st with destinations, hotels and reviews: some entries
// published, some published with a newer draft on top, German taglines in
// both stages.
func seedHotels(t testing.TB, st *stagetest.Stage, n int) {
	t.Helper()
	ctx := context.Background()
	var dests []string
	for i := range max(1, n/5) {
		stage := "DRAFT"
		if i%2 == 0 {
			stage = "PUBLISHED"
		}
		ids, err := st.Seed("Destination", stage, map[string]any{
			"name": fmt.Sprintf("Destination %d", i), "slug": fmt.Sprintf("destination-%d", i),
			"country": "Portugal", "description": richText(fmt.Sprintf("About destination %d.", i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		dests = append(dests, ids...)
	}
	for i := range n {
		d := dests[i%len(dests)]
		stage := "DRAFT"
		if i%3 != 2 && (i%len(dests))%2 == 0 {
			stage = "PUBLISHED"
		}
		ids, err := st.Seed("Hotel", stage, map[string]any{
			"name": fmt.Sprintf("Hotel %d", i), "slug": fmt.Sprintf("hotel-%d", i),
			"tagline": fmt.Sprintf("Stay at hotel %d", i), "stars": int64(1 + i%5),
			"location":      map[string]any{"latitude": 38.7 + float64(i)/100, "longitude": -9.1},
			"destination":   d,
			"localizations": map[string]any{"de": map[string]any{"tagline": fmt.Sprintf("Übernachten im Hotel %d", i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if stage == "PUBLISHED" && i%2 == 0 {
			// A published entry with a newer draft on top.
			if err := st.Update(ctx, "Hotel", ids[0], map[string]any{"tagline": fmt.Sprintf("Now renovated: hotel %d", i), "stars": int64(5)}); err != nil {
				t.Fatal(err)
			}
		}
		for r := range 2 {
			rs := "DRAFT"
			if stage == "PUBLISHED" && r == 0 {
				rs = "PUBLISHED"
			}
			if _, err := st.Seed("Review", rs, map[string]any{
				"title": fmt.Sprintf("Review %d of hotel %d", r, i), "rating": []string{"ONE", "THREE", "FIVE"}[(i+r)%3],
				"body": "Quiet & clean – \"great\" breakfast.", "hotel": ids[0],
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNDFRoundTripHotels exports a hotels stage to a snapshot, imports the
// snapshot into an empty stage through the sync engine, compares the
// destination with the source, and imports again: nothing is written.
func TestNDFRoundTripHotels(t *testing.T) {
	s := hotelsSchema(t)
	src := stagetest.NewServer(t, s)
	seedHotels(t, src.Stage, 20)
	dst := stagetest.NewServer(t, s)
	ctx := t.Context()
	dir := t.TempDir()

	man, err := importapi.Export(ctx, localStage("source", src), s, dir, importapi.ExportOptions{MaxFileSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Files) < 3 {
		t.Errorf("with 16 KB files, the snapshot should have several files, got %+v", man.Files)
	}
	wantCounts := map[string]int{"Hotel/DRAFT": 20, "Hotel/DRAFT/de": 20, "Review/DRAFT": 40, "Destination/DRAFT": 4}
	for _, c := range man.Counts {
		k := c.Model + "/" + c.Stage
		if c.Locale != "" {
			k += "/" + c.Locale
		}
		if want, ok := wantCounts[k]; ok && want != c.Entries {
			t.Errorf("manifest count %s = %d, want %d", k, c.Entries, want)
		}
	}

	dest := localStage("destination", dst)
	state := stagesync.NewState("snapshot", dest.Endpoint())
	report, _, err := importapi.Import(ctx, dir, stagesync.SyncConfig{Dest: dest, DestSchema: s, State: state, SkipAssets: true}) // the hotels have no photos here
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("import failed: %+v", report.Failures())
	}
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
		Source: localStage("source", src), Dest: dest, SourceSchema: s, DestSchema: s, State: state,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("destination differs from the source: %s", d)
	}
	if n := len(dst.Stage.All("Hotel", "PUBLISHED")); n == 0 {
		t.Error("no hotel was published in the destination")
	}

	// The destination exported: the same content up to ids.
	again, err := importapi.Export(ctx, dest, s, t.TempDir(), importapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(man.ContentHashes) == 0 {
		t.Error("the manifest has no content hashes")
	}
	for k, h := range man.ContentHashes {
		if again.ContentHashes[k] != h {
			t.Errorf("content hash %s: source snapshot %s, destination snapshot %s", k, h, again.ContentHashes[k])
		}
	}
	for k := range again.ContentHashes {
		if _, ok := man.ContentHashes[k]; !ok {
			t.Errorf("the destination's snapshot has %s, the source's not", k)
		}
	}

	written := dst.Stage.Counters().EntriesWritten
	report, plan, err := importapi.Import(ctx, dir, stagesync.SyncConfig{Dest: dest, DestSchema: s, State: state, SkipAssets: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Writes() || dst.Stage.Counters().EntriesWritten != written {
		t.Errorf("the second import wrote: plan %+v, entries written %d → %d", plan.Models(), written, dst.Stage.Counters().EntriesWritten)
	}
	for _, m := range report.Models() {
		if m.Created+m.Updated+m.Published > 0 {
			t.Errorf("second import: %+v", m)
		}
	}
}
