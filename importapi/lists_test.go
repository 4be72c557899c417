package importapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

const placesYAML = `
locales: [en, de]
components:
  Address:
    street: String
    city: City
models:
  City:
    name: String! unique
  Place:
    name: String! unique
    tags: "[String]"
    note: String localized
    address: Address
    near: "[Place]"
`

// TestNDFRoundTripListsComponents: scalar lists (the lists files), a
// component with a relation inside, a self relation in order, published
// versions with a different draft on top.
func TestNDFRoundTripListsComponents(t *testing.T) {
	sdl, err := schema.SynthesizeDescription([]byte(placesYAML))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("places.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	src := stagetest.NewServer(t, s)
	st := src.Stage
	cities, err := st.Seed("City", "PUBLISHED", map[string]any{"name": "Lisbon"}, map[string]any{"name": "Porto"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Seed("Place", "PUBLISHED", map[string]any{"name": "A", "tags": []any{"x", "y"}, "note": "old",
		"address":       map[string]any{"create": map[string]any{"street": "Rua 1", "city": map[string]any{"connect": map[string]any{"id": cities[1]}}}},
		"localizations": map[string]any{"de": map[string]any{"note": "alt"}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Seed("Place", "DRAFT", map[string]any{"name": "B", "tags": []any{"z"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Seed("Place", "DRAFT", map[string]any{"name": "C", "near": []any{b[0], a[0]}})
	if err != nil {
		t.Fatal(err)
	}
	_ = c
	if err := st.Update(t.Context(), "Place", a[0], map[string]any{"tags": []any{"x", "y", "new"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := importapi.Export(t.Context(), localStage("source", src), s, dir, importapi.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	lists, err := os.ReadFile(filepath.Join(dir, "lists", "000001.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lists), `"tags":["x","y","new"]`) || !strings.Contains(string(lists), `"_stage":"PUBLISHED","_typeName":"Place"`) {
		t.Errorf("lists file:\n%s", lists)
	}

	dst := stagetest.NewServer(t, s)
	dest := localStage("destination", dst)
	state := stagesync.NewState("snapshot", dest.Endpoint())
	cfg := stagesync.SyncConfig{Dest: dest, DestSchema: s, State: state}
	report, _, err := importapi.Import(t.Context(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("import failed: %+v", report.Failures())
	}
	diffs, err := stagesync.Compare(t.Context(), stagesync.CompareConfig{Source: localStage("source", src), Dest: dest, SourceSchema: s, DestSchema: s, State: state})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("destination differs: %s", d)
	}
	written := dst.Stage.Counters().EntriesWritten
	if _, plan, err := importapi.Import(t.Context(), dir, cfg); err != nil || plan.Writes() || dst.Stage.Counters().EntriesWritten != written {
		t.Errorf("second import: err %v, writes %v", err, plan.Models())
	}
}
