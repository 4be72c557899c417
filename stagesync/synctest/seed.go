package synctest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// SeedStage stores fixtures of model in an emulated stage, as they were in
// the stage they were read from: with their ids and createdAt, every field
// the read selected (relations as {"id"} objects, rich text as {"raw"},
// localizations as a list of {"locale", ...}), published when the read
// selected a published version in documentInStages, with the draft written
// on top when it differs. It returns the ids in fixture order.
//
// Relations are linked to the entries the stage already has (seeded
// before, by this call or an earlier one); relations to other entries are
// left out, so a model can be seeded without the models it points at.
// Seed related models in any order: a relation left out because its
// target was not there yet is linked when the target is seeded with its
// side of the relation. Component fields are not supported yet.
func SeedStage[T any](t testing.TB, st *stagetest.Stage, model string, fixtures []T) []string {
	t.Helper()
	ids, err := seedStage(t, st, model, fixtures)
	if err != nil {
		t.Fatalf("synctest: seed %s: %v", model, err)
	}
	return ids
}

// seeded is one fixture on its way into the stage.
type seeded struct {
	id         string
	content    map[string]any // the version seeded first: published, else draft
	draft      map[string]any // the draft to write on top, or nil
	publishing bool
}

func seedStage[T any](t testing.TB, st *stagetest.Stage, model string, fixtures []T) ([]string, error) {
	p := st.Project()
	if p == nil {
		return nil, fmt.Errorf("the stage's schema is not a Hygraph schema")
	}
	m := p.Model(model)
	if m == nil || m.Component {
		return nil, fmt.Errorf("the stage has no model %q", model)
	}
	var fields []*schema.Field
	for _, f := range m.Fields {
		if f.System || f.Kind == schema.KindSystem {
			continue
		}
		if f.Kind == schema.KindComponent || f.Kind == schema.KindUnionComponent {
			return nil, fmt.Errorf("%s.%s: component fields are not supported yet", model, f.Name)
		}
		fields = append(fields, f)
	}

	// Every entry first, without relations, so that relations within the
	// fixtures find their targets.
	entries := make([]seeded, len(fixtures))
	for i := range fixtures {
		draft, pub, err := versions(&fixtures[i])
		if err != nil {
			return nil, fmt.Errorf("fixture %d: %w", i, err)
		}
		e := seeded{content: draft, publishing: pub != nil}
		if pub != nil {
			e.content = pub
			if differs(fields, draft, pub) {
				e.draft = draft
			}
		}
		doc := map[string]any{}
		for _, k := range []string{"id", "createdAt", "updatedAt"} {
			if v, ok := draft[k]; ok && v != nil {
				doc[k] = v
			}
		}
		for _, f := range fields {
			if x, ok := e.content[f.Name]; ok && !isRelation(f) {
				doc[f.Name] = inputValue(f, x)
			}
		}
		if locs := localizations(fields, e.content); len(locs) > 0 {
			doc["localizations"] = locs
		}
		ids, err := st.Seed(model, "DRAFT", doc)
		if err != nil {
			return nil, fmt.Errorf("fixture %d: %w", i, err)
		}
		e.id = ids[0]
		entries[i] = e
	}

	for _, e := range entries {
		if err := link(t, st, model, e.id, fields, e.content); err != nil {
			return nil, err
		}
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.id
		if !e.publishing {
			continue
		}
		if err := st.Publish(model, e.id); err != nil {
			return nil, fmt.Errorf("publish %s: %w", e.id, err)
		}
		if e.draft == nil {
			continue
		}
		data := map[string]any{}
		for _, f := range fields {
			x, ok := e.draft[f.Name]
			if !ok || !differsIn(f, e.draft, e.content) {
				continue
			}
			if in, ok := relationUpdate(st, f, x); ok {
				data[f.Name] = in
			} else if !isRelation(f) {
				data[f.Name] = inputValue(f, x)
			}
		}
		var upserts []any
		for locale, vals := range localizations(fields, e.draft) {
			upserts = append(upserts, map[string]any{"locale": locale, "create": vals, "update": vals})
		}
		if len(upserts) > 0 {
			data["localizations"] = map[string]any{"upsert": upserts}
		}
		if err := st.Update(t.Context(), model, e.id, data); err != nil {
			return nil, fmt.Errorf("draft of %s: %w", e.id, err)
		}
	}
	return ids, nil
}

func isRelation(f *schema.Field) bool {
	return f.Kind == schema.KindRelation || f.Kind == schema.KindUnionRelation || f.Kind == schema.KindAsset
}

// inputValue turns a field value as read into its input value.
func inputValue(f *schema.Field, x any) any {
	if f.Kind == schema.KindRichText {
		if m, ok := x.(map[string]any); ok {
			return m["raw"]
		}
	}
	return x
}

// localizations returns the localized values of an entry as read, by
// locale, as input values.
func localizations(fields []*schema.Field, entry map[string]any) map[string]any {
	list, _ := entry["localizations"].([]any)
	out := map[string]any{}
	for _, x := range list {
		lm, _ := x.(map[string]any)
		locale, _ := lm["locale"].(string)
		if locale == "" {
			continue
		}
		vals := map[string]any{}
		for _, f := range fields {
			if v, ok := lm[f.Name]; ok && f.Localized {
				vals[f.Name] = inputValue(f, v)
			}
		}
		out[locale] = vals
	}
	return out
}

// differs reports whether the draft and the published version differ in a
// field or localization.
func differs(fields []*schema.Field, draft, pub map[string]any) bool {
	for _, f := range fields {
		if differsIn(f, draft, pub) {
			return true
		}
	}
	return !reflect.DeepEqual(localizations(fields, draft), localizations(fields, pub))
}

func differsIn(f *schema.Field, a, b map[string]any) bool {
	return !reflect.DeepEqual(a[f.Name], b[f.Name])
}

// ref is a relation target as read: its id and, for union relations, its
// model.
type ref struct{ model, id string }

// refs returns the targets of a relation value as read.
func refs(f *schema.Field, x any) []ref {
	list, ok := x.([]any)
	if !ok {
		if x == nil {
			return nil
		}
		list = []any{x}
	}
	var out []ref
	for _, v := range list {
		m, _ := v.(map[string]any)
		id, _ := m["id"].(string)
		model, _ := m["__typename"].(string)
		if model == "" && len(f.Targets) > 0 {
			model = f.Targets[0]
		}
		if id != "" {
			out = append(out, ref{model, id})
		}
	}
	return out
}

// where is the unique where input that connects r.
func (r ref) where(f *schema.Field) map[string]any {
	w := map[string]any{"id": r.id}
	if f.Kind == schema.KindUnionRelation {
		return map[string]any{r.model: w}
	}
	return w
}

// link connects the relations of entry id to the targets the stage has,
// except those already connected (from the other side of the relation).
func link(t testing.TB, st *stagetest.Stage, model, id string, fields []*schema.Field, content map[string]any) error {
	cur, _ := st.Get(model, id, "DRAFT")
	data := map[string]any{}
	for _, f := range fields {
		x, ok := content[f.Name]
		if !ok || !isRelation(f) {
			continue
		}
		have := linked(cur[f.Name])
		var connect []any
		for _, r := range refs(f, x) {
			if _, ok := st.Get(r.model, r.id, "DRAFT"); !ok || have[r.id] {
				continue
			}
			connect = append(connect, r.where(f))
		}
		switch {
		case len(connect) == 0:
		case f.List:
			data[f.Name] = map[string]any{"connect": connect}
		default:
			data[f.Name] = map[string]any{"connect": connect[0]}
		}
	}
	if len(data) == 0 {
		return nil
	}
	if err := st.Update(t.Context(), model, id, data); err != nil {
		return fmt.Errorf("relations of %s: %w", id, err)
	}
	return nil
}

// linked returns the ids of a relation value as Stage.Get returns it.
func linked(x any) map[string]bool {
	out := map[string]bool{}
	switch v := x.(type) {
	case string:
		out[v] = true
	case []any:
		for _, id := range v {
			if s, ok := id.(string); ok {
				out[s] = true
			}
		}
	}
	return out
}

// relationUpdate is the update input that sets a relation to the targets
// of x the stage has; ok is false for fields that are not relations.
func relationUpdate(st *stagetest.Stage, f *schema.Field, x any) (in map[string]any, ok bool) {
	if !isRelation(f) {
		return nil, false
	}
	var wheres []any
	for _, r := range refs(f, x) {
		if _, ok := st.Get(r.model, r.id, "DRAFT"); ok {
			wheres = append(wheres, r.where(f))
		}
	}
	switch {
	case f.List:
		if wheres == nil {
			wheres = []any{}
		}
		return map[string]any{"set": wheres}, true
	case len(wheres) == 0:
		return map[string]any{"disconnect": true}, true
	default:
		return map[string]any{"connect": wheres[0]}, true
	}
}
