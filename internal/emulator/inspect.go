package emulator

import (
	"context"
	"encoding/json"
	"fmt"
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
			id = d.id
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
		d, err := t.mustFind(m, map[string]any{"id": id}, s.cat.draft)
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
		d, err := t.mustFind(m, map[string]any{"id": id}, s.cat.draft)
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
	st, ok := s.cat.stageIdx[stage]
	if !ok {
		return nil, fmt.Errorf("stagetest: unknown stage %q", stage)
	}
	ids := make([]string, 0, len(docs))
	err = s.inTx(func(t *tx) error {
		for i, raw := range docs {
			doc, err := goValues(raw)
			if err == nil {
				var d *document
				d, err = t.seed(m, doc)
				if err == nil && st != s.cat.draft {
					_, err = t.publish(d, map[string]any{"to": []any{stage}})
				}
				if err == nil {
					ids = append(ids, d.id)
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
func (t *tx) seed(m *modelInfo, doc map[string]any) (*document, error) {
	draft := t.s.cat.draft
	var d *document
	if id, ok := doc["id"].(string); ok && id != "" {
		if t.doc(id) != nil {
			return nil, fmt.Errorf("an entry with id %q already exists", id)
		}
		d = &document{model: m, id: id, versions: make([]*version, len(t.s.cat.stages))}
		t.touch(d)
		t.created[id] = d
	} else {
		d = t.newDoc(m)
	}
	v := &version{createdAt: t.now, updatedAt: t.now, vals: map[string]any{}}
	if x, ok := doc["createdAt"].(string); ok {
		v.createdAt = canonicalTime(x).(string)
	}
	if x, ok := doc["updatedAt"].(string); ok {
		v.updatedAt = canonicalTime(x).(string)
	} else if v.createdAt != t.now {
		v.updatedAt = v.createdAt
	}
	if m.localized {
		v.locs = map[string]*locData{t.s.cat.locales[0]: {createdAt: v.createdAt, updatedAt: v.updatedAt, vals: map[string]any{}}}
	}
	t.set(d, draft, v)
	for _, f := range m.fields {
		x, ok := doc[f.name]
		if !ok || f.kind == kindSystem {
			continue
		}
		if f.kind == kindRelation {
			for _, id := range asList(x) {
				sid, _ := id.(string)
				target := t.doc(sid)
				if target == nil || !contains(f.targets, target.model.name) {
					return nil, fmt.Errorf("%s.%s: no %v entry with id %q", m.name, f.name, f.targets, sid)
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
		if v.locs == nil {
			return nil, fmt.Errorf("%s has no localized fields", m.name)
		}
		for l, x := range locs {
			if _, ok := t.s.cat.stageIdx[l]; ok {
				continue
			}
			ld := v.locs[l]
			if ld == nil {
				ld = &locData{createdAt: v.createdAt, updatedAt: v.updatedAt, vals: map[string]any{}}
				v.locs[l] = ld
			}
			for k, val := range asMap(x) {
				f := m.byName[k]
				if f == nil || !f.localized {
					return nil, fmt.Errorf("%s.%s is not a localized field", m.name, k)
				}
				sv, err := storedValue(f, val)
				if err != nil {
					return nil, err
				}
				setVal(ld.vals, k, sv)
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
	st, ok := s.cat.stageIdx[stage]
	d := s.st.byID[id]
	if !ok || d == nil || d.model.name != model || d.versions[st] == nil {
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
	st, ok := s.cat.stageIdx[stage]
	md := s.st.byModel[model]
	if !ok || md == nil {
		return nil
	}
	var out []map[string]any
	for _, d := range md.sorted {
		if d.versions[st] != nil {
			out = append(out, s.plain(d, st))
		}
	}
	return out
}

// plain renders a version as plain Go values.
func (s *Stage) plain(d *document, st int) map[string]any {
	v := d.versions[st]
	out := map[string]any{
		"id": d.id, "stage": s.cat.stages[st],
		"createdAt": v.createdAt, "updatedAt": v.updatedAt, "publishedAt": nilIfEmpty(v.publishedAt),
	}
	def := s.cat.locales[0]
	for k, x := range v.vals {
		out[k] = s.plainValue(d.model.byName[k], x)
	}
	if v.locs != nil {
		locs := map[string]any{}
		for l, ld := range v.locs {
			lm := map[string]any{}
			for k, x := range ld.vals {
				lm[k] = s.plainValue(d.model.byName[k], x)
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

func (s *Stage) plainValue(f *fieldInfo, x any) any {
	switch v := x.(type) {
	case []ref:
		if f != nil && !f.list {
			if len(v) == 0 {
				return nil
			}
			return v[0].id
		}
		ids := make([]any, len(v))
		for i, r := range v {
			ids[i] = r.id
		}
		return ids
	case []*comp:
		list := make([]any, len(v))
		for i, c := range v {
			cm := map[string]any{"id": c.id, "__typename": c.typ}
			cmodel := s.cat.models[c.typ]
			for k, cx := range c.vals {
				var cf *fieldInfo
				if cmodel != nil {
					cf = cmodel.byName[k]
				}
				cm[k] = s.plainValue(cf, cx)
			}
			list[i] = cm
		}
		if f != nil && !f.list {
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

func (s *Stage) writableModel(model string) (*modelInfo, error) {
	m := s.cat.docModel(model)
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
	return plainNumbers(m).(map[string]any), nil
}
