package stagesync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/errgroup"

	"github.com/stagesync/stagesync/schema"
)

// Transform changes one entry in flight, in the dynamic mode. entry is the
// source entry as read (see the shape below) and may be changed in place:
// set, rename or delete fields, map enum values, fill new required fields.
// Returning ErrDrop leaves the entry out of the sync; any other error fails
// this entry only (it is reported with op "transform").
//
// An entry is a JSON object: "id", each content field (scalars, enums and
// Json as values; relations and assets as {"id": ...} objects or lists of
// them; union relations with "__typename"; components as objects with
// "__typename"; rich text as {"raw": ...}; locations as {"latitude",
// "longitude"}; colors as {"hex"}), and "localizations", a list of
// {"locale": ..., <localized fields>} for the non-default locales.
// Relations keep source ids; the engine maps them. The draft and, for
// published entries, the published version are transformed separately.
type Transform func(ctx context.Context, model string, entry map[string]any) error

// ErrDrop, returned by a Transform, leaves the entry out of the sync.
var ErrDrop = errors.New("stagesync: drop entry")

// Default values of SyncConfig.
const (
	// defaultWriteConcurrency is the number of entry writes in flight: a
	// page of the largest size, so that the Batcher can fill its batches
	// up to their byte budget (at 30 KB, about 45 entries of a few
	// fields) rather than to the number of writes waiting.
	defaultWriteConcurrency = 100
	// defaultPlanLimit is the number of entries per model the plan of a
	// real (not dry) run lists.
	defaultPlanLimit = 1000
)

// SyncConfig says what Sync copies and how.
type SyncConfig struct {
	// Source and Dest are the stages to copy from and to.
	Source, Dest *Stage
	// SourceSchema and DestSchema are the stages' content-API schemas;
	// each is introspected from its stage when nil.
	SourceSchema, DestSchema *ast.Schema
	// Models are the models to copy (default: every writable, non-system
	// model of the source that the destination has).
	Models []string
	// Typed are models synced in the typed mode (see TypedModel): read
	// with their own read operations and transformed as Go values. They
	// are synced along with Models; when Models is empty, only they are.
	Typed []Model
	// Transform, when set, changes each entry in flight (after a typed
	// model's own transform).
	Transform Transform
	// Defaults fill fields an entry has no value for, after Transform:
	// "Model.field" → value (an input value, e.g. "@unknown"). A default
	// handles a field that is required in the destination only.
	Defaults map[string]any
	// Handled lists the "Model.field"s (or "Model.*") whose needs-transform
	// schema changes — a field or enum value the destination lacks, a
	// newly required field — the Transform takes care of, or whose loss
	// the caller accepts. The pre-flight refuses other such changes.
	Handled []string
	// Match maps a model to a unique field (e.g. "slug") identifying its
	// entries in both stages, for entries the identity map does not know
	// and whose ids differ. Entries are always matched by the identity map
	// first, then by id (stages cloned from each other share ids).
	Match map[string]string
	// Mirror deletes destination entries whose source entry is gone;
	// without it they are reported as orphaned. Deletes run last, and
	// only when the delete guard allows all of them: no entry failed in
	// the run, no model's source read came back empty, and no more than
	// MaxDelete deletes. Otherwise nothing is deleted and Sync returns a
	// *DeleteGuardError after doing everything else.
	Mirror bool
	// MaxDelete bounds the deletes of a mirror run: 0 allows up to 10% of
	// the destination's entries of the synced models and no delete of a
	// model the source has no entries of; a positive number allows that
	// many; a negative one any number.
	MaxDelete int
	// ConfirmDelete, when set, is asked before a mirror run deletes
	// anything (after the guard allowed it); false deletes nothing, and
	// Sync returns a *DeleteGuardError.
	ConfirmDelete func([]Deletion) bool
	// DryRun plans without writing.
	DryRun bool
	// Delta reads only the source entries updated since the state's
	// high-water mark of their model (set by every run in which all of a
	// model's entries synced), and the other entries' ids to find
	// deletions. Typed models are always read whole; entries that did not
	// change are compared and skipped as in a full sync.
	Delta bool
	// StatePath, when set, is the state database (see LoadState), opened
	// at the start (created if missing, except by a dry run) and committed
	// after every page. State is used when it is empty. When both are
	// empty the run keeps its identity map in a scratch database that it
	// removes at the end, so that memory does not grow with the project.
	StatePath string
	State     *State
	// PageSize is the read page size (default DefaultPageSize).
	PageSize int
	// Concurrency bounds the entry writes in flight (default
	// 100); the destination's Batcher merges them.
	Concurrency int
	// Batch configures the Batcher that carries the writes.
	Batch []BatchOption
	// PlanLimit bounds the entries per model the returned plan lists; its
	// counts are always complete. 0 lists every entry of a dry run and the
	// first 1,000 of a real run, so that the memory of a large
	// sync does not grow with its plan; a negative limit lists all.
	PlanLimit int
	// Progress, when set, receives progress events.
	Progress func(Event)
	// Assets, when set, copies the source's assets (files and entries)
	// first and maps entries' asset relations through the identity map;
	// see AssetOptions. Without it, Asset is a model left out of the
	// sync: asset relations resolve only through the identity map or to
	// a destination asset with the same id, and when a synced model
	// references Asset, Sync refuses to start unless SkipAssets is set.
	Assets *AssetOptions
	// Verify, after a real run that no systemic failure stopped, reads
	// both stages again and compares them (see Verify); the result is in
	// the report, and Sync returns a *VerifyError when an entry differs
	// that did not fail in the run. The Transform runs again on every
	// source version the verify reads.
	Verify bool
	// SkipAssets accepts leaving assets out: with Assets nil, entries are
	// written linking only the assets already in the destination (mapped
	// by the state or with the same id); other asset targets are left out
	// of their relations, not reported.
	SkipAssets bool
}

// Sync copies the models of cfg from the source stage to the destination
// in one pass: pre-flight (schema diff, before any write), then per model
// in relation-dependency order the destination's entries are read and the
// source's pages are read, transformed, matched, compared by content hash
// and written (creates and updates, concurrently and batched); then the
// relations within cycles, publish state, drafts on top of differing
// published versions, and mirror deletions.
//
// It returns the report (counts and failed entries) and the plan (what
// changed per entry). An entry that fails is reported and never stops the
// others; the error is for what stops the run: a refused pre-flight
// (*PreflightError), a failed read, a state that cannot be saved, or ctx
// ending. A failure every entry would share stops the run with a
// *SystemicError: see there. When ctx ends, the writes it cancels are not
// reported as failed and the state keeps what was written, so that the
// same sync resumes. A dry run plans without writing.
func Sync(ctx context.Context, cfg SyncConfig) (*Report, *Plan, error) {
	limit := cfg.PlanLimit
	switch {
	case limit == 0 && cfg.DryRun:
		limit = -1
	case limit == 0:
		limit = defaultPlanLimit
	}
	report, plan := newReport(), newPlan(limit)
	report.Started = time.Now()
	defer func() { report.Finished = time.Now() }()
	if cfg.Source == nil || cfg.Dest == nil {
		return report, plan, errors.New("stagesync: sync needs a source and a destination stage")
	}
	e := &engine{cfg: cfg, report: report, plan: plan}
	defer e.close()
	parent := ctx
	ctx, cancel := e.ctl.start(ctx)
	defer cancel(nil)
	err := e.prepare(ctx)
	if err == nil {
		err = e.run(ctx)
	}
	err = e.stopped(parent, err)
	if guard := isDeleteGuard(err); err == nil || guard {
		err = joinVerify(err, e.verify(ctx, guard))
	}
	if err != nil {
		return report, plan, err
	}
	e.emit(Event{Phase: PhaseDone})
	return report, plan, nil
}

// engine is one run of Sync.
type engine struct {
	cfg    SyncConfig
	report *Report
	plan   *Plan

	src, dst       *schema.Project
	dstAST         *ast.Schema
	srcOps, dstOps map[string]*modelOps
	typed          map[string]Model
	ord            order
	synced         map[string]bool
	state          *State
	writer         graphql.Client
	pageSize, conc int
	ctl            control // stops the run from within; serializes events

	dest    map[string]*destIndex // per model, read in the background
	outside *outside              // looks up targets in models left out of the sync
	planned plannedCreates        // of a dry run
	marks   map[string]time.Time  // per model, the high-water mark this run reaches
	scratch string                // the run's scratch directory
	opened  *State                // the state the run opened, closed at its end

	mu       sync.Mutex // guards works and queue
	works    []*work    // of the models within relation cycles
	queue    *publisher // of the model being written, outside relation cycles
	orphans  []destRef
	destSize map[string]int // per model, the destination's entries as read
	srcSize  map[string]int // per model, the source's entries (read, or their ids in a delta run)
	// assetDelete is the destination's delete mutation for assets, when
	// the asset phase ran.
	assetDelete string
	touchMu     sync.Mutex
	touched     map[string]bool // see touch
	snaps       map[string]map[string]relinkSnap
	holds       holds   // entries held back from the draft lists of their reverse sides (see heldEntry)
	singles     singles // one-to-one targets taken by published versions written first (see noteSingles)
}

// close frees what the run holds: its state database when it opened one,
// and its scratch directory.
func (e *engine) close() {
	if e.opened != nil {
		_ = e.opened.Close()
	}
	for _, di := range e.dest {
		di.close()
	}
	if e.scratch != "" {
		_ = os.RemoveAll(e.scratch)
	}
}

// entryShape says what a source entry as read carries besides its fields:
// a typed model's read operation may leave out the published version or
// the localizations, and then the engine leaves them alone.
type entryShape struct {
	publish   bool   // "documentInStages" was read
	locales   bool   // "localizations" was read
	createdAt string // the source entry's createdAt, when read
}

// work is an entry with phases left after its first write.
type work struct {
	model, srcID, destID string
	cur                  *destEntry // nil when created in this run
	draft, pub           map[string]any
	deferred             bool // relations within a cycle to write
	publish, unpublish   bool
	twoStep              bool // write the draft on top of the published version
	held                 bool // see held
	// dropLocales are the locales the destination's published version
	// has and the source's lacks: after the publish they are unpublished
	// (the locales only), since a publish may keep localizations
	// published before that the draft no longer has.
	dropLocales []string
	failed      bool
}

// emit hands ev to the progress sink, one event at a time: events come
// from the goroutines of the writes, the publisher and the read-ahead.
func (e *engine) emit(ev Event) {
	if e.cfg.Progress != nil {
		e.ctl.emitMu.Lock()
		defer e.ctl.emitMu.Unlock()
		e.cfg.Progress(ev)
	}
}

// prepare discovers both schemas, runs the pre-flight, orders the models
// and builds their operations.
func (e *engine) prepare(ctx context.Context) error {
	e.emit(Event{Phase: PhasePreflight})
	var err error
	var srcAST *ast.Schema
	if e.src, srcAST, err = stageSchema(ctx, e.cfg.Source, e.cfg.SourceSchema); err != nil {
		return err
	}
	if e.dst, e.dstAST, err = stageSchema(ctx, e.cfg.Dest, e.cfg.DestSchema); err != nil {
		return err
	}
	if e.dstAST.Mutation == nil {
		return &SystemicError{Stage: e.cfg.Dest.Name(), Op: "write", Err: errNoMutation}
	}
	if srcAST.Mutation == nil {
		return &SystemicError{Stage: e.cfg.Source.Name(), Op: "discover", Err: errNoModels}
	}
	if err := checkConfig(&e.cfg, e.src, e.dst); err != nil {
		return err
	}
	models := slices.Clone(e.cfg.Models)
	e.typed = map[string]Model{}
	for _, tm := range e.cfg.Typed {
		name := tm.ModelName()
		if _, dup := e.typed[name]; dup {
			return fmt.Errorf("stagesync: typed model %s given twice", name)
		}
		e.typed[name] = tm
		if !slices.Contains(models, name) {
			models = append(models, name)
		}
	}
	if len(models) == 0 {
		for _, m := range e.src.Models {
			if !m.System && m.Writable && e.dst.Model(m.Name) != nil {
				models = append(models, m.Name)
			}
		}
	}
	for _, m := range models {
		if sm := e.src.Model(m); sm == nil || sm.Component {
			return fmt.Errorf("stagesync: %s has no model %q", e.cfg.Source, m)
		}
	}
	if problems := preflight(e.src, e.dst, models, e.cfg.Defaults, e.cfg.Handled); len(problems) > 0 {
		return &PreflightError{Source: e.cfg.Source.Name(), Dest: e.cfg.Dest.Name(), Problems: problems}
	}
	if err := checkAssets(&e.cfg, e.src, e.dst, models); err != nil {
		return err
	}
	e.outside = newOutside(ctx, e.cfg.Dest, e.dst)
	e.synced = map[string]bool{}
	for _, m := range models {
		e.synced[m] = true
	}
	if e.cfg.Assets != nil && e.src.Model("Asset") != nil && e.dst.Model("Asset") != nil {
		e.synced["Asset"] = true // by the asset phase
	}
	e.ord = planOrder(e.dst, models)
	e.srcOps, e.dstOps = map[string]*modelOps{}, map[string]*modelOps{}
	for _, m := range models {
		if e.srcOps[m], err = buildOps(e.src, e.src.Model(m), e.cfg.PageSize); err != nil {
			return fmt.Errorf("stagesync: %s: %w", e.cfg.Source, err)
		}
		if e.dstOps[m], err = buildOps(e.dst, e.dst.Model(m), e.cfg.PageSize); err != nil {
			return fmt.Errorf("stagesync: %s: %w", e.cfg.Dest, err)
		}
	}
	if e.scratch, err = os.MkdirTemp("", "stagesync-"); err != nil {
		return fmt.Errorf("stagesync: scratch directory: %w", err)
	}
	path := e.cfg.StatePath
	if _, err := os.Stat(path); path != "" && e.cfg.DryRun && errors.Is(err, fs.ErrNotExist) {
		path = "" // a dry run does not create the state file
	}
	switch {
	case path != "":
	case e.cfg.State != nil:
		e.state = e.cfg.State
	default:
		// The identity map of this run only, on disk so that memory does
		// not grow with it.
		path = filepath.Join(e.scratch, "state.db")
	}
	if e.state == nil {
		if e.state, err = LoadState(path, e.cfg.Source.Endpoint(), e.cfg.Dest.Endpoint()); err != nil {
			return err
		}
		e.opened = e.state
	}
	if e.cfg.DryRun {
		// A dry run matches entries like a real one but keeps its
		// identity map to itself.
		e.state = e.state.overlay()
	}
	e.pageSize = e.cfg.PageSize
	if e.pageSize <= 0 {
		e.pageSize = DefaultPageSize
	}
	e.conc = e.cfg.Concurrency
	if e.conc <= 0 {
		e.conc = defaultWriteConcurrency
	}
	e.writer = NewBatcher(e.cfg.Dest.Client(), e.cfg.Batch...)
	return nil
}

// run writes the models in order, then the later phases.
func (e *engine) run(ctx context.Context) error {
	e.destSize, e.srcSize = map[string]int{}, map[string]int{}
	if err := e.assets(ctx); err != nil {
		return err
	}
	// The destination's entries of the next model are read ahead, in the
	// background, while a model is written; one index at a time is kept.
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	e.dest, e.marks = map[string]*destIndex{}, map[string]time.Time{}
	readIndex := func(i int) {
		if i >= len(e.ord.models) {
			return
		}
		m := e.ord.models[i]
		di := newDestIndex(m, e.scratch)
		e.dest[m] = di
		wg.Go(func() {
			defer close(di.done)
			di.err = e.readDest(dctx, di)
		})
	}
	readIndex(0)
	for i, m := range e.ord.models {
		readIndex(i + 1)
		e.report.touch(m)
		if err := e.syncModel(ctx, m); err != nil {
			return err
		}
		e.dest[m].close() // only the orphans are kept
		delete(e.dest, m)
	}
	if err := e.relations(ctx); err != nil {
		return err
	}
	if err := e.publish(ctx); err != nil {
		return err
	}
	if err := e.restoreHeld(ctx); err != nil {
		return err
	}
	if err := e.restoreSingles(ctx); err != nil {
		return err
	}
	guard := e.deletions(ctx)
	if _, ok := errors.AsType[*DeleteGuardError](guard); !ok && guard != nil {
		return guard
	}
	// A model's high-water mark moves only when every entry of it synced:
	// a failed entry is read again by the next delta sync.
	e.flushFailures()
	if !e.cfg.DryRun {
		failed := map[string]bool{}
		for _, f := range e.report.Failures() {
			failed[f.Model] = true
		}
		for m, t := range e.marks {
			if !failed[m] && !t.IsZero() {
				e.state.setHighWater(m, t)
			}
		}
	}
	if err := e.save(); err != nil {
		return err
	}
	return guard
}

// save checkpoints the state (a dry run's overlay keeps its changes).
func (e *engine) save() error {
	return e.state.Save()
}

// syncModel plans and writes the entries of one model, page by page.
func (e *engine) syncModel(ctx context.Context, model string) error {
	fetch, stop, err := e.sourceReader(ctx, model)
	if err != nil {
		return err
	}
	defer stop()
	di := e.dest[model]
	select {
	case <-di.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if di.err != nil {
		return di.err
	}
	matchField := e.cfg.Match[model]
	match := func(srcID string, entry map[string]any) (*destEntry, error) {
		if d, ok := e.state.DestID(model, srcID); ok {
			if de := di.get(d); de != nil {
				return de, nil
			}
			e.state.forgetID(model, srcID) // the destination entry is gone
		}
		if de := di.get(srcID); de != nil {
			return de, nil
		}
		if matchField != "" {
			if k := matchKey(entry[matchField]); k != "" {
				if de := di.unmatchedByKey(k); de != nil {
					return de, nil
				}
			}
		}
		// A create whose response was lost (a killed or cancelled run, a
		// dropped connection) may have left an entry behind.
		if pc, ok := e.state.pendingOf(model, srcID); ok {
			return e.adopt(model, srcID, pc, di)
		}
		return nil, nil
	}
	delta := e.deltaRead(model)
	var pq *publisher
	if len(e.ord.deferred[model]) == 0 && !e.cfg.DryRun {
		pq = e.newPublisher(ctx, model)
		e.mu.Lock()
		e.queue = pq
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.queue = nil
			e.mu.Unlock()
		}()
	}

	// Writes run concurrently across pages; the model's writes all end
	// before the next model, whose relations may point at them.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.conc)
	var page []func(context.Context) // writes of the current page
	launch := func() error {
		// The creates of the page are recorded as pending first; a page
		// without writes may still have matched entries.
		if err := e.save(); err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, w := range page {
			g.Go(func() error { w(gctx); return nil })
		}
		page = page[:0]
		return ctx.Err()
	}
	done := 0
	for entry, err := range Paginate(ctx, fetch, WithPageSize(e.pageSize)) {
		if err != nil {
			_ = g.Wait()
			return fmt.Errorf("stagesync: %s: %w", e.cfg.Source, err)
		}
		srcID, _ := entry["id"].(string)
		e.report.add(model, countRead, 1)
		var shape entryShape
		_, shape.publish = entry["documentInStages"]
		_, shape.locales = entry["localizations"]
		shape.createdAt, _ = entry["createdAt"].(string)
		pub := published(entry)
		delete(entry, "updatedAt")
		delete(entry, "createdAt")
		// Match before transforming, so that an entry whose transform
		// fails, or that cannot be read, keeps its destination entry
		// (mirror mode never deletes it).
		cur, aerr := match(srcID, entry)
		if cur != nil {
			di.match(cur)
		}
		if aerr != nil {
			e.report.fail(Failure{Model: model, SourceID: srcID, Op: "adopt", Message: aerr.Error()})
		} else if rerr := readError(e.srcOps[model], entry, pub); rerr != nil {
			f := Failure{Model: model, SourceID: srcID, Op: "read", Message: rerr.Error(), Path: errorPath(rerr)}
			if cur != nil {
				f.DestID = cur.id
			}
			e.report.fail(f)
		} else if w := e.planEntry(ctx, model, srcID, e.pubUnread(model, srcID, entry, cur), pub, shape, cur, di, match); w != nil {
			page = append(page, w)
		}
		done++
		if done%e.pageSize == 0 {
			if err := launch(); err != nil {
				_ = g.Wait()
				return err
			}
			e.emit(Event{Phase: PhaseWrite, Model: model, Done: done})
		}
	}
	err = launch()
	_ = g.Wait()
	if pq != nil {
		if perr := pq.finish(); err == nil {
			err = perr
		}
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.save(); err != nil {
		return err
	}
	e.emit(Event{Phase: PhaseWrite, Model: model, Done: done, Total: done})
	if delta {
		// The entries a delta read leaves out still exist in the source;
		// only destination entries whose source is gone are orphans.
		if err := e.markExisting(ctx, model, di); err != nil {
			return err
		}
	}
	for _, id := range di.unmatched() {
		e.orphans = append(e.orphans, destRef{model: model, id: id})
	}
	e.destSize[model] = di.size
	if !delta {
		e.srcSize[model] = done
	}
	return di.dbErr
}

// transform runs the transform and the defaults on one version.
func (e *engine) transform(ctx context.Context, model string, entry map[string]any) error {
	if tm := e.typed[model]; tm != nil {
		if err := tm.transform(ctx, model, entry); err != nil {
			return err
		}
	}
	if e.cfg.Transform != nil {
		if err := e.cfg.Transform(ctx, model, entry); err != nil {
			return err
		}
	}
	for k, v := range e.cfg.Defaults {
		m, f, ok := strings.Cut(k, ".")
		if !ok || m != model {
			continue
		}
		if x, ok := entry[f]; !ok || x == nil {
			entry[f] = v
		}
	}
	return nil
}

// planEntry transforms and plans one source entry, and returns its first
// write (nil when there is none).
func (e *engine) planEntry(ctx context.Context, model, srcID string, entry, pub map[string]any, shape entryShape, cur *destEntry,
	di *destIndex, match func(string, map[string]any) (*destEntry, error)) func(context.Context) {
	fail := func(op, destID string, err error) {
		e.failWrite(Failure{Model: model, SourceID: srcID, DestID: destID, Op: op}, err)
	}
	destID := ""
	if cur != nil {
		destID = cur.id
	}
	if err := e.transform(ctx, model, entry); err != nil {
		if errors.Is(err, ErrDrop) {
			e.plan.add(model, EntryPlan{SourceID: srcID, DestID: destID, Op: OpSkip})
			return nil
		}
		fail("transform", destID, err)
		return nil
	}
	if pub != nil {
		if err := e.transform(ctx, model, pub); err != nil {
			if errors.Is(err, ErrDrop) {
				pub = nil
			} else {
				fail("transform", destID, err)
				return nil
			}
		}
	}
	if cur == nil {
		// A transform may have set the match field.
		var err error
		if cur, err = match(srcID, entry); err != nil {
			fail("adopt", "", err)
			return nil
		}
		if cur != nil {
			di.match(cur)
			destID = cur.id
		}
	}
	if cur != nil {
		if d, ok := e.state.DestID(model, srcID); !ok || d != cur.id {
			e.state.setDestID(model, srcID, cur.id)
		}
		e.state.clearPending(model, srcID)
	}

	dm := e.dst.Model(model)
	// A create sends the source's creation time: it keeps the timestamp,
	// and it identifies the entry if the response is lost.
	createdAt := ""
	if cur == nil && shape.createdAt != "" && hasInputField(e.dstAST, dm.API.CreateInput, "createdAt") {
		createdAt = shape.createdAt
	}
	deferred := e.ord.deferred[model]
	e.prefetch(ctx, model, entry, pub) // a transform may have changed targets
	draft, missing := canonEntry(e.dst, dm, entry, e.ord.reverse[model], e.resolve)
	var pubV map[string]any
	if pub != nil {
		var pm []missingRef
		pubV, pm = canonEntry(e.dst, dm, pub, e.ord.reverse[model], e.resolve)
		for _, m := range pm {
			if !slices.Contains(missing, m) {
				missing = append(missing, m)
			}
		}
	}
	// A target in a model left out of the sync that does not resolve
	// fails the entry, which is not written (nor planned as written).
	outsideMsg, missing := e.unresolvedOutside(model, missing)
	if outsideMsg != "" {
		e.plan.add(model, EntryPlan{SourceID: srcID, DestID: destID, Op: OpFail, Reason: outsideMsg})
		fail("relation", destID, errors.New(outsideMsg))
		return nil
	}
	e.dropSkipped(dm, draft)
	e.dropSkipped(dm, pubV)
	hDraft := hashVersion(draft)
	var hPub fieldHashes
	if pubV != nil {
		hPub = hashVersion(pubV)
	}
	w := &work{model: model, srcID: srcID, destID: destID, cur: cur}
	w.publish = pubV != nil && (cur == nil || cur.pub == nil || len(changedKeys(hPub, cur.pub)) > 0)
	w.unpublish = shape.publish && pubV == nil && cur != nil && cur.pub != nil
	w.twoStep = w.publish && len(changedKeys(hDraft, hPub)) > 0
	if w.publish && shape.locales && cur != nil && cur.pub != nil {
		w.dropLocales = staleLocales(hPub, cur.pub)
	}
	content, hContent := draft, hDraft
	if w.twoStep {
		content, hContent = pubV, hPub
	}
	var changed []string
	if cur == nil {
		for _, k := range slices.Sorted(maps.Keys(content)) {
			if hContent[k] != hashNil {
				changed = append(changed, k)
			}
		}
	} else {
		changed = changedKeys(hContent, cur.draft)
		if !shape.locales {
			// Without localizations read, other locales are left alone.
			changed = slices.DeleteFunc(changed, func(k string) bool {
				_, ok := hContent[k]
				return !ok
			})
		}
	}
	var first []string
	for _, k := range changed {
		name, _, _ := strings.Cut(k, "@")
		if deferred[name] {
			w.deferred = true
		} else {
			first = append(first, k)
		}
	}

	ep := EntryPlan{SourceID: srcID, DestID: destID, Changed: changed, PublishedDiffers: w.twoStep}
	switch {
	case cur == nil:
		ep.Op = OpCreate
	case len(changed) > 0 || w.twoStep:
		ep.Op = OpUpdate
	default:
		ep.Op = OpUnchanged
	}
	if w.twoStep {
		for _, k := range changedKeys(hDraft, hPub) {
			if !slices.Contains(ep.Changed, k) {
				ep.Changed = append(ep.Changed, k)
			}
		}
		slices.Sort(ep.Changed)
	}
	switch {
	case w.publish:
		ep.Publish = "publish"
	case w.unpublish:
		ep.Publish = "unpublish"
	}
	// The check: an entry whose required relation has no target in the
	// destination (nor, in a dry run, one this run would create) cannot
	// be valid; it is planned as failing, reported and never sent (a
	// batch must never carry a write the stage has to refuse).
	gone := missing
	if e.cfg.DryRun {
		gone = e.plannedGone(missing, deferred)
	}
	if msg := requiredMissing(dm, content, gone, deferred); msg != "" {
		e.plan.add(model, EntryPlan{SourceID: srcID, DestID: destID, Op: OpFail, Reason: model + "." + msg})
		fail("relation", destID, fmt.Errorf("%s.%s", model, msg))
		return nil
	}
	e.plan.add(model, ep)
	// The fields deferred only to be written late report their missing
	// targets now (see order.late).
	early := deferred
	if late := e.ord.late[model]; len(late) > 0 {
		early = maps.Clone(deferred)
		for f := range late {
			delete(early, f)
		}
	}
	if e.cfg.DryRun {
		e.predictMissing(model, srcID, destID, ep.Op, missing, early)
		return nil
	}
	if len(deferred) > 0 || w.twoStep {
		w.draft, w.pub = entry, pub // canonized again once every target exists
	}
	e.holdEntry(w, entry, pub)
	e.snapRelink(model, srcID, destID, entry)
	e.notePlaces(w, model, srcID, entry, pub)
	e.holdPairs(w, entry, pub)
	e.noteSingles(w, model, srcID, entry, pub)
	e.noteSingleSides(w, entry, pub)
	e.notePairPlaces(model, srcID, entry)
	if pub != nil {
		e.notePublished(model, srcID)
	}
	later := w.deferred || w.publish || w.unpublish || w.twoStep
	if ep.Op == OpUnchanged && !later {
		e.report.add(model, countUnchanged, 1)
		return nil
	}
	for _, m := range missing {
		if !early[m.Field] {
			fail("relation", destID, fmt.Errorf("%s.%s: %s %s has no entry in the destination", model, m.Field, m.Model, m.ID))
		}
	}
	b := e.builder(model)
	ops := e.dstOps[model]
	if !w.publish {
		// The held entries stay out of the draft lists (see heldEntry).
		content = e.withoutHeld(model, srcID, content)
		hContent = hashVersion(content)
	}
	if cur == nil {
		// Recorded before the create is sent: should its answer be lost,
		// the next run finds the entry by what was sent.
		e.state.setPending(model, srcID, pendingCreate{created: createdAt, sent: e.createDigest(model, hContent)})
	}
	return func(ctx context.Context) {
		switch {
		case cur == nil:
			data := b.build(content, first, true, nil)
			if createdAt != "" {
				data["createdAt"] = createdAt
			}
			e.touch(model, data)
			var out struct {
				Item struct{ ID string } `json:"item"`
			}
			if err := e.write(ctx, false, ops.create, map[string]any{"data": data}, &out); err != nil {
				w.failed = true
				if notApplied(err) {
					e.state.clearPending(model, srcID)
				}
				fail("create", "", err)
				return
			}
			w.destID = out.Item.ID
			e.state.setDestID(model, srcID, w.destID)
			e.state.clearPending(model, srcID)
			e.report.add(model, countCreated, 1)
		case len(first) > 0:
			data := b.build(content, first, false, cur.comps)
			e.touch(model, data)
			if err := e.write(ctx, true, ops.update, map[string]any{"id": cur.id, "data": data}, nil); err != nil {
				w.failed = true
				fail("update", cur.id, err)
				return
			}
			e.report.add(model, countUpdated, 1)
		case ep.Op == OpUpdate:
			e.report.add(model, countUpdated, 1)
		default:
			e.report.add(model, countUnchanged, 1)
		}
		if later {
			e.later(w)
		}
	}
}

// write sends one mutation through the batcher. Its root field must be
// aliased "item" when out is read.
func (e *engine) write(ctx context.Context, idempotent bool, query string, vars map[string]any, out any) error {
	if idempotent {
		ctx = Idempotent(ctx)
	}
	var raw json.RawMessage
	err := e.writer.MakeRequest(ctx, &graphql.Request{Query: query, Variables: vars, OpName: opName(query)}, &graphql.Response{Data: &raw})
	if err != nil {
		e.writeFailed(query, err)
		return err
	}
	e.flushFailures() // the stage takes writes
	if out == nil || len(raw) == 0 {
		return nil
	}
	// The root field is the operation's only one; decode it as "item".
	var root map[string]json.RawMessage
	if err := json.Unmarshal(raw, &root); err != nil {
		return err
	}
	for _, v := range root {
		return json.Unmarshal([]byte(`{"item":`+string(v)+`}`), out)
	}
	return nil
}

// notApplied reports whether a failed write is known not to have been
// applied: the stage answered it with errors.
func notApplied(err error) bool {
	var ge *GraphQLError
	return errors.As(err, &ge) && !errors.Is(err, ErrMaybeApplied)
}

// opName returns the name of a "mutation Name(...)" document.
func opName(query string) string {
	_, rest, ok := strings.Cut(query, " ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "(")
	return strings.TrimSpace(name)
}

// errorPath returns the GraphQL path of the first error in err.
func errorPath(err error) []any {
	var ge *GraphQLError
	if errors.As(err, &ge) {
		for _, x := range ge.Errors {
			if x != nil && len(x.Path) > 0 {
				out := make([]any, len(x.Path))
				for i, p := range x.Path {
					out[i] = p
				}
				return out
			}
		}
	}
	return nil
}

// later hands over a work whose first write is done: to its model's
// publisher, or to the phases after the relation pass.
func (e *engine) later(w *work) {
	e.mu.Lock()
	q := e.queue
	if q == nil || q.model != w.model || w.held {
		q = nil
		e.trim(w)
		e.works = append(e.works, w)
	}
	e.mu.Unlock()
	if q != nil {
		q.add(w)
	}
}

// worksOf returns the live works of model matching keep, by source id.
func (e *engine) worksOf(model string, keep func(*work) bool) []*work {
	var out []*work
	for _, w := range e.works {
		if w.model == model && !w.failed && keep(w) {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b *work) int { return strings.Compare(a.srcID, b.srcID) })
	return out
}

// each runs fn for every work concurrently, bounded.
func (e *engine) each(ctx context.Context, works []*work, fn func(context.Context, *work)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.conc)
	for _, w := range works {
		g.Go(func() error { fn(gctx, w); return nil })
	}
	_ = g.Wait()
	return ctx.Err()
}

// version returns the canonical content a work's entry should have in the
// draft before publishing: the published version when the draft is written
// on top of it, else the draft.
func (e *engine) canon(w *work, pub bool) map[string]any {
	src := w.draft
	if pub {
		src = w.pub
	}
	v, _ := canonEntry(e.dst, e.dst.Model(w.model), src, e.ord.reverse[w.model], e.resolve)
	return v
}

// relations writes the relation fields within cycles (second pass), then
// the order of the other sides of written to-many relations: after every
// connect, which appends to the other side.
func (e *engine) relations(ctx context.Context) error {
	e.settleHolds()
	for _, relink := range []bool{false, true} {
		for _, model := range e.ord.models {
			if err := e.relationsOf(ctx, model, relink); err != nil {
				return err
			}
		}
	}
	return e.save()
}

// reportMissing reports the relation fields among keys of the canonical
// version v that point at entries the destination does not have. The
// other side of a written relation (whose order only is written) is left
// out: the entry that is missing reports its own failure.
func (e *engine) reportMissing(w *work, v map[string]any, keys []string) {
	m := e.dst.Model(w.model)
	for _, k := range keys {
		f := m.Field(k)
		if f == nil || !isRelation(f.Kind) || e.ord.relink[w.model][k] || e.ord.late[w.model][k] || e.skippedAssets(f) {
			continue
		}
		refs, ok := v[k].([]any)
		if !ok {
			refs = []any{v[k]}
		}
		for _, r := range refs {
			s, _ := r.(string)
			if f.Kind == schema.KindUnionRelation {
				_, s, _ = strings.Cut(s, ":")
			}
			if strings.HasPrefix(s, placeholder) {
				e.report.fail(Failure{Model: w.model, SourceID: w.srcID, DestID: w.destID, Op: "relation",
					Message: fmt.Sprintf("%s.%s: %s has no entry in the destination", w.model, k, strings.TrimPrefix(s, placeholder))})
			}
		}
	}
}

// publishBatch is the largest number of ids in one publish mutation.
const publishBatch = 100

// publishSize is the number of ids in one publish mutation of this run:
// no more than a page, since the stage's largest page bounds the `first`
// of a publishMany mutation too.
func (e *engine) publishSize() int {
	return min(publishBatch, max(e.pageSize, 1))
}

// publish publishes (and unpublishes) the entries of the models within
// relation cycles, after the relation pass (the other models' entries are
// published as they are written, see publisher); then writes the drafts
// of those whose draft differs from their published version, and then the
// draft order of the reverse sides (see relinkDrafts): every publish
// comes before any draft written on top, which may move the entries of
// the other sides of its relations.
func (e *engine) publish(ctx context.Context) error {
	var drafts [][]*work
	for _, model := range e.ord.models {
		for _, unpublish := range []bool{false, true} {
			works := e.worksOf(model, func(w *work) bool {
				if unpublish {
					return w.unpublish
				}
				return w.publish
			})
			if len(works) == 0 {
				continue
			}
			if err := e.publishOnly(ctx, model, works, unpublish); err != nil {
				return err
			}
			e.emit(Event{Phase: PhasePublish, Model: model, Done: len(works), Total: len(works)})
			if !unpublish {
				drafts = append(drafts, works)
			}
		}
	}
	for _, works := range drafts {
		if err := e.draftsOf(ctx, works); err != nil {
			return err
		}
	}
	return e.relinkDrafts(ctx)
}

// publishWorks publishes (or unpublishes) works of model in batches of
// publishSize ids, then writes the drafts of the published works whose
// draft differs from their published version.
func (e *engine) publishWorks(ctx context.Context, model string, works []*work, unpublish bool) error {
	if err := e.publishOnly(ctx, model, works, unpublish); err != nil || unpublish {
		return err
	}
	return e.draftsOf(ctx, works)
}

// publishOnly publishes (or unpublishes) works of model in batches of
// publishBatch ids.
func (e *engine) publishOnly(ctx context.Context, model string, works []*work, unpublish bool) error {
	query, op := e.dstOps[model].publish, "publish"
	if unpublish {
		query, op = e.dstOps[model].unpublish, "unpublish"
	}
	if query == "" {
		return nil
	}
	// The ids of the created entries are saved before anything changes
	// them further (a publish, a draft on top): a create in flight is
	// adopted by the content it sent, which those would change.
	if err := e.save(); err != nil {
		return err
	}
	items := make([]idItem, len(works))
	for i, w := range works {
		items[i] = idItem{srcID: w.srcID, destID: w.destID}
	}
	if !unpublish {
		if err := e.prePublish(ctx, model, works); err != nil {
			return err
		}
	}
	failed, err := e.publishIDs(ctx, model, query, op, items, e.conc, nil)
	for i, w := range works {
		w.failed = w.failed || failed[i]
	}
	if err != nil || unpublish {
		return err
	}
	return e.unpublishLocales(ctx, model, works)
}

// draftsOf writes the drafts of the published works (of one model) whose
// draft differs from their published version.
func (e *engine) draftsOf(ctx context.Context, works []*work) error {
	works = slices.DeleteFunc(slices.Clone(works), func(w *work) bool { return w.failed || !w.twoStep })
	if len(works) == 0 {
		return nil
	}
	if err := e.each(ctx, works, e.writeDraft); err != nil {
		return err
	}
	e.emit(Event{Phase: PhaseDraft, Model: works[0].model, Done: len(works), Total: len(works)})
	return nil
}

// unpublishLocales unpublishes, from PUBLISHED, the localizations of the
// published works that the source's published version lacks (dropLocales),
// in batches of the works with the same locales. Publishing names every
// locale, but whether Hygraph then drops a published localization the
// draft no longer has is not documented; unpublishing it by name holds
// either way (and is a no-op where the publish dropped it).
func (e *engine) unpublishLocales(ctx context.Context, model string, works []*work) error {
	query := e.dstOps[model].unpublishLocales
	if query == "" {
		return nil
	}
	groups := map[string][]*work{}
	for _, w := range works {
		if !w.failed && len(w.dropLocales) > 0 {
			k := strings.Join(w.dropLocales, ",")
			groups[k] = append(groups[k], w)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		ws := groups[k]
		items := make([]idItem, len(ws))
		for i, w := range ws {
			items[i] = idItem{srcID: w.srcID, destID: w.destID}
		}
		locales := make([]any, len(ws[0].dropLocales))
		for i, l := range ws[0].dropLocales {
			locales[i] = l
		}
		failed, err := e.publishIDs(ctx, model, query, "unpublish", items, e.conc, map[string]any{"locales": locales})
		for i, w := range ws {
			w.failed = w.failed || failed[i]
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeDraft writes the draft of a published entry on top of its published
// version.
func (e *engine) writeDraft(ctx context.Context, w *work) {
	d, p := e.canon(w, false), e.canon(w, true)
	// The order of reverse sides is written after every draft (see
	// relinkDrafts).
	keys := slices.DeleteFunc(changedKeys(hashVersion(d), hashVersion(p)), func(k string) bool { return e.ord.relink[w.model][k] })
	if len(keys) == 0 {
		return
	}
	e.reportMissing(w, d, keys)
	// List components were replaced by the published version; the
	// destination's component ids are not known here. Positioned
	// relations hold what the published version holds.
	b := e.builder(w.model)
	data := b.build(e.withoutHeld(w.model, w.srcID, d), keys, false, b.currentLists(p))
	if err := e.updateInParts(ctx, w.model, w.destID, data); err != nil {
		w.failed = true
		e.failWrite(Failure{Model: w.model, SourceID: w.srcID, DestID: w.destID, Op: "update"}, err)
	}
}

// publisher publishes (and unpublishes) the entries of a model outside
// any relation cycle as soon as their writes are done, in batches of
// publishSize ids, and then writes the drafts of those whose draft
// differs from their published version: such a model's works are done
// and freed while the model is written, instead of being kept to the end
// of the run.
type publisher struct {
	e          *engine
	model      string
	ctx        context.Context
	g          *errgroup.Group
	mu         sync.Mutex
	pub, unpub []*work
	n          int
}

// publishAhead is the number of publish batches of a model in flight.
const publishAhead = 4

func (e *engine) newPublisher(ctx context.Context, model string) *publisher {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(publishAhead)
	return &publisher{e: e, model: model, ctx: gctx, g: g}
}

// add queues a work whose first write is done.
func (p *publisher) add(w *work) {
	p.mu.Lock()
	p.n++
	q := &p.pub
	if w.unpublish {
		q = &p.unpub
	}
	*q = append(*q, w)
	var batch []*work
	if len(*q) >= p.e.publishSize() {
		batch, *q = *q, nil
	}
	p.mu.Unlock()
	if batch != nil {
		p.launch(batch, w.unpublish)
	}
}

func (p *publisher) launch(batch []*work, unpublish bool) {
	p.g.Go(func() error { return p.e.publishWorks(p.ctx, p.model, batch, unpublish) })
}

// finish publishes what is queued and waits for every batch.
func (p *publisher) finish() error {
	p.mu.Lock()
	pub, unpub := p.pub, p.unpub
	p.pub, p.unpub = nil, nil
	p.mu.Unlock()
	if len(pub) > 0 {
		p.launch(pub, false)
	}
	if len(unpub) > 0 {
		p.launch(unpub, true)
	}
	err := p.g.Wait()
	if p.n > 0 {
		p.e.emit(Event{Phase: PhasePublish, Model: p.model, Done: p.n, Total: p.n})
	}
	return err
}

// idItem is a destination entry acted on by id, with the source id the
// report names it by ("" when unknown).
type idItem struct{ srcID, destID string }

// publishIDs runs a publish or unpublish query (variables $ids, $first; op
// is "publish" or "unpublish") on items in batches of publishSize ids, at
// most conc at a time. It reports each entry's failure and counts the
// published ones, and returns which items failed; the error is ctx's.
// vars are more variables of query, the same for every batch.
func (e *engine) publishIDs(ctx context.Context, model, query, op string, items []idItem, conc int, vars map[string]any) ([]bool, error) {
	failed := make([]bool, len(items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	batch := e.publishSize()
	for start := 0; start < len(items); start += batch {
		chunk := items[start:min(start+batch, len(items))]
		g.Go(func() error {
			ids := make([]string, len(chunk))
			for i, it := range chunk {
				ids[i] = it.destID
			}
			v := map[string]any{"ids": ids, "first": len(ids)}
			maps.Copy(v, vars)
			err := e.write(gctx, true, query, v, nil)
			for i, it := range chunk {
				switch {
				case err != nil:
					failed[start+i] = true
					e.failWrite(Failure{Model: model, SourceID: it.srcID, DestID: it.destID, Op: op}, err)
				case op == "publish":
					e.report.add(model, countPublished, 1)
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	return failed, ctx.Err()
}

// deleteIDs deletes items one by one with a delete query (variable $id),
// at most conc at a time. It reports each failure and counts the deleted
// entries, and returns which items failed; the error is ctx's.
func (e *engine) deleteIDs(ctx context.Context, model, query string, items []idItem, conc int) ([]bool, error) {
	failed := make([]bool, len(items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i, it := range items {
		g.Go(func() error {
			if err := e.write(gctx, true, query, map[string]any{"id": it.destID}, nil); err != nil {
				failed[i] = true
				e.failWrite(Failure{Model: model, SourceID: it.srcID, DestID: it.destID, Op: "delete"}, err)
				return nil
			}
			e.report.add(model, countDeleted, 1)
			return nil
		})
	}
	_ = g.Wait()
	return failed, ctx.Err()
}

// deletions deletes orphaned destination entries in mirror mode, in
// reverse write order with assets last, or reports them. Nothing is
// deleted unless the delete guard allows every delete (see deleteGuard).
func (e *engine) deletions(ctx context.Context) error {
	byModel := map[string][]destRef{}
	for _, d := range e.orphans {
		byModel[d.model] = append(byModel[d.model], d)
	}
	models := slices.Clone(e.ord.models)
	slices.Reverse(models)
	if len(byModel[assetModel]) > 0 {
		models = append(models, assetModel)
	}
	delQuery := func(model string) string {
		if model == assetModel {
			return e.assetDelete
		}
		return e.dstOps[model].del
	}
	srcOf := func(model, id string) string {
		s, _ := e.state.SourceID(model, id)
		return s
	}
	var dels []Deletion
	for _, model := range models {
		orphans := byModel[model]
		if len(orphans) == 0 {
			continue
		}
		if !e.cfg.Mirror || delQuery(model) == "" {
			for _, d := range orphans {
				e.plan.add(model, EntryPlan{SourceID: srcOf(model, d.id), DestID: d.id, Op: OpOrphan})
				e.report.add(model, countOrphaned, 1)
			}
			continue
		}
		del := Deletion{Model: model}
		for _, d := range orphans {
			del.DestIDs = append(del.DestIDs, d.id)
		}
		dels = append(dels, del)
	}
	if len(dels) == 0 {
		return nil
	}
	guard := e.deleteGuard(dels)
	if guard == nil && !e.cfg.DryRun && e.cfg.ConfirmDelete != nil && !e.cfg.ConfirmDelete(dels) {
		guard = &DeleteGuardError{Reason: "the deletes were not confirmed", Count: countDeletes(dels)}
	}
	for _, del := range dels {
		op := OpDelete
		if guard != nil {
			op = OpOrphan
		}
		for _, id := range del.DestIDs {
			e.plan.add(del.Model, EntryPlan{SourceID: srcOf(del.Model, id), DestID: id, Op: op})
			if guard != nil {
				e.report.add(del.Model, countOrphaned, 1)
			}
		}
	}
	if guard != nil {
		return guard
	}
	if e.cfg.DryRun {
		return nil
	}
	for _, del := range dels {
		items := make([]idItem, len(del.DestIDs))
		for i, id := range del.DestIDs {
			items[i] = idItem{srcID: srcOf(del.Model, id), destID: id}
		}
		failed, err := e.deleteIDs(ctx, del.Model, delQuery(del.Model), items, e.conc)
		for i, it := range items {
			if !failed[i] && it.srcID != "" {
				e.state.forgetID(del.Model, it.srcID)
			}
		}
		if err != nil {
			return err
		}
		e.emit(Event{Phase: PhaseDelete, Model: del.Model, Done: len(items), Total: len(items)})
	}
	return nil
}
