// Creates whose answers were lost, settled within the run: once a model's
// writes are done, each is looked for in the destination and adopted when
// it arrived (identified beyond doubt, as a resumed run identifies it; see
// adopt), or sent again when it did not, before the models that point at
// it are written.

package stagesync

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/stagesync/stagesync/hygraph"
)

// lostCreate is a create of this run whose answer was lost: it may have
// been applied (ErrMaybeApplied).
type lostCreate struct {
	model, srcID string
	w            *work
	data         map[string]any // the create input, sent as is again
	later        bool           // the entry has phases after its create (see work)
	pc           pendingCreate  // what was sent, as recorded in the state
	err          error          // the failure, reported if it is not settled
	fail         func(error)    // reports the entry failed
	at           time.Time
}

// lostCreates are the lost creates of the model being written.
type lostCreates struct {
	mu   sync.Mutex
	list []*lostCreate
}

// reconcileRounds bounds the rounds of looking up and sending again the
// creates of a model whose answers were lost; what is left is reported
// failed, for the next pass of the run (see SyncConfig.MaxRounds).
const reconcileRounds = 4

// reconcileDelay is the least time between losing a create's answer and
// looking for its entry: a request whose connection broke may still be
// served for a while, and an entry looked for before it is made would be
// created twice.
const reconcileDelay = 2 * time.Second

// lose keeps l for reconcile, and reports whether it did: a create that
// may have been applied, of a model whose destination entries can be
// looked up by creation time, while the run goes on.
func (e *engine) lose(l *lostCreate) bool {
	if !errors.Is(l.err, ErrMaybeApplied) || e.cfg.DryRun || l.pc.created == "" || l.pc.sent == "" ||
		e.dstOps[l.model].readWhere == "" || e.ctl.ctx == nil || e.ctl.ctx.Err() != nil {
		return false
	}
	l.at = time.Now()
	e.lost.mu.Lock()
	defer e.lost.mu.Unlock()
	e.lost.list = append(e.lost.list, l)
	return true
}

// createdAs records that the create of a source entry made destination
// entry id (answered, adopted, or sent again).
func (e *engine) createdAs(model, srcID string, w *work, id string) {
	w.destID = id
	e.state.setDestID(model, srcID, id)
	e.state.clearPending(model, srcID)
	e.report.add(model, countCreated, 1)
}

// reconcile settles the lost creates of model once its writes are done:
// each entry that arrived (the one unmapped destination entry with the
// creation time and the content sent) is adopted; one that did not is
// created again. A create whose entry cannot be told from another's (the
// same content and creation time) is left failed: the next pass or run
// reports the candidates (see adopt). It gives up after reconcileRounds
// rounds, reporting what is left failed as it was, and at once when the
// model's writes did not end well (settle false).
func (e *engine) reconcile(ctx context.Context, model string, settle bool) {
	for round := 0; ; round++ {
		e.lost.mu.Lock()
		var lost []*lostCreate
		e.lost.list = slices.DeleteFunc(e.lost.list, func(l *lostCreate) bool {
			if l.model == model {
				lost = append(lost, l)
			}
			return l.model == model
		})
		e.lost.mu.Unlock()
		if len(lost) == 0 {
			return
		}
		giveUp := func(ls []*lostCreate, err error) {
			for _, l := range ls {
				l.w.failed = true
				l.fail(cmp.Or(err, l.err))
			}
		}
		if round == reconcileRounds || !settle || ctx.Err() != nil {
			giveUp(lost, nil)
			return
		}
		latest := slices.MaxFunc(lost, func(a, b *lostCreate) int { return a.at.Compare(b.at) }).at
		if wait := time.Until(latest.Add(reconcileDelay)); wait > 0 {
			select {
			case <-ctx.Done():
				giveUp(lost, nil)
				return
			case <-time.After(wait):
			}
		}
		found, err := e.readCreated(ctx, model, lost)
		if err != nil {
			giveUp(lost, nil)
			return
		}
		cands := make([][]*destEntry, len(lost))
		claims := map[string]int{}
		for i, l := range lost {
			for _, d := range found[timeKey(l.pc.created)] {
				if d.content != l.pc.sent {
					continue
				}
				if _, mapped := e.state.SourceID(model, d.id); mapped {
					continue
				}
				cands[i] = append(cands[i], d)
				claims[d.id]++
			}
		}
		var again []*lostCreate
		for i, l := range lost {
			switch {
			case len(cands[i]) == 0:
				again = append(again, l)
			case len(cands[i]) == 1 && claims[cands[i][0].id] == 1:
				e.createdAs(model, l.srcID, l.w, cands[i][0].id)
				if l.later {
					e.later(l.w)
				}
			default: // twins
				ids := make([]string, len(cands[i]))
				for j, d := range cands[i] {
					ids[j] = d.id
				}
				giveUp([]*lostCreate{l}, &ambiguousCreateError{model: model, srcID: l.srcID, candidates: ids})
			}
		}
		var wg sync.WaitGroup
		for _, l := range again {
			wg.Go(func() {
				id, err := e.write(ctx, Change{Op: OpCreate, Model: model, Data: l.data})
				if err != nil {
					l.err = err
					if e.lose(l) {
						return
					}
					l.w.failed = true
					if notApplied(err) {
						e.state.clearPending(model, l.srcID)
					}
					l.fail(err)
					return
				}
				e.createdAs(model, l.srcID, l.w, id)
				if l.later {
					e.later(l.w)
				}
			})
		}
		wg.Wait()
	}
}

// readCreated reads the destination entries of model created at the
// creation times of lost, keyed by timeKey of their createdAt.
func (e *engine) readCreated(ctx context.Context, model string, lost []*lostCreate) (map[string][]*destEntry, error) {
	ops := e.dstOps[model]
	var times []any
	seen := map[string]bool{}
	for _, l := range lost {
		if !seen[l.pc.created] {
			seen[l.pc.created] = true
			times = append(times, l.pc.created)
		}
	}
	out := map[string][]*destEntry{}
	for chunk := range slices.Chunk(times, destWhereValues) {
		fetch := queryFetcher(e.cfg.Dest, ops, ops.readWhere, map[string]any{"where": map[string]any{"createdAt_in": chunk}})
		for entry, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(e.pageSize)) {
			if err != nil {
				return nil, err
			}
			d := e.destEntryOf(model, entry)
			out[d.created] = append(out[d.created], d)
		}
	}
	return out, nil
}
