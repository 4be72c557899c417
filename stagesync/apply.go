// The apply step of a sync: writes through the destination's Batcher, the
// relation pass, publishing (and drafts on top of published versions),
// and deletes, last and behind the delete guard (deleteguard.go).

package stagesync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/stagesync/stagesync/schema"
	"golang.org/x/sync/errgroup"
)

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
	if e.pulled(w.model, w.srcID) {
		return // see pulledMissing
	}
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
	ops, op := e.dstOps[model], OpPublish
	if unpublish {
		op = OpUnpublish
	}
	if ops.publish == "" || ops.unpublish == "" {
		return nil // a model without stages
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
	failed, err := e.publishIDs(ctx, model, op, items, e.conc, nil)
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
	var items []localeItem
	var of []*work
	for _, w := range works {
		if !w.failed && len(w.dropLocales) > 0 {
			items = append(items, localeItem{idItem{srcID: w.srcID, destID: w.destID}, w.dropLocales})
			of = append(of, w)
		}
	}
	failed, err := e.unpublishLocaleItems(ctx, model, items, e.conc)
	for i, w := range of {
		w.failed = w.failed || failed[i]
	}
	return err
}

// localeItem is a destination entry with the locales to unpublish.
type localeItem struct {
	idItem
	locales []string
}

// unpublishLocaleItems unpublishes each item's locales from PUBLISHED, in
// batches of the items with the same locales, and returns which items
// failed; the error is ctx's.
func (e *engine) unpublishLocaleItems(ctx context.Context, model string, items []localeItem, conc int) ([]bool, error) {
	failed := make([]bool, len(items))
	if e.dstOps[model].unpublishLocales == "" {
		return failed, nil
	}
	groups := map[string][]int{}
	for i, it := range items {
		k := strings.Join(it.locales, ",")
		groups[k] = append(groups[k], i)
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		idx := groups[k]
		ids := make([]idItem, len(idx))
		for j, i := range idx {
			ids[j] = items[i].idItem
		}
		f, err := e.publishIDs(ctx, model, OpUnpublish, ids, conc, items[idx[0]].locales)
		for j, i := range idx {
			failed[i] = f[j]
		}
		if err != nil {
			return failed, err
		}
	}
	return failed, nil
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

// publishIDs publishes or unpublishes (op) items in batches of publishSize
// ids, at most conc at a time; an unpublish with locales takes only those
// localizations out of PUBLISHED. It reports each entry's failure and
// counts the published ones, and returns which items failed; the error is
// ctx's.
func (e *engine) publishIDs(ctx context.Context, model string, op Op, items []idItem, conc int, locales []string) ([]bool, error) {
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
			_, err := e.write(gctx, Change{Op: op, Model: model, IDs: ids, Locales: locales})
			for i, it := range chunk {
				switch {
				case err != nil:
					failed[start+i] = true
					e.failWrite(Failure{Model: model, SourceID: it.srcID, DestID: it.destID, Op: string(op)}, err)
				case op == OpPublish:
					e.report.add(model, countPublished, 1)
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	return failed, ctx.Err()
}

// deleteIDs deletes items one by one, at most conc at a time. It reports
// each failure and counts the deleted entries, and returns which items
// failed; the error is ctx's.
func (e *engine) deleteIDs(ctx context.Context, model string, items []idItem, conc int) ([]bool, error) {
	failed := make([]bool, len(items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i, it := range items {
		g.Go(func() error {
			if _, err := e.write(gctx, Change{Op: OpDelete, Model: model, ID: it.destID}); err != nil {
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
	if len(byModel[assetModel]) > 0 && !slices.Contains(models, assetModel) {
		models = append(models, assetModel)
	}
	canDelete := func(model string) bool {
		ops := e.dstOps[model] // Asset's when assets are copied
		return ops != nil && ops.del != ""
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
		if !e.cfg.Mirror || !canDelete(model) {
			for _, d := range orphans {
				e.plan.add(model, EntryPlan{SourceID: srcOf(model, d.id), DestID: d.id, Op: OpOrphan})
				e.report.add(model, countOrphaned, 1)
			}
			continue
		}
		del := Deletion{Model: model}
		for _, d := range orphans {
			src := srcOf(model, d.id)
			// A single-entry run deletes only what the source reported
			// deleted (SyncConfig.Deleted); a run that planned first only
			// what its plan deleted.
			if e.entries != nil && !e.reportedDeleted(model, src, d.id) || e.allowDel != nil && !e.allowDel[destRef{model: model, id: d.id}] {
				e.plan.add(model, EntryPlan{SourceID: src, DestID: d.id, Op: OpOrphan})
				e.report.add(model, countOrphaned, 1)
				continue
			}
			del.DestIDs = append(del.DestIDs, d.id)
		}
		if len(del.DestIDs) > 0 {
			dels = append(dels, del)
		}
	}
	if len(dels) == 0 {
		return nil
	}
	if e.cfg.DryRun {
		e.dels = dels // for planFirst
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
		failed, err := e.deleteIDs(ctx, del.Model, items, e.conc)
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
