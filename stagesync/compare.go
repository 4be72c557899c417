package stagesync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/schema"
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
	// Transform, when set, changes each source version before it is
	// compared, as a sync with it did: the destination is compared with
	// the transformed source. ErrDrop leaves a draft out (its entry is not
	// expected in the destination) or a published version (the entry is
	// expected unpublished); another error compares the version as read.
	Transform Transform
}

// Compare checks that the destination holds what the source holds: every
// source entry has its destination entry (through the identity map) with
// the same content fields in every locale, relations pointing at the
// mapped entries in the same order, and the same publish state and
// published content; and the destination has no entry the source lacks.
// Every to-many relation is compared in order, on both sides of a two-way
// relation: each side keeps an order of its own (see order).
//
// Compare reads one model at a time and keeps, like a sync, content
// hashes rather than content: the source's hashes of the model (on disk
// past destSpillAt entries), while the destination's entries stream past
// them; the values of the fields that differ are read again from the
// source at the end of the model.
func Compare(ctx context.Context, cfg CompareConfig) ([]Difference, error) {
	c, err := newComparer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var out []Difference
	for _, model := range c.models {
		diffs, _, err := c.compareModel(ctx, model, -1, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, diffs...)
	}
	return out, nil
}

// comparer compares the models of a CompareConfig.
type comparer struct {
	cfg      CompareConfig
	src, dst *schema.Project
	models   []string
	state    *State
	// failed, when set, says a source entry failed in the sync being
	// verified: an entry relating to it is marked (entryResult.refsFailed).
	failed func(model, id string) bool
	// srcResolve, when set, maps the source's relation targets instead of
	// resolve, and fixSource changes a source version once canonical: a
	// sync's verify resolves as the sync did and drops the asset targets
	// SkipAssets left out.
	srcResolve resolver
	fixSource  func(m *schema.Model, v map[string]any)
}

func newComparer(ctx context.Context, cfg CompareConfig) (*comparer, error) {
	src, _, err := stageSchema(ctx, cfg.Source, cfg.SourceSchema)
	if err != nil {
		return nil, err
	}
	dst, _, err := stageSchema(ctx, cfg.Dest, cfg.DestSchema)
	if err != nil {
		return nil, err
	}
	c := &comparer{cfg: cfg, src: src, dst: dst, models: cfg.Models, state: cfg.State}
	if len(c.models) == 0 {
		for _, m := range src.Models {
			if !m.System && m.Writable && dst.Model(m.Name) != nil {
				c.models = append(c.models, m.Name)
			}
		}
	}
	if c.state == nil {
		c.state = NewState("", "")
	}
	return c, nil
}

// resolve maps a source id to the destination: through the state, else to
// the same id.
func (c *comparer) resolve(model, id string) (string, bool) {
	if d, ok := c.state.DestID(model, id); ok {
		return d, true
	}
	return id, true
}

// sourceOf returns the source id whose entry resolves to the destination
// entry did, or "" when none can.
func (c *comparer) sourceOf(model, did string) string {
	if sid, ok := c.state.SourceID(model, did); ok {
		if d, _ := c.resolve(model, sid); d == did {
			return sid
		}
	}
	if d, _ := c.resolve(model, did); d == did {
		return did
	}
	return ""
}

// entryResult is what compareModel found of one entry: its hashes on
// each side (nil when the side lacks it) and the fields that differ ("" for
// a whole entry missing or extra).
type entryResult struct {
	sourceID, destID string
	src, dst         *destEntry
	fields           []string
	// dropped: the transform left the source entry out.
	dropped bool
	// refsFailed: the source entry relates to an entry that failed.
	refsFailed bool
}

// transformed runs the comparer's transform on one source version and
// reports whether it is left out.
func (c *comparer) transformed(ctx context.Context, model string, v map[string]any) bool {
	if c.cfg.Transform == nil || v == nil {
		return false
	}
	return errors.Is(c.cfg.Transform(ctx, model, v), ErrDrop)
}

// sourceVersions reads a source entry's canonical draft and published
// versions, transformed; draft is nil when the transform left it out.
// refsFailed says they relate to an entry that failed (see failed).
func (c *comparer) sourceVersions(ctx context.Context, dm *schema.Model, entry map[string]any) (draft, pub map[string]any, refsFailed bool) {
	base := c.srcResolve
	if base == nil {
		base = c.resolve
	}
	resolve := base
	if c.failed != nil {
		resolve = func(model, id string) (string, bool) {
			refsFailed = refsFailed || c.failed(model, id)
			return base(model, id)
		}
	}
	p := entryform.Published(entry)
	if c.transformed(ctx, dm.Name, entry) {
		return nil, nil, false
	}
	if p != nil && !c.transformed(ctx, dm.Name, p) {
		pub, _ = canonEntry(c.dst, dm, p, nil, resolve)
	}
	draft, _ = canonEntry(c.dst, dm, entry, nil, resolve)
	if c.fixSource != nil {
		c.fixSource(dm, draft)
		if pub != nil {
			c.fixSource(dm, pub)
		}
	}
	return draft, pub, refsFailed
}

// compareModel compares one model and returns its differences, at most
// limit of them (all when limit < 0), and how many there are in all.
// tally, when set, is called for every entry of either side.
func (c *comparer) compareModel(ctx context.Context, model string, limit int, tally func(entryResult)) ([]Difference, int, error) {
	dm, sm := c.dst.Model(model), c.src.Model(model)
	if dm == nil || sm == nil {
		d := Difference{Model: model, Want: "model", Got: "no model"}
		if sm == nil {
			d.Want, d.Got = "no model", "model"
		}
		return []Difference{d}, 1, nil
	}
	sops, err := buildOps(c.src, sm, c.cfg.PageSize)
	if err != nil {
		return nil, 0, err
	}
	dops, err := buildOps(c.dst, dm, c.cfg.PageSize)
	if err != nil {
		return nil, 0, err
	}
	readErr := func(s *Stage, entry map[string]any, err error) error {
		if err != nil {
			return fmt.Errorf("stagesync: compare: %s: %w", s, err)
		}
		if rerr, ok := entry[readErrorKey].(error); ok {
			id, _ := entry["id"].(string)
			return fmt.Errorf("stagesync: compare: %s: %s %s: %w", s, dm.Name, id, rerr)
		}
		if rerr, ok := entry[pubReadErrorKey].(error); ok {
			id, _ := entry["id"].(string)
			return fmt.Errorf("stagesync: compare: %s: %s %s: published version: %w", s, dm.Name, id, rerr)
		}
		return nil
	}
	// The source's hashes, by source id.
	idx := newDestIndex(model, "")
	defer idx.close()
	dropped := map[string]bool{}
	refsFailed := map[string]bool{} // source ids relating to a failed entry
	for entry, err := range hygraph.Paginate(ctx, fetcher(c.cfg.Source, sops), hygraph.WithPageSize(c.pageSize())) {
		if err := readErr(c.cfg.Source, entry, err); err != nil {
			return nil, 0, err
		}
		sid, _ := entry["id"].(string)
		draft, pub, refs := c.sourceVersions(ctx, dm, entry)
		if draft == nil {
			dropped[sid] = true
			continue
		}
		if refs {
			refsFailed[sid] = true
		}
		d := &destEntry{model: model, id: sid, draft: hashVersion(draft)}
		if pub != nil {
			d.pub = hashVersion(pub)
		}
		if err := idx.add(d); err != nil {
			return nil, 0, err
		}
	}
	if err := idx.flush(); err != nil {
		return nil, 0, err
	}
	var (
		out   []Difference
		total int
		want  = map[string][]int{} // source id → indexes in out whose Want is to read
	)
	add := func(d Difference, wantValue bool) {
		total++
		if limit >= 0 && len(out) >= limit {
			return
		}
		if wantValue {
			want[d.SourceID] = append(want[d.SourceID], len(out))
		}
		out = append(out, d)
	}
	for entry, err := range hygraph.Paginate(ctx, fetcher(c.cfg.Dest, dops), hygraph.WithPageSize(c.pageSize())) {
		if err := readErr(c.cfg.Dest, entry, err); err != nil {
			return nil, 0, err
		}
		did, _ := entry["id"].(string)
		var dpub map[string]any
		if p := entryform.Published(entry); p != nil {
			dpub, _ = canonEntry(c.dst, dm, p, nil, sameID)
		}
		ddraft, _ := canonEntry(c.dst, dm, entry, nil, sameID)
		de := &destEntry{model: model, id: did, draft: hashVersion(ddraft)}
		if dpub != nil {
			de.pub = hashVersion(dpub)
		}
		sid := c.sourceOf(model, did)
		var se *destEntry
		if sid != "" {
			se = idx.get(sid)
		}
		if se == nil || se.matched {
			add(Difference{Model: model, DestID: did, Want: "nothing", Got: "entry"}, false)
			if tally != nil {
				tally(entryResult{sourceID: sid, destID: did, dst: de, fields: []string{""}, dropped: sid != "" && dropped[sid]})
			}
			continue
		}
		se.matched = true
		idx.matchID(sid)
		var fields []string
		for _, k := range diffHashes(se.draft, de.draft) {
			fields = append(fields, k)
			add(Difference{Model: model, SourceID: sid, DestID: did, Field: k, Got: jsonString(ddraft[k])}, true)
		}
		switch {
		case se.pub == nil && de.pub != nil:
			fields = append(fields, "published")
			add(Difference{Model: model, SourceID: sid, DestID: did, Field: "published", Want: "unpublished", Got: "published"}, false)
		case se.pub != nil && de.pub == nil:
			fields = append(fields, "published")
			add(Difference{Model: model, SourceID: sid, DestID: did, Field: "published", Want: "published", Got: "unpublished"}, false)
		case se.pub != nil:
			for _, k := range diffHashes(se.pub, de.pub) {
				fields = append(fields, "published:"+k)
				add(Difference{Model: model, SourceID: sid, DestID: did, Field: "published:" + k, Got: jsonString(dpub[k])}, true)
			}
		}
		if tally != nil {
			tally(entryResult{sourceID: sid, destID: did, src: se, dst: de, fields: fields, refsFailed: refsFailed[sid]})
		}
	}
	for _, sid := range idx.unmatchedAll() {
		did, _ := c.resolve(model, sid)
		add(Difference{Model: model, SourceID: sid, DestID: did, Want: "entry", Got: "missing"}, false)
		if tally != nil {
			tally(entryResult{sourceID: sid, destID: did, src: idx.get(sid), fields: []string{""}, refsFailed: refsFailed[sid]})
		}
	}
	if idx.dbErr != nil {
		return nil, 0, idx.dbErr
	}
	if len(want) > 0 {
		// The source's values of the fields that differ.
		for entry, err := range hygraph.Paginate(ctx, fetcher(c.cfg.Source, sops), hygraph.WithPageSize(c.pageSize())) {
			if err := readErr(c.cfg.Source, entry, err); err != nil {
				return nil, 0, err
			}
			sid, _ := entry["id"].(string)
			if len(want[sid]) == 0 {
				continue
			}
			draft, pub, _ := c.sourceVersions(ctx, dm, entry)
			for _, i := range want[sid] {
				if k, ok := strings.CutPrefix(out[i].Field, "published:"); ok {
					out[i].Want = jsonString(pub[k])
				} else {
					out[i].Want = jsonString(draft[k])
				}
			}
		}
	}
	// By source id, entries the source lacks last (by destination id),
	// each entry's differences in the order found.
	slices.SortStableFunc(out, func(a, b Difference) int {
		return cmp.Or(cmp.Compare(b2i(a.SourceID == ""), b2i(b.SourceID == "")),
			cmp.Compare(a.SourceID, b.SourceID), cmp.Compare(a.DestID, b.DestID))
	})
	return out, total, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// diffHashes returns, sorted, the keys of either version whose hashes
// differ (a key one lacks counts as null).
func diffHashes(want, got fieldHashes) []string {
	var out []string
	for k, a := range want {
		b, ok := got[k]
		if !ok {
			b = hashNil
		}
		if a != b {
			out = append(out, k)
		}
	}
	for k, b := range got {
		if _, ok := want[k]; !ok && b != hashNil {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// pageSize is the read page size of the comparison.
func (c *comparer) pageSize() int {
	if c.cfg.PageSize > 0 {
		return c.cfg.PageSize
	}
	return DefaultPageSize
}
