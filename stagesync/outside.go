package stagesync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/internal/sqlitefile"
	"github.com/stagesync/stagesync/schema"
)

// Relations to models left out of a sync (a subset of Models, or Asset
// when SyncConfig.Assets is nil) resolve through the identity map, or else
// to a destination entry with the same id (stages cloned from each other
// share ids) that is verified to exist: the ids an entry needs are looked
// up in the destination with an id_in filter, in batches, and cached. A
// target that resolves neither way fails its entry (op "relation"), which
// is then not written at all, and a dry run plans it as failing (OpFail):
// a source id is never written, and an update never drops the relations
// the destination has because the sync cannot name their targets.
// SyncConfig.SkipAssets accepts leaving unresolved assets out instead.

// outsideBatch is the largest number of ids looked up in one query (the
// largest page Hygraph serves).
const outsideBatch = maxPageSize

// outsideCacheMax bounds the ids the lookup cache holds; past it the cache
// starts over (an id needed again is looked up again), so that memory
// does not grow with the destination. Tests lower it.
var outsideCacheMax atomic.Int64

func init() { outsideCacheMax.Store(100_000) }

// outside looks up destination entries of models left out of the sync by
// id. It is safe for concurrent use.
type outside struct {
	ctx     context.Context // the run's, for lookups from resolve
	dest    *Stage
	queries map[string]string // model → id_in query, "" when the model cannot be read

	mu    sync.Mutex
	known map[string]bool  // model+"\x00"+id → the destination has it
	errs  map[string]error // model+"\x00"+id → why its lookup failed
	reach map[string]bool  // synced model → it has relations to models left out
}

func newOutside(ctx context.Context, dest *Stage, dst *schema.Project) *outside {
	o := &outside{ctx: ctx, dest: dest, queries: map[string]string{}, known: map[string]bool{}, errs: map[string]error{}}
	for _, m := range dst.Models {
		if m.Component || m.API == nil || m.API.List == "" || m.API.WhereInput == "" {
			continue
		}
		o.queries[m.Name] = fmt.Sprintf("query StagesyncExists%s($ids: [ID!]!, $first: Int!) { items: %s(stage: DRAFT, where: {id_in: $ids}, first: $first) { id } }",
			m.Name, m.API.List)
	}
	return o
}

func outsideKey(model, id string) string { return model + "\x00" + id }

// exists reports whether the destination has an entry of model with id,
// looking it up when it is not cached.
func (o *outside) exists(model, id string) bool {
	k := outsideKey(model, id)
	o.mu.Lock()
	ok, cached := o.known[k]
	o.mu.Unlock()
	if cached {
		return ok
	}
	o.lookup(o.ctx, model, []string{id})
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.known[k]
}

// lookupErr returns why looking up an id failed, or nil.
func (o *outside) lookupErr(model, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.errs[outsideKey(model, id)]
}

// lookup looks up the ids of model not cached yet, in batches, and caches
// which exist. A failed batch leaves its ids uncached (and unresolved) and
// records the error for the failure messages.
func (o *outside) lookup(ctx context.Context, model string, ids []string) {
	o.mu.Lock()
	var need []string
	for _, id := range ids {
		if _, ok := o.known[outsideKey(model, id)]; !ok && id != "" && !slices.Contains(need, id) {
			need = append(need, id)
		}
	}
	o.mu.Unlock()
	query := o.queries[model]
	if len(need) == 0 || query == "" {
		return
	}
	for start := 0; start < len(need); start += outsideBatch {
		batch := need[start:min(start+outsideBatch, len(need))]
		var out struct{ Items []struct{ ID string } }
		err := o.dest.Do(ctx, query, map[string]any{"ids": batch, "first": len(batch)}, &out)
		o.mu.Lock()
		if int64(len(o.known)+len(batch)) > outsideCacheMax.Load() {
			o.known, o.errs = map[string]bool{}, map[string]error{}
		}
		if err != nil {
			for _, id := range batch {
				o.errs[outsideKey(model, id)] = err
			}
			o.mu.Unlock()
			continue
		}
		found := map[string]bool{}
		for _, it := range out.Items {
			found[it.ID] = true
		}
		for _, id := range batch {
			o.known[outsideKey(model, id)] = found[id]
			delete(o.errs, outsideKey(model, id))
		}
		o.mu.Unlock()
	}
}

// prefetch looks up, in batches, the targets of the relations in entries
// (as read: drafts, published versions, localizations, components) that
// point at models left out of the sync and that the identity map does not
// know.
func (e *engine) prefetch(ctx context.Context, model string, entries ...map[string]any) {
	if e.outside == nil || !e.reachesOutside(model) {
		return
	}
	m := e.dst.Model(model)
	if m == nil {
		return
	}
	need := map[string][]string{}
	c := canonizer{p: e.dst, resolve: func(target, id string) (string, bool) {
		if e.inRun(target, id) {
			return "", true
		}
		if _, ok := e.state.DestID(target, id); !ok && !slices.Contains(need[target], id) {
			need[target] = append(need[target], id)
		}
		return "", true
	}}
	for _, entry := range entries {
		if entry != nil {
			c.versions(model, entry)
		}
	}
	for _, target := range slices.Sorted(maps.Keys(need)) {
		e.outside.lookup(ctx, target, need[target])
	}
}

// reachesOutside reports whether model (or a component it uses) has
// relations to models left out of the sync.
func (e *engine) reachesOutside(model string) bool {
	o := e.outside
	o.mu.Lock()
	defer o.mu.Unlock()
	if r, ok := o.reach[model]; ok {
		return r
	}
	seen := map[string]bool{}
	var walk func(name string) bool
	walk = func(name string) bool {
		m := e.dst.Model(name)
		if seen[name] || m == nil {
			return false
		}
		seen[name] = true
		for _, f := range writableFields(m) {
			switch {
			case isRelation(f.Kind):
				for _, t := range f.Targets {
					if !e.synced[t] || e.entries != nil {
						return true
					}
				}
			case f.Kind == schema.KindComponent || f.Kind == schema.KindUnionComponent:
				for _, t := range f.Targets {
					if walk(t) {
						return true
					}
				}
			}
		}
		return false
	}
	if o.reach == nil {
		o.reach = map[string]bool{}
	}
	o.reach[model] = walk(model)
	return o.reach[model]
}

// prefetching wraps fetch so that the relation targets of each page in
// models left out of the sync are looked up as the page is read (in the
// background, when the pages are read ahead).
func (e *engine) prefetching(model string, fetch hygraph.FetchFunc[map[string]any]) hygraph.FetchFunc[map[string]any] {
	if e.outside == nil {
		return fetch
	}
	return func(ctx context.Context, after string, first int) ([]map[string]any, string, bool, error) {
		items, next, hasNext, err := fetch(ctx, after, first)
		if err == nil {
			e.prefetch(ctx, model, items...)
		}
		return items, next, hasNext, err
	}
}

// unresolvedOutside splits the missing relation targets of an entry of
// model: those in models left out of the sync, which fail the entry (the
// message says which and how to fix it; "" when there are none), and the
// others, left to the path of targets within the sync. Asset targets
// left out under SkipAssets are dropped from both.
func (e *engine) unresolvedOutside(model string, missing []missingRef) (msg string, rest []missingRef) {
	type key struct{ field, target string }
	var keys []key
	ids := map[key][]string{}
	for _, m := range missing {
		switch {
		case e.inRun(m.Model, m.ID):
			rest = append(rest, m)
			continue
		case m.Model == assetModel && e.cfg.SkipAssets:
			continue // accepted: see skippedAssets
		}
		k := key{m.Field, m.Model}
		if _, ok := ids[k]; !ok {
			keys = append(keys, k)
		}
		ids[k] = append(ids[k], m.ID)
	}
	var parts []string
	for _, k := range keys {
		list := ids[k]
		shown := list
		if len(shown) > 10 {
			shown = shown[:10]
		}
		names := strings.Join(shown, ", ")
		if len(list) > len(shown) {
			names += fmt.Sprintf(" and %d more", len(list)-len(shown))
		}
		fix := fmt.Sprintf("include %s in --models or sync it first", k.target)
		if k.target == assetModel {
			fix = "copy assets (Assets / --assets) or sync them first"
		}
		why := fmt.Sprintf("%s is left out of the sync, and the destination has no entry mapped to it by the state or with the same id", k.target)
		for _, id := range list {
			if err := e.outside.lookupErr(k.target, id); err != nil {
				why += fmt.Sprintf(" (looking the ids up failed: %v)", err)
				break
			}
		}
		parts = append(parts, fmt.Sprintf("%s.%s → %s %s: %s; %s", model, k.field, k.target, names, why, fix))
	}
	return strings.Join(parts, "; "), rest
}

// skippedAssets reports whether f is an asset relation whose targets the
// sync accepts leaving out (SkipAssets) when they do not resolve.
func (e *engine) skippedAssets(f *schema.Field) bool {
	return e.cfg.SkipAssets && !e.synced[assetModel] && slices.Equal(f.Targets, []string{assetModel})
}

// assetReferences returns the "Model.field"s of models (and of the
// components they use) that reference Asset in both stages, sorted.
func assetReferences(src, dst *schema.Project, models []string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		sm, dm := src.Model(name), dst.Model(name)
		if sm == nil || dm == nil {
			return
		}
		for _, f := range writableFields(dm) {
			switch {
			case isRelation(f.Kind) && slices.Contains(f.Targets, assetModel):
				if sf := sm.Field(f.Name); sf != nil && slices.Contains(sf.Targets, assetModel) {
					out = append(out, name+"."+f.Name)
				}
			case f.Kind == schema.KindComponent || f.Kind == schema.KindUnionComponent:
				for _, t := range f.Targets {
					walk(t)
				}
			}
		}
	}
	for _, m := range models {
		walk(m)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkAssets returns a *ConfigError when models reference Asset and the
// sync neither copies assets nor accepts leaving them out.
func checkAssets(cfg *SyncConfig, src, dst *schema.Project, models []string) error {
	if cfg.Assets != nil && cfg.SkipAssets {
		return &ConfigError{Problems: []ConfigProblem{{Option: "Assets",
			Message: "Assets and SkipAssets are both set.",
			Fix:     "set Assets to copy assets, or SkipAssets to leave them out, not both."}}}
	}
	if cfg.Assets != nil || cfg.SkipAssets || src.Model(assetModel) == nil || dst.Model(assetModel) == nil {
		return nil
	}
	refs := assetReferences(src, dst, models)
	if len(refs) == 0 {
		return nil
	}
	return &ConfigError{Problems: []ConfigProblem{{Option: "Assets", Value: strings.Join(refs, ", "),
		Message: fmt.Sprintf("%s reference%s Asset, and assets are not copied.", strings.Join(refs, ", "), map[bool]string{true: "s"}[len(refs) == 1]),
		Fix: "copy assets (set Assets / --assets) or accept leaving them out (SkipAssets / --skip-assets): " +
			"then only assets already in the destination with the same id or mapped by the state are linked."}}}
}

// AssetNeeds is what copying assets takes for a sync (see NeedsAssets).
type AssetNeeds struct {
	// Fields are the "Model.field"s of the synced models, and of the
	// components they use, that reference Asset.
	Fields []string
	// Files is set when the destination is on the legacy asset system:
	// copying assets there needs AssetOptions.Files, the Filestack client
	// of its bucket. The new asset system needs nothing more.
	Files bool
}

// NeedsAssets returns what copying assets takes for the models cfg syncs,
// so that a program (such as the CLI) can turn Assets on when synced
// models reference Asset and the destination needs no more keys. It
// introspects the stages' schemas that cfg lacks and keeps them in cfg, so
// that Sync does not introspect them again. Models that a stage lacks are
// left out here; Sync reports them.
func NeedsAssets(ctx context.Context, cfg *SyncConfig) (AssetNeeds, error) {
	var needs AssetNeeds
	if cfg.Source == nil || cfg.Dest == nil {
		return needs, errors.New("stagesync: sync needs a source and a destination stage")
	}
	src, srcAST, err := stageSchema(ctx, cfg.Source, cfg.SourceSchema)
	if err != nil {
		return needs, err
	}
	dst, dstAST, err := stageSchema(ctx, cfg.Dest, cfg.DestSchema)
	if err != nil {
		return needs, err
	}
	cfg.SourceSchema, cfg.DestSchema = srcAST, dstAST
	if src.Model(assetModel) == nil || dst.Model(assetModel) == nil {
		return needs, nil
	}
	models := slices.Clone(cfg.Models)
	for _, tm := range cfg.Typed {
		models = append(models, tm.ModelName())
	}
	if len(models) == 0 {
		for _, m := range src.Models {
			if !m.System && m.Writable && dst.Model(m.Name) != nil {
				models = append(models, m.Name)
			}
		}
	}
	needs.Fields = assetReferences(src, dst, models)
	sys, err := detectAssetSystem(dstAST)
	needs.Files = err == nil && sys == assetLegacy
	return needs, nil
}

// plannedCreates are the source entries a dry run plans to create, per
// model: the targets that will have a destination entry when the entries
// referencing them are written.
//
// They are kept in memory up to plannedMemory, then in an SQLite file of
// the run's scratch directory, so that the memory of planning a large
// project does not grow with it.
type plannedCreates struct {
	mu  sync.Mutex
	ids map[string]map[string]bool // not yet in db
	n   int                        // entries in ids
	dir string                     // the run's scratch directory
	db  *sql.DB                    // opened when ids first grows past plannedMemory
	err error                      // the file failed: ids keeps every entry
}

// plannedMemory is the number of planned creates held in memory before
// they go to the file.
const plannedMemory = 4096

// has reports whether the entry is planned to be created; p.mu is held.
func (p *plannedCreates) has(model, id string) bool {
	if p.ids[model][id] {
		return true
	}
	if p.db == nil {
		return false
	}
	var one int
	return p.db.QueryRow(`SELECT 1 FROM planned WHERE model = ? AND src = ?`, model, id).Scan(&one) == nil
}

// flush moves the entries in memory to the file; p.mu is held.
func (p *plannedCreates) flush() error {
	if p.db == nil {
		db, err := sqlitefile.Open(filepath.Join(p.dir, "planned.db"), "journal_mode(OFF)", "synchronous(OFF)")
		if err != nil {
			return err
		}
		if _, err := db.Exec(`CREATE TABLE planned(model TEXT NOT NULL, src TEXT NOT NULL, PRIMARY KEY(model, src)) WITHOUT ROWID`); err != nil {
			db.Close()
			return err
		}
		p.db = db
	}
	tx, err := p.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for model, ids := range p.ids {
		for id := range ids {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO planned(model, src) VALUES (?, ?)`, model, id); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	clear(p.ids)
	p.n = 0
	return nil
}

func (p *plannedCreates) close() {
	if p.db != nil {
		_ = p.db.Close()
	}
}

// predictMissing reports, in a dry run, the relation targets of an entry
// that the real run would report missing: targets within the sync, in a
// model written before this one, that the dry run did not plan to create
// (they failed, were dropped or do not exist). It records the entry when
// it is planned as a create.
func (e *engine) predictMissing(model, srcID, destID string, op Op, missing []missingRef, deferred map[string]bool) {
	p := &e.planned
	p.mu.Lock()
	var gone []missingRef
	for _, m := range missing {
		if !deferred[m.Field] && !p.has(m.Model, m.ID) {
			gone = append(gone, m)
		}
	}
	p.mu.Unlock()
	for _, m := range gone {
		e.report.fail(Failure{Model: model, SourceID: srcID, DestID: destID, Op: "relation", Path: []any{},
			Message: fmt.Sprintf("%s.%s: %s %s has no entry in the destination", model, m.Field, m.Model, m.ID)})
	}
	if op == OpCreate {
		e.notePlanned(model, srcID)
	}
}

// plannedGone returns, in a dry run, the targets among missing (written
// now, not in the relation pass) that this run would not create either.
func (e *engine) plannedGone(missing []missingRef, deferred map[string]bool) []missingRef {
	p := &e.planned
	p.mu.Lock()
	defer p.mu.Unlock()
	var gone []missingRef
	for _, m := range missing {
		if !deferred[m.Field] && !p.has(m.Model, m.ID) {
			gone = append(gone, m)
		}
	}
	return gone
}

// notePlanned records, in a dry run, an entry the run would create.
func (e *engine) notePlanned(model, srcID string) {
	p := &e.planned
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids == nil {
		p.ids = map[string]map[string]bool{}
	}
	if p.ids[model] == nil {
		p.ids[model] = map[string]bool{}
	}
	if !p.ids[model][srcID] {
		p.ids[model][srcID] = true
		p.n++
	}
	if p.n >= plannedMemory && p.err == nil && e.scratch != "" {
		p.dir = e.scratch
		p.err = p.flush() // on failure, memory keeps them
	}
}

// dropSkipped removes from a canonical version of an entry of m the asset
// targets that do not resolve and that SkipAssets leaves out, so that the
// entry compares equal to a destination entry without them and a second
// run does not write it again.
func (e *engine) dropSkipped(m *schema.Model, v map[string]any) {
	if !e.cfg.SkipAssets || e.synced[assetModel] {
		return
	}
	for k, x := range v {
		name, _, _ := strings.Cut(k, "@")
		if f := m.Field(name); f != nil {
			v[k] = e.dropSkippedValue(f, x)
		}
	}
}

func (e *engine) dropSkippedValue(f *schema.Field, x any) any {
	unresolved := func(y any) bool {
		s, ok := y.(string)
		return ok && strings.HasPrefix(s, placeholder)
	}
	switch {
	case e.skippedAssets(f):
		if list, ok := x.([]any); ok {
			return slices.DeleteFunc(slices.Clone(list), unresolved)
		}
		if unresolved(x) {
			return nil
		}
	case f.Kind == schema.KindComponent || f.Kind == schema.KindUnionComponent:
		comp := func(y any) {
			cm, _ := y.(map[string]any)
			t, _ := cm["__typename"].(string)
			if c := e.dst.Model(t); c != nil {
				e.dropSkipped(c, cm)
			}
		}
		if list, ok := x.([]any); ok {
			for _, y := range list {
				comp(y)
			}
		} else {
			comp(x)
		}
	}
	return x
}

// versions runs c over every version of an entry of model as read: its
// draft, its published version and the localizations of both.
func (c *canonizer) versions(model string, entry map[string]any) {
	whole := &schema.Field{Kind: schema.KindComponent, Targets: []string{model}}
	versions := []map[string]any{entry}
	if pub := entryform.PublishedOf(entry); pub != nil {
		versions = append(versions, pub)
	}
	for _, v := range versions {
		c.value(whole, v)
		for _, l := range localizationsOf(v) {
			c.value(whole, l)
		}
	}
}
