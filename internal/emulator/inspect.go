package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/stagesync/stagesync/internal/emulator/store"
)

// Create creates an entry of model through the same path as the
// create<Model> mutation (data is a <Model>CreateInput as Go values, nested
// relation inputs included) and returns its id. The entry is in DRAFT.
func (s *Stage) Create(ctx context.Context, model string, data map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m, err := s.writableModel(model)
	if err != nil {
		return "", err
	}
	data, err = goValues(data)
	if err != nil {
		return "", err
	}
	var id string
	err = s.inTx(func(t *tx) error {
		d, err := t.create(m, data)
		if err == nil {
			id = d.ID
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// Update changes the DRAFT version of the entry of model with id, like
// update<Model> (data is a <Model>UpdateInput as Go values).
func (s *Stage) Update(ctx context.Context, model, id string, data map[string]any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := s.writableModel(model)
	if err != nil {
		return err
	}
	data, err = goValues(data)
	if err != nil {
		return err
	}
	return s.inTx(func(t *tx) error {
		d, err := t.mustFind(m, map[string]any{"id": id}, s.cat.Draft)
		if err != nil {
			return err
		}
		return t.update(d, data)
	})
}

// Publish publishes the entry of model with id to PUBLISHED (all locales),
// like publish<Model>.
func (s *Stage) Publish(model, id string) error {
	m, err := s.writableModel(model)
	if err != nil {
		return err
	}
	return s.inTx(func(t *tx) error {
		d, err := t.mustFind(m, map[string]any{"id": id}, s.cat.Draft)
		if err != nil {
			return err
		}
		_, err = t.publish(d, map[string]any{})
		return err
	})
}

// Seed stores documents of model directly, for test fixtures: each doc may
// carry "id", "createdAt" and "updatedAt"; scalar fields hold input values;
// relation fields hold target ids (a string, or a list of strings for
// to-many relations; the targets must exist); component fields hold create
// inputs; "localizations" maps a locale to its localized field values. With
// stage "PUBLISHED" (or any stage other than DRAFT) the documents are also
// published there. Seed returns the ids.
func (s *Stage) Seed(model, stage string, docs ...map[string]any) ([]string, error) {
	m, err := s.writableModel(model)
	if err != nil {
		return nil, err
	}
	st, ok := s.cat.StageIdx[stage]
	if !ok {
		return nil, fmt.Errorf("stagetest: unknown stage %q", stage)
	}
	ids := make([]string, 0, len(docs))
	err = s.inTx(func(t *tx) error {
		for i, raw := range docs {
			doc, err := goValues(raw)
			if err == nil {
				var d *store.Document
				d, err = t.seed(m, doc)
				if err == nil && st != s.cat.Draft {
					_, err = t.publish(d, map[string]any{"to": []any{stage}})
				}
				if err == nil {
					ids = append(ids, d.ID)
				}
			}
			if err != nil {
				return fmt.Errorf("stagetest: seeding %s #%d: %w", model, i, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// seed creates one document from a Seed map.
func (t *tx) seed(m *store.Model, doc map[string]any) (*store.Document, error) {
	draft := t.s.cat.Draft
	var d *store.Document
	if id, ok := doc["id"].(string); ok && id != "" {
		if t.Doc(id) != nil {
			return nil, fmt.Errorf("an entry with id %q already exists", id)
		}
		d = &store.Document{Model: m, ID: id, Versions: make([]*store.Version, len(t.s.cat.Stages))}
		t.Touch(d)
		t.Created[id] = d
	} else {
		d = t.NewDoc(m)
	}
	v := &store.Version{CreatedAt: t.Now, UpdatedAt: t.Now, Vals: map[string]any{}}
	if x, ok := doc["createdAt"].(string); ok {
		v.CreatedAt = canonicalTime(x).(string)
	}
	if x, ok := doc["updatedAt"].(string); ok {
		v.UpdatedAt = canonicalTime(x).(string)
	} else if v.CreatedAt != t.Now {
		v.UpdatedAt = v.CreatedAt
	}
	if m.Localized {
		v.Locs = map[string]*store.Loc{t.s.cat.Locales[0]: {CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Vals: map[string]any{}}}
	}
	t.Set(d, draft, v)
	for _, f := range m.Fields {
		x, ok := doc[f.Name]
		if !ok || f.Kind == store.KindSystem {
			continue
		}
		if f.Kind == store.KindRelation {
			for _, id := range store.AsList(x) {
				sid, _ := id.(string)
				target := t.Doc(sid)
				if target == nil || !slices.Contains(f.Targets, target.Model.Name) {
					return nil, fmt.Errorf("%s.%s: no %v entry with id %q", m.Name, f.Name, f.Targets, sid)
				}
				if err := t.link(draft, d, f, target, nil); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := t.applyField(d, f, x, true); err != nil {
			return nil, err
		}
	}
	if locs, ok := doc["localizations"].(map[string]any); ok {
		if v.Locs == nil {
			return nil, fmt.Errorf("%s has no localized fields", m.Name)
		}
		for l, x := range locs {
			if _, ok := t.s.cat.StageIdx[l]; ok {
				continue
			}
			ld := v.Locs[l]
			if ld == nil {
				ld = &store.Loc{CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Vals: map[string]any{}}
				v.Locs[l] = ld
			}
			for k, val := range store.AsMap(x) {
				f := m.ByName[k]
				if f == nil || !f.Localized {
					return nil, fmt.Errorf("%s.%s is not a localized field", m.Name, k)
				}
				sv, err := storedValue(f, val)
				if err != nil {
					return nil, err
				}
				setVal(ld.Vals, k, sv)
			}
		}
	}
	return d, nil
}

// Get returns the entry of model with id as stored in stage (e.g. "DRAFT",
// "PUBLISHED"): see All for the shape.
func (s *Stage) Get(model, id, stage string) (map[string]any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.cat.StageIdx[stage]
	d := s.st.ByID[id]
	if !ok || d == nil || d.Model.Name != model || d.Versions[st] == nil {
		return nil, false
	}
	return s.plain(d, st), true
}

// All returns every entry of model in stage, in default order (creation
// time, then id). Each entry is a map of its system fields (id, stage,
// createdAt, updatedAt, publishedAt), its field values in the default
// locale (relations as target ids: a string or nil for to-one, a list for
// to-many; components as maps with their id), and, for localized models,
// "localizations": locale -> localized values.
func (s *Stage) All(model, stage string) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.cat.StageIdx[stage]
	md := s.st.ByModel[model]
	if !ok || md == nil {
		return nil
	}
	var out []map[string]any
	for _, d := range md.Sorted {
		if d.Versions[st] != nil {
			out = append(out, s.plain(d, st))
		}
	}
	return out
}

// plain renders a version as plain Go values.
func (s *Stage) plain(d *store.Document, st int) map[string]any {
	v := d.Versions[st]
	out := map[string]any{
		"id": d.ID, "stage": s.cat.Stages[st],
		"createdAt": v.CreatedAt, "updatedAt": v.UpdatedAt, "publishedAt": nilIfEmpty(v.PublishedAt),
	}
	def := s.cat.Locales[0]
	for k, x := range v.Vals {
		out[k] = s.plainValue(d.Model.ByName[k], x)
	}
	if v.Locs != nil {
		locs := map[string]any{}
		for l, ld := range v.Locs {
			lm := map[string]any{}
			for k, x := range ld.Vals {
				lm[k] = s.plainValue(d.Model.ByName[k], x)
				if l == def {
					out[k] = lm[k]
				}
			}
			locs[l] = lm
		}
		out["localizations"] = locs
	}
	return out
}

func (s *Stage) plainValue(f *store.Field, x any) any {
	switch v := x.(type) {
	case []store.Ref:
		if f != nil && !f.List {
			if len(v) == 0 {
				return nil
			}
			return v[0].ID
		}
		ids := make([]any, len(v))
		for i, r := range v {
			ids[i] = r.ID
		}
		return ids
	case []*store.Comp:
		list := make([]any, len(v))
		for i, c := range v {
			cm := map[string]any{"id": c.ID, "__typename": c.Type}
			cmodel := s.cat.Models[c.Type]
			for k, cx := range c.Vals {
				var cf *store.Field
				if cmodel != nil {
					cf = cmodel.ByName[k]
				}
				cm[k] = s.plainValue(cf, cx)
			}
			list[i] = cm
		}
		if f != nil && !f.List {
			if len(list) == 0 {
				return nil
			}
			return list[0]
		}
		return list
	}
	return x
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Stage) writableModel(model string) (*store.Model, error) {
	m := s.cat.DocModel(model)
	if m == nil {
		return nil, fmt.Errorf("stagetest: the schema has no model %q", model)
	}
	return m, nil
}

// goValues normalizes Go values to what the executor passes resolvers
// (int64, float64, []any, map[string]any) through a JSON round trip.
func goValues(in map[string]any) (map[string]any, error) {
	if in == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("stagetest: data is not JSON-like: %w", err)
	}
	req, err := decodeRequestVars(b)
	if err != nil {
		return nil, err
	}
	return req, nil
}

func decodeRequestVars(b []byte) (map[string]any, error) {
	var m map[string]any
	if err := jsonUseNumber(b, &m); err != nil {
		return nil, err
	}
	return store.PlainNumbers(m).(map[string]any), nil
}

// jsonUseNumber decodes b into v keeping numbers as json.Number.
func jsonUseNumber(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
