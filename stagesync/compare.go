package stagesync

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// Difference is one way a destination stage differs from its source.
type Difference struct {
	Model    string `json:"model"`
	SourceID string `json:"sourceId,omitempty"`
	DestID   string `json:"destId,omitempty"`
	// Field is the field that differs ("field@locale" for a localized
	// value in another locale, "published:field" for the published
	// version), or "" when a whole entry is missing or extra.
	Field string `json:"field,omitempty"`
	// Want and Got are the source's and the destination's values in
	// destination terms (ids mapped), as JSON.
	Want string `json:"want"`
	Got  string `json:"got"`
}

// String renders the difference on one line.
func (d Difference) String() string {
	return fmt.Sprintf("%s %s→%s %s: want %s, got %s", d.Model, d.SourceID, d.DestID, d.Field, d.Want, d.Got)
}

// CompareConfig says what Compare compares.
type CompareConfig struct {
	Source, Dest             *Stage
	SourceSchema, DestSchema *ast.Schema // introspected when nil
	// Models to compare (default: every writable, non-system model of the
	// source that the destination has).
	Models []string
	// State maps source ids to destination ids; an entry it does not know
	// is looked up by its own id.
	State *State
	// PageSize is the read page size (default DefaultPageSize), and the
	// most entries of a to-many relation read at a time: at most the
	// largest page the stages serve.
	PageSize int
}

// Compare checks that the destination holds what the source holds: every
// source entry has its destination entry (through the identity map) with
// the same content fields in every locale, relations pointing at the
// mapped entries in the same order, and the same publish state and
// published content; and the destination has no entry the source lacks.
// Every to-many relation is compared in order, on both sides of a two-way
// relation: each side keeps an order of its own (see order).
func Compare(ctx context.Context, cfg CompareConfig) ([]Difference, error) {
	src, _, err := stageSchema(ctx, cfg.Source, cfg.SourceSchema)
	if err != nil {
		return nil, err
	}
	dst, _, err := stageSchema(ctx, cfg.Dest, cfg.DestSchema)
	if err != nil {
		return nil, err
	}
	models := cfg.Models
	if len(models) == 0 {
		for _, m := range src.Models {
			if !m.System && m.Writable && dst.Model(m.Name) != nil {
				models = append(models, m.Name)
			}
		}
	}
	state := cfg.State
	if state == nil {
		state = NewState("", "")
	}
	resolve := func(model, id string) (string, bool) {
		if d, ok := state.DestID(model, id); ok {
			return d, true
		}
		return id, true
	}
	pageSize := cfg.PageSize
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	var out []Difference
	for _, model := range models {
		dm := dst.Model(model)
		if dm == nil {
			out = append(out, Difference{Model: model, Want: "model", Got: "no model"})
			continue
		}
		sops, err := buildOps(src, src.Model(model), cfg.PageSize)
		if err != nil {
			return nil, err
		}
		dops, err := buildOps(dst, dm, cfg.PageSize)
		if err != nil {
			return nil, err
		}
		type version struct{ draft, pub map[string]any }
		read := func(s *Stage, ops *modelOps, r resolver) (map[string]version, error) {
			all := map[string]version{}
			for entry, err := range Paginate(ctx, fetcher(s, ops), WithPageSize(pageSize)) {
				if err != nil {
					return nil, fmt.Errorf("stagesync: compare: %s: %w", s, err)
				}
				id, _ := entry["id"].(string)
				if rerr, ok := entry[readErrorKey].(error); ok {
					return nil, fmt.Errorf("stagesync: compare: %s: %s %s: %w", s, dm.Name, id, rerr)
				}
				if rerr, ok := entry[pubReadErrorKey].(error); ok {
					return nil, fmt.Errorf("stagesync: compare: %s: %s %s: published version: %w", s, dm.Name, id, rerr)
				}
				var v version
				if pub := published(entry); pub != nil {
					v.pub, _ = canonEntry(dst, dm, pub, nil, r)
				}
				v.draft, _ = canonEntry(dst, dm, entry, nil, r)
				all[id] = v
			}
			return all, nil
		}
		sv, err := read(cfg.Source, sops, resolve)
		if err != nil {
			return nil, err
		}
		dv, err := read(cfg.Dest, dops, sameID)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, sid := range slices.Sorted(maps.Keys(sv)) {
			did, _ := resolve(model, sid)
			d, ok := dv[did]
			if !ok {
				out = append(out, Difference{Model: model, SourceID: sid, DestID: did, Want: "entry", Got: "missing"})
				continue
			}
			seen[did] = true
			s := sv[sid]
			out = append(out, diffVersions(model, sid, did, "", s.draft, d.draft)...)
			switch {
			case s.pub == nil && d.pub != nil:
				out = append(out, Difference{Model: model, SourceID: sid, DestID: did, Field: "published", Want: "unpublished", Got: "published"})
			case s.pub != nil && d.pub == nil:
				out = append(out, Difference{Model: model, SourceID: sid, DestID: did, Field: "published", Want: "published", Got: "unpublished"})
			case s.pub != nil:
				out = append(out, diffVersions(model, sid, did, "published:", s.pub, d.pub)...)
			}
		}
		for _, did := range slices.Sorted(maps.Keys(dv)) {
			if !seen[did] {
				out = append(out, Difference{Model: model, DestID: did, Want: "nothing", Got: "entry"})
			}
		}
	}
	return out, nil
}

// diffVersions compares two canonical versions key by key.
func diffVersions(model, sid, did, prefix string, want, got map[string]any) []Difference {
	var out []Difference
	hw, hg := hashVersion(want), hashVersion(got)
	keys := map[string]bool{}
	for k := range hw {
		keys[k] = true
	}
	for k := range hg {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		a, ok := hw[k]
		if !ok {
			a = hashNil
		}
		b, ok := hg[k]
		if !ok {
			b = hashNil
		}
		if a != b {
			out = append(out, Difference{Model: model, SourceID: sid, DestID: did, Field: prefix + k,
				Want: jsonString(want[k]), Got: jsonString(got[k])})
		}
	}
	return out
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
