package stagesync

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/stagesync/stagesync/schema"
)

// Publishing an entry publishes its relation values as its draft holds
// them, the sides of two-way relations the engine does not write (the
// to-one reverse sides, see order) included. An entry published in this
// run whose published version's to-one reverse side differs from its
// draft's (a person that joined another team in its draft only, through
// either side) is "held": the lists of the relation's written side leave
// it out of their draft contents (so that no draft write drags it to its
// draft target before it is published, whatever order the writes arrive
// in); just before it is published, its reverse side is written from its
// own side to its published value; and once everything is published, it
// is put back into its draft target's list at its place there (a
// positioned connect on the written side, which moves it on this side
// only and sets its reverse side), or its reverse side is disconnected.
// Its entry is published at the end of the run, after every written side
// is.

// heldTarget is a relation target by source id ("" for none).
type heldTarget struct{ model, id string }

// heldEntry is an entry held back from the draft lists of its reverse sides.
type heldEntry struct {
	model, srcID string
	pub, draft   map[string]heldTarget // reverse field -> target
}

// heldRestore puts a held entry back into a written list at its place.
type heldRestore struct {
	model, srcID, field string     // the written side
	target              heldTarget // the held entry
	after               string     // source id of its predecessor in the list; "" at the start
}

// holds is what the engine keeps of the held entries of a run.
type holds struct {
	mu       sync.Mutex
	byModel  map[string]map[string]*heldEntry // model -> source id -> held
	restores []heldRestore
}

// reverseOwner returns, for each written to-many field of model whose
// other side is a to-one reverse side (order.reverse), the model of that
// side.
func (e *engine) reverseOwner(model string) map[string]string {
	out := map[string]string{}
	m := e.dst.Model(model)
	if m == nil {
		return out
	}
	pairs := relationPairs(e.dst)
	for _, f := range writableFields(m) {
		if f.Kind != schema.KindRelation || !f.List || e.ord.relink[model][f.Name] {
			continue
		}
		other, ok := pairs[model+"."+f.Name]
		if !ok {
			continue
		}
		t, g, _ := strings.Cut(other, ".")
		if e.ord.reverse[t][g] {
			out[f.Name] = t
		}
	}
	return out
}

// refOf returns the source id of a to-one relation value as read.
func refOf(x any) string {
	m, _ := x.(map[string]any)
	id, _ := m["id"].(string)
	return id
}

// holdEntry records w as held when it is published in this run and the
// to-one reverse sides of its published version (pub) differ from its
// draft's (entry), both as read from the source.
func (e *engine) holdEntry(w *work, entry, pub map[string]any) {
	if !w.publish || pub == nil {
		return
	}
	m := e.dst.Model(w.model)
	var h *heldEntry
	for g := range e.ord.reverse[w.model] {
		f := m.Field(g)
		if f == nil || f.Kind != schema.KindRelation || f.List || len(f.Targets) != 1 {
			continue
		}
		p, d := refOf(pub[g]), refOf(entry[g])
		if p == d {
			continue
		}
		if h == nil {
			h = &heldEntry{model: w.model, srcID: w.srcID, pub: map[string]heldTarget{}, draft: map[string]heldTarget{}}
		}
		h.pub[g] = heldTarget{f.Targets[0], p}
		h.draft[g] = heldTarget{f.Targets[0], d}
	}
	if h == nil {
		return
	}
	w.held = true
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	if e.holds.byModel == nil {
		e.holds.byModel = map[string]map[string]*heldEntry{}
	}
	if e.holds.byModel[w.model] == nil {
		e.holds.byModel[w.model] = map[string]*heldEntry{}
	}
	e.holds.byModel[w.model][w.srcID] = h
}

// noteRestores records, for the written lists of a source entry's draft
// whose other side is to-one, where the held entries among their targets
// go back once published.
func (e *engine) noteRestores(model, srcID string, entry map[string]any) {
	owners := e.reverseOwner(model)
	if len(owners) == 0 {
		return
	}
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	for _, f := range slices.Sorted(maps.Keys(owners)) {
		t := owners[f]
		hs := e.holds.byModel[t]
		if len(hs) == 0 {
			continue
		}
		list, _ := entry[f].([]any)
		prev := ""
		for _, x := range list {
			id := refOf(x)
			if h := hs[id]; h != nil {
				e.holds.restores = append(e.holds.restores, heldRestore{model: model, srcID: srcID, field: f,
					target: heldTarget{t, id}, after: prev})
			}
			prev = id
		}
	}
}

// withoutHeld returns v (a canonical draft of model) with the held
// entries left out of its written lists whose other side is to-one.
func (e *engine) withoutHeld(model string, v map[string]any) map[string]any {
	owners := e.reverseOwner(model)
	if len(owners) == 0 {
		return v
	}
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	var out map[string]any
	for f, t := range owners {
		hs := e.holds.byModel[t]
		list, ok := v[f].([]any)
		if len(hs) == 0 || !ok {
			continue
		}
		drop := map[string]bool{}
		for id := range hs {
			if d, ok := e.state.DestID(t, id); ok {
				drop[d] = true
			}
		}
		kept := slices.DeleteFunc(slices.Clone(list), func(x any) bool { s, _ := x.(string); return drop[s] })
		if len(kept) == len(list) {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(v))
			for k, x := range v {
				out[k] = x
			}
		}
		out[f] = kept
	}
	if out == nil {
		return v
	}
	return out
}

// heldOf returns the held record of a work, or nil.
func (e *engine) heldOf(w *work) *heldEntry {
	if !w.held {
		return nil
	}
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	return e.holds.byModel[w.model][w.srcID]
}

// reverseInput is the update input setting the to-one reverse sides of an
// entry to targets; false when a target has no destination entry.
func (e *engine) reverseInput(targets map[string]heldTarget) (map[string]any, bool) {
	data := map[string]any{}
	for g, t := range targets {
		if t.id == "" {
			data[g] = map[string]any{"disconnect": true}
			continue
		}
		d, ok := e.resolve(t.model, t.id)
		if !ok {
			return nil, false
		}
		data[g] = map[string]any{"connect": map[string]any{"id": d}}
	}
	return data, true
}

// prePublish writes the to-one reverse sides of the held works among
// works (of model, about to be published) to their published values.
func (e *engine) prePublish(ctx context.Context, model string, works []*work) error {
	var hw []*work
	for _, w := range works {
		if !w.failed && w.held {
			hw = append(hw, w)
		}
	}
	if len(hw) == 0 {
		return nil
	}
	return e.each(ctx, hw, func(ctx context.Context, w *work) {
		h := e.heldOf(w)
		if h == nil {
			return
		}
		data, ok := e.reverseInput(h.pub)
		if !ok {
			return
		}
		if err := e.write(ctx, true, e.dstOps[model].update, map[string]any{"id": w.destID, "data": data}, nil); err != nil {
			w.failed = true
			e.failWrite(Failure{Model: model, SourceID: w.srcID, DestID: w.destID, Op: "relation"}, err)
		}
	})
}

// restoreHeld puts the held entries back into the draft lists they belong
// to, after every publish: a positioned connect per entry on the written
// side, in list order per list; the held entries that no list takes back
// have their reverse sides written from their own side.
func (e *engine) restoreHeld(ctx context.Context) error {
	e.holds.mu.Lock()
	restores := e.holds.restores
	var all []*heldEntry
	for _, m := range slices.Sorted(maps.Keys(e.holds.byModel)) {
		hs := e.holds.byModel[m]
		for _, id := range slices.Sorted(maps.Keys(hs)) {
			all = append(all, hs[id])
		}
	}
	e.holds.mu.Unlock()
	if len(all) == 0 {
		return nil
	}
	// Per written list, its restores in order.
	type listKey struct{ model, srcID, field string }
	var keys []listKey
	byList := map[listKey][]heldRestore{}
	for _, r := range restores {
		k := listKey{r.model, r.srcID, r.field}
		if byList[k] == nil {
			keys = append(keys, k)
		}
		byList[k] = append(byList[k], r)
	}
	// The reverse fields of each held entry that no list takes back.
	type side struct {
		h      *heldEntry
		fields map[string]heldTarget
	}
	var sides []side
	for _, h := range all {
		rest := map[string]heldTarget{}
		for g, t := range h.draft {
			covered := t.id != "" && slices.ContainsFunc(restores, func(r heldRestore) bool {
				return r.target == (heldTarget{h.model, h.srcID}) && r.model == t.model && r.srcID == t.id
			})
			if !covered {
				rest[g] = t
			}
		}
		if len(rest) > 0 {
			sides = append(sides, side{h, rest})
		}
	}
	sem := make(chan struct{}, max(1, e.conc))
	var wg sync.WaitGroup
	run := func(fn func()) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn()
		})
	}
	for _, k := range keys {
		run(func() {
			for _, r := range byList[k] {
				if ctx.Err() != nil {
					return
				}
				e.restoreInList(ctx, r)
			}
		})
	}
	for _, s := range sides {
		run(func() { e.restoreFromSide(ctx, s.h, s.fields) })
	}
	wg.Wait()
	return ctx.Err()
}

// restoreInList connects a held entry to a written list after its
// predecessor there.
func (e *engine) restoreInList(ctx context.Context, r heldRestore) {
	owner, ok := e.state.DestID(r.model, r.srcID)
	if !ok {
		return
	}
	target, ok := e.resolve(r.target.model, r.target.id)
	if !ok {
		return
	}
	in := map[string]any{"where": map[string]any{"id": target}}
	if r.after == "" {
		in["position"] = map[string]any{"start": true}
	} else if p, ok := e.resolve(r.target.model, r.after); ok {
		in["position"] = map[string]any{"after": p}
	}
	data := map[string]any{r.field: map[string]any{"connect": []any{in}}}
	if err := e.write(ctx, true, e.dstOps[r.model].update, map[string]any{"id": owner, "data": data}, nil); err != nil {
		e.failWrite(Failure{Model: r.model, SourceID: r.srcID, DestID: owner, Op: "relation"}, err)
	}
}

// restoreFromSide writes the to-one reverse sides of a held entry to its
// draft values from its own side.
func (e *engine) restoreFromSide(ctx context.Context, h *heldEntry, fields map[string]heldTarget) {
	dest, ok := e.state.DestID(h.model, h.srcID)
	if !ok {
		return
	}
	data, ok := e.reverseInput(fields)
	if !ok {
		return
	}
	if err := e.write(ctx, true, e.dstOps[h.model].update, map[string]any{"id": dest, "data": data}, nil); err != nil {
		e.failWrite(Failure{Model: h.model, SourceID: h.srcID, DestID: dest, Op: "relation"}, err)
	}
}
