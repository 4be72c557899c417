package stagesync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/schema"
)

// relationsOf writes the deferred relation fields of model's entries that
// differ from the destination: the order-only ones (order.relink) or the
// others. The order of a reverse side that a connect on its written side
// may have changed in this run (see touch) is written whole.
func (e *engine) relationsOf(ctx context.Context, model string, relink bool) error {
	deferred := e.ord.deferred[model]
	some := false
	for k := range deferred {
		some = some || e.ord.relink[model][k] == relink
	}
	if !some {
		return nil
	}
	// The orders of reverse sides are written here for the entries
	// published in this run only, before they are published; the others
	// once every draft is (see relinkDrafts), when their targets are all
	// there: a positioned connect of a target that is not there connects
	// it.
	keep := func(w *work) bool { return w.deferred }
	var touched map[string]bool
	if relink {
		// A published entry whose draft differs from its published
		// version (twoStep) is kept even when its order matched the
		// destination's when it was planned: a draft write of the
		// other side earlier in this run may have disconnected a
		// target its published version holds.
		touched = e.peekTouched()
		keep = func(w *work) bool { return w.publish && (w.deferred || w.twoStep || touched[w.destID]) }
	}
	works := e.worksOf(model, keep)
	if len(works) == 0 {
		return nil
	}
	b := e.builder(model)
	err := e.each(ctx, works, func(ctx context.Context, w *work) {
		v := e.canon(w, w.twoStep)
		have := fieldHashes{}
		if w.cur != nil {
			have = w.cur.draft
		}
		var keys []string
		for _, k := range changedKeys(hashVersion(v), have) {
			if deferred[k] && e.ord.relink[model][k] == relink {
				keys = append(keys, k)
			}
		}
		var cur map[string][]string
		if w.cur != nil {
			cur = w.cur.comps
		}
		// A published entry's order is written whole before it is
		// published: the drafts of its targets' lists, written in this
		// run, may have disconnected targets its published version holds.
		if touched[w.destID] || (relink && w.twoStep && w.publish) {
			keys, cur = e.wholeRelink(model, keys, cur)
		}
		e.reportMissing(w, v, keys)
		if len(keys) == 0 {
			return
		}
		if !w.publish {
			v = e.withoutHeld(model, w.srcID, v)
		}
		data := b.build(v, keys, false, cur)
		if relink && w.twoStep && w.publish {
			e.dropDraftOnly(w, v, keys, data)
		}
		if len(data) == 0 {
			return // in order already
		}
		if err := e.updateInParts(ctx, model, w.destID, data); err != nil {
			w.failed = true
			e.failWrite(Failure{Model: model, SourceID: w.srcID, DestID: w.destID, Op: "relation"}, err)
		}
	})
	if err != nil {
		return err
	}
	e.emit(Event{Phase: PhaseRelations, Model: model, Done: len(works), Total: len(works)})
	return nil
}

// dropDraftOnly adds to the input data of a published entry's reverse
// sides (keys, written in its published order v before it is published)
// disconnects of the targets its draft has and its published version
// does not: the lists of those targets leave it out of their drafts until
// it is published (see holdPairs), but the destination may hold them from
// before.
func (e *engine) dropDraftOnly(w *work, v map[string]any, keys []string, data map[string]any) {
	d := e.canon(w, false)
	for _, k := range keys {
		f := e.dst.Model(w.model).Field(k)
		if f == nil || f.Kind != schema.KindRelation {
			continue
		}
		pl, _ := v[k].([]any)
		dl, _ := d[k].([]any)
		want := canonRefs(pl)
		var dis []any
		for _, c := range canonRefs(dl) {
			if !slices.Contains(want, c) {
				dis = append(dis, map[string]any{"id": c})
			}
		}
		addDisconnect(data, k, dis)
	}
}

// addDisconnect adds disconnects (when there are any) to the relation
// input of field k in the update data.
func addDisconnect(data map[string]any, k string, dis []any) {
	if len(dis) == 0 {
		return
	}
	in, _ := data[k].(map[string]any)
	if in == nil {
		in = map[string]any{}
	}
	in["disconnect"] = dis
	data[k] = in
}

// wholeRelink adds every reverse-side field of model to keys and leaves
// their current targets out of cur, so that they are positioned whole.
func (e *engine) wholeRelink(model string, keys []string, cur map[string][]string) ([]string, map[string][]string) {
	out := make(map[string][]string, len(cur))
	for k, x := range cur {
		if !e.ord.relink[model][k] {
			out[k] = x
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.ord.relink[model])) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys, out
}

// relinkDrafts writes, once the published works' drafts are written on
// top of their published versions, the draft order of the reverse sides:
// of the entries whose published order the relation pass wrote, and of
// those a connect on the written side may have changed since.
func (e *engine) relinkDrafts(ctx context.Context) error {
	if err := e.restorePairs(ctx); err != nil {
		return err
	}
	for _, model := range e.ord.models {
		if len(e.ord.relink[model]) == 0 {
			continue
		}
		touched := e.takeTouched(model)
		works := e.worksOf(model, func(w *work) bool {
			return (w.twoStep && w.publish) || touched[w.destID] || (w.deferred && !w.publish)
		})
		works = append(works, e.touchedWorks(model, touched)...)
		unread, err := e.unreadWorks(ctx, model, touched)
		if err != nil {
			return err
		}
		works = append(works, unread...)
		if len(works) == 0 {
			continue
		}
		b := e.builder(model)
		err = e.each(ctx, works, func(ctx context.Context, w *work) {
			d := e.canon(w, false)
			if w.unread {
				d = movesOnly(d, w.cur.comps, e.ord.relink[model])
			}
			var have fieldHashes
			var cur, held map[string][]string
			switch {
			case w.twoStep && w.publish:
				p := e.canon(w, true)
				have, cur = hashVersion(p), b.currentLists(p)
				held = cur
			case w.cur != nil:
				have, cur = w.cur.draft, w.cur.comps
			default:
				have = fieldHashes{}
			}
			var keys []string
			for _, k := range changedKeys(hashVersion(d), have) {
				if e.ord.relink[model][k] {
					keys = append(keys, k)
				}
			}
			if touched[w.destID] && !w.unread {
				keys, cur = e.wholeRelink(model, keys, cur)
			}
			if len(keys) == 0 {
				return
			}
			data := b.build(d, keys, false, cur)
			// The targets the published order held and the draft does
			// not were connected from this side for the publish: they
			// are disconnected again (which leaves the order of the
			// other side alone).
			for _, k := range keys {
				f := e.dst.Model(model).Field(k)
				list, _ := d[k].([]any)
				want := canonRefs(list)
				var dis []any
				for _, c := range held[k] {
					if slices.Contains(want, c) {
						continue
					}
					if w, ok := whereRef(c, f != nil && f.Kind == schema.KindUnionRelation); ok {
						dis = append(dis, w)
					}
				}
				addDisconnect(data, k, dis)
			}
			if len(data) == 0 {
				return
			}
			if err := e.updateInParts(ctx, model, w.destID, data); err != nil {
				w.failed = true
				e.failWrite(Failure{Model: model, SourceID: w.srcID, DestID: w.destID, Op: "relation"}, err)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// touch records the targets that a write of model's entry owner (its
// destination id; a token of its own for a create) connects or
// disconnects through a written to-many side whose other side is to-many
// (order.paired), with their models: connecting a new target puts the
// entry at the end of the target's side, whose order is then written
// whole (or, for an entry the run did not read, moved back when it may
// have changed, see unreadWorks).
func (e *engine) touch(model, owner string, data map[string]any) {
	var conn, dis [][2]string
	for f := range e.ord.paired[model] {
		in, ok := data[f].(map[string]any)
		if !ok {
			continue
		}
		target := ""
		if fd := e.dst.Model(model).Field(f); fd != nil && fd.Kind != schema.KindUnionRelation && len(fd.Targets) == 1 {
			target = fd.Targets[0]
		}
		for _, c := range entryform.List(in["disconnect"]) {
			dis = append(dis, connectRefs(c, target)...)
		}
		for _, c := range entryform.List(in["connect"]) {
			conn = append(conn, connectRefs(c, target)...)
		}
	}
	if len(conn)+len(dis) == 0 {
		return
	}
	e.touchMu.Lock()
	defer e.touchMu.Unlock()
	if e.touched == nil {
		e.touched = map[string]string{}
		e.touches = map[string]*touchMark{}
	}
	mark := func(id string) *touchMark {
		t := e.touches[id]
		if t == nil {
			t = &touchMark{}
			e.touches[id] = t
		}
		return t
	}
	// A stage applies an input's disconnects before its connects.
	for _, r := range dis {
		t := mark(r[1])
		if t.dropped == nil {
			t.dropped = map[string]bool{}
		}
		t.dropped[owner] = true
	}
	for _, r := range conn {
		e.touched[r[1]] = r[0]
		t := mark(r[1])
		t.again = t.again || t.dropped[owner]
		if t.owner == "" {
			t.owner = owner
		} else if t.owner != owner {
			t.owners = true
		}
	}
}

// touchMark is what touch records of a target: whether one write
// connected it again after a write of the same entry disconnected it in
// this run (again), and whether writes of more than one entry connected
// it (owners, the first being owner).
type touchMark struct {
	dropped       map[string]bool // owners that disconnected it
	owner         string
	owners, again bool
}

// moved reports whether the side of a touched target may hold its
// entries in another order than the source's: the writes connecting them
// came from several entries (in the order the writes arrived), or one
// connected it again after disconnecting it (so that it went to the end).
// A single new connect appends the entry there as the source's did.
func (t *touchMark) moved() bool { return t != nil && (t.owners || t.again) }

// connectRefs returns the targets ({model, id}) of a connect input ({id},
// {where: {id}, position}, or either wrapped in a union member type, which
// names the model; else it is model).
func connectRefs(c any, model string) [][2]string {
	m, _ := c.(map[string]any)
	if id, ok := m["id"].(string); ok {
		return [][2]string{{model, id}}
	}
	if w, ok := m["where"]; ok {
		return connectRefs(w, model)
	}
	var out [][2]string
	for t, x := range m {
		out = append(out, connectRefs(x, t)...)
	}
	return out
}

// relinkSnap is what the engine keeps of a source entry, of a model with
// reverse sides (order.relink), that has no work: its reverse sides'
// draft values, should a connect on a written side touch it.
type relinkSnap struct {
	srcID string
	draft map[string]any
}

// snapRelink keeps the reverse sides of a source entry (its draft as
// read) that matched destination entry destID.
func (e *engine) snapRelink(model, srcID, destID string, entry map[string]any) {
	if len(e.ord.relink[model]) == 0 || destID == "" {
		return
	}
	keep := map[string]any{"id": srcID}
	for f := range e.ord.relink[model] {
		if x, ok := entry[f]; ok {
			keep[f] = x
		}
	}
	e.touchMu.Lock()
	defer e.touchMu.Unlock()
	if e.snaps == nil {
		e.snaps = map[string]map[string]relinkSnap{}
	}
	if e.snaps[model] == nil {
		e.snaps[model] = map[string]relinkSnap{}
	}
	e.snaps[model][destID] = relinkSnap{srcID: srcID, draft: keep}
}

// touchedWorks returns works for the touched entries of model that have
// none (entries unchanged in the source), from their snapshots.
func (e *engine) touchedWorks(model string, touched map[string]bool) []*work {
	if len(touched) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, w := range e.works {
		if w.model == model {
			have[w.destID] = true
		}
	}
	e.touchMu.Lock()
	defer e.touchMu.Unlock()
	var out []*work
	for _, id := range slices.Sorted(maps.Keys(touched)) {
		sn, ok := e.snaps[model][id]
		if !ok || have[id] {
			continue
		}
		out = append(out, &work{model: model, srcID: sn.srcID, destID: id, draft: sn.draft})
	}
	return out
}

// unreadWorks returns works for the touched entries of model that this
// run did not read (a delta or single-entry run reads the changed entries
// only), which have neither a work nor a snapshot, and whose reverse side
// the run's connects may have put in another order than the source's (see
// touchMark.moved): the draft of a published list written on top of its
// published version connects again what that version lacks (see
// twoStep), and no one else writes their order. Their reverse sides are
// read from the source (transformed, as the sync reads entries) and their
// current lists from the destination, so that their order is written by
// moves of the targets the destination holds (see movesOnly): which
// targets a list holds is the written side's to say.
func (e *engine) unreadWorks(ctx context.Context, model string, touched map[string]bool) ([]*work, error) {
	src, dst := e.srcOps[model], e.dstOps[model]
	if len(touched) == 0 || e.cfg.DryRun || src == nil || dst == nil || src.readWhere == "" || dst.readWhere == "" {
		return nil, nil
	}
	have := map[string]bool{}
	for _, w := range e.works {
		if w.model == model {
			have[w.destID] = true
		}
	}
	e.touchMu.Lock()
	var destIDs []string
	for _, id := range slices.Sorted(maps.Keys(touched)) {
		if _, ok := e.snaps[model][id]; !ok && !have[id] && e.touches[id].moved() {
			destIDs = append(destIDs, id)
		}
	}
	e.touchMu.Unlock()
	destOf := map[string]string{} // source id -> destination id
	var srcIDs, dstIDs []string
	for _, id := range destIDs {
		if s, ok := e.state.SourceID(model, id); ok {
			destOf[s] = id
			srcIDs, dstIDs = append(srcIDs, s), append(dstIDs, id)
		}
	}
	if len(srcIDs) == 0 {
		return nil, nil
	}
	cur := map[string]*destEntry{}
	err := e.readByIDs(ctx, e.cfg.Dest, dst, dstIDs, func(entry map[string]any) {
		de := e.destEntryOf(model, entry)
		cur[de.id] = de
	})
	if err != nil {
		return nil, err
	}
	var out []*work
	err = e.readSourceDrafts(ctx, model, srcIDs, func(srcID string, entry map[string]any) {
		de := cur[destOf[srcID]]
		if de == nil {
			return // left as it is
		}
		keep := map[string]any{"id": srcID}
		for f := range e.ord.relink[model] {
			if x, ok := entry[f]; ok {
				keep[f] = x
			}
		}
		out = append(out, &work{model: model, srcID: srcID, destID: de.id, draft: keep, cur: de, unread: true})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readByIDs reads the entries of a model of stage s with the given ids
// (ops.readWhere), in batches of destWhereValues ids, and hands each to fn.
func (e *engine) readByIDs(ctx context.Context, s *Stage, ops *modelOps, ids []string, fn func(map[string]any)) error {
	for start := 0; start < len(ids); start += destWhereValues {
		chunk := ids[start:min(start+destWhereValues, len(ids))]
		fetch := queryFetcher(s, ops, ops.readWhere, map[string]any{"where": map[string]any{"id_in": chunk}})
		for entry, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(e.pageSizeOr())) {
			if err != nil {
				return fmt.Errorf("stagesync: %s: %w", s, err)
			}
			fn(entry)
		}
	}
	return nil
}

// readSourceDrafts reads the source entries of model with the given ids
// and hands each one's draft, transformed as the sync reads entries, to
// fn; an entry that cannot be read or transformed is left out (what it
// was read for is left as it is).
func (e *engine) readSourceDrafts(ctx context.Context, model string, ids []string, fn func(srcID string, draft map[string]any)) error {
	ops := e.srcOps[model]
	return e.readByIDs(ctx, e.cfg.Source, ops, ids, func(entry map[string]any) {
		srcID := entryID(entry)
		pub := entryform.Published(entry)
		delete(entry, "updatedAt")
		delete(entry, "createdAt")
		delete(entry, pubReadErrorKey) // only its draft is read here
		if readError(ops, entry, pub) != nil || e.transform(ctx, model, entry) != nil {
			return
		}
		fn(srcID, entry)
	})
}

// movesOnly returns v (a canonical draft) with the lists of fields holding
// only the targets that cur, the destination's current lists, holds: the
// update that orders them then moves targets and never connects a new
// one (which would append the entry to the target's side) nor, as a
// reverse side's update never does, disconnects one.
func movesOnly(v map[string]any, cur map[string][]string, fields map[string]bool) map[string]any {
	out := maps.Clone(v)
	for f := range fields {
		list, ok := v[f].([]any)
		if !ok {
			continue
		}
		out[f] = slices.DeleteFunc(slices.Clone(list), func(x any) bool {
			s, _ := x.(string)
			return !slices.Contains(cur[f], s)
		})
	}
	return out
}

// peekTouched returns a copy of the touched targets so far.
func (e *engine) peekTouched() map[string]bool {
	e.touchMu.Lock()
	defer e.touchMu.Unlock()
	out := make(map[string]bool, len(e.touched))
	for id := range e.touched {
		out[id] = true
	}
	return out
}

// takeTouched returns the touched targets of model so far and forgets
// them.
func (e *engine) takeTouched(model string) map[string]bool {
	e.touchMu.Lock()
	defer e.touchMu.Unlock()
	var out map[string]bool
	for id, m := range e.touched {
		if m != model {
			continue
		}
		if out == nil {
			out = map[string]bool{}
		}
		out[id] = true
		delete(e.touched, id)
	}
	return out
}

// builder returns the input builder of a destination model, which knows
// the model's to-many relation fields that are positioned rather than set
// (see order).
func (e *engine) builder(model string) inputBuilder {
	b := inputBuilder{p: e.dst, m: e.dst.Model(model)}
	b.moves, b.drop = e.ord.moves(model)
	return b
}

// currentLists returns, for the positioned fields of b, the targets a
// canonical version v holds (placeholders left out): what the destination
// holds once v is written, for writing another version on top of it.
func (b inputBuilder) currentLists(v map[string]any) map[string][]string {
	out := map[string][]string{}
	for f := range b.moves {
		list, ok := v[f].([]any)
		if !ok {
			continue
		}
		out[f] = canonRefs(list)
	}
	return out
}

// canonRefs returns the targets of a canonical to-many relation value
// that have destination ids.
func canonRefs(list []any) []string {
	out := make([]string, 0, len(list))
	for _, r := range list {
		s, _ := r.(string)
		if s == "" || strings.HasPrefix(s, placeholder) || strings.Contains(s, ":"+placeholder) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// positioned returns the connect inputs that put the targets of want in
// its order, given the targets the list holds now (cur, nil when not
// known): the longest run of want that cur already holds in order stays,
// every other target is connected right after its predecessor in want (or
// at the start). Connecting an entry the list holds moves it, on this side
// of a two-way relation only; connecting a new one adds it there. Targets
// are canonical ("Type:id" for union members).
func positioned(want, cur []string, union bool) []any {
	at := make(map[string]int, len(cur))
	for i, c := range cur {
		at[c] = i
	}
	// Longest increasing run of cur positions among want (patience
	// sorting with back links).
	var tails []int // indexes into want, by run length
	prev := make([]int, len(want))
	for i, w := range want {
		prev[i] = -1
		p, ok := at[w]
		if !ok {
			continue
		}
		j, _ := slices.BinarySearchFunc(tails, p, func(k, p int) int { return at[want[k]] - p })
		if j > 0 {
			prev[i] = tails[j-1]
		}
		if j == len(tails) {
			tails = append(tails, i)
		} else {
			tails[j] = i
		}
	}
	keep := make([]bool, len(want))
	if len(tails) > 0 {
		for k := tails[len(tails)-1]; k >= 0; k = prev[k] {
			keep[k] = true
		}
	}
	var out []any
	for i, w := range want {
		if keep[i] {
			continue
		}
		pos := map[string]any{"start": true}
		if i > 0 {
			pos = map[string]any{"after": refID(want[i-1])}
		}
		in := map[string]any{"where": map[string]any{"id": refID(w)}, "position": pos}
		if union {
			t, _, _ := strings.Cut(w, ":")
			in = map[string]any{t: in}
		}
		out = append(out, in)
	}
	return out
}

// refID returns the id of a canonical relation target.
func refID(s string) string {
	if _, id, ok := strings.Cut(s, ":"); ok {
		return id
	}
	return s
}

// movesInput returns the update input of a positioned to-many relation
// field: the connects that order want (see positioned) and, with drop,
// disconnects of the targets cur holds that want does not. False when
// nothing is to be written.
func movesInput(want, cur []string, union, drop bool) (map[string]any, bool) {
	in := map[string]any{}
	if c := positioned(want, cur, union); len(c) > 0 {
		in["connect"] = c
	}
	if drop {
		var dis []any
		for _, c := range cur {
			if slices.Contains(want, c) {
				continue
			}
			if w, ok := whereRef(c, union); ok {
				dis = append(dis, w)
			}
		}
		if len(dis) > 0 {
			in["disconnect"] = dis
		}
	}
	return in, len(in) > 0
}

// positionedLists returns the to-many relation fields of model whose
// current targets the destination index keeps (see destComponents).
func (e *engine) positionedLists(model string) map[string]bool {
	m, _ := e.ord.moves(model)
	return m
}

// trim keeps of the entry of a work that waits for the relation pass only
// what that pass reads, its deferred fields, so that the works of a model
// with a deferred field (every model with the to-many other side of a
// relation) do not hold whole entries to the end of the run. A work whose
// draft is written on top of its published version keeps both whole.
func (e *engine) trim(w *work) {
	if w.twoStep || w.draft == nil {
		return
	}
	keep := map[string]any{"id": w.draft["id"]}
	for f := range e.ord.deferred[w.model] {
		if x, ok := w.draft[f]; ok {
			keep[f] = x
		}
	}
	w.draft, w.pub = keep, nil
}

// maxMoves is the most positioned connects of one field an update
// carries; more are sent in the updates that follow, in order (each
// connect is positioned after a target placed before it). A list whose
// order is unknown (an entry created in this run) is positioned whole, and
// one update of thousands of connects would pass the request body limits.
const maxMoves = 100

// updateInParts writes an update input of model's entry id, splitting the
// positioned connects of its fields into parts of maxMoves: the first
// update carries everything else.
func (e *engine) updateInParts(ctx context.Context, model, id string, data map[string]any) error {
	parts := []map[string]any{data}
	for _, k := range slices.Sorted(maps.Keys(data)) {
		in, ok := data[k].(map[string]any)
		if !ok {
			continue
		}
		conn, ok := in["connect"].([]any)
		if !ok || len(conn) <= maxMoves {
			continue
		}
		if _, set := in["set"]; set {
			continue
		}
		first := maps.Clone(in)
		first["connect"] = conn[:maxMoves]
		data[k] = first
		for start := maxMoves; start < len(conn); start += maxMoves {
			parts = append(parts, map[string]any{k: map[string]any{"connect": conn[start:min(start+maxMoves, len(conn))]}})
		}
	}
	for _, d := range parts {
		e.touch(model, id, d)
		if _, err := e.write(ctx, Change{Op: OpUpdate, Model: model, ID: id, Data: d}); err != nil {
			return err
		}
	}
	return nil
}
