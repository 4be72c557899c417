// This test runs in the package `stagesync gen` generates from the
// synthesized schema with the social fixture's content models
// (schema/testdata/synth/social.graphql), after city was removed by hand
// from queries/readAccounts.graphql and go generate was run again: see
// internal/codegen's TestGenerateE2E.

package trimmed

import (
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

func fastStage(name string, srv *stagetest.Server) *stagesync.Stage {
	return stagesync.NewStage(name, srv.URL, srv.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond))
}

// TestTrimmedRead syncs accounts with a read query that does not select
// city: every other field is copied, and city is left as it is in the
// destination (kept where the destination has the entry, null where the
// sync creates it).
func TestTrimmedRead(t *testing.T) {
	if _, ok := reflect.TypeFor[Account]().FieldByName("City"); ok {
		t.Fatal("Account still has City: the glue was not regenerated from the trimmed query")
	}
	sdl, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("schema.graphql", string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	src, dst := stagetest.NewServer(t, s), stagetest.NewServer(t, s)
	source, dest := fastStage("source", src), fastStage("dest", dst)
	ctx := context.Background()

	account := func(i int, lastName, city string) map[string]any {
		return map[string]any{
			"firstName": fmt.Sprintf("First%d", i), "lastName": lastName, "emailAddress": fmt.Sprintf("a%d@example.com", i),
			"password": "secret", "gender": "Female", "city": city, "country": "DE",
		}
	}
	ids, err := src.Stage.Seed("Account", "PUBLISHED", account(0, "New", "Berlin"), account(1, "New", "Hamburg"), account(2, "New", "Munich"))
	if err != nil {
		t.Fatal(err)
	}
	// The destination has the first two already (same ids, as in a cloned
	// environment), with other last names and cities.
	for i, id := range ids[:2] {
		doc := account(i, "Old", "Paris")
		doc["id"] = id
		if _, err := dst.Stage.Seed("Account", "PUBLISHED", doc); err != nil {
			t.Fatal(err)
		}
	}

	state := stagesync.NewState(src.URL, dst.URL)
	report, _, err := stagesync.Sync(ctx, stagesync.SyncConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state,
		Typed:      []stagesync.Model{AccountModel(nil)},
		SkipAssets: true, // Account.avatar references Asset; no account has one
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Failures() {
		t.Errorf("failure: %+v", f)
	}
	for i, id := range ids {
		destID, _ := state.DestID("Account", id)
		if destID == "" {
			destID = id
		}
		for _, stage := range []string{"DRAFT", "PUBLISHED"} {
			got, ok := dst.Stage.Get("Account", destID, stage)
			if !ok {
				t.Fatalf("account %d: not in the destination's %s stage", i, stage)
			}
			if got["lastName"] != "New" {
				t.Errorf("account %d (%s): lastName %v, want New", i, stage, got["lastName"])
			}
			var want any = "Paris" // left alone
			if i == 2 {
				want = nil // created without it
			}
			if got["city"] != want {
				t.Errorf("account %d (%s): city %v, want %v", i, stage, got["city"], want)
			}
		}
	}
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state, Models: []string{"Account"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Field != "city" && d.Field != "published:city" {
			t.Errorf("difference beyond city: %s", d)
		}
	}
	if len(diffs) != 6 {
		t.Errorf("%d differences, want 6 (city in both versions of the three accounts)", len(diffs))
	}
}
