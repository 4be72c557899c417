package emulator

import (
	"fmt"
	"slices"

	"github.com/stagesync/stagesync/internal/emulator/store"
)

// relHolder is the side of a relation being written: a document field
// (two-way relations keep the other side in step) or a component field.
type relHolder interface {
	refs() []store.Ref
	add(b *store.Document, pos map[string]any) error
	remove(b store.Ref)
	name() string
}

// docHolder is a relation field of a document, in DRAFT.
type docHolder struct {
	t *tx
	d *store.Document
	f *store.Field
}

func (h docHolder) refs() []store.Ref {
	if v := h.d.Versions[h.t.s.cat.Draft]; v != nil {
		return store.AsRefs(v.Vals[h.f.Name])
	}
	return nil
}
func (h docHolder) add(b *store.Document, pos map[string]any) error {
	return h.t.link(h.t.s.cat.Draft, h.d, h.f, b, pos)
}
func (h docHolder) remove(b store.Ref) { h.t.unlink(h.t.s.cat.Draft, h.d, h.f, b) }
func (h docHolder) name() string       { return h.d.Model.Name + "." + h.f.Name }

// compHolder is a relation field of a component (one-way).
type compHolder struct {
	c *store.Comp
	f *store.Field
}

func (h compHolder) refs() []store.Ref { return store.AsRefs(h.c.Vals[h.f.Name]) }
func (h compHolder) add(b *store.Document, pos map[string]any) error {
	old := h.refs()
	if !h.f.List {
		h.c.Vals[h.f.Name] = []store.Ref{{Type: b.Model.Name, ID: b.ID}}
		return nil
	}
	h.c.Vals[h.f.Name] = insertRef(removeRef(old, b.ID), store.Ref{Type: b.Model.Name, ID: b.ID}, pos)
	return nil
}
func (h compHolder) remove(b store.Ref) {
	setVal(h.c.Vals, h.f.Name, refsValue(removeRef(h.refs(), b.ID)))
}
func (h compHolder) name() string { return h.c.Type + "." + h.f.Name }

func refsValue(r []store.Ref) any {
	if len(r) == 0 {
		return nil
	}
	return r
}

// removeRef returns refs without id (a new slice).
func removeRef(refs []store.Ref, id string) []store.Ref {
	out := make([]store.Ref, 0, len(refs))
	for _, r := range refs {
		if r.ID != id {
			out = append(out, r)
		}
	}
	return out
}

func hasRef(refs []store.Ref, id string) bool {
	for _, r := range refs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// insertRef inserts r into refs (not containing it) at a ConnectPositionInput
// position: {before: id}, {after: id}, {start: true}, {end: true}; the end
// by default. refs is not modified.
func insertRef(refs []store.Ref, r store.Ref, pos map[string]any) []store.Ref {
	i := len(refs)
	if pos != nil {
		if s, _ := pos["start"].(bool); s {
			i = 0
		}
		if id, ok := pos["before"].(string); ok {
			for j, x := range refs {
				if x.ID == id {
					i = j
				}
			}
		}
		if id, ok := pos["after"].(string); ok {
			for j, x := range refs {
				if x.ID == id {
					i = j + 1
				}
			}
		}
	}
	out := make([]store.Ref, 0, len(refs)+1)
	out = append(out, refs[:i]...)
	out = append(out, r)
	return append(out, refs[i:]...)
}

// link adds b to a.f in stage st, and a to the other side of a two-way
// relation. A to-one side replaces its previous target (which loses its
// own side of the relation).
func (t *tx) link(st int, a *store.Document, f *store.Field, b *store.Document, pos map[string]any) error {
	va := t.Mut(a, st)
	if va == nil {
		return nil
	}
	old := store.AsRefs(va.Vals[f.Name])
	if !f.List {
		if len(old) == 1 && old[0].ID == b.ID {
			return nil
		}
		for _, o := range old {
			t.unlink(st, a, f, o)
		}
		va = t.Mut(a, st)
		va.Vals[f.Name] = []store.Ref{{Type: b.Model.Name, ID: b.ID}}
	} else {
		wasLinked := hasRef(old, b.ID)
		switch {
		case !wasLinked && len(pos) == 0:
			t.AppendRef(a, st, va, f.Name, store.Ref{Type: b.Model.Name, ID: b.ID})
		default:
			t.Disown(a, st, f.Name)
			va.Vals[f.Name] = insertRef(removeRef(old, b.ID), store.Ref{Type: b.Model.Name, ID: b.ID}, pos)
		}
		if wasLinked {
			return nil // moved; the other side is unchanged
		}
	}
	g := f.Reverse[b.Model.Name]
	if g == "" {
		return nil
	}
	gf := b.Model.ByName[g]
	vb := t.Mut(b, st)
	if vb == nil {
		return nil
	}
	refsB := store.AsRefs(vb.Vals[g])
	if hasRef(refsB, a.ID) {
		return nil
	}
	if !gf.List {
		for _, c := range refsB {
			// c loses b: it was b's only target on the to-one side.
			if cd := t.Doc(c.ID); cd != nil {
				if cf := cd.Model.ByName[gf.Reverse[cd.Model.Name]]; cf != nil {
					if vc := t.Mut(cd, st); vc != nil {
						setVal(vc.Vals, cf.Name, refsValue(removeRef(store.AsRefs(vc.Vals[cf.Name]), b.ID)))
					}
				}
			}
		}
		vb.Vals[g] = []store.Ref{{Type: a.Model.Name, ID: a.ID}}
		return nil
	}
	t.AppendRef(b, st, vb, g, store.Ref{Type: a.Model.Name, ID: a.ID})
	return nil
}

// unlink removes b from a.f in stage st, and a from the other side.
func (t *tx) unlink(st int, a *store.Document, f *store.Field, b store.Ref) {
	if va := t.Mut(a, st); va != nil {
		setVal(va.Vals, f.Name, refsValue(removeRef(store.AsRefs(va.Vals[f.Name]), b.ID)))
	}
	g := f.Reverse[b.Type]
	if g == "" {
		return
	}
	if bd := t.Doc(b.ID); bd != nil {
		if vb := t.Mut(bd, st); vb != nil {
			setVal(vb.Vals, g, refsValue(removeRef(store.AsRefs(vb.Vals[g]), a.ID)))
		}
	}
}

// unwrapUnion returns the target model of a relation input and the input
// for it: union relation inputs are keyed by member type ({Post: {...}}).
func (t *tx) unwrapUnion(f *store.Field, in map[string]any) (*store.Model, map[string]any, error) {
	if !f.Union {
		if len(f.Targets) == 0 {
			return nil, nil, fmt.Errorf("field %s has no target model", f.Name)
		}
		return t.s.cat.Models[f.Targets[0]], in, nil
	}
	if len(in) != 1 {
		return nil, nil, fmt.Errorf("field %s: a union input needs exactly one member type, got %d", f.Name, len(in))
	}
	for k, v := range in {
		if !slices.Contains(f.Targets, k) {
			return nil, nil, fmt.Errorf("field %s: %s is not a member of %s", f.Name, k, f.Named)
		}
		return t.s.cat.Models[k], store.AsMap(v), nil
	}
	return nil, nil, nil
}

// relationInput applies a nested relation input (create, connect, set,
// disconnect, update, upsert, delete) to h.
func (t *tx) relationInput(h relHolder, f *store.Field, x any, create bool) error {
	in := store.AsMap(x)
	if in == nil {
		return nil
	}
	draft := t.s.cat.Draft
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("%s: %w", h.name(), err)
	}
	// find resolves a (possibly union-wrapped) unique where to a DRAFT entry.
	find := func(where map[string]any, verb string) (*store.Document, error) {
		m, w, err := t.unwrapUnion(f, where)
		if err != nil {
			return nil, err
		}
		d, err := t.s.findUnique(m, w, draft, t)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, fmt.Errorf("could not find %s with %s to %s", m.Name, describeWhere(w), verb)
		}
		return d, nil
	}
	newEntry := func(data map[string]any) (*store.Document, error) {
		m, in, err := t.unwrapUnion(f, data)
		if err != nil {
			return nil, err
		}
		return t.create(m, in)
	}
	current := func() *store.Document {
		for _, r := range h.refs() {
			if d := t.Doc(r.ID); d != nil {
				return d
			}
		}
		return nil
	}
	if !f.List {
		if w, ok := in["connect"].(map[string]any); ok {
			d, err := find(w, "connect")
			if err != nil {
				return wrap(err)
			}
			if err := h.add(d, nil); err != nil {
				return wrap(err)
			}
		}
		if c, ok := in["create"].(map[string]any); ok {
			d, err := newEntry(c)
			if err != nil {
				return wrap(err)
			}
			if err := h.add(d, nil); err != nil {
				return wrap(err)
			}
		}
		if u, ok := in["update"].(map[string]any); ok {
			m, u, err := t.unwrapUnionMaybe(f, u)
			if err != nil {
				return wrap(err)
			}
			d := current()
			if w := store.AsMap(u["where"]); len(w) > 0 {
				if d, err = t.mustFind(m, w, draft); err != nil {
					return wrap(err)
				}
			}
			if d == nil {
				return wrap(fmt.Errorf("no connected %s to update", m.Name))
			}
			if err := t.update(d, store.AsMap(u["data"])); err != nil {
				return wrap(err)
			}
		}
		if u, ok := in["upsert"].(map[string]any); ok {
			m, u, err := t.unwrapUnionMaybe(f, u)
			if err != nil {
				return wrap(err)
			}
			data := store.AsMap(u["data"])
			d := current()
			if w := store.AsMap(u["where"]); len(w) > 0 {
				if d, err = t.s.findUnique(m, w, draft, t); err != nil {
					return wrap(err)
				}
			}
			if d != nil {
				err = t.update(d, store.AsMap(data["update"]))
			} else if d, err = t.create(m, store.AsMap(data["create"])); err == nil {
				err = h.add(d, nil)
			}
			if err != nil {
				return wrap(err)
			}
		}
		if del, _ := in["delete"].(bool); del {
			if d := current(); d != nil {
				h.remove(store.Ref{Type: d.Model.Name, ID: d.ID})
				t.Remove(d)
			}
		}
		if dis, _ := in["disconnect"].(bool); dis {
			for _, r := range h.refs() {
				h.remove(r)
			}
		}
		return nil
	}

	if set, ok := in["set"]; ok {
		var targets []*store.Document
		for _, w := range store.AsList(set) {
			d, err := find(store.AsMap(w), "set")
			if err != nil {
				return wrap(err)
			}
			targets = append(targets, d)
		}
		for _, r := range h.refs() {
			h.remove(r)
		}
		for _, d := range targets {
			if err := h.add(d, nil); err != nil {
				return wrap(err)
			}
		}
	}
	for _, w := range store.AsList(in["disconnect"]) {
		d, err := find(store.AsMap(w), "disconnect")
		if err != nil {
			return wrap(err)
		}
		h.remove(store.Ref{Type: d.Model.Name, ID: d.ID})
	}
	for _, w := range store.AsList(in["delete"]) {
		d, err := find(store.AsMap(w), "delete")
		if err != nil {
			return wrap(err)
		}
		h.remove(store.Ref{Type: d.Model.Name, ID: d.ID})
		t.Remove(d)
	}
	for _, x := range store.AsList(in["update"]) {
		m, u, err := t.unwrapUnionMaybe(f, store.AsMap(x))
		if err != nil {
			return wrap(err)
		}
		d, err := t.mustFind(m, store.AsMap(u["where"]), draft)
		if err != nil {
			return wrap(err)
		}
		if err := t.update(d, store.AsMap(u["data"])); err != nil {
			return wrap(err)
		}
	}
	for _, x := range store.AsList(in["upsert"]) {
		m, u, err := t.unwrapUnionMaybe(f, store.AsMap(x))
		if err != nil {
			return wrap(err)
		}
		data := store.AsMap(u["data"])
		d, err := t.s.findUnique(m, store.AsMap(u["where"]), draft, t)
		if err != nil {
			return wrap(err)
		}
		if d != nil {
			err = t.update(d, store.AsMap(data["update"]))
		} else if d, err = t.create(m, store.AsMap(data["create"])); err == nil {
			err = h.add(d, nil)
		}
		if err != nil {
			return wrap(err)
		}
	}
	for _, x := range store.AsList(in["connect"]) {
		c := store.AsMap(x)
		m, inner, err := t.unwrapUnion(f, c)
		if err != nil {
			return wrap(err)
		}
		where, pos := inner, map[string]any(nil)
		if !create {
			if w, ok := inner["where"].(map[string]any); ok {
				where, pos = w, store.AsMap(inner["position"])
			}
		}
		d, err := t.s.findUnique(m, where, draft, t)
		if err != nil {
			return wrap(err)
		}
		if d == nil {
			return wrap(fmt.Errorf("could not find %s with %s to connect", m.Name, describeWhere(where)))
		}
		if err := h.add(d, pos); err != nil {
			return wrap(err)
		}
	}
	for _, x := range store.AsList(in["create"]) {
		d, err := newEntry(store.AsMap(x))
		if err != nil {
			return wrap(err)
		}
		if err := h.add(d, nil); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// unwrapUnionMaybe is unwrapUnion for inputs that are keyed by member type
// only on union relations.
func (t *tx) unwrapUnionMaybe(f *store.Field, in map[string]any) (*store.Model, map[string]any, error) {
	return t.unwrapUnion(f, in)
}

// componentInput applies a component input to the current values of a
// component field and returns the new values. Create inputs hold create
// data; update inputs hold {create: [{data, position}], update: [{where,
// data, position}], upsert, delete} (or for a single component {create,
// update, upsert, delete: Boolean}).
func (t *tx) componentInput(f *store.Field, current []*store.Comp, x any, create bool) ([]*store.Comp, error) {
	in := store.AsMap(x)
	if in == nil {
		if x == nil {
			return nil, nil
		}
		return current, nil
	}
	out := append([]*store.Comp(nil), current...)
	find := func(where map[string]any) int {
		id, _ := where["id"].(string)
		for i, c := range out {
			if c.ID == id {
				return i
			}
		}
		return -1
	}
	if !f.List {
		if c, ok := in["create"].(map[string]any); ok {
			m, data, err := t.unwrapUnion(f, c)
			if err != nil {
				return nil, err
			}
			nc, err := t.newComp(m, data)
			if err != nil {
				return nil, err
			}
			out = []*store.Comp{nc}
		}
		if u, ok := in["update"].(map[string]any); ok {
			_, u, err := t.unwrapUnion(f, u)
			if err != nil {
				return nil, err
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("no component to update")
			}
			nc, err := t.updateComp(out[0], store.AsMap(u["data"]))
			if err != nil {
				return nil, err
			}
			out[0] = nc
		}
		if u, ok := in["upsert"].(map[string]any); ok {
			m, u, err := t.unwrapUnion(f, u)
			if err != nil {
				return nil, err
			}
			data := store.AsMap(u["data"])
			var nc *store.Comp
			if len(out) > 0 {
				nc, err = t.updateComp(out[0], store.AsMap(data["update"]))
			} else {
				nc, err = t.newComp(m, store.AsMap(data["create"]))
			}
			if err != nil {
				return nil, err
			}
			out = []*store.Comp{nc}
		}
		if del, _ := in["delete"].(bool); del {
			out = nil
		}
		return out, nil
	}
	if create {
		for _, x := range store.AsList(in["create"]) {
			m, data, err := t.unwrapUnion(f, store.AsMap(x))
			if err != nil {
				return nil, err
			}
			nc, err := t.newComp(m, data)
			if err != nil {
				return nil, err
			}
			out = append(out, nc)
		}
		return out, nil
	}
	for _, x := range store.AsList(in["delete"]) {
		_, w, err := t.unwrapUnionMaybe(f, store.AsMap(x))
		if err != nil {
			return nil, err
		}
		i := find(w)
		if i < 0 {
			return nil, fmt.Errorf("could not find component with %s to delete", describeWhere(w))
		}
		out = append(out[:i:i], out[i+1:]...)
	}
	for _, x := range store.AsList(in["update"]) {
		_, u, err := t.unwrapUnion(f, store.AsMap(x))
		if err != nil {
			return nil, err
		}
		i := find(store.AsMap(u["where"]))
		if i < 0 {
			return nil, fmt.Errorf("could not find component with %s to update", describeWhere(store.AsMap(u["where"])))
		}
		nc, err := t.updateComp(out[i], store.AsMap(u["data"]))
		if err != nil {
			return nil, err
		}
		out = placeComp(out, i, nc, store.AsMap(u["position"]))
	}
	for _, x := range store.AsList(in["upsert"]) {
		m, u, err := t.unwrapUnion(f, store.AsMap(x))
		if err != nil {
			return nil, err
		}
		data := store.AsMap(u["data"])
		i := find(store.AsMap(u["where"]))
		var nc *store.Comp
		if i >= 0 {
			nc, err = t.updateComp(out[i], store.AsMap(data["update"]))
		} else {
			nc, err = t.newComp(m, store.AsMap(data["create"]))
		}
		if err != nil {
			return nil, err
		}
		out = placeComp(out, i, nc, store.AsMap(u["position"]))
	}
	for _, x := range store.AsList(in["create"]) {
		m, c, err := t.unwrapUnion(f, store.AsMap(x))
		if err != nil {
			return nil, err
		}
		data, pos := c, map[string]any(nil)
		if d, ok := c["data"].(map[string]any); ok {
			data, pos = d, store.AsMap(c["position"])
		}
		nc, err := t.newComp(m, data)
		if err != nil {
			return nil, err
		}
		out = placeComp(out, -1, nc, pos)
	}
	return out, nil
}

// placeComp replaces out[i] (or appends when i < 0) with c, moved to pos
// when given.
func placeComp(out []*store.Comp, i int, c *store.Comp, pos map[string]any) []*store.Comp {
	if i >= 0 {
		out[i] = c
		if pos == nil {
			return out
		}
		out = append(out[:i:i], out[i+1:]...)
	}
	refs := make([]store.Ref, len(out))
	byID := make(map[string]*store.Comp, len(out)+1)
	for j, x := range out {
		refs[j] = store.Ref{ID: x.ID}
		byID[x.ID] = x
	}
	byID[c.ID] = c
	refs = insertRef(refs, store.Ref{ID: c.ID}, pos)
	res := make([]*store.Comp, len(refs))
	for j, r := range refs {
		res[j] = byID[r.ID]
	}
	return res
}

// newComp creates a component value of m.
func (t *tx) newComp(m *store.Model, data map[string]any) (*store.Comp, error) {
	if m == nil {
		return nil, fmt.Errorf("unknown component type")
	}
	id, _ := data["id"].(string) // only Seed passes ids: create inputs have none
	if id == "" {
		id = t.s.st.NewID()
	}
	c := &store.Comp{Type: m.Name, ID: id, Vals: map[string]any{}}
	return c, t.applyCompData(c, data, true)
}

// updateComp returns a changed copy of c.
func (t *tx) updateComp(c *store.Comp, data map[string]any) (*store.Comp, error) {
	n := &store.Comp{Type: c.Type, ID: c.ID, Vals: make(map[string]any, len(c.Vals))}
	for k, v := range c.Vals {
		n.Vals[k] = v
	}
	return n, t.applyCompData(n, data, false)
}

func (t *tx) applyCompData(c *store.Comp, data map[string]any, create bool) error {
	m := t.s.cat.Models[c.Type]
	for _, f := range m.Fields {
		x, ok := data[f.Name]
		if !ok || f.Kind == store.KindSystem {
			continue
		}
		switch f.Kind {
		case store.KindRelation:
			if err := t.relationInput(compHolder{c: c, f: f}, f, x, create); err != nil {
				return err
			}
		case store.KindComponent:
			comps, err := t.componentInput(f, asComps(c.Vals[f.Name]), x, create)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.Type, f.Name, err)
			}
			setVal(c.Vals, f.Name, compsValue(comps))
		default:
			val, err := storedValue(f, x)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.Type, f.Name, err)
			}
			setVal(c.Vals, f.Name, val)
		}
	}
	return nil
}
