package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Documents are stored in a Backend as JSON, one record per entry: bucket
// = model name, key = entry id. Relation values are stored as
// [{"t": model, "id": id}], components as [{"t": type, "id": id, "v": {...}}].

type storedDoc struct {
	ID       string                    `json:"id"`
	Versions map[string]*storedVersion `json:"versions"` // by stage name
}

type storedVersion struct {
	CreatedAt   string                `json:"createdAt"`
	UpdatedAt   string                `json:"updatedAt"`
	PublishedAt string                `json:"publishedAt,omitempty"`
	Vals        map[string]any        `json:"vals"`
	Locs        map[string]*storedLoc `json:"locs,omitempty"`
}

type storedLoc struct {
	CreatedAt   string         `json:"createdAt"`
	UpdatedAt   string         `json:"updatedAt"`
	PublishedAt string         `json:"publishedAt,omitempty"`
	Vals        map[string]any `json:"vals"`
}

type storedRef struct {
	T  string `json:"t"`
	ID string `json:"id"`
}

type storedComp struct {
	T  string         `json:"t"`
	ID string         `json:"id"`
	V  map[string]any `json:"v"`
}

// encodeDocument renders d for a Backend.
func encodeDocument(c *catalog, d *document) ([]byte, error) {
	sd := storedDoc{ID: d.id, Versions: map[string]*storedVersion{}}
	for st, v := range d.versions {
		if v == nil {
			continue
		}
		sv := &storedVersion{CreatedAt: v.createdAt, UpdatedAt: v.updatedAt, PublishedAt: v.publishedAt, Vals: encodeVals(v.vals)}
		if v.locs != nil {
			sv.Locs = map[string]*storedLoc{}
			for l, ld := range v.locs {
				sv.Locs[l] = &storedLoc{CreatedAt: ld.createdAt, UpdatedAt: ld.updatedAt, PublishedAt: ld.publishedAt, Vals: encodeVals(ld.vals)}
			}
		}
		sd.Versions[c.stages[st]] = sv
	}
	return json.Marshal(sd)
}

func encodeVals(vals map[string]any) map[string]any {
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		switch x := v.(type) {
		case []ref:
			l := make([]storedRef, len(x))
			for i, r := range x {
				l[i] = storedRef{T: r.typ, ID: r.id}
			}
			out[k] = l
		case []*comp:
			l := make([]storedComp, len(x))
			for i, c := range x {
				l[i] = storedComp{T: c.typ, ID: c.id, V: encodeVals(c.vals)}
			}
			out[k] = l
		default:
			out[k] = v
		}
	}
	return out
}

// decodeDocument reads a document of model m stored by encodeDocument.
func decodeDocument(c *catalog, m *modelInfo, b []byte) (*document, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var sd storedDoc
	if err := dec.Decode(&sd); err != nil {
		return nil, err
	}
	d := &document{model: m, id: sd.ID, versions: make([]*version, len(c.stages))}
	for name, sv := range sd.Versions {
		st, ok := c.stageIdx[name]
		if !ok || sv == nil {
			continue
		}
		v := &version{createdAt: sv.CreatedAt, updatedAt: sv.UpdatedAt, publishedAt: sv.PublishedAt}
		var err error
		if v.vals, err = decodeVals(c, m, sv.Vals); err != nil {
			return nil, err
		}
		if sv.Locs != nil {
			v.locs = map[string]*locData{}
			for l, sl := range sv.Locs {
				ld := &locData{createdAt: sl.CreatedAt, updatedAt: sl.UpdatedAt, publishedAt: sl.PublishedAt}
				if ld.vals, err = decodeVals(c, m, sl.Vals); err != nil {
					return nil, err
				}
				v.locs[l] = ld
			}
		} else if m.localized {
			v.locs = map[string]*locData{c.locales[0]: {createdAt: v.createdAt, updatedAt: v.updatedAt, publishedAt: v.publishedAt, vals: map[string]any{}}}
		}
		d.versions[st] = v
	}
	return d, nil
}

func decodeVals(c *catalog, m *modelInfo, raw map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for k, x := range raw {
		f := m.byName[k]
		if f == nil {
			continue // the field was removed from the schema
		}
		switch f.kind {
		case kindRelation:
			var refs []ref
			for _, e := range asList(x) {
				em := asMap(e)
				t, _ := em["t"].(string)
				id, _ := em["id"].(string)
				if id != "" {
					refs = append(refs, ref{typ: t, id: id})
				}
			}
			if refs != nil {
				out[k] = refs
			}
		case kindComponent:
			var comps []*comp
			for _, e := range asList(x) {
				em := asMap(e)
				t, _ := em["t"].(string)
				id, _ := em["id"].(string)
				cm := c.models[t]
				if cm == nil {
					continue
				}
				vals, err := decodeVals(c, cm, asMap(em["v"]))
				if err != nil {
					return nil, err
				}
				comps = append(comps, &comp{typ: t, id: id, vals: vals})
			}
			if comps != nil {
				out[k] = comps
			}
		default:
			out[k] = numbersFor(f, plainNumbers(x))
		}
	}
	return out, nil
}

// numbersFor makes Float fields hold float64 values after decoding.
func numbersFor(f *fieldInfo, v any) any {
	if f.named != "Float" {
		return v
	}
	switch x := v.(type) {
	case int64:
		return float64(x)
	case []any:
		for i, e := range x {
			if n, ok := e.(int64); ok {
				x[i] = float64(n)
			}
		}
	}
	return v
}

// load reads every stored document from b into the store.
func (s *Stage) load(b Backend) error {
	err := b.Load(func(bucket, key string, value []byte) error {
		m := s.cat.docModel(bucket)
		if m == nil || value == nil {
			return nil // other records (e.g. "_meta") or removed models
		}
		d, err := decodeDocument(s.cat, m, value)
		if err != nil {
			return fmt.Errorf("stagetest: loading %s %q: %w", bucket, key, err)
		}
		if d.id == "" {
			d.id = key
		}
		s.install(d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("stagetest: loading stored documents: %w", err)
	}
	return nil
}

// install adds a complete document to the store and its indexes.
func (s *Stage) install(d *document) {
	md := s.st.byModel[d.model.name]
	if old := s.st.byID[d.id]; old != nil {
		md.index(old, old.versions, true)
		md.remove(old)
	}
	s.st.byID[d.id] = d
	md.add(d)
	md.index(d, d.versions, false)
}

// jsonUseNumber decodes b into v keeping numbers as json.Number.
func jsonUseNumber(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
