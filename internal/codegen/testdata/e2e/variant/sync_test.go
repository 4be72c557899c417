// This test runs in the package `stagesync gen` generates for a hand-written
// read query with an alias, no typename and unusual variables: see
// internal/codegen's TestGenerateE2E.

package variant

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

func TestVariantSync(t *testing.T) {
	sdl, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("schema.graphql", string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	src, dst := stagetest.NewServer(t, s), stagetest.NewServer(t, s)
	stage := func(name string, srv *stagetest.Server) *stagesync.Stage {
		return stagesync.NewStage(name, srv.URL, srv.Token, stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
			stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond))
	}
	source, dest := stage("source", src), stage("dest", dst)
	for _, name := range []string{"Alpha", "Beta", "Gamma"} {
		if _, err := src.Stage.Seed("Hotel", "DRAFT", map[string]any{"name": name, "stars": 3}); err != nil {
			t.Fatal(err)
		}
	}
	var entries []ReadHotelsItemsHotel // genqlient's own name: the query has no typename
	model := HotelModel(func(_ context.Context, e *ReadHotelsItemsHotel) error {
		entries = append(entries, *e)
		return nil
	})
	ctx := context.Background()
	state := stagesync.NewState(src.URL, dst.URL)
	report, _, err := stagesync.Sync(ctx, stagesync.SyncConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state,
		Typed: []stagesync.Model{model}, PageSize: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Failures() {
		t.Errorf("failure: %+v", f)
	}
	if len(entries) != 3 {
		t.Errorf("%d entries transformed, want 3", len(entries))
	}
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state, Models: []string{"Hotel"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}
}
