package stagesync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Op is what a sync does (or would do) to one entry.
type Op string

// The entry operations of a plan.
const (
	OpCreate    Op = "create"
	OpUpdate    Op = "update"
	OpUnchanged Op = "unchanged"
	OpDelete    Op = "delete"
	// OpOrphan is a destination entry whose source entry is gone, left in
	// place because mirror mode is off.
	OpOrphan Op = "orphan"
	// OpSkip is an entry a transform dropped.
	OpSkip Op = "skip"
	// OpFail is an entry that is not written because it fails before
	// any write, e.g. a relation target in a model left out of the sync
	// that does not resolve; Reason says why, and the report lists it.
	OpFail Op = "fail"
)

// Plan is the changeset of a sync: per model the entries to create,
// update, delete or publish, with the fields that change. A dry run
// returns it without writing; a real run returns what it did. Unchanged
// entries are counted, not listed. It is safe for concurrent use while a
// sync runs; read it after the sync returns.
type Plan struct {
	mu      sync.Mutex
	models  []*ModelPlan
	byName  map[string]*ModelPlan
	limit   int
	spill   *planSpill     // the entries over planMemory (see planspill.go)
	spilled map[string]int // per model, the entries in spill
}

// ModelPlan is the changeset of one model.
type ModelPlan struct {
	Name      string `json:"name"`
	Create    int    `json:"create"`
	Update    int    `json:"update"`
	Unchanged int    `json:"unchanged"`
	Delete    int    `json:"delete"`
	Orphaned  int    `json:"orphaned"`
	Skipped   int    `json:"skipped"`
	Failed    int    `json:"failed"`
	Publish   int    `json:"publish"`
	Unpublish int    `json:"unpublish"`
	// PublishedDiffers counts the entries whose source's published version
	// differs from its draft.
	PublishedDiffers int `json:"publishedDiffers"`
	// Entries lists the entries that are not unchanged, up to the plan's
	// limit (see SyncConfig.PlanLimit) and at most 1,000: a plan that
	// lists more keeps the rest on disk, and Plan.Entries iterates over
	// all of them.
	Entries []EntryPlan `json:"entries"`
	// Omitted counts the entries over the limit, counted but not listed.
	Omitted int `json:"omitted,omitempty"`
}

// EntryPlan is what happens to one entry.
type EntryPlan struct {
	SourceID string `json:"sourceId,omitempty"`
	DestID   string `json:"destId,omitempty"`
	Op       Op     `json:"op"`
	// Changed names the fields written: "field" or, for a localized field
	// in another locale, "field@locale".
	Changed []string `json:"changed,omitempty"`
	// Publish is "publish" or "unpublish" when the entry's publish state
	// changes, or its published version is rewritten.
	Publish string `json:"publish,omitempty"`
	// PublishedDiffers is set when the source's published version differs
	// from its draft, so the published version is written first.
	PublishedDiffers bool `json:"publishedDiffers,omitempty"`
	// Reason says why an entry fails (OpFail).
	Reason string `json:"reason,omitempty"`
}

// newPlan returns an empty plan that lists at most limit entries per
// model (all when limit is negative).
func newPlan(limit int) *Plan {
	return &Plan{byName: map[string]*ModelPlan{}, spilled: map[string]int{}, limit: limit}
}

// model returns the plan of name, creating it; p.mu must be held.
func (p *Plan) model(name string) *ModelPlan {
	m := p.byName[name]
	if m == nil {
		m = &ModelPlan{Name: name, Entries: []EntryPlan{}}
		p.byName[name] = m
		p.models = append(p.models, m)
	}
	return m
}

// add records one entry's plan.
func (p *Plan) add(model string, e EntryPlan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.model(model)
	switch e.Op {
	case OpCreate:
		m.Create++
	case OpUpdate:
		m.Update++
	case OpUnchanged:
		m.Unchanged++
	case OpDelete:
		m.Delete++
	case OpOrphan:
		m.Orphaned++
	case OpSkip:
		m.Skipped++
	case OpFail:
		m.Failed++
	}
	switch e.Publish {
	case "publish":
		m.Publish++
	case "unpublish":
		m.Unpublish++
	}
	if e.PublishedDiffers {
		m.PublishedDiffers++
	}
	if e.Op != OpUnchanged || e.Publish != "" {
		listed := len(m.Entries) + p.spilled[model]
		if p.limit >= 0 && listed >= p.limit {
			m.Omitted++
			return
		}
		if len(m.Entries) >= planMemory {
			if s := p.spillTo(); s != nil && s.add(model, e) {
				p.spilled[model]++
				return
			}
		}
		m.Entries = append(m.Entries, e)
	}
}

// Models returns a copy of the per-model plans in write order.
func (p *Plan) Models() []ModelPlan {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ModelPlan, len(p.models))
	for i, m := range p.models {
		out[i] = *m
		out[i].Entries = append([]EntryPlan{}, m.Entries...)
	}
	return out
}

// Model returns the plan of one model (zero counts when it has none).
func (p *Plan) Model(name string) ModelPlan {
	for _, m := range p.Models() {
		if m.Name == name {
			return m
		}
	}
	return ModelPlan{Name: name}
}

// Writes reports whether the plan writes anything.
func (p *Plan) Writes() bool {
	for _, m := range p.Models() {
		if m.Create+m.Update+m.Delete+m.Publish+m.Unpublish > 0 {
			return true
		}
	}
	return false
}

// MarshalJSON writes {"models":[...]}, every listed entry included.
func (p *Plan) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := p.WriteJSON(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// entryShape says what a source entry as read carries besides its fields:
// a typed model's read operation may leave out the published version or
// the localizations, and then the engine leaves them alone.
type entryShape struct {
	publish   bool   // "documentInStages" was read
	locales   bool   // "localizations" was read
	createdAt string // the source entry's createdAt, when read
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
	if e.copiesAssets(model) {
		return e.planAsset(ctx, srcID, entry, pub, shape, cur)
	}
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
	outsideMsg, missing := e.unresolvedOutside(model, e.pulledMissing(model, srcID, missing))
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
	if !w.publish {
		// The held entries stay out of the draft lists (see heldEntry).
		content = e.withoutHeld(model, srcID, content)
	}
	var pc pendingCreate
	if cur == nil {
		// Recorded before the create is sent: should its answer be lost,
		// this run (see reconcile) or the next finds the entry by what was
		// sent.
		pc = pendingCreate{created: createdAt, sent: e.createDigest(model, hashVersion(e.sentVersion(model, content)))}
		e.state.setPending(model, srcID, pc)
	}
	return func(ctx context.Context) {
		switch {
		case cur == nil:
			data := b.build(content, first, true, nil)
			if createdAt != "" {
				data["createdAt"] = createdAt
			}
			e.touch(model, "\x00"+srcID, data) // not an id: a new entry
			id, err := e.write(ctx, Change{Op: OpCreate, Model: model, Data: data})
			if err != nil {
				if e.lose(&lostCreate{model: model, srcID: srcID, w: w, data: data, later: later, err: err,
					pc:   pc,
					fail: func(err error) { fail("create", "", err) }}) {
					return // found or sent again once the model's writes are done (see reconcile)
				}
				w.failed = true
				if notApplied(err) {
					e.state.clearPending(model, srcID)
				}
				fail("create", "", err)
				return
			}
			e.createdAs(model, srcID, w, id)
		case len(first) > 0:
			data := b.build(content, first, false, cur.comps)
			e.touch(model, cur.id, data)
			if _, err := e.write(ctx, Change{Op: OpUpdate, Model: model, ID: cur.id, Data: data}); err != nil {
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
