package emulator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/fixturedir"
	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// synthTestdata holds the schema package's synthesized schemas: blog and
// pages-components have the shape of the real Hygraph fixtures of the same
// name, social the content models of the social fixture, kitchensink every
// field kind.
const synthTestdata = "../../schema/testdata/synth"

// lifecycleSchemas are the schemas of this repository every writable model
// of which goes through create → reads → update → upsert → publish →
// unpublish → delete; fixtureSchemas are the real ones.
func lifecycleSchemas(t *testing.T) map[string]*ast.Schema {
	t.Helper()
	out := map[string]*ast.Schema{}
	for _, name := range []string{"blog", "pages-components", "social", "kitchensink"} {
		s, err := schema.Load(filepath.Join(synthTestdata, name+".graphql"))
		if err != nil {
			t.Fatal(err)
		}
		out["synth-"+name+".graphql"] = s
	}
	out["conformance.graphql"] = conformanceSchema(t)
	if desc, err := os.ReadFile("testdata/lifecycle.yaml"); err == nil {
		sdl, err := schema.SynthesizeDescription(desc)
		if err != nil {
			t.Fatalf("lifecycle.yaml: %v", err)
		}
		s, err := schema.LoadString("lifecycle.graphql", sdl)
		if err != nil {
			t.Fatal(err)
		}
		out["lifecycle.yaml (synthesized)"] = s
	}
	return out
}

// fixtureSchemas loads the real Hygraph schemas of ../shared/fixtures/hygraph,
// skipping t without them (see package fixturedir).
func fixtureSchemas(t *testing.T) map[string]*ast.Schema {
	t.Helper()
	out := map[string]*ast.Schema{}
	for _, f := range fixturedir.Files(t) {
		s, err := schema.Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = s
	}
	return out
}

// TestLifecycleEveryModel runs the lifecycle on the schemas of this
// repository, then (subtest hygraph) on the real fixtures.
func TestLifecycleEveryModel(t *testing.T) {
	lifecycleEveryModel(t, lifecycleSchemas(t))
	t.Run("hygraph", func(t *testing.T) {
		lifecycleEveryModel(t, fixtureSchemas(t))
	})
}

func lifecycleEveryModel(t *testing.T, schemas map[string]*ast.Schema) {
	for name, s := range schemas {
		p, err := schema.Discover(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st, err := NewStage(s, WithSeed(7), WithClock(fakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), time.Second)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := 0
		for _, m := range p.Models {
			if !m.Writable {
				continue
			}
			n++
			t.Run(strings.TrimSuffix(name, ".graphql")+"/"+m.Name, func(t *testing.T) {
				lifecycle(t, st, s, p, m)
			})
		}
		if n == 0 {
			t.Errorf("%s: no writable models", name)
		}
	}
}

// lifecycle runs one model through its whole life and checks every step.
func lifecycle(t *testing.T, st *Stage, s *ast.Schema, p *schema.Project, m *schema.Model) {
	api := m.API
	g := &gen{t: t, st: st, s: s, p: p}
	data := g.createData(m, true)
	before := st.Counters()

	// create
	check := scalarCheckField(s, m)
	sel := "id stage createdAt updatedAt publishedAt"
	if check != "" {
		sel += " " + check
	}
	res := mustPost(t, st, fmt.Sprintf(`mutation($data: %s!) { e: %s(data: $data) { %s } }`, api.CreateInput, api.Create, sel), map[string]any{"data": data})
	created := res["e"].(map[string]any)
	id, _ := created["id"].(string)
	if len(id) != 25 || id[0] != 'c' {
		t.Fatalf("created id %q does not look like a Hygraph id", id)
	}
	if created["stage"] != "DRAFT" || created["publishedAt"] != nil {
		t.Errorf("created entry: stage %v publishedAt %v, want DRAFT and null", created["stage"], created["publishedAt"])
	}
	if check != "" && fmt.Sprint(created[check]) != fmt.Sprint(data[check]) {
		t.Errorf("created %s = %v, want %v", check, created[check], data[check])
	}
	if c := st.Counters(); c.Mutations != before.Mutations+1 || c.EntriesWritten <= before.EntriesWritten {
		t.Errorf("counters after create: %+v (before %+v)", c, before)
	}

	// reads: list, single, connection, node, and the scaffolded read query
	where := map[string]any{"id": id}
	res = mustPost(t, st, fmt.Sprintf(`query($w: %s, $u: %s!) {
		list: %s(where: $w, stage: DRAFT) { id }
		one: %s(where: $u, stage: DRAFT) { id }
		conn: %s(where: $w, stage: DRAFT) { edges { cursor node { id } } aggregate { count } pageInfo { pageSize } }
		node(id: %q, stage: DRAFT) { id ... on %s { stage } }
	}`, api.WhereInput, api.WhereUnique, api.List, api.Single, api.Connection, id, m.Name), map[string]any{"w": where, "u": where})
	if l := res["list"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != id {
		t.Errorf("list = %v, want the created entry", l)
	}
	if one := res["one"].(map[string]any); one["id"] != id {
		t.Errorf("single = %v", one)
	}
	conn := res["conn"].(map[string]any)
	if edges := conn["edges"].([]any); len(edges) != 1 || edges[0].(map[string]any)["cursor"] != id {
		t.Errorf("connection edges = %v", edges)
	}
	if cnt := conn["aggregate"].(map[string]any)["count"]; fmt.Sprint(cnt) != "1" {
		t.Errorf("aggregate count = %v, want 1", cnt)
	}
	if node := res["node"].(map[string]any); node["id"] != id || node["stage"] != "DRAFT" {
		t.Errorf("node = %v", node)
	}
	if read := g.scaffolded(m, schema.OpRead); read != "" {
		res = mustPost(t, st, read, map[string]any{"first": 100, "stage": "DRAFT", "where": where})
		if l := res[api.List].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != id {
			t.Errorf("scaffolded read = %v, want the created entry", l)
		}
	}

	// update
	upField, upValue := g.updateField(m)
	if api.Update != "" && upField != "" {
		res = mustPost(t, st, fmt.Sprintf(`mutation($w: %s!, $d: %s!) { e: %s(where: $w, data: $d) { id %s } }`, api.WhereUnique, api.UpdateInput, api.Update, upField),
			map[string]any{"w": where, "d": map[string]any{upField: upValue}})
		if got := res["e"].(map[string]any)[upField]; fmt.Sprint(got) != fmt.Sprint(upValue) {
			t.Errorf("updated %s = %v, want %v", upField, got, upValue)
		}
	}

	// upsert (the scaffolded operation): an existing entry is updated
	if api.Upsert != "" && upField != "" {
		upsert := g.scaffolded(m, schema.OpUpsert)
		if upsert == "" {
			upsert = fmt.Sprintf(`mutation($where: %s!, $upsert: %s!) { %s(where: $where, upsert: $upsert) { id } }`, api.WhereUnique, api.UpsertInput, api.Upsert)
		}
		v2 := g.scalar(fieldInputType(s, api.UpdateInput, upField), m.Name, upField+"2")
		res = mustPost(t, st, upsert, map[string]any{"where": where, "upsert": map[string]any{"create": g.createData(m, true), "update": map[string]any{upField: v2}}})
		if got := res[api.Upsert].(map[string]any)["id"]; got != id {
			t.Errorf("upsert of an existing entry returned id %v, want %s", got, id)
		}
		res = mustPost(t, st, fmt.Sprintf(`query($u: %s!) { e: %s(where: $u, stage: DRAFT) { %s } }`, api.WhereUnique, api.Single, upField), map[string]any{"u": where})
		if got := res["e"].(map[string]any)[upField]; fmt.Sprint(got) != fmt.Sprint(v2) {
			t.Errorf("after upsert %s = %v, want %v", upField, got, v2)
		}
	}

	if api.Publish == "" {
		t.Logf("%s has no publish mutation: publish steps skipped", m.Name)
	} else {
		// publish (the scaffolded operation), then read PUBLISHED
		publish := g.scaffolded(m, schema.OpPublish)
		if publish == "" {
			publish = fmt.Sprintf(`mutation($where: %s!, $to: [Stage!]!) { %s(where: $where, to: $to) { id } }`, api.WhereUnique, api.Publish)
		}
		mustPost(t, st, publish, map[string]any{"where": where, "to": []any{"PUBLISHED"}})
		q := fmt.Sprintf(`query($u: %s!) { e: %s(where: $u, stage: PUBLISHED) { id stage publishedAt %s } d: %s(where: $u, stage: DRAFT) { publishedAt } }`, api.WhereUnique, api.Single, upField, api.Single)
		res = mustPost(t, st, q, map[string]any{"u": where})
		pub, _ := res["e"].(map[string]any)
		if pub == nil || pub["id"] != id || pub["stage"] != "PUBLISHED" || pub["publishedAt"] == nil {
			t.Fatalf("published entry = %v", res["e"])
		}
		if res["d"].(map[string]any)["publishedAt"] != nil {
			t.Errorf("DRAFT publishedAt = %v, want null", res["d"])
		}
		// a draft edit does not show in PUBLISHED
		if upField != "" && api.Update != "" {
			v3 := g.scalar(fieldInputType(s, api.UpdateInput, upField), m.Name, upField+"3")
			mustPost(t, st, fmt.Sprintf(`mutation($w: %s!, $d: %s!) { %s(where: $w, data: $d) { id } }`, api.WhereUnique, api.UpdateInput, api.Update),
				map[string]any{"w": where, "d": map[string]any{upField: v3}})
			res = mustPost(t, st, q, map[string]any{"u": where})
			if got := res["e"].(map[string]any)[upField]; upField != "" && fmt.Sprint(got) == fmt.Sprint(v3) {
				t.Errorf("PUBLISHED shows the draft edit %s = %v", upField, got)
			}
		}
		// unpublish
		mustPost(t, st, fmt.Sprintf(`mutation($w: %s!) { %s(where: $w) { id } }`, api.WhereUnique, api.Unpublish), map[string]any{"w": where})
		res = mustPost(t, st, fmt.Sprintf(`query($u: %s!) { e: %s(where: $u, stage: PUBLISHED) { id } }`, api.WhereUnique, api.Single), map[string]any{"u": where})
		if res["e"] != nil {
			t.Errorf("after unpublish PUBLISHED has %v", res["e"])
		}
	}

	// delete
	if api.Delete != "" {
		res = mustPost(t, st, fmt.Sprintf(`mutation($w: %s!) { e: %s(where: $w) { id } }`, api.WhereUnique, api.Delete), map[string]any{"w": where})
		if res["e"].(map[string]any)["id"] != id {
			t.Errorf("delete returned %v", res["e"])
		}
		res = mustPost(t, st, fmt.Sprintf(`query($u: %s!) { e: %s(where: $u, stage: DRAFT) { id } }`, api.WhereUnique, api.Single), map[string]any{"u": where})
		if res["e"] != nil {
			t.Errorf("after delete DRAFT has %v", res["e"])
		}
	}
}

// gen makes input values for a schema.
type gen struct {
	t   *testing.T
	st  *Stage
	s   *ast.Schema
	p   *schema.Project
	n   int
	ops map[string][]schema.Operation
}

// scaffolded returns the text of the scaffolded operation of kind for m, or
// "" when Scaffold does not make one.
func (g *gen) scaffolded(m *schema.Model, kind schema.OperationKind) string {
	if g.ops == nil {
		g.ops = map[string][]schema.Operation{}
	}
	ops, ok := g.ops[m.Name]
	if !ok {
		var err error
		ops, err = schema.Scaffold(g.s, g.p, []string{m.Name}, schema.ScaffoldOptions{})
		if err != nil {
			g.t.Logf("scaffold %s: %v", m.Name, err)
		}
		g.ops[m.Name] = ops
	}
	for _, o := range ops {
		if o.Kind == kind {
			return o.Text
		}
	}
	return ""
}

// createData makes a create input for m: every scalar-like field of the
// create input, plus required relations (their targets created first) and
// components.
func (g *gen) createData(m *schema.Model, top bool) map[string]any {
	def := g.s.Types[m.Name+"CreateInput"]
	if def == nil {
		g.t.Fatalf("%s has no create input", m.Name)
	}
	out := map[string]any{}
	for _, f := range def.Fields {
		if f.Name == "createdAt" || f.Name == "updatedAt" || f.Name == "localizations" {
			continue
		}
		if v, ok := g.value(m, f, top); ok {
			out[f.Name] = v
		}
	}
	return out
}

// value makes a value for one input field; ok is false to leave it out.
func (g *gen) value(m *schema.Model, f *ast.FieldDefinition, top bool) (any, bool) {
	named := f.Type.Name()
	def := g.s.Types[named]
	required := f.Type.NonNull
	if def == nil {
		return nil, false
	}
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		v := g.scalar(f.Type, m.Name, f.Name)
		return v, v != nil
	}
	if named == "LocationInput" || named == "ColorInput" {
		return g.scalar(f.Type, m.Name, f.Name), true
	}
	// Inline relation or component inputs.
	if !strings.HasSuffix(named, "CreateOneInlineInput") && !strings.HasSuffix(named, "CreateManyInlineInput") {
		return nil, false
	}
	target := strings.TrimSuffix(strings.TrimSuffix(named, "CreateOneInlineInput"), "CreateManyInlineInput")
	many := strings.HasSuffix(named, "CreateManyInlineInput")
	tm := g.p.Model(target)
	if tm != nil && tm.Component {
		if !required && !top {
			return nil, false
		}
		data := g.createData(tm, false)
		if many {
			return map[string]any{"create": []any{data}}, true
		}
		return map[string]any{"create": data}, true
	}
	if !required {
		return nil, false
	}
	if tm == nil || !tm.Writable {
		// A union relation: connect its first member.
		if u := g.s.Types[target]; u != nil && u.Kind == ast.Union {
			for _, mem := range u.Types {
				if mm := g.p.Model(mem); mm != nil && mm.Writable {
					id := g.createEntry(mm)
					w := map[string]any{mem: map[string]any{"id": id}}
					if many {
						return map[string]any{"connect": []any{w}}, true
					}
					return map[string]any{"connect": w}, true
				}
			}
		}
		return nil, false
	}
	id := g.createEntry(tm)
	if many {
		return map[string]any{"connect": []any{map[string]any{"id": id}}}, true
	}
	return map[string]any{"connect": map[string]any{"id": id}}, true
}

// createEntry creates an entry of m with the stage's Go API and returns its id.
func (g *gen) createEntry(m *schema.Model) string {
	id, err := g.st.Create(g.t.Context(), m.Name, g.createData(m, false))
	if err != nil {
		g.t.Fatalf("creating a %s: %v", m.Name, err)
	}
	return id
}

// scalar makes a value of a scalar, enum, LocationInput or ColorInput type.
func (g *gen) scalar(typ *ast.Type, model, field string) any {
	g.n++
	named := typ.Name()
	var v any
	switch named {
	case "String", "ID":
		v = fmt.Sprintf("%s-%s-%d", strings.ToLower(model), field, g.n)
	case "Int", "Long":
		v = int64(g.n)
	case "Float", "RGBATransparency":
		v = float64(g.n) + 0.5
	case "Boolean":
		v = g.n%2 == 0
	case "Date":
		v = fmt.Sprintf("2024-03-%02d", g.n%28+1)
	case "DateTime":
		v = fmt.Sprintf("2024-03-%02dT10:00:00.000000+00:00", g.n%28+1)
	case "Json":
		v = map[string]any{"n": float64(g.n)}
	case "RichTextAST":
		v = map[string]any{"children": []any{map[string]any{"type": "paragraph", "children": []any{map[string]any{"text": fmt.Sprintf("text %d", g.n)}}}}}
	case "Hex":
		v = "#ff0000"
	case "LocationInput":
		v = map[string]any{"latitude": 52.5, "longitude": 13.4}
	case "ColorInput":
		v = map[string]any{"hex": "#336699"}
	default:
		if def := g.s.Types[named]; def != nil && def.Kind == ast.Enum && len(def.EnumValues) > 0 {
			v = def.EnumValues[0].Name
		}
	}
	if v != nil && typ.Elem != nil {
		return []any{v}
	}
	return v
}

// scalarCheckField is a String field of m's create input whose value can be
// read back as it is, or "".
func scalarCheckField(s *ast.Schema, m *schema.Model) string {
	def := s.Types[m.Name+"CreateInput"]
	for _, f := range def.Fields {
		if f.Type.Name() == "String" && f.Type.Elem == nil && m.Field(f.Name) != nil {
			return f.Name
		}
	}
	return ""
}

// updateField picks a scalar field of m's update input that can be read
// back, and a new value for it.
func (g *gen) updateField(m *schema.Model) (string, any) {
	def := g.s.Types[m.Name+"UpdateInput"]
	if def == nil {
		return "", nil
	}
	for _, pass := range []string{"String", "Int", "Float", "Boolean", "Date"} {
		for _, f := range def.Fields {
			if f.Type.Name() == pass && f.Type.Elem == nil && m.Field(f.Name) != nil {
				return f.Name, g.scalar(f.Type, m.Name, f.Name)
			}
		}
	}
	return "", nil
}

func fieldInputType(s *ast.Schema, input, field string) *ast.Type {
	return s.Types[input].Fields.ForName(field).Type
}

// conformanceSchema loads testdata/conformance.graphql.
func conformanceSchema(t testing.TB) *ast.Schema {
	t.Helper()
	s, err := schema.Load("testdata/conformance.graphql")
	if err != nil {
		t.Fatalf("conformance schema: %v", err)
	}
	return s
}
