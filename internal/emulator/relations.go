package emulator

import (
	"fmt"
)

// relHolder is the side of a relation being written: a document field
// (two-way relations keep the other side in step) or a component field.
type relHolder interface {
	refs() []ref
	add(b *document, pos map[string]any) error
	remove(b ref)
	name() string
}

// docHolder is a relation field of a document, in DRAFT.
type docHolder struct {
	t *tx
	d *document
	f *fieldInfo
}

func (h docHolder) refs() []ref {
	if v := h.d.versions[h.t.s.cat.draft]; v != nil {
		return asRefs(v.vals[h.f.name])
	}
	return nil
}
func (h docHolder) add(b *document, pos map[string]any) error {
	return h.t.link(h.t.s.cat.draft, h.d, h.f, b, pos)
}
func (h docHolder) remove(b ref) { h.t.unlink(h.t.s.cat.draft, h.d, h.f, b) }
func (h docHolder) name() string { return h.d.model.name + "." + h.f.name }

// compHolder is a relation field of a component (one-way).
type compHolder struct {
	c *comp
	f *fieldInfo
}

func (h compHolder) refs() []ref { return asRefs(h.c.vals[h.f.name]) }
func (h compHolder) add(b *document, pos map[string]any) error {
	old := h.refs()
	if !h.f.list {
		h.c.vals[h.f.name] = []ref{{typ: b.model.name, id: b.id}}
		return nil
	}
	h.c.vals[h.f.name] = insertRef(removeRef(old, b.id), ref{typ: b.model.name, id: b.id}, pos)
	return nil
}
func (h compHolder) remove(b ref) {
	setVal(h.c.vals, h.f.name, refsValue(removeRef(h.refs(), b.id)))
}
func (h compHolder) name() string { return h.c.typ + "." + h.f.name }

func refsValue(r []ref) any {
	if len(r) == 0 {
		return nil
	}
	return r
}

// removeRef returns refs without id (a new slice).
func removeRef(refs []ref, id string) []ref {
	out := make([]ref, 0, len(refs))
	for _, r := range refs {
		if r.id != id {
			out = append(out, r)
		}
	}
	return out
}

func hasRef(refs []ref, id string) bool {
	for _, r := range refs {
		if r.id == id {
			return true
		}
	}
	return false
}

// insertRef inserts r into refs (not containing it) at a ConnectPositionInput
// position: {before: id}, {after: id}, {start: true}, {end: true}; the end
// by default. refs is not modified.
func insertRef(refs []ref, r ref, pos map[string]any) []ref {
	i := len(refs)
	if pos != nil {
		if s, _ := pos["start"].(bool); s {
			i = 0
		}
		if id, ok := pos["before"].(string); ok {
			for j, x := range refs {
				if x.id == id {
					i = j
				}
			}
		}
		if id, ok := pos["after"].(string); ok {
			for j, x := range refs {
				if x.id == id {
					i = j + 1
				}
			}
		}
	}
	out := make([]ref, 0, len(refs)+1)
	out = append(out, refs[:i]...)
	out = append(out, r)
	return append(out, refs[i:]...)
}

// link adds b to a.f in stage st, and a to the other side of a two-way
// relation. A to-one side replaces its previous target (which loses its
// own side of the relation).
func (t *tx) link(st int, a *document, f *fieldInfo, b *document, pos map[string]any) error {
	va := t.mut(a, st)
	if va == nil {
		return nil
	}
	old := asRefs(va.vals[f.name])
	if !f.list {
		if len(old) == 1 && old[0].id == b.id {
			return nil
		}
		for _, o := range old {
			t.unlink(st, a, f, o)
		}
		va = t.mut(a, st)
		va.vals[f.name] = []ref{{typ: b.model.name, id: b.id}}
	} else {
		wasLinked := hasRef(old, b.id)
		switch {
		case !wasLinked && len(pos) == 0:
			t.appendRef(a, st, va, f.name, ref{typ: b.model.name, id: b.id})
		default:
			delete(t.owned, ownedKey{a, st, f.name})
			va.vals[f.name] = insertRef(removeRef(old, b.id), ref{typ: b.model.name, id: b.id}, pos)
		}
		if wasLinked {
			return nil // moved; the other side is unchanged
		}
	}
	g := f.reverse[b.model.name]
	if g == "" {
		return nil
	}
	gf := b.model.byName[g]
	vb := t.mut(b, st)
	if vb == nil {
		return nil
	}
	refsB := asRefs(vb.vals[g])
	if hasRef(refsB, a.id) {
		return nil
	}
	if !gf.list {
		for _, c := range refsB {
			// c loses b: it was b's only target on the to-one side.
			if cd := t.doc(c.id); cd != nil {
				if cf := cd.model.byName[gf.reverse[cd.model.name]]; cf != nil {
					if vc := t.mut(cd, st); vc != nil {
						setVal(vc.vals, cf.name, refsValue(removeRef(asRefs(vc.vals[cf.name]), b.id)))
					}
				}
			}
		}
		vb.vals[g] = []ref{{typ: a.model.name, id: a.id}}
		return nil
	}
	t.appendRef(b, st, vb, g, ref{typ: a.model.name, id: a.id})
	return nil
}

// unlink removes b from a.f in stage st, and a from the other side.
func (t *tx) unlink(st int, a *document, f *fieldInfo, b ref) {
	if va := t.mut(a, st); va != nil {
		setVal(va.vals, f.name, refsValue(removeRef(asRefs(va.vals[f.name]), b.id)))
	}
	g := f.reverse[b.typ]
	if g == "" {
		return
	}
	if bd := t.doc(b.id); bd != nil {
		if vb := t.mut(bd, st); vb != nil {
			setVal(vb.vals, g, refsValue(removeRef(asRefs(vb.vals[g]), a.id)))
		}
	}
}

// unwrapUnion returns the target model of a relation input and the input
// for it: union relation inputs are keyed by member type ({Post: {...}}).
func (t *tx) unwrapUnion(f *fieldInfo, in map[string]any) (*modelInfo, map[string]any, error) {
	if !f.union {
		if len(f.targets) == 0 {
			return nil, nil, fmt.Errorf("field %s has no target model", f.name)
		}
		return t.s.cat.models[f.targets[0]], in, nil
	}
	if len(in) != 1 {
		return nil, nil, fmt.Errorf("field %s: a union input needs exactly one member type, got %d", f.name, len(in))
	}
	for k, v := range in {
		if !contains(f.targets, k) {
			return nil, nil, fmt.Errorf("field %s: %s is not a member of %s", f.name, k, f.named)
		}
		return t.s.cat.models[k], asMap(v), nil
	}
	return nil, nil, nil
}

// relationInput applies a nested relation input (create, connect, set,
// disconnect, update, upsert, delete) to h.
func (t *tx) relationInput(h relHolder, f *fieldInfo, x any, create bool) error {
	in := asMap(x)
	if in == nil {
		return nil
	}
	draft := t.s.cat.draft
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("%s: %w", h.name(), err)
	}
	// find resolves a (possibly union-wrapped) unique where to a DRAFT entry.
	find := func(where map[string]any, verb string) (*document, error) {
		m, w, err := t.unwrapUnion(f, where)
		if err != nil {
			return nil, err
		}
		d, err := t.s.findUnique(m, w, draft, t)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, fmt.Errorf("could not find %s with %s to %s", m.name, describeWhere(w), verb)
		}
		return d, nil
	}
	newEntry := func(data map[string]any) (*document, error) {
		m, in, err := t.unwrapUnion(f, data)
		if err != nil {
			return nil, err
		}
		return t.create(m, in)
	}
	current := func() *document {
		for _, r := range h.refs() {
			if d := t.doc(r.id); d != nil {
				return d
			}
		}
		return nil
	}
	if !f.list {
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
			if w := asMap(u["where"]); len(w) > 0 {
				if d, err = t.mustFind(m, w, draft); err != nil {
					return wrap(err)
				}
			}
			if d == nil {
				return wrap(fmt.Errorf("no connected %s to update", m.name))
			}
			if err := t.update(d, asMap(u["data"])); err != nil {
				return wrap(err)
			}
		}
		if u, ok := in["upsert"].(map[string]any); ok {
			m, u, err := t.unwrapUnionMaybe(f, u)
			if err != nil {
				return wrap(err)
			}
			data := asMap(u["data"])
			d := current()
			if w := asMap(u["where"]); len(w) > 0 {
				if d, err = t.s.findUnique(m, w, draft, t); err != nil {
					return wrap(err)
				}
			}
			if d != nil {
				err = t.update(d, asMap(data["update"]))
			} else if d, err = t.create(m, asMap(data["create"])); err == nil {
				err = h.add(d, nil)
			}
			if err != nil {
				return wrap(err)
			}
		}
		if del, _ := in["delete"].(bool); del {
			if d := current(); d != nil {
				h.remove(ref{typ: d.model.name, id: d.id})
				t.remove(d)
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
		var targets []*document
		for _, w := range asList(set) {
			d, err := find(asMap(w), "set")
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
	for _, w := range asList(in["disconnect"]) {
		d, err := find(asMap(w), "disconnect")
		if err != nil {
			return wrap(err)
		}
		h.remove(ref{typ: d.model.name, id: d.id})
	}
	for _, w := range asList(in["delete"]) {
		d, err := find(asMap(w), "delete")
		if err != nil {
			return wrap(err)
		}
		h.remove(ref{typ: d.model.name, id: d.id})
		t.remove(d)
	}
	for _, x := range asList(in["update"]) {
		m, u, err := t.unwrapUnionMaybe(f, asMap(x))
		if err != nil {
			return wrap(err)
		}
		d, err := t.mustFind(m, asMap(u["where"]), draft)
		if err != nil {
			return wrap(err)
		}
		if err := t.update(d, asMap(u["data"])); err != nil {
			return wrap(err)
		}
	}
	for _, x := range asList(in["upsert"]) {
		m, u, err := t.unwrapUnionMaybe(f, asMap(x))
		if err != nil {
			return wrap(err)
		}
		data := asMap(u["data"])
		d, err := t.s.findUnique(m, asMap(u["where"]), draft, t)
		if err != nil {
			return wrap(err)
		}
		if d != nil {
			err = t.update(d, asMap(data["update"]))
		} else if d, err = t.create(m, asMap(data["create"])); err == nil {
			err = h.add(d, nil)
		}
		if err != nil {
			return wrap(err)
		}
	}
	for _, x := range asList(in["connect"]) {
		c := asMap(x)
		m, inner, err := t.unwrapUnion(f, c)
		if err != nil {
			return wrap(err)
		}
		where, pos := inner, map[string]any(nil)
		if !create {
			if w, ok := inner["where"].(map[string]any); ok {
				where, pos = w, asMap(inner["position"])
			}
		}
		d, err := t.s.findUnique(m, where, draft, t)
		if err != nil {
			return wrap(err)
		}
		if d == nil {
			return wrap(fmt.Errorf("could not find %s with %s to connect", m.name, describeWhere(where)))
		}
		if err := h.add(d, pos); err != nil {
			return wrap(err)
		}
	}
	for _, x := range asList(in["create"]) {
		d, err := newEntry(asMap(x))
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
func (t *tx) unwrapUnionMaybe(f *fieldInfo, in map[string]any) (*modelInfo, map[string]any, error) {
	return t.unwrapUnion(f, in)
}

// componentInput applies a component input to the current values of a
// component field and returns the new values. Create inputs hold create
// data; update inputs hold {create: [{data, position}], update: [{where,
// data, position}], upsert, delete} (or for a single component {create,
// update, upsert, delete: Boolean}).
func (t *tx) componentInput(f *fieldInfo, current []*comp, x any, create bool) ([]*comp, error) {
	in := asMap(x)
	if in == nil {
		if x == nil {
			return nil, nil
		}
		return current, nil
	}
	out := append([]*comp(nil), current...)
	find := func(where map[string]any) int {
		id, _ := where["id"].(string)
		for i, c := range out {
			if c.id == id {
				return i
			}
		}
		return -1
	}
	if !f.list {
		if c, ok := in["create"].(map[string]any); ok {
			m, data, err := t.unwrapUnion(f, c)
			if err != nil {
				return nil, err
			}
			nc, err := t.newComp(m, data)
			if err != nil {
				return nil, err
			}
			out = []*comp{nc}
		}
		if u, ok := in["update"].(map[string]any); ok {
			_, u, err := t.unwrapUnion(f, u)
			if err != nil {
				return nil, err
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("no component to update")
			}
			nc, err := t.updateComp(out[0], asMap(u["data"]))
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
			data := asMap(u["data"])
			var nc *comp
			if len(out) > 0 {
				nc, err = t.updateComp(out[0], asMap(data["update"]))
			} else {
				nc, err = t.newComp(m, asMap(data["create"]))
			}
			if err != nil {
				return nil, err
			}
			out = []*comp{nc}
		}
		if del, _ := in["delete"].(bool); del {
			out = nil
		}
		return out, nil
	}
	if create {
		for _, x := range asList(in["create"]) {
			m, data, err := t.unwrapUnion(f, asMap(x))
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
	for _, x := range asList(in["delete"]) {
		_, w, err := t.unwrapUnionMaybe(f, asMap(x))
		if err != nil {
			return nil, err
		}
		i := find(w)
		if i < 0 {
			return nil, fmt.Errorf("could not find component with %s to delete", describeWhere(w))
		}
		out = append(out[:i:i], out[i+1:]...)
	}
	for _, x := range asList(in["update"]) {
		_, u, err := t.unwrapUnion(f, asMap(x))
		if err != nil {
			return nil, err
		}
		i := find(asMap(u["where"]))
		if i < 0 {
			return nil, fmt.Errorf("could not find component with %s to update", describeWhere(asMap(u["where"])))
		}
		nc, err := t.updateComp(out[i], asMap(u["data"]))
		if err != nil {
			return nil, err
		}
		out = placeComp(out, i, nc, asMap(u["position"]))
	}
	for _, x := range asList(in["upsert"]) {
		m, u, err := t.unwrapUnion(f, asMap(x))
		if err != nil {
			return nil, err
		}
		data := asMap(u["data"])
		i := find(asMap(u["where"]))
		var nc *comp
		if i >= 0 {
			nc, err = t.updateComp(out[i], asMap(data["update"]))
		} else {
			nc, err = t.newComp(m, asMap(data["create"]))
		}
		if err != nil {
			return nil, err
		}
		out = placeComp(out, i, nc, asMap(u["position"]))
	}
	for _, x := range asList(in["create"]) {
		m, c, err := t.unwrapUnion(f, asMap(x))
		if err != nil {
			return nil, err
		}
		data, pos := c, map[string]any(nil)
		if d, ok := c["data"].(map[string]any); ok {
			data, pos = d, asMap(c["position"])
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
func placeComp(out []*comp, i int, c *comp, pos map[string]any) []*comp {
	if i >= 0 {
		out[i] = c
		if pos == nil {
			return out
		}
		out = append(out[:i:i], out[i+1:]...)
	}
	refs := make([]ref, len(out))
	byID := make(map[string]*comp, len(out)+1)
	for j, x := range out {
		refs[j] = ref{id: x.id}
		byID[x.id] = x
	}
	byID[c.id] = c
	refs = insertRef(refs, ref{id: c.id}, pos)
	res := make([]*comp, len(refs))
	for j, r := range refs {
		res[j] = byID[r.id]
	}
	return res
}

// newComp creates a component value of m.
func (t *tx) newComp(m *modelInfo, data map[string]any) (*comp, error) {
	if m == nil {
		return nil, fmt.Errorf("unknown component type")
	}
	id, _ := data["id"].(string) // only Seed passes ids: create inputs have none
	if id == "" {
		id = t.s.ids.next()
	}
	c := &comp{typ: m.name, id: id, vals: map[string]any{}}
	return c, t.applyCompData(c, data, true)
}

// updateComp returns a changed copy of c.
func (t *tx) updateComp(c *comp, data map[string]any) (*comp, error) {
	n := &comp{typ: c.typ, id: c.id, vals: make(map[string]any, len(c.vals))}
	for k, v := range c.vals {
		n.vals[k] = v
	}
	return n, t.applyCompData(n, data, false)
}

func (t *tx) applyCompData(c *comp, data map[string]any, create bool) error {
	m := t.s.cat.models[c.typ]
	for _, f := range m.fields {
		x, ok := data[f.name]
		if !ok || f.kind == kindSystem {
			continue
		}
		switch f.kind {
		case kindRelation:
			if err := t.relationInput(compHolder{c: c, f: f}, f, x, create); err != nil {
				return err
			}
		case kindComponent:
			comps, err := t.componentInput(f, asComps(c.vals[f.name]), x, create)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.typ, f.name, err)
			}
			setVal(c.vals, f.name, compsValue(comps))
		default:
			val, err := storedValue(f, x)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.typ, f.name, err)
			}
			setVal(c.vals, f.name, val)
		}
	}
	return nil
}
