package stagesync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/errgroup"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/entryform"
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
	// Confirm, when set, is asked before the first write, with the whole
	// plan; false writes nothing, and Sync returns ErrNotConfirmed. A real
	// run with Confirm or Mirror set (not a single-entry run) plans first:
	// a pass that reads both stages and writes nothing makes the whole
	// plan and checks it (see planFirst), then the run applies it. It
	// deletes only entries that plan deleted (and ConfirmDelete is asked
	// then, before the first write); a plan whose deletes the guard
	// refuses for their number (MaxDelete, the share, an empty source)
	// stops the run before its first write. The plan lists the entries
	// as PlanLimit says, every one when it is 0. Transforms run in both
	// passes.
	Confirm func(*Plan) bool
	// Delta reads only the source entries updated since the state's
	// high-water mark of their model (set by every run in which all of a
	// model's entries synced). Typed models are always read whole; entries
	// that did not change are compared and skipped as in a full sync.
	//
	// The destination is read only where those entries may match it: by
	// id (the identity map's, and the same id) and by the Match field's
	// values, in batched reads. Deletions are found from both stages'
	// entry counts checked against the identity map; when the counts do
	// not prove that nothing is orphaned, and in mirror runs, with creates
	// in flight, or with a Match field and a Transform, the model's whole
	// destination and every source id are read, as a full sync does (see
	// destTargeted). A delta reads the entries whose DRAFT updatedAt
	// moved: a change that leaves it (a publish or unpublish alone, a
	// two-way relation set from its other side, in the emulator; whether
	// Hygraph moves it then is unverified) is seen by a full sync only.
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
	Batch []hygraph.BatchOption
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
	// Writer, when set, wraps the writer of the run: it is given the
	// default one, which sends each Change as a mutation of the
	// destination's content API through its Batcher, and returns the
	// Writer the run sends its changes to (to record, audit or refuse
	// them). A dry run writes nothing and does not call it.
	Writer func(next Writer) Writer
	// SkipAssets accepts leaving assets out: with Assets nil, entries are
	// written linking only the assets already in the destination (mapped
	// by the state or with the same id); other asset targets are left out
	// of their relations, not reported.
	SkipAssets bool
	// Entries, when set, restricts the run to these source entries: model
	// → source ids (a single-entry run, as a webhook names them; see
	// entries.go). Only those entries are read from the source, by id, and
	// only their destination entries from the destination. An entry the
	// source no longer has is deleted with Mirror only when Deleted names
	// it too (the delete guard's share and empty-source rules do not apply
	// to those); otherwise it is kept and reported as orphaned. Relation targets the destination lacks are
	// pulled into the run, EntryDepth hops deep; deeper ones are left out
	// (Report.CutTargets) and fail the entries pointing at them. Models
	// bounds the models entries and targets may be of. A single-entry run
	// leaves the high-water marks alone and does not copy assets (asset
	// targets resolve through the identity map or by id).
	Entries map[string][]string
	// Deleted names the entries of Entries that the source reports
	// deleted (a webhook's delete event): model → source ids. Only these
	// are deleted by a single-entry run with Mirror, and only when the
	// source read does not return them. A named entry the source does not
	// return and Deleted does not name is kept and reported as orphaned:
	// a source that answers an id read with nothing (a token that lost
	// read access to a model, an event for the wrong project) must not
	// delete the destination's copies, one event at a time.
	Deleted map[string][]string
	// EntryDepth is the number of relation hops a single-entry run follows
	// to targets the destination lacks: 0 means 2, negative none.
	EntryDepth int
	// MaxRounds bounds the passes of a run (0 means DefaultMaxRounds, 1
	// one pass). A pass that leaves entries failed for a reason that may
	// pass (a write answered 5xx, cut off, or throttled past its retries;
	// a create whose answer was lost, which may have been applied) is
	// followed by another, as running the same sync again would: it reads
	// both stages again, adopts the creates that arrived (see adopt: only
	// an entry identified unambiguously) and writes what is still missing.
	// Rounds go on while each leaves fewer entries failed than the one
	// before; see repairRound.
	MaxRounds int
}

// DefaultMaxRounds is the most passes a run makes by default (see
// SyncConfig.MaxRounds).
const DefaultMaxRounds = 8

// repairStall is the number of passes in a row that repair nothing after
// which a run ends (see repairRound).
const repairStall = 3

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
	if r, p, err := e.planFirst(ctx); err != nil {
		if r == nil {
			r, p = report, plan
		}
		r.Started, r.Finished = report.Started, time.Now()
		return r, p, err
	}
	cfg = e.cfg // the state, opened once for every pass
	ectx, err := e.pass(ctx)
	rounds := cmp.Or(cfg.MaxRounds, DefaultMaxRounds)
	var failed map[failureKey]bool // the entries the pass before e left failed
	stalled := 0                   // passes in a row that repaired none of them
	for round := 2; round <= rounds && repairRound(e, err, failed, &stalled); round++ {
		failed = e.report.failedKeys()
		// The next pass shares the state (and its lock) of the first.
		next := cfg
		next.State, next.StatePath = e.state, ""
		last := e
		e = &engine{cfg: next, report: newReport(), plan: newPlan(0), allowDel: last.allowDel}
		defer e.close()
		last.emit(Event{Phase: PhaseRepair, Done: round, Total: len(last.report.Failures())})
		ectx, err = e.pass(ctx)
		report.absorb(e.report)
	}
	e.report = report
	if guard := isDeleteGuard(err); err == nil || guard {
		err = joinVerify(err, e.verify(ectx, guard))
	}
	if err != nil {
		return report, plan, err
	}
	e.emit(Event{Phase: PhaseDone})
	return report, plan, nil
}

// pass runs the engine once: pre-flight, then the run. It returns the
// run's context (cancelled when the engine closes) and what stopped it.
func (e *engine) pass(parent context.Context) (context.Context, error) {
	ctx, cancel := e.ctl.start(parent)
	e.cancel = cancel
	err := e.prepare(ctx)
	if err == nil {
		err = e.run(ctx)
	}
	return ctx, e.stopped(parent, err)
}

// repairRound reports whether a run whose pass e ended with err makes
// another pass (see SyncConfig.MaxRounds): not for a dry run or a stopped
// one (a delete refused by the guard is not a stop: the guard refuses
// while entries failed); only when entries failed and a write among them
// failed in a way that may pass; and only while the passes make progress.
// The first pass progressed when it wrote or adopted an entry (a stage
// that fails every write ends the run after one pass). A later one
// progressed when it synced an entry the pass before it left failed
// (before); after repairStall passes in a row that did not (stalled
// counts them), the run ends: the faults that strike at random strike a
// retried write again now and then, a write that fails every time fails
// the pass after too.
func repairRound(e *engine, err error, before map[failureKey]bool, stalled *int) bool {
	if e.cfg.DryRun || err != nil && !isDeleteGuard(err) || e.transient.Load() == 0 || e.report.OK() {
		return false
	}
	if before != nil {
		now := e.report.failedKeys()
		for k := range before {
			if !now[k] {
				*stalled = 0
				return true
			}
		}
		*stalled++
		return *stalled < repairStall
	}
	return e.report.progressed()
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
	out            Writer // the destination's (see SyncConfig.Writer)
	pageSize, conc int
	ctl            control // stops the run from within; serializes events
	cancel         context.CancelCauseFunc
	transient      atomic.Int64 // writes failed in a way that may pass (see repairRound)
	lost           lostCreates  // of the model being written (see reconcile)

	dest     map[string]*destIndex // per model, read in the background
	targeted map[string]bool       // models whose destination is read by targeted reads (see destTargeted)
	outside  *outside              // looks up targets in models left out of the sync
	planned  plannedCreates        // of a dry run
	marks    map[string]time.Time  // per model, the high-water mark this run reaches
	since    map[string]time.Time  // per model, the high-water mark at the run's start (see run)
	scratch  string                // the run's scratch directory
	opened   *State                // the state the run opened, closed at its end

	mu       sync.Mutex // guards works and queue
	works    []*work    // of the models within relation cycles
	queue    *publisher // of the model being written, outside relation cycles
	orphans  []destRef
	destSize map[string]int // per model, the destination's entries as read
	srcSize  map[string]int // per model, the source's entries (read, or their ids in a delta run)
	touchMu  sync.Mutex
	touched  map[string]string     // see touch: destination id -> model
	touches  map[string]*touchMark // see touch: destination id -> what touched it
	entries  *runEntries           // of a single-entry run, else nil
	snaps    map[string]map[string]relinkSnap
	holds    holds            // entries held back from the draft lists of their reverse sides (see heldEntry)
	singles  singles          // one-to-one targets taken by published versions written first (see noteSingles)
	dels     []Deletion       // the deletes a dry run planned (see planFirst)
	allowDel map[destRef]bool // the deletes the run may make, nil for any (see planFirst)

	// assetRun is the asset model's file-copy step, when Asset is a model
	// of the run (see prepareAssets).
	assetRun *assetRun
}

// close frees what the run holds: its state database when it opened one,
// and its scratch directory.
func (e *engine) close() {
	if e.cancel != nil {
		e.cancel(nil)
	}
	if e.opened != nil {
		_ = e.opened.Close()
	}
	for _, di := range e.dest {
		di.close()
	}
	e.planned.close()
	if e.scratch != "" {
		_ = os.RemoveAll(e.scratch)
	}
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
	// unread is a work of an entry this run did not read (see
	// unreadWorks): only its reverse sides' order is written, by moves.
	unread bool
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
	allowed := models
	if e.cfg.Deleted != nil && e.cfg.Entries == nil {
		return errors.New("stagesync: Deleted is set without Entries: it names entries of a single-entry run")
	}
	if e.cfg.Entries != nil {
		if models, err = e.entryModels(models); err != nil {
			return err
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
	if e.cfg.Assets != nil && e.cfg.Entries == nil && e.src.Model("Asset") != nil && e.dst.Model("Asset") != nil {
		e.synced["Asset"] = true // the asset model (see prepareAssets)
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
	if _, err := os.Stat(path); path != "" && !isPostgresURL(path) && e.cfg.DryRun && errors.Is(err, fs.ErrNotExist) {
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
	e.out = graphqlWriter{client: hygraph.NewBatcher(e.cfg.Dest.Client(), e.cfg.Batch...), ops: func(m string) *modelOps { return e.dstOps[m] }}
	if e.cfg.Writer != nil {
		e.out = e.cfg.Writer(e.out)
	}
	if e.cfg.Entries != nil {
		if err := e.prepareEntries(ctx, allowed); err != nil {
			return err
		}
	}
	return e.prepareAssets()
}

// run writes the models in order, then the later phases.
func (e *engine) run(ctx context.Context) error {
	e.destSize, e.srcSize = map[string]int{}, map[string]int{}
	// While a run writes, the destination is not what the high-water
	// marks promise: a run may write entries whose source did not change
	// (the other sides of relations held back or taken for a while, see
	// holds and singles) and an interrupted run leaves them half-written,
	// where a delta sync, which reads the entries updated since the marks,
	// would never look again. So the marks of the run's models are taken
	// away, in the state database, before the first write, and given back
	// (or moved on) at the end: after an interrupted run, the next delta
	// sync reads everything. The run itself reads as the marks said at its
	// start (see since).
	e.since = map[string]time.Time{}
	for _, m := range e.ord.models {
		e.since[m] = e.state.HighWater(m)
	}
	if !e.cfg.DryRun && e.entries == nil {
		for _, m := range e.ord.models {
			e.state.clearHighWater(m)
		}
		if err := e.save(); err != nil {
			return err
		}
	}
	// The destination's entries of the next model are read ahead, in the
	// background, while a model is written; one index at a time is kept.
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	e.dest, e.marks = map[string]*destIndex{}, map[string]time.Time{}
	e.targeted = map[string]bool{}
	readIndex := func(i int) {
		if i >= len(e.ord.models) {
			return
		}
		m := e.ord.models[i]
		di := newDestIndex(m, e.scratch)
		e.dest[m] = di
		if e.destTargeted(m) {
			// Filled page by page, by syncModel (see targetedDest).
			e.targeted[m] = true
			close(di.done)
			return
		}
		wg.Go(func() {
			defer close(di.done)
			di.err = e.readDest(dctx, di)
		})
	}
	readIndex(0)
	for i, m := range e.ord.models {
		readIndex(i + 1)
		e.report.touch(m)
		if e.copiesAssets(m) {
			e.assetRun.start()
		}
		if err := e.syncModel(ctx, m); err != nil {
			return err
		}
		if e.copiesAssets(m) {
			if err := e.assetRun.end(); err != nil {
				return err
			}
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
		// A model that failed, or whose source has no entries, keeps the
		// mark it had.
		for m, t := range e.since {
			if !t.IsZero() && e.state.HighWater(m).IsZero() {
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
	targeted := e.targeted[model]
	if targeted {
		fetch = e.targetedDest(model, di, fetch)
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
					// A targeted read's entry mapped to another source
					// entry, which this run does not read: not this one's.
					if other, ok := e.state.SourceID(model, de.id); !targeted || !ok || other == srcID {
						return de, nil
					}
				}
			}
		}
		// A create whose response was lost (a killed or cancelled run, a
		// dropped connection) may have left an entry behind.
		if pc, ok := e.state.pendingOf(model, srcID); ok {
			de, err := e.adopt(model, srcID, pc, di)
			if de != nil {
				e.report.adopt(model)
			}
			return de, err
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
	var readIDs []string // of a targeted model, for targetedOrphans
	for entry, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(e.pageSize)) {
		if err != nil {
			_ = g.Wait()
			return fmt.Errorf("stagesync: %s: %w", e.cfg.Source, err)
		}
		srcID, _ := entry["id"].(string)
		e.report.add(model, countRead, 1)
		if targeted {
			readIDs = append(readIDs, srcID)
		}
		var shape entryShape
		_, shape.publish = entry["documentInStages"]
		_, shape.locales = entry["localizations"]
		shape.createdAt, _ = entry["createdAt"].(string)
		pub := entryform.Published(entry)
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
	e.reconcile(ctx, model, err == nil)
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
	if targeted {
		if err := e.targetedOrphans(ctx, model, di, readIDs); err != nil {
			return err
		}
		return di.dbErr
	}
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
