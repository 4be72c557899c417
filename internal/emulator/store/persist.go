package store

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
func encodeDocument(c *Catalog, d *Document) ([]byte, error) {
	sd := storedDoc{ID: d.ID, Versions: map[string]*storedVersion{}}
	for st, v := range d.Versions {
		if v == nil {
			continue
		}
		sv := &storedVersion{CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, PublishedAt: v.PublishedAt, Vals: encodeVals(v.Vals)}
		if v.Locs != nil {
			sv.Locs = map[string]*storedLoc{}
			for l, ld := range v.Locs {
				sv.Locs[l] = &storedLoc{CreatedAt: ld.CreatedAt, UpdatedAt: ld.UpdatedAt, PublishedAt: ld.PublishedAt, Vals: encodeVals(ld.Vals)}
			}
		}
		sd.Versions[c.Stages[st]] = sv
	}
	return json.Marshal(sd)
}

func encodeVals(vals map[string]any) map[string]any {
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		switch x := v.(type) {
		case []Ref:
			l := make([]storedRef, len(x))
			for i, r := range x {
				l[i] = storedRef{T: r.Type, ID: r.ID}
			}
			out[k] = l
		case []*Comp:
			l := make([]storedComp, len(x))
			for i, c := range x {
				l[i] = storedComp{T: c.Type, ID: c.ID, V: encodeVals(c.Vals)}
			}
			out[k] = l
		default:
			out[k] = v
		}
	}
	return out
}

// decodeDocument reads a document of model m stored by encodeDocument.
func decodeDocument(c *Catalog, m *Model, b []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var sd storedDoc
	if err := dec.Decode(&sd); err != nil {
		return nil, err
	}
	d := &Document{Model: m, ID: sd.ID, Versions: make([]*Version, len(c.Stages))}
	for name, sv := range sd.Versions {
		st, ok := c.StageIdx[name]
		if !ok || sv == nil {
			continue
		}
		v := &Version{CreatedAt: sv.CreatedAt, UpdatedAt: sv.UpdatedAt, PublishedAt: sv.PublishedAt}
		var err error
		if v.Vals, err = decodeVals(c, m, sv.Vals); err != nil {
			return nil, err
		}
		if sv.Locs != nil {
			v.Locs = map[string]*Loc{}
			for l, sl := range sv.Locs {
				ld := &Loc{CreatedAt: sl.CreatedAt, UpdatedAt: sl.UpdatedAt, PublishedAt: sl.PublishedAt}
				if ld.Vals, err = decodeVals(c, m, sl.Vals); err != nil {
					return nil, err
				}
				v.Locs[l] = ld
			}
		} else if m.Localized {
			v.Locs = map[string]*Loc{c.Locales[0]: {CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, PublishedAt: v.PublishedAt, Vals: map[string]any{}}}
		}
		d.Versions[st] = v
	}
	return d, nil
}

func decodeVals(c *Catalog, m *Model, raw map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for k, x := range raw {
		f := m.ByName[k]
		if f == nil {
			continue // the field was removed from the schema
		}
		switch f.Kind {
		case KindRelation:
			var refs []Ref
			for _, e := range AsList(x) {
				em := AsMap(e)
				t, _ := em["t"].(string)
				id, _ := em["id"].(string)
				if id != "" {
					refs = append(refs, Ref{Type: t, ID: id})
				}
			}
			if refs != nil {
				out[k] = refs
			}
		case KindComponent:
			var comps []*Comp
			for _, e := range AsList(x) {
				em := AsMap(e)
				t, _ := em["t"].(string)
				id, _ := em["id"].(string)
				cm := c.Models[t]
				if cm == nil {
					continue
				}
				vals, err := decodeVals(c, cm, AsMap(em["v"]))
				if err != nil {
					return nil, err
				}
				comps = append(comps, &Comp{Type: t, ID: id, Vals: vals})
			}
			if comps != nil {
				out[k] = comps
			}
		default:
			out[k] = numbersFor(f, PlainNumbers(x))
		}
	}
	return out, nil
}

// numbersFor makes Float fields hold float64 values after decoding.
func numbersFor(f *Field, v any) any {
	if f.Named != "Float" {
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

// Load reads every document stored in the store's Backend into the store;
// without a Backend it does nothing.
func (s *Store) Load() error {
	if s.backend == nil {
		return nil
	}
	err := s.backend.Load(func(bucket, key string, value []byte) error {
		m := s.cat.DocModel(bucket)
		if m == nil || value == nil {
			return nil // other records (e.g. "_meta") or removed models
		}
		d, err := decodeDocument(s.cat, m, value)
		if err != nil {
			return fmt.Errorf("stagetest: loading %s %q: %w", bucket, key, err)
		}
		if d.ID == "" {
			d.ID = key
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
func (s *Store) install(d *Document) {
	md := s.ByModel[d.Model.Name]
	if old := s.ByID[d.ID]; old != nil {
		md.index(old, old.Versions, true)
		md.remove(old)
	}
	s.ByID[d.ID] = d
	md.add(d)
	md.index(d, d.Versions, false)
}
