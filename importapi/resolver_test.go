package importapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/schema"
)

// TestSourceAnswersReads: a snapshot source answers the content API's
// read queries as the legacy import would have stored the snapshot: legacy
// pairs link both sides in file order, a pair with a _position goes to
// that place, a node imported twice has its fields set over the first,
// list objects are appended; the PUBLISHED version and the localizations
// come with documentInStages and localizations; id_in, single queries and
// skip work (a query without a stage reads PUBLISHED, as on Hygraph);
// mutations and other filters are refused, naming them.
func TestSourceAnswersReads(t *testing.T) {
	dir := writeNDF(t, map[string]string{
		"nodes/000001.json": nodesFile(
			`{"_typeName":"Destination","id":"d1","name":"Lisbon","slug":"lisbon","createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}`,
			`{"_typeName":"Hotel","id":"h1","name":"Tivoli","slug":"tivoli","tagline":"Stay","updatedAt":"2026-01-03T00:00:00.000Z"}`,
			`{"_typeName":"Hotel","id":"h1","_locale":"de","tagline":"Bleib"}`,
			`{"_typeName":"Hotel","id":"h1","_stage":"PUBLISHED","name":"Tivoli","slug":"tivoli","tagline":"Stayed","publishedAt":"2026-01-02T00:00:00.000Z"}`,
			`{"_typeName":"Hotel","id":"h2","name":"Avenida","slug":"avenida","updatedAt":"2026-01-02T00:00:00.000Z"}`,
			`{"_typeName":"Hotel","id":"h3","name":"Palace","slug":"palace","updatedAt":"2026-01-04T00:00:00.000Z"}`,
		),
		"nodes/000002.json": nodesFile(`{"_typeName":"Hotel","id":"h2","tagline":"Central"}`),
		"relations/000001.json": relationsFile(
			`[{"_typeName":"Hotel","id":"h1","fieldName":"destination"},{"_typeName":"Destination","id":"d1","fieldName":"hotels"}]`,
			`[{"_typeName":"Hotel","id":"h2","fieldName":"destination"},{"_typeName":"Destination","id":"d1","fieldName":"hotels"}]`,
			`[{"_typeName":"Destination","id":"d1","fieldName":"hotels","_position":0},{"_typeName":"Hotel","id":"h3","fieldName":"destination"}]`,
		),
	})
	src, err := importapi.OpenSourceWithSchema(t.Context(), dir, hotelsSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	query := func(q string) (string, error) {
		var out json.RawMessage
		err := src.Stage.Do(t.Context(), q, nil, &out)
		return string(out), err
	}
	tests := []struct{ name, query, want string }{
		{"relations in order", `{ destinations(stage: DRAFT, orderBy: id_ASC, first: 10) { id hotels(first: 10) { id } } }`,
			`{"destinations":[{"id":"d1","hotels":[{"id":"h3"},{"id":"h1"},{"id":"h2"}]}]}`},
		{"skip on a relation", `{ destinations(stage: DRAFT) { hotels(first: 1, skip: 1) { id name } } }`,
			`{"destinations":[{"hotels":[{"id":"h1","name":"Tivoli"}]}]}`},
		{"versions and locales", `{ hotels(stage: DRAFT, where: {id_in: ["h1"]}) { id tagline destination { id } localizations(locales: [de], includeCurrent: false) { locale tagline } documentInStages(stages: [PUBLISHED]) { stage tagline publishedAt } } }`,
			`{"hotels":[{"id":"h1","tagline":"Stay","destination":{"id":"d1"},"localizations":[{"locale":"de","tagline":"Bleib"}],"documentInStages":[{"stage":"PUBLISHED","tagline":"Stayed","publishedAt":"2026-01-02T00:00:00.000000+00:00"}]}]}`},
		{"a node imported twice", `{ hotel(stage: DRAFT, where: {id: "h2"}) { name tagline } }`,
			`{"hotel":{"name":"Avenida","tagline":"Central"}}`},
		{"published only", `{ hotels(stage: PUBLISHED) { id } }`, `{"hotels":[{"id":"h1"}]}`},
		{"after and first", `{ hotels(stage: DRAFT, orderBy: id_ASC, after: "h1", first: 1) { id } }`, `{"hotels":[{"id":"h2"}]}`},
		{"latest", `{ hotels(stage: DRAFT, orderBy: updatedAt_DESC, first: 1) { id updatedAt } }`, `{"hotels":[{"id":"h3","updatedAt":"2026-01-04T00:00:00.000000+00:00"}]}`},
		{"updated since", `{ hotels(stage: DRAFT, orderBy: id_ASC, where: {updatedAt_gt: "2026-01-02T12:00:00.000Z"}) { id } }`, `{"hotels":[{"id":"h1"},{"id":"h3"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := query(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []struct{ query, want string }{
		{`mutation { deleteHotel(where: {id: "h1"}) { id } }`, "read-only"},
		{`{ hotels(where: {name: "Tivoli"}) { id } }`, "not name"},
	} {
		if _, err := query(bad.query); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one saying %q", bad.query, err, bad.want)
		}
	}
}

// TestSourceComponentRelations: relations inside components are checked
// once every node is read — 2,500 of them, more than one slice of the
// index's pending references — and read back as relations; a component
// relation to a node the snapshot lacks is refused, naming it.
func TestSourceComponentRelations(t *testing.T) {
	sdl, err := schema.SynthesizeDescription([]byte(placesYAML))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("places.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500
	write := func(missing bool) string {
		dir := t.TempDir()
		w := importapi.NewWriter(dir, importapi.Nodes, 0)
		for i := range n {
			city := fmt.Sprintf("city%d", (i+1)%n)
			if missing && i == n-1 {
				city = "nowhere"
			}
			for _, node := range []importapi.Node{
				{TypeName: "Place", ID: fmt.Sprintf("place%d", i), Fields: map[string]any{"name": fmt.Sprint("Place ", i),
					"address": map[string]any{"__typename": "Address", "id": fmt.Sprintf("addr%d", i), "street": "Main", "city": map[string]any{"_typeName": "City", "id": city}}}},
				{TypeName: "City", ID: fmt.Sprintf("city%d", i), Fields: map[string]any{"name": fmt.Sprint("City ", i)}},
			} {
				if err := w.Write(node); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	src, err := importapi.OpenSourceWithSchema(t.Context(), write(false), s)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out struct {
		Places []struct {
			ID      string
			Address struct {
				Street string
				City   struct{ ID, Name string }
			}
		}
	}
	if err := src.Stage.Do(t.Context(), `{ places(stage: DRAFT, orderBy: id_ASC, first: 3) { id address { street city { id name } } } }`, nil, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Places) != 3 || out.Places[0].Address.City.ID != "city1" || out.Places[0].Address.City.Name != "City 1" || out.Places[0].Address.Street != "Main" {
		t.Errorf("places as read: %+v", out.Places)
	}
	_, err = importapi.OpenSourceWithSchema(t.Context(), write(true), s)
	if err == nil || !strings.Contains(err.Error(), `City "nowhere"`) || !strings.Contains(err.Error(), `Place "place2499"`) {
		t.Errorf("a component relation to a missing node: error %v", err)
	}
}
