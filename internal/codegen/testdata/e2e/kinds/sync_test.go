// This test runs in the package `stagesync gen` generates from
// testdata/kinds.yaml, in a temporary module: see internal/codegen's
// TestGenerateE2E.

package kinds

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// optional are the optional fields of Thing, one of every kind.
var optional = []string{"text", "count", "ratio", "flag", "at", "day", "data", "body", "big", "color", "place", "mood", "label"}

func fastStage(name string, srv *stagetest.Server) *stagesync.Stage {
	return stagesync.NewStage(name, srv.URL, srv.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond))
}

// TestNullsStayNull syncs things whose optional fields are all null, all
// zero, or all set, through the generated typed model: nulls arrive as nil
// pointers in the typed entry and stay null in the destination, zeros stay
// zeros, and values round-trip unchanged, in the draft, the published
// version and the other locale.
func TestNullsStayNull(t *testing.T) {
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

	richText := map[string]any{"children": []any{map[string]any{"type": "paragraph", "children": []any{map[string]any{"text": "Hi"}}}}}
	values := map[string]any{
		"name": "values", "text": "hello", "count": 42, "ratio": 2.5, "flag": true,
		"at": "2024-05-01T12:00:00.000Z", "day": "2024-05-01",
		"data": map[string]any{"k": []any{1, "two", nil, 3.25}, "nested": map[string]any{"null": nil}},
		"body": richText, "big": int64(1) << 50, "color": map[string]any{"hex": "#ff0000"},
		"place": map[string]any{"latitude": 52.52, "longitude": 13.405}, "mood": "SAD",
		"words": []any{"a", "b"}, "label": "label",
		"localizations": map[string]any{"de": map[string]any{"label": "Etikett"}},
	}
	zeros := map[string]any{
		"name": "zeros", "text": "", "count": 0, "ratio": 0.0, "flag": false, "big": 0, "data": map[string]any{},
		"words": []any{}, "label": "",
		"localizations": map[string]any{"de": map[string]any{"label": ""}},
	}
	nulls := map[string]any{"name": "nulls"}
	if _, err := src.Stage.Seed("Thing", "PUBLISHED", nulls, zeros, values); err != nil {
		t.Fatal(err)
	}
	// Published with values, then every value cleared in the draft.
	cleared := map[string]any{}
	for k, v := range values {
		cleared[k] = v
	}
	cleared["name"] = "cleared"
	ids, err := src.Stage.Seed("Thing", "PUBLISHED", cleared)
	if err != nil {
		t.Fatal(err)
	}
	nullAll := map[string]any{}
	for _, f := range optional {
		nullAll[f] = nil
	}
	if err := src.Stage.Update(ctx, "Thing", ids[0], nullAll); err != nil {
		t.Fatal(err)
	}
	// Draft only, with a null in the other locale.
	if _, err := src.Stage.Seed("Thing", "DRAFT", map[string]any{"name": "draft", "count": 7,
		"localizations": map[string]any{"de": map[string]any{"label": nil}}}); err != nil {
		t.Fatal(err)
	}

	// The typed entries as the transform sees them.
	var mu sync.Mutex
	seen := map[string][]Thing{}
	model := ThingModel(func(_ context.Context, e *Thing) error {
		mu.Lock()
		defer mu.Unlock()
		seen[e.Name] = append(seen[e.Name], *e)
		return nil
	})
	state := stagesync.NewState(src.URL, dst.URL)
	report, _, err := stagesync.Sync(ctx, stagesync.SyncConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state,
		Typed: []stagesync.Model{model},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Failures() {
		t.Errorf("failure: %+v", f)
	}

	// Null is nil in the typed entry, zero is not.
	for _, name := range []string{"nulls", "zeros", "values"} {
		if len(seen[name]) != 2 { // the draft and the published version
			t.Fatalf("%s transformed %d times, want 2", name, len(seen[name]))
		}
	}
	v := reflect.ValueOf(seen["nulls"][0])
	pointers := 0
	for i := range v.NumField() {
		f, ft := v.Field(i), v.Type().Field(i)
		if f.Kind() != reflect.Pointer || ft.Name == "PublishedAt" {
			continue
		}
		pointers++
		if !f.IsNil() {
			t.Errorf("nulls: %s is %v, want nil", ft.Name, f.Elem().Interface())
		}
	}
	if pointers != len(optional) {
		t.Errorf("Thing has %d optional (pointer) fields, want %d", pointers, len(optional))
	}
	z := seen["zeros"][0]
	if z.Text == nil || *z.Text != "" || z.Count == nil || *z.Count != 0 || z.Flag == nil || *z.Flag || z.Big == nil || *z.Big != 0 || z.Data == nil {
		t.Errorf("zeros as typed: %+v", z)
	}

	// The destination holds what the source holds, null for null.
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state, Models: []string{"Thing"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}
	byName := func(stage *stagetest.Stage, st string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, e := range stage.All("Thing", st) {
			out[e["name"].(string)] = e
		}
		return out
	}
	for _, st := range []string{"DRAFT", "PUBLISHED"} {
		want, got := byName(src.Stage, st), byName(dst.Stage, st)
		if len(got) != len(want) {
			t.Errorf("%s: %d things in the destination, want %d", st, len(got), len(want))
		}
		for name, w := range want {
			g := got[name]
			for _, f := range append(optional, "localizations") {
				wv, gv := w[f], g[f]
				if f == "localizations" {
					wv, gv = nonNull(wv), nonNull(gv)
				}
				wj, _ := json.Marshal(wv)
				gj, _ := json.Marshal(gv)
				if string(wj) != string(gj) {
					t.Errorf("%s %s.%s: got %s, want %s", st, name, f, gj, wj)
				}
			}
		}
		if st == "DRAFT" {
			for _, f := range optional {
				if x, ok := got["nulls"][f]; ok && x != nil {
					t.Errorf("nulls.%s is %v in the destination, want null", f, x)
				}
			}
		}
	}
}

// nonNull returns localizations (locale -> field -> value) without their
// null values and empty locales: a locale whose localized fields are all
// null reads the same through the API as no localization at all. (Lists
// are not compared either: Hygraph reads an unset list as [], so the
// stored form does not matter.)
func nonNull(x any) any {
	locs, _ := x.(map[string]any)
	out := map[string]any{}
	for l, v := range locs {
		vals, _ := v.(map[string]any)
		kept := map[string]any{}
		for k, y := range vals {
			if y != nil {
				kept[k] = y
			}
		}
		if len(kept) > 0 {
			out[l] = kept
		}
	}
	return out
}
