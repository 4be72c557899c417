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
// to-one reverse sides, see order) included; and a connect on the written
// (to-many) side of such a relation takes the target away from the list
// that held it. So an entry whose to-one reverse side must not follow
// the draft lists while the run writes them is "held":
//   - an entry published in this run whose published version's reverse
//     side differs from its draft's (a person that joined another team in
//     its draft only, through either side);
//   - an entry that the published version of a list written to the draft
//     before it is published (see work.twoStep) holds, and that list's
//     draft does not (that write would take it from its draft list).
//
// The written lists of such relations are written in the relation pass
// (see planOrder), once every entry is planned, and their draft contents
// leave the held entries out, so that no draft write moves them whatever
// order the writes arrive in. Just before a held entry of the first kind
// is published (at the end of the run), its reverse side is written from
// its own side to its published value. Once everything is published,
// each held entry is put back at its place in its draft list (a
// positioned connect on the written side, which sets its reverse side
// too), or its reverse side is written from its own side.

// heldTarget is a relation target by source id ("" for none).
type heldTarget struct{ model, id string }

// heldEntry is an entry held back from the draft lists of its reverse
// sides; pub and draft are set for an entry published in this run.
type heldEntry struct {
	model, srcID string
	pub, draft   map[string]heldTarget // reverse field -> target
	listed       bool                  // held for a published list written first
}

// listPlace is where an entry stands in a written list's draft.
type listPlace struct {
	model, srcID, field string // the written side
	index               int
	after               string // source id of its predecessor in the list; "" at the start
}

// placeKey names the place of an entry in the lists of a written field.
type placeKey struct {
	target       heldTarget
	model, field string // the written side
}

// holds is what the engine keeps of the held entries of a run.
type holds struct {
	mu      sync.Mutex
	byModel map[string]map[string]*heldEntry // model -> source id -> held
	places  map[placeKey]listPlace
	// published are the source entries with a published version, of the
	// models a to-one reverse side points at.
	published map[heldTarget]bool
	// pairs are the held pairs of to-many two-way relations: per list of
	// the written side, the entries it leaves out of its draft (see
	// holdPairs); pairPlaces where they go back.
	pairs      map[pairOwner][]heldTarget
	pairPlaces []heldRestore
	// noted are the lists of the written side whose places were noted
	// (see notePairPlaces): those of the entries this run read.
	noted map[pairOwner]bool
}

// pairOwner is a list of the written side of a to-many two-way relation.
type pairOwner struct{ model, srcID, field string }

// reverseOwner returns, for each written to-many field of model whose
// other side is a to-one reverse side (order.reverse), the model of that
// side.
func (e *engine) reverseOwner(model string) map[string]string {
	return e.ord.owners[model]
}

// listedReverse reports whether g, a to-one reverse side of model
// (order.reverse), has a written list on its other side (one-to-many):
// only those are held. The reverse side of a one-to-one relation is
// written through its to-one written side, which no list write moves.
func (e *engine) listedReverse(model, g string) bool {
	om, of, ok := strings.Cut(e.ord.pairs[model+"."+g], ".")
	return ok && e.ord.owners[om][of] == model
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
		if f == nil || f.Kind != schema.KindRelation || f.List || len(f.Targets) != 1 || !e.listedReverse(w.model, g) {
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
	e.hold(h)
}

// hold records h (merged into a record of the same entry).
func (e *engine) hold(h *heldEntry) {
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	if e.holds.byModel == nil {
		e.holds.byModel = map[string]map[string]*heldEntry{}
	}
	if e.holds.byModel[h.model] == nil {
		e.holds.byModel[h.model] = map[string]*heldEntry{}
	}
	old := e.holds.byModel[h.model][h.srcID]
	switch {
	case old == nil:
		e.holds.byModel[h.model][h.srcID] = h
	case h.pub == nil:
		old.listed = true
	default:
		h.listed = old.listed
		e.holds.byModel[h.model][h.srcID] = h
	}
}

// notePublished records that a source entry of model is published, when
// a to-one reverse side points at model.
func (e *engine) notePublished(model, srcID string) {
	if len(e.reverseOwner(model)) == 0 {
		return
	}
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	if e.holds.published == nil {
		e.holds.published = map[heldTarget]bool{}
	}
	e.holds.published[heldTarget{model, srcID}] = true
}

// settleHolds, once every entry is planned, sets the published value of
// the reverse fields of held published entries whose published value
// reads as none while their draft's target is not published in the
// source to that target: the published version may well hold it (a
// relation to an entry that is not published does not show in
// PUBLISHED, and the source's published version was published from a
// draft that held it, most likely).
func (e *engine) settleHolds() {
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	for _, hs := range e.holds.byModel {
		for _, h := range hs {
			if h.pub == nil {
				continue
			}
			for g, p := range h.pub {
				if d := h.draft[g]; p.id == "" && d.id != "" && !e.holds.published[d] {
					h.pub[g] = d
				}
			}
		}
	}
}

// notePlaces records where each target of the written lists of a source
// entry (whose other side is to-one) stands in its draft, and, when the
// entry's published version is written to the draft first (twoStep), holds
// the targets its published lists have and its draft lists do not.
func (e *engine) notePlaces(w *work, model, srcID string, entry, pub map[string]any) {
	owners := e.reverseOwner(model)
	if len(owners) == 0 {
		return
	}
	for _, f := range slices.Sorted(maps.Keys(owners)) {
		t := owners[f]
		list, _ := entry[f].([]any)
		in := map[string]bool{}
		e.holds.mu.Lock()
		if e.holds.places == nil {
			e.holds.places = map[placeKey]listPlace{}
		}
		prev := ""
		for i, x := range list {
			id := refOf(x)
			in[id] = true
			e.holds.places[placeKey{heldTarget{t, id}, model, f}] = listPlace{model: model, srcID: srcID, field: f, index: i, after: prev}
			prev = id
		}
		e.holds.mu.Unlock()
		if w == nil || !w.twoStep || pub == nil {
			continue
		}
		plist, _ := pub[f].([]any)
		for _, x := range plist {
			if id := refOf(x); id != "" && !in[id] {
				e.hold(&heldEntry{model: t, srcID: id, listed: true})
			}
		}
	}
}

// withoutHeld returns v (a canonical draft of model's entry srcID) with
// the held entries left out of its written lists whose other side is
// to-one, and the held pairs left out of those whose other side is
// to-many (see holdPairs).
func (e *engine) withoutHeld(model, srcID string, v map[string]any) map[string]any {
	owners := e.reverseOwner(model)
	if len(owners) == 0 && len(e.ord.paired[model]) == 0 {
		return v
	}
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	var out map[string]any
	fields := map[string]bool{}
	for f := range owners {
		fields[f] = true
	}
	for f := range e.ord.paired[model] {
		fields[f] = true
	}
	for f := range fields {
		list, ok := v[f].([]any)
		if !ok {
			continue
		}
		drop := map[string]bool{}
		if t, ok := owners[f]; ok {
			for id := range e.holds.byModel[t] {
				if d, ok := e.state.DestID(t, id); ok {
					drop[d] = true
				}
			}
		}
		for _, t := range e.holds.pairs[pairOwner{model, srcID, f}] {
			if d, ok := e.state.DestID(t.model, t.id); ok {
				drop[d] = true
			}
		}
		if len(drop) == 0 {
			continue
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
		if !w.failed && (w.held || len(e.sidesOf(model, w.srcID)) > 0) {
			hw = append(hw, w)
		}
	}
	if len(hw) == 0 {
		return nil
	}
	return e.each(ctx, hw, func(ctx context.Context, w *work) {
		data := map[string]any{}
		if h := e.heldOf(w); h != nil && len(h.pub) > 0 {
			d, ok := e.reverseInput(h.pub)
			if ok {
				maps.Copy(data, d)
			}
		}
		e.singles.mu.Lock()
		taken := maps.Clone(e.singles.takenBy[heldTarget{model, w.srcID}])
		e.singles.mu.Unlock()
		if len(taken) > 0 {
			if d, ok := e.reverseInput(taken); ok {
				maps.Copy(data, d)
			}
		}
		if sides := e.sidesOf(model, w.srcID); len(sides) > 0 {
			if d, ok := e.sideInput(sides, false); ok {
				maps.Copy(data, d)
			}
		}
		if len(data) == 0 {
			return
		}
		if !e.writeRelation(ctx, model, w.srcID, w.destID, data) {
			w.failed = true
		}
	})
}

// restoreHeld puts the held entries back into the draft lists they belong
// to, after every publish: a positioned connect per entry on the written
// side, in list order per list; the reverse sides of held entries that no
// list takes back are written from their own side (of entries published
// in this run: the others left their lists' drafts with the write that
// held them).
func (e *engine) restoreHeld(ctx context.Context) error {
	e.holds.mu.Lock()
	var all []*heldEntry
	for _, m := range slices.Sorted(maps.Keys(e.holds.byModel)) {
		hs := e.holds.byModel[m]
		for _, id := range slices.Sorted(maps.Keys(hs)) {
			all = append(all, hs[id])
		}
	}
	places := e.holds.places
	e.holds.mu.Unlock()
	if len(all) == 0 {
		return nil
	}
	pairs := e.ord.pairs
	type listKey struct{ model, srcID, field string }
	var keys []listKey
	byList := map[listKey][]heldRestore{}
	type side struct {
		h      *heldEntry
		fields map[string]heldTarget
	}
	var sides []side
	for _, h := range all {
		rest := map[string]heldTarget{}
		m := e.dst.Model(h.model)
		for g := range e.ord.reverse[h.model] {
			f := m.Field(g)
			if f == nil || f.Kind != schema.KindRelation || f.List || !e.listedReverse(h.model, g) {
				continue
			}
			om, of, _ := strings.Cut(pairs[h.model+"."+g], ".")
			if p, ok := places[placeKey{heldTarget{h.model, h.srcID}, om, of}]; ok {
				k := listKey{p.model, p.srcID, p.field}
				if byList[k] == nil {
					keys = append(keys, k)
				}
				byList[k] = append(byList[k], heldRestore{place: p, target: heldTarget{h.model, h.srcID}})
				continue
			}
			if h.pub != nil {
				rest[g] = heldTarget{f.Targets[0], ""}
				if t, ok := h.draft[g]; ok {
					rest[g] = t
				}
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
		list := byList[k]
		slices.SortFunc(list, func(a, b heldRestore) int { return a.place.index - b.place.index })
		run(func() {
			for _, r := range list {
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

// heldRestore puts a held entry back at its place in a written list.
type heldRestore struct {
	place  listPlace
	target heldTarget
}

// restoreInList connects a held entry to a written list after its
// predecessor there.
func (e *engine) restoreInList(ctx context.Context, r heldRestore) {
	p := r.place
	owner, ok := e.state.DestID(p.model, p.srcID)
	if !ok {
		return
	}
	target, ok := e.resolve(r.target.model, r.target.id)
	if !ok {
		return
	}
	in := map[string]any{"where": map[string]any{"id": target}}
	if p.after == "" {
		in["position"] = map[string]any{"start": true}
	} else if a, ok := e.resolve(r.target.model, p.after); ok {
		in["position"] = map[string]any{"after": a}
	}
	data := map[string]any{p.field: map[string]any{"connect": []any{in}}}
	e.touch(p.model, owner, data)
	e.writeRelation(ctx, p.model, p.srcID, owner, data)
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
	e.writeRelation(ctx, h.model, h.srcID, dest, data)
}

// holdPairs holds, of a published entry whose draft is written on top of
// its published version (w.twoStep), the targets of its to-many reverse
// sides (order.relink) that its draft has and its published version does
// not: the lists of the written side leave it out of their drafts until
// it is published (so that it is published without them), then put it
// back at its place (see restorePairs).
func (e *engine) holdPairs(w *work, entry, pub map[string]any) {
	if !w.twoStep || !w.publish || pub == nil || len(e.ord.relink[w.model]) == 0 {
		return
	}
	m := e.dst.Model(w.model)
	pairs := e.ord.pairs
	for g := range e.ord.relink[w.model] {
		f := m.Field(g)
		if f == nil || f.Kind != schema.KindRelation || len(f.Targets) != 1 {
			continue
		}
		om, of, ok := strings.Cut(pairs[w.model+"."+g], ".")
		if !ok {
			continue
		}
		in := map[string]bool{}
		plist, _ := pub[g].([]any)
		for _, x := range plist {
			in[refOf(x)] = true
		}
		dlist, _ := entry[g].([]any)
		e.holds.mu.Lock()
		for _, x := range dlist {
			id := refOf(x)
			if id == "" || in[id] {
				continue
			}
			if e.holds.pairs == nil {
				e.holds.pairs = map[pairOwner][]heldTarget{}
			}
			k := pairOwner{om, id, of}
			e.holds.pairs[k] = append(e.holds.pairs[k], heldTarget{w.model, w.srcID})
		}
		e.holds.mu.Unlock()
	}
}

// notePairPlaces records where the held pairs of a source entry's written
// lists (whose other side is to-many) stand in its draft.
func (e *engine) notePairPlaces(model, srcID string, entry map[string]any) {
	if len(e.ord.paired[model]) == 0 {
		return
	}
	e.holds.mu.Lock()
	defer e.holds.mu.Unlock()
	if e.holds.noted == nil {
		e.holds.noted = map[pairOwner]bool{}
	}
	for _, f := range slices.Sorted(maps.Keys(e.ord.paired[model])) {
		e.holds.noted[pairOwner{model, srcID, f}] = true
		held := e.holds.pairs[pairOwner{model, srcID, f}]
		if len(held) == 0 {
			continue
		}
		list, _ := entry[f].([]any)
		prev := ""
		for i, x := range list {
			id := refOf(x)
			for _, t := range held {
				if t.id == id {
					e.holds.pairPlaces = append(e.holds.pairPlaces, heldRestore{
						place:  listPlace{model: model, srcID: srcID, field: f, index: i, after: prev},
						target: t,
					})
				}
			}
			prev = id
		}
	}
}

// placeUnreadPairs notes the places of the held pairs in the written
// lists of the entries this run did not read (a delta or single-entry run
// reads the changed entries only), read from the source now (transformed,
// as the sync reads entries): without them the draft write of the held
// entry's reverse side would connect it at the end of those lists.
func (e *engine) placeUnreadPairs(ctx context.Context) error {
	if e.cfg.DryRun {
		return nil
	}
	e.holds.mu.Lock()
	unread := map[string][]string{} // model -> source ids
	seen := map[heldTarget]bool{}
	for k := range e.holds.pairs {
		if t := (heldTarget{k.model, k.srcID}); !e.holds.noted[k] && !seen[t] {
			seen[t] = true
			unread[k.model] = append(unread[k.model], k.srcID)
		}
	}
	e.holds.mu.Unlock()
	for _, model := range slices.Sorted(maps.Keys(unread)) {
		ops := e.srcOps[model]
		if ops == nil || ops.readWhere == "" {
			continue
		}
		ids := unread[model]
		slices.Sort(ids)
		// An entry that cannot be read: its held pairs stay where the
		// draft write puts them.
		err := e.readSourceDrafts(ctx, model, ids, func(srcID string, entry map[string]any) {
			e.notePairPlaces(model, srcID, entry)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// restorePairs puts the held pairs back at their places in the drafts of
// the written lists, in list order per list.
func (e *engine) restorePairs(ctx context.Context) error {
	if err := e.placeUnreadPairs(ctx); err != nil {
		return err
	}
	e.holds.mu.Lock()
	places := slices.Clone(e.holds.pairPlaces)
	e.holds.mu.Unlock()
	if len(places) == 0 {
		return nil
	}
	type listKey struct{ model, srcID, field string }
	byList := map[listKey][]heldRestore{}
	var keys []listKey
	for _, r := range places {
		k := listKey{r.place.model, r.place.srcID, r.place.field}
		if byList[k] == nil {
			keys = append(keys, k)
		}
		byList[k] = append(byList[k], r)
	}
	sem := make(chan struct{}, max(1, e.conc))
	var wg sync.WaitGroup
	for _, k := range keys {
		list := byList[k]
		slices.SortFunc(list, func(a, b heldRestore) int { return a.place.index - b.place.index })
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, r := range list {
				if ctx.Err() != nil {
					return
				}
				e.restoreInList(ctx, r)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// A one-to-one two-way relation is written through one of its to-one
// sides (the other is a reverse side, order.reverse). Writing the
// published version of a published entry to its draft first (twoStep)
// connects, on that side, the published target, which takes it away from
// the draft of the entry that holds it in the source's draft (its other
// side has room for one); writing the entry's own draft after does not
// give it back. So the targets an entry's published version takes that
// way are noted when it is planned, with the entries that hold them in
// their drafts, and once everything is written and published those are
// connected again (see restoreSingles).

// singleKey names a target of a written one-to-one field.
type singleKey struct {
	model, field string // the written side
	target       string // source id of the target
}

// singles is what the engine keeps of the one-to-one relations a run's
// two-step writes may take away.
type singles struct {
	mu     sync.Mutex
	owners map[singleKey]string // the source entry whose draft holds the target
	taken  map[singleKey]bool   // targets a published version written first took
	sides  map[heldTarget][]singleSide
	// takenBy are, per entry, the targets its published version takes
	// (field -> target): written again just before it is published.
	takenBy map[heldTarget]map[string]heldTarget
}

// oneToOne returns the written to-one fields of model whose other side is
// a to-one reverse side, with that side's target model.
func (e *engine) oneToOne(model string) map[string]string {
	m := e.dst.Model(model)
	if m == nil {
		return nil
	}
	var out map[string]string
	for _, f := range writableFields(m) {
		if f.Kind != schema.KindRelation || f.List || len(f.Targets) != 1 || e.ord.reverse[model][f.Name] {
			continue
		}
		t, g, ok := strings.Cut(e.ord.pairs[model+"."+f.Name], ".")
		if !ok || !e.ord.reverse[t][g] {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[f.Name] = t
	}
	return out
}

// noteSingles records, of a source entry (entry its draft, pub its
// published version), the targets its draft holds through written
// one-to-one fields, and those its published version holds and its draft
// does not when the published version is written first (w.twoStep).
func (e *engine) noteSingles(w *work, model, srcID string, entry, pub map[string]any) {
	fields := e.oneToOne(model)
	if len(fields) == 0 {
		return
	}
	e.singles.mu.Lock()
	defer e.singles.mu.Unlock()
	for f := range fields {
		d := refOf(entry[f])
		if d != "" {
			if e.singles.owners == nil {
				e.singles.owners = map[singleKey]string{}
			}
			e.singles.owners[singleKey{model, f, d}] = srcID
		}
		if w == nil || !w.twoStep || !w.publish || pub == nil {
			continue
		}
		if p := refOf(pub[f]); p != "" && p != d {
			if e.singles.taken == nil {
				e.singles.taken = map[singleKey]bool{}
				e.singles.takenBy = map[heldTarget]map[string]heldTarget{}
			}
			e.singles.taken[singleKey{model, f, p}] = true
			k := heldTarget{model, srcID}
			if e.singles.takenBy[k] == nil {
				e.singles.takenBy[k] = map[string]heldTarget{}
			}
			e.singles.takenBy[k][f] = heldTarget{fields[f], p}
			// Published at the end of the run, when no write of another
			// entry can take the target back before the publish.
			w.held = true
		}
	}
}

// restoreSingles connects again, on the written side, each target a
// published version written first took from the draft of the entry that
// holds it in the source's draft.
func (e *engine) restoreSingles(ctx context.Context) error {
	e.singles.mu.Lock()
	var keys []singleKey
	owners := map[singleKey]string{}
	for k := range e.singles.taken {
		if o, ok := e.singles.owners[k]; ok {
			keys = append(keys, k)
			owners[k] = o
		}
	}
	var sides [][]singleSide
	for _, k := range slices.SortedFunc(maps.Keys(e.singles.sides), func(a, b heldTarget) int {
		return strings.Compare(a.model+"."+a.id, b.model+"."+b.id)
	}) {
		if ss := e.singles.sides[k]; len(ss) > 0 && slices.ContainsFunc(ss, func(s singleSide) bool { return s.pub != s.draft }) {
			sides = append(sides, ss)
		}
	}
	e.singles.mu.Unlock()
	for _, ss := range sides {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		dest, ok := e.state.DestID(ss[0].model, ss[0].srcID)
		if !ok {
			continue
		}
		data, ok := e.sideInput(ss, true)
		if !ok {
			continue
		}
		e.writeRelation(ctx, ss[0].model, ss[0].srcID, dest, data)
	}
	slices.SortFunc(keys, func(a, b singleKey) int {
		return strings.Compare(a.model+"."+a.field+"."+a.target, b.model+"."+b.field+"."+b.target)
	})
	for _, k := range keys {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		owner, ok := e.state.DestID(k.model, owners[k])
		if !ok {
			continue
		}
		t := e.oneToOne(k.model)[k.field]
		target, ok := e.resolve(t, k.target)
		if !ok {
			continue
		}
		data := map[string]any{k.field: map[string]any{"connect": map[string]any{"id": target}}}
		e.writeRelation(ctx, k.model, owners[k], owner, data)
	}
	return ctx.Err()
}

// singleSide is the to-one reverse side of a one-to-one relation of an
// entry published in this run, by source id: its published and draft
// targets ("" for none).
type singleSide struct {
	model, srcID, field string
	target              string // the model of the targets
	pub, draft          string
}

// reverseOneToOne returns the to-one reverse sides of model whose other
// side is a written to-one field, with their target model.
func (e *engine) reverseOneToOne(model string) map[string]string {
	m := e.dst.Model(model)
	if m == nil {
		return nil
	}
	var out map[string]string
	for g := range e.ord.reverse[model] {
		f := m.Field(g)
		if f == nil || f.Kind != schema.KindRelation || f.List || len(f.Targets) != 1 {
			continue
		}
		om, of, ok := strings.Cut(e.ord.pairs[model+"."+g], ".")
		if !ok {
			continue
		}
		if _, ok := e.oneToOne(om)[of]; !ok {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[g] = f.Targets[0]
	}
	return out
}

// noteSingleSides records the one-to-one reverse sides of an entry
// published in this run: its publish must carry their published values,
// whatever the drafts of the written side say when it comes (they may be
// written after it), and its draft gets their draft values back at the
// end of the run.
func (e *engine) noteSingleSides(w *work, entry, pub map[string]any) {
	if !w.publish || pub == nil {
		return
	}
	fields := e.reverseOneToOne(w.model)
	if len(fields) == 0 {
		return
	}
	e.singles.mu.Lock()
	defer e.singles.mu.Unlock()
	if e.singles.sides == nil {
		e.singles.sides = map[heldTarget][]singleSide{}
	}
	k := heldTarget{w.model, w.srcID}
	e.singles.sides[k] = nil
	for _, g := range slices.Sorted(maps.Keys(fields)) {
		e.singles.sides[k] = append(e.singles.sides[k], singleSide{model: w.model, srcID: w.srcID, field: g,
			target: fields[g], pub: refOf(pub[g]), draft: refOf(entry[g])})
	}
}

// sidesOf returns the recorded one-to-one reverse sides of an entry.
func (e *engine) sidesOf(model, srcID string) []singleSide {
	e.singles.mu.Lock()
	defer e.singles.mu.Unlock()
	return e.singles.sides[heldTarget{model, srcID}]
}

// sideInput is the update input setting the given sides to their
// published (or draft) targets; false when a target has no destination
// entry.
func (e *engine) sideInput(sides []singleSide, draft bool) (map[string]any, bool) {
	targets := map[string]heldTarget{}
	for _, s := range sides {
		t := s.pub
		if draft {
			t = s.draft
		}
		targets[s.field] = heldTarget{s.target, t}
	}
	return e.reverseInput(targets)
}

// writeRelation writes relation fields (data) of a destination entry, and
// reports a failure as the entry's relation failure; it returns whether
// the write succeeded.
func (e *engine) writeRelation(ctx context.Context, model, srcID, destID string, data map[string]any) bool {
	if _, err := e.write(ctx, Change{Op: OpUpdate, Model: model, ID: destID, Data: data}); err != nil {
		e.failWrite(Failure{Model: model, SourceID: srcID, DestID: destID, Op: "relation"}, err)
		return false
	}
	return true
}
