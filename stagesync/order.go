package stagesync

import (
	"slices"
	"strings"

	"github.com/stagesync/stagesync/schema"
)

// isRelation reports whether fields of kind k reference documents.
func isRelation(k schema.Kind) bool {
	return k == schema.KindRelation || k == schema.KindUnionRelation || k == schema.KindAsset
}

// order is the write order of the synced models: models in relation
// dependency order, and per model the relation fields whose targets are in
// the model's own strongly connected component (self and mutual
// relations), which are written in a second pass.
//
// Each side of a two-way relation keeps its own order (in Hygraph's
// emulator, which is the model where HYGRAPH.md is silent): connecting B
// to A.f puts B at its position in A.f and appends A to B's side; a
// positioned connect of an entry already connected moves it on that side
// only; set disconnects every target and connects them again, so that A
// moves to the end of each target's side. So the engine writes one side
// of a pair (membership and its order) and then only orders the other
// (two-way union relations too, see unionReverses):
//   - reverse sides that are to-one are neither written nor hashed (they
//     follow the written side; Compare still compares them);
//   - reverse sides that are to-many (relink) are hashed in order and, when
//     they differ, ordered in the second pass by positioned connects of
//     their targets, which move and never disconnect;
//   - written to-many sides whose other side is to-many too (paired) are
//     written by disconnects and positioned connects instead of set, so
//     that the targets that stay keep their place on their own side.
type order struct {
	models   []string
	deferred map[string]map[string]bool // model -> field -> deferred (relink fields included)
	reverse  map[string]map[string]bool // model -> field -> the to-one other side of a written relation
	relink   map[string]map[string]bool // model -> field -> the to-many other side of a written relation
	paired   map[string]map[string]bool // model -> field -> a written to-many side whose other side is to-many
	// late are the deferred fields that are deferred only to be written
	// once every entry is planned (a written list whose other side is
	// to-one, see heldEntry): their targets are written before, so a
	// missing one is reported when the entry is planned, as for fields
	// that are not deferred.
	late map[string]map[string]bool
	// pairs are the project's two-way relation pairs (relationPairs);
	// owners, per model, its written to-many fields whose other side is a
	// to-one reverse side, with that side's model (see heldEntry).
	pairs  map[string]string
	owners map[string]map[string]string
}

// mark sets m[model][field].
func mark(m map[string]map[string]bool, model, field string) {
	if m[model] == nil {
		m[model] = map[string]bool{}
	}
	m[model][field] = true
}

// moves returns the to-many relation fields of model whose targets are
// positioned rather than set (see order), and of those the ones whose
// other targets are disconnected.
func (o order) moves(model string) (moves, drop map[string]bool) {
	moves = map[string]bool{}
	for f := range o.relink[model] {
		moves[f] = true
	}
	for f := range o.paired[model] {
		moves[f] = true
	}
	return moves, o.paired[model]
}

// planOrder orders models of p (the destination's project) so that each
// model's written relations point at models written before it, except
// within cycles. Tarjan's algorithm yields components in reverse
// topological order of the "needs" graph, which is the write order.
func planOrder(p *schema.Project, models []string) order {
	pairs, unions := relationPairs(p), unionReverses(p)
	synced := map[string]bool{}
	for _, m := range models {
		synced[m] = true
	}
	sorted := slices.Clone(models)
	slices.Sort(sorted)
	o := order{deferred: map[string]map[string]bool{}, reverse: map[string]map[string]bool{},
		relink: map[string]map[string]bool{}, paired: map[string]map[string]bool{}, late: map[string]map[string]bool{}}
	owned := map[string][]*schema.Field{} // model → relation fields the engine writes
	edges := map[string][]string{}
	for _, name := range sorted {
		m := p.Model(name)
		if m == nil {
			continue
		}
		for _, f := range writableFields(m) {
			if !isRelation(f.Kind) {
				continue
			}
			if !owns(p, pairs, m, f, synced) {
				if f.List {
					mark(o.relink, name, f.Name)
				} else {
					mark(o.reverse, name, f.Name)
				}
				continue
			}
			if f.List && otherSideList(p, pairs, unions, m, f) {
				mark(o.paired, name, f.Name)
			}
			owned[name] = append(owned[name], f)
			for _, t := range f.Targets {
				if synced[t] && !slices.Contains(edges[name], t) {
					edges[name] = append(edges[name], t)
				}
			}
		}
	}

	index := map[string]int{}
	low := map[string]int{}
	on := map[string]bool{}
	var stack []string
	var comps [][]string
	n := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = n, n
		n++
		stack = append(stack, v)
		on[v] = true
		for _, w := range edges[v] {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var c []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				c = append(c, w)
				if w == v {
					break
				}
			}
			slices.Sort(c)
			comps = append(comps, c)
		}
	}
	for _, v := range sorted {
		if _, seen := index[v]; !seen {
			visit(v)
		}
	}

	for _, c := range comps {
		c = requiredFirst(c, owned)
		o.models = append(o.models, c...)
		for i, name := range c {
			for _, f := range owned[name] {
				// A required relation to a model written before this one
				// in the cycle is written inline: the entry cannot be
				// created without it.
				if f.Required && !slices.ContainsFunc(f.Targets, func(t string) bool { return !slices.Contains(c[:i], t) }) {
					continue
				}
				if slices.ContainsFunc(f.Targets, func(t string) bool { return slices.Contains(c, t) }) {
					if o.deferred[name] == nil {
						o.deferred[name] = map[string]bool{}
					}
					o.deferred[name][f.Name] = true
				}
			}
		}
	}
	// A written list whose other side is to-one is written in the
	// relation pass, once every entry is planned (see heldEntry).
	for name, fs := range owned {
		for _, f := range fs {
			if f.Kind != schema.KindRelation || !f.List || f.Required {
				continue
			}
			target, field, _ := strings.Cut(pairs[name+"."+f.Name], ".")
			if o.reverse[target][field] && !o.deferred[name][f.Name] {
				mark(o.deferred, name, f.Name)
				mark(o.late, name, f.Name)
			}
		}
	}
	o.pairs, o.owners = pairs, map[string]map[string]string{}
	for _, name := range sorted {
		m := p.Model(name)
		if m == nil {
			continue
		}
		for _, f := range writableFields(m) {
			if f.Kind != schema.KindRelation || !f.List || o.relink[name][f.Name] {
				continue
			}
			other, ok := pairs[name+"."+f.Name]
			if !ok {
				continue
			}
			t, g, _ := strings.Cut(other, ".")
			if o.reverse[t][g] {
				if o.owners[name] == nil {
					o.owners[name] = map[string]string{}
				}
				o.owners[name][f.Name] = t
			}
		}
	}
	// The order of a reverse side is written once every model's
	// relations are.
	for name, fs := range o.relink {
		for f := range fs {
			mark(o.deferred, name, f)
		}
	}
	return o
}

// otherSideList reports whether the other side of the two-way relation
// field f of m is to-many (of a union relation: the side of a member).
func otherSideList(p *schema.Project, pairs map[string]string, unions map[string][]string, m *schema.Model, f *schema.Field) bool {
	if f.Kind == schema.KindUnionRelation {
		for _, r := range unions[m.Name+"."+f.Name] {
			model, field, _ := strings.Cut(r, ".")
			if g := p.Model(model).Field(field); g != nil && g.List {
				return true
			}
		}
		return false
	}
	other, ok := pairs[m.Name+"."+f.Name]
	if !ok {
		return false
	}
	target, field, _ := strings.Cut(other, ".")
	if tm := p.Model(target); tm != nil {
		if g := tm.Field(field); g != nil {
			return g.List
		}
	}
	return false
}

// requiredFirst orders the models of a cycle (sorted by name) so that a
// model comes after the models its required relations point at, where the
// required relations themselves do not form a cycle.
func requiredFirst(c []string, owned map[string][]*schema.Field) []string {
	if len(c) < 2 {
		return c
	}
	needs := map[string][]string{}
	for _, name := range c {
		for _, f := range owned[name] {
			if !f.Required {
				continue
			}
			for _, t := range f.Targets {
				if t != name && slices.Contains(c, t) {
					needs[name] = append(needs[name], t)
				}
			}
		}
	}
	var out []string
	placed := map[string]bool{}
	for len(out) < len(c) {
		progress := false
		for _, name := range c {
			if placed[name] || slices.ContainsFunc(needs[name], func(t string) bool { return !placed[t] }) {
				continue
			}
			out, placed[name], progress = append(out, name), true, true
		}
		if !progress { // required relations in a cycle: keep the rest by name
			for _, name := range c {
				if !placed[name] {
					out, placed[name] = append(out, name), true
				}
			}
		}
	}
	return out
}

// owns reports whether the engine writes relation field f of model m.
// Hygraph relations are two-way: writing both sides would write every
// relation twice (and, for to-many sides, in conflicting orders), so one
// side of each pair is written and the other follows; a to-many other
// side then has only its order written (see order). The written side is
// a required side (an entry cannot be created without it); else the one
// that carries an order — the to-many side of a one-to-many pair — and
// otherwise the side whose "Model.field" sorts first. A side whose other
// side's model is not synced is always written. Of a two-way union
// relation, the union side is written (it holds the order of all its
// members), and a member's side only when it is required.
func owns(p *schema.Project, pairs map[string]string, m *schema.Model, f *schema.Field, synced map[string]bool) bool {
	other, ok := pairs[m.Name+"."+f.Name]
	if !isRelation(f.Kind) || !ok {
		return true
	}
	target, field, _ := strings.Cut(other, ".")
	if !synced[target] {
		return true
	}
	rl, rreq := false, false
	if tm := p.Model(target); tm != nil {
		if g := tm.Field(field); g != nil {
			if g.Kind == schema.KindUnionRelation {
				return f.Required
			}
			rl, rreq = g.List, g.Required
		}
	}
	if f.Required != rreq {
		return f.Required
	}
	if f.List != rl {
		return f.List
	}
	return m.Name+"."+f.Name <= other
}

// relationPairs returns the two-way relation pairs of p, both ways:
// "Model.field" → "Target.reverseField". Discover may find the reverse
// of only one side of a pair; both sides know each other here. Of a
// two-way union relation (see unionReverses), each member's side maps to
// the union side; the union side, which has a reverse per member, is not
// in the map.
func relationPairs(p *schema.Project) map[string]string {
	pairs := map[string]string{}
	for u, rs := range unionReverses(p) {
		for _, r := range rs {
			pairs[r] = u
		}
	}
	for _, m := range p.Models {
		for _, f := range m.Fields {
			if f.Kind != schema.KindRelation || f.Reverse == "" || len(f.Targets) != 1 {
				continue
			}
			t := p.Model(f.Targets[0])
			if t == nil {
				continue
			}
			if g := t.Field(f.Reverse); g == nil || g.Kind != schema.KindRelation {
				continue
			}
			a, b := m.Name+"."+f.Name, t.Name+"."+f.Reverse
			if _, ok := pairs[a]; !ok {
				pairs[a] = b
			}
			if _, ok := pairs[b]; !ok {
				pairs[b] = a
			}
		}
	}
	return pairs
}

// unionReverses returns the two-way union relations of p: "Model.field" of
// a union relation → the "Member.field"s that are its other side. Discover
// never pairs union relations (its Reverse is one field); Hygraph's
// two-way union references have a reverse field on each member, and the
// emulator pairs them as it pairs other relations: the member's relation
// field targeting the model is the other side when it is the only
// candidate both ways, or else when it is named as Hygraph names reverse
// fields ("<model><Field>" or "<field><Model>").
func unionReverses(p *schema.Project) map[string][]string {
	// toward lists the relation fields (unions included) of a model
	// whose targets include another model.
	toward := func(a *schema.Model, b string) []*schema.Field {
		var out []*schema.Field
		for _, f := range a.Fields {
			if !f.System && (f.Kind == schema.KindRelation || f.Kind == schema.KindUnionRelation) && slices.Contains(f.Targets, b) {
				out = append(out, f)
			}
		}
		return out
	}
	// choice is the field of b that is the other side of f of a, or nil.
	choice := func(a *schema.Model, f *schema.Field, b *schema.Model) *schema.Field {
		cands := slices.DeleteFunc(toward(b, a.Name), func(g *schema.Field) bool { return a == b && g == f })
		if len(cands) == 1 {
			n := 0
			for _, h := range toward(a, b.Name) {
				if !(a == b && h == cands[0]) {
					n++
				}
			}
			if n == 1 {
				return cands[0]
			}
		}
		var pick *schema.Field
		for _, g := range cands {
			if g.Name == strings.ToLower(a.Name[:1])+a.Name[1:]+strings.ToUpper(f.Name[:1])+f.Name[1:] || g.Name == f.Name+a.Name {
				pick = g
			}
		}
		return pick
	}
	out := map[string][]string{}
	for _, a := range p.Models {
		for _, f := range a.Fields {
			if f.System || f.Kind != schema.KindUnionRelation {
				continue
			}
			for _, t := range f.Targets {
				b := p.Model(t)
				if b == nil || b.Component {
					continue
				}
				g := choice(a, f, b)
				if g == nil || g.Kind != schema.KindRelation || choice(b, g, a) != f {
					continue
				}
				out[a.Name+"."+f.Name] = append(out[a.Name+"."+f.Name], b.Name+"."+g.Name)
			}
		}
	}
	return out
}

// writableFields returns the content fields of m that a create or update
// input can hold.
func writableFields(m *schema.Model) []*schema.Field {
	var out []*schema.Field
	for _, f := range m.Fields {
		if f.System || f.Kind == schema.KindSystem {
			continue
		}
		out = append(out, f)
	}
	return out
}
