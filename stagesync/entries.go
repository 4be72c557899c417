// Single-entry runs (SyncConfig.Entries): a sync restricted to named
// source entries, as a webhook names them. The source is read with an
// id_in filter, the destination's index holds only the entries those
// source entries map to (by the identity map, by id, or by the match
// field), and the relation targets the destination lacks are pulled into
// the run, a bounded number of hops deep.

package stagesync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/schema"
)

// defaultEntryDepth is the number of relation hops a single-entry run
// follows to targets the destination lacks (SyncConfig.EntryDepth 0).
const defaultEntryDepth = 2

// CutTarget is a relation target a single-entry run did not pull in: the
// destination lacks it and it lies deeper than SyncConfig.EntryDepth. The
// entries that point at it fail with op "relation" (or, for an optional
// relation of a synced model, are written without it) and are reported.
type CutTarget struct {
	Model, SourceID string
	// FromModel and FromID name the entry that points at it; syncing that
	// entry alone again pulls the target in.
	FromModel, FromID string
}

// runEntries are the entries of a single-entry run.
type runEntries struct {
	ids   map[string]map[string]bool // model → source ids in the run
	where map[string]map[string]any  // model → the destination index's filter
	cut   []CutTarget
	// read are the run's source entries as prepareEntries read them, per
	// model in id order: the sync's source read serves them (see
	// entrySource) rather than reading them again.
	read map[string][]map[string]any
}

func (r *runEntries) has(model, id string) bool { return r.ids[model][id] }

func (r *runEntries) add(model, id string) bool {
	if r.ids[model] == nil {
		r.ids[model] = map[string]bool{}
	}
	if r.ids[model][id] {
		return false
	}
	r.ids[model][id] = true
	return true
}

func (r *runEntries) list(model string) []string {
	return slices.Sorted(maps.Keys(r.ids[model]))
}

// inRun reports whether the entry of model with source id id is written
// by this run: every entry of a synced model, or in a single-entry run,
// the entries of the run only. A relation target outside the run resolves
// like one in a model left out of the sync (see outside).
func (e *engine) inRun(model, id string) bool {
	if !e.synced[model] {
		return false
	}
	return e.entries == nil || e.entries.has(model, id)
}

// entryModels narrows the models of a single-entry run to those of
// SyncConfig.Entries, which must all be among models.
func (e *engine) entryModels(models []string) ([]string, error) {
	for _, m := range slices.Sorted(maps.Keys(e.cfg.Deleted)) {
		for _, id := range e.cfg.Deleted[m] {
			if !slices.Contains(e.cfg.Entries[m], id) {
				return nil, fmt.Errorf("stagesync: Deleted names %s %q, which Entries does not: a deleted entry is one of the run's entries", m, id)
			}
		}
	}
	var out []string
	for _, m := range slices.Sorted(maps.Keys(e.cfg.Entries)) {
		if !slices.Contains(models, m) && m != assetModel {
			return nil, fmt.Errorf("stagesync: Entries names model %q, which is not among the synced models", m)
		}
		if e.typed[m] != nil {
			return nil, fmt.Errorf("stagesync: Entries names %s, a typed model: typed models are read whole; sync it in the dynamic mode", m)
		}
		if m == assetModel {
			if e.cfg.Assets == nil {
				return nil, fmt.Errorf("stagesync: Entries names Asset, and SyncConfig.Assets is nil: set it to copy assets")
			}
			continue // by the asset model (see prepareAssets)
		}
		out = append(out, m)
	}
	return out, nil
}

// prepareEntries, at the end of prepare, reads the run's source entries,
// pulls into the run the relation targets the destination lacks (hop by
// hop, down to SyncConfig.EntryDepth), adds their models to the run and
// sets the destination index filters. allowed are the models a target may
// be pulled from.
func (e *engine) prepareEntries(ctx context.Context, allowed []string) error {
	r := &runEntries{ids: map[string]map[string]bool{}, where: map[string]map[string]any{}, read: map[string][]map[string]any{}}
	e.entries = r
	frontier := map[string][]string{}
	for m, ids := range e.cfg.Entries {
		for _, id := range ids {
			if id != "" && r.add(m, id) {
				frontier[m] = append(frontier[m], id)
			}
		}
	}
	depth := e.cfg.EntryDepth
	switch {
	case depth == 0:
		depth = defaultEntryDepth
	case depth < 0:
		depth = 0
	}
	copyAssets := e.cfg.Assets != nil && e.src.Model(assetModel) != nil && e.dst.Model(assetModel) != nil
	pullable := func(m string) bool {
		if m == assetModel {
			return copyAssets
		}
		sm, dm := e.src.Model(m), e.dst.Model(m)
		return m != assetModel && sm != nil && dm != nil && !sm.System && !sm.Component && sm.Writable && slices.Contains(allowed, m) && e.typed[m] == nil
	}
	keys := map[string][]any{} // model → match field values of its entries
	look := newOutside(ctx, e.cfg.Dest, e.dst)
	for hop := 0; len(frontier) > 0; hop++ {
		need := map[string][]string{}
		from := map[string][2]string{}
		for _, m := range slices.Sorted(maps.Keys(frontier)) {
			if m == assetModel {
				continue // assets are leaves: their relations are not written
			}
			ops, err := e.entryOps(m)
			if err != nil {
				return err
			}
			if ops.readWhere == "" {
				continue // read whole by the sync
			}
			err = e.readByIDs(ctx, e.cfg.Source, ops, frontier[m], func(entry map[string]any) {
				srcID, _ := entry["id"].(string)
				r.read[m] = append(r.read[m], entry)
				if f := e.cfg.Match[m]; f != "" && entry[f] != nil {
					keys[m] = append(keys[m], entry[f])
				}
				for _, t := range e.targets(m, entry) {
					if r.has(t.Model, t.ID) || !pullable(t.Model) {
						continue
					}
					if _, ok := e.state.DestID(t.Model, t.ID); ok {
						continue
					}
					k := outsideKey(t.Model, t.ID)
					if _, seen := from[k]; !seen {
						from[k] = [2]string{m, srcID}
						need[t.Model] = append(need[t.Model], t.ID)
					}
				}
			})
			if err != nil {
				return err
			}
		}
		frontier = map[string][]string{}
		for _, t := range slices.Sorted(maps.Keys(need)) {
			look.lookup(ctx, t, need[t])
			for _, id := range need[t] {
				if look.exists(t, id) {
					continue // the destination has it, with the same id
				}
				if hop >= depth {
					f := from[outsideKey(t, id)]
					r.cut = append(r.cut, CutTarget{Model: t, SourceID: id, FromModel: f[0], FromID: f[1]})
					continue
				}
				if r.add(t, id) {
					frontier[t] = append(frontier[t], id)
				}
			}
		}
	}
	for m := range r.read {
		slices.SortFunc(r.read[m], func(a, b map[string]any) int { return strings.Compare(entryID(a), entryID(b)) })
	}
	e.report.mu.Lock()
	e.report.cut = slices.Clone(r.cut)
	e.report.mu.Unlock()

	// The models the targets were pulled from join the run.
	models := slices.Clone(e.ord.models)
	var added []string
	for _, m := range slices.Sorted(maps.Keys(r.ids)) {
		if m == assetModel {
			if copyAssets && len(r.ids[m]) > 0 {
				e.synced[assetModel] = true // the asset model (see prepareAssets)
			}
			continue
		}
		if !slices.Contains(models, m) {
			added = append(added, m)
			models = append(models, m)
		}
	}
	if len(added) > 0 {
		if problems := preflight(e.src, e.dst, added, e.cfg.Defaults, e.cfg.Handled); len(problems) > 0 {
			return &PreflightError{Source: e.cfg.Source.Name(), Dest: e.cfg.Dest.Name(), Problems: problems}
		}
		for _, m := range added {
			var err error
			if e.srcOps[m], err = e.entryOps(m); err != nil {
				return err
			}
			if e.dstOps[m], err = buildOps(e.dst, e.dst.Model(m), e.cfg.PageSize); err != nil {
				return fmt.Errorf("stagesync: %s: %w", e.cfg.Dest, err)
			}
			e.synced[m] = true
		}
		e.ord = planOrder(e.dst, models)
	}

	// The destination index of a model holds the entries its run entries
	// map to: by the identity map, by id, and by the match field.
	for _, m := range append(models, assetModel) {
		var ids []string
		for _, id := range r.list(m) {
			if d, ok := e.state.DestID(m, id); ok && d != id {
				ids = append(ids, d)
			}
			ids = append(ids, id)
		}
		where := map[string]any{"id_in": ids}
		if f := e.cfg.Match[m]; f != "" && len(keys[m]) > 0 {
			where = map[string]any{"OR": []any{where, map[string]any{f + "_in": keys[m]}}}
		}
		r.where[m] = where
	}
	return nil
}

// entryOps returns the source operations of model, building them for a
// model not in the run yet.
func (e *engine) entryOps(model string) (*modelOps, error) {
	if ops := e.srcOps[model]; ops != nil {
		return ops, nil
	}
	ops, err := buildOps(e.src, e.src.Model(model), e.cfg.PageSize)
	if err != nil {
		return nil, fmt.Errorf("stagesync: %s: %w", e.cfg.Source, err)
	}
	return ops, nil
}

func (e *engine) pageSizeOr() int {
	if e.pageSize > 0 {
		return e.pageSize
	}
	return DefaultPageSize
}

// targets returns the relation targets of an entry of model as read: of
// its draft and published versions, localizations and components.
func (e *engine) targets(model string, entry map[string]any) []missingRef {
	var out []missingRef
	c := canonizer{p: e.dst, resolve: func(target, id string) (string, bool) {
		out = append(out, missingRef{Model: target, ID: id})
		return "", true
	}}
	if e.dst.Model(model) == nil {
		return nil
	}
	c.versions(model, entry)
	return out
}

// entrySource returns the source reader of model in a single-entry run,
// or nil outside one: pages of the entries prepareEntries read, in id
// order (each entry is served once: the Transform may change it).
func (e *engine) entrySource(model string) hygraph.FetchFunc[map[string]any] {
	ops := e.srcOps[model]
	if e.entries == nil || ops.readWhere == "" {
		return nil
	}
	items := e.entries.read[model]
	return func(_ context.Context, after string, first int) ([]map[string]any, string, bool, error) {
		i, _ := slices.BinarySearchFunc(items, after, func(x map[string]any, id string) int {
			if after == "" {
				return 1
			}
			if c := strings.Compare(entryID(x), id); c != 0 {
				return c
			}
			return -1 // past the cursor itself
		})
		page := items[i:min(i+max(first, 1), len(items))]
		if len(page) == 0 {
			return nil, "", false, nil
		}
		return page, entryID(page[len(page)-1]), i+len(page) < len(items), nil
	}
}

func entryID(entry map[string]any) string {
	id, _ := entry["id"].(string)
	return id
}

// destFetcher reads the destination's entries of model for its index:
// every entry, or in a single-entry run those its run entries may match.
func (e *engine) destFetcher(model string) hygraph.FetchFunc[map[string]any] {
	if e.copiesAssets(model) {
		return e.assetFetcher(e.cfg.Dest, e.assetRun.dst, assetQuery(e.dst, e.assetRun.dst, e.pageSize), true)
	}
	ops := e.dstOps[model]
	if e.entries == nil || ops.readWhere == "" {
		return fetcher(e.cfg.Dest, ops)
	}
	return queryFetcher(e.cfg.Dest, ops, ops.readWhere, map[string]any{"where": e.entries.where[model]})
}

// CutTargets returns the relation targets a single-entry run left out
// (see CutTarget).
func (r *Report) CutTargets() []CutTarget {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cut)
}

// pulledMissing drops, for an entry a single-entry run pulled in as a
// relation target (not one it was named), the targets outside the run
// the destination lacks: such an entry is new to the destination, so
// writing it without them loses nothing, and the targets the run cut are
// in Report.CutTargets. Other entries keep them (they fail, see
// unresolvedOutside).
func (e *engine) pulledMissing(model, srcID string, missing []missingRef) []missingRef {
	if !e.pulled(model, srcID) {
		return missing
	}
	return slices.DeleteFunc(missing, func(m missingRef) bool { return !e.inRun(m.Model, m.ID) })
}

// pulled reports whether a single-entry run pulled the entry in as a
// relation target (rather than being named it).
func (e *engine) pulled(model, srcID string) bool {
	return e.entries != nil && !slices.Contains(e.cfg.Entries[model], srcID)
}

// assetFetcher reads the assets of a stage for the asset model (m is its
// Asset model, query assetQuery's): every asset, or in a single-entry run
// the run's (dest: those they may match; else the source's named and
// pulled-in assets).
func (e *engine) assetFetcher(s *Stage, m *schema.Model, query string, dest bool) hygraph.FetchFunc[map[string]any] {
	ops := &modelOps{model: m}
	if e.entries == nil || m.API == nil || m.API.WhereInput == "" {
		return queryFetcher(s, ops, query, nil)
	}
	query = strings.Replace(query, "StagesyncReadAssets($first: Int!, $after: String)", "StagesyncReadAssetsWhere($first: Int!, $after: String, $where: "+m.API.WhereInput+"!)", 1)
	query = strings.Replace(query, "first: $first, after: $after)", "first: $first, after: $after, where: $where)", 1)
	where := map[string]any{"id_in": e.entries.list(assetModel)}
	if dest {
		where = e.entries.where[assetModel]
	}
	return queryFetcher(s, ops, query, map[string]any{"where": where})
}

// reportedDeleted reports whether the destination entry id of model (whose
// source id is srcID, or "" when the identity map has none) belongs to an
// entry SyncConfig.Deleted names: only those may be mirror-deleted by a
// single-entry run. An entry matched by id has its source's id.
func (e *engine) reportedDeleted(model, srcID, id string) bool {
	named := e.cfg.Deleted[model]
	if srcID != "" {
		return slices.Contains(named, srcID)
	}
	return slices.Contains(named, id)
}
