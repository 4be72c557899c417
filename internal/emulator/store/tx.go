package store

import (
	"fmt"
)

// Tx is a unit of work on the store (the stage makes one per root
// mutation field). Changed documents get cloned versions (the originals
// are kept), so a failing field is undone by putting the originals back;
// nothing is visible to other requests before Commit (the stage's lock
// keeps them out meanwhile anyway).
type Tx struct {
	st *Store
	// Now is the time of the tx as the store keeps DateTime values
	// (FormatTime), for the createdAt, updatedAt and publishedAt that the
	// writes in it set.
	Now     string
	Saved   map[*Document][]*Version // versions before the tx
	cloned  map[*Document]uint64     // stages whose version was cloned (bit per stage)
	Order   []*Document              // touched documents, in order
	Created map[string]*Document     // by id
	Deleted map[*Document]bool
	// owned marks relation slices allocated by this tx (in versions it
	// cloned), which it may append to in place.
	owned map[ownedKey]bool
}

type ownedKey struct {
	d     *Document
	st    int
	field string
}

// AppendRef appends r to the relation field of d's (cloned) version v in
// stage st, in place when the tx owns the slice, so that linking many
// entries in one tx stays linear.
func (t *Tx) AppendRef(d *Document, st int, v *Version, field string, r Ref) {
	k := ownedKey{d, st, field}
	refs := AsRefs(v.Vals[field])
	if t.owned[k] {
		v.Vals[field] = append(refs, r)
		return
	}
	n := make([]Ref, len(refs), len(refs)+1+len(refs)/4)
	copy(n, refs)
	v.Vals[field] = append(n, r)
	if t.owned == nil {
		t.owned = map[ownedKey]bool{}
	}
	t.owned[k] = true
}

// Disown tells the tx that the relation field of d's version in stage st
// holds a slice it did not allocate (the caller replaced it), so that
// AppendRef copies it before appending.
func (t *Tx) Disown(d *Document, st int, field string) {
	delete(t.owned, ownedKey{d, st, field})
}

// Begin starts a tx at time now (see Tx.Now).
func (s *Store) Begin(now string) *Tx {
	return &Tx{
		st:      s,
		Now:     now,
		Saved:   map[*Document][]*Version{},
		cloned:  map[*Document]uint64{},
		Created: map[string]*Document{},
		Deleted: map[*Document]bool{},
	}
}

// Touch records d's versions before its first change in the tx.
func (t *Tx) Touch(d *Document) {
	if _, ok := t.Saved[d]; ok {
		return
	}
	t.Saved[d] = append([]*Version(nil), d.Versions...)
	t.Order = append(t.Order, d)
}

// Touched reports whether the tx has recorded d (see Touch).
func (t *Tx) Touched(d *Document) bool {
	_, ok := t.Saved[d]
	return ok
}

// Mut returns d's version in stage st, cloned once per tx so it may be
// changed; nil when d does not exist in st.
func (t *Tx) Mut(d *Document, st int) *Version {
	t.Touch(d)
	v := d.Versions[st]
	if v == nil {
		return nil
	}
	if t.cloned[d]&(1<<st) == 0 {
		v = v.Clone()
		d.Versions[st] = v
		t.cloned[d] |= 1 << st
	}
	return v
}

// Set installs a new version of d in stage st (nil removes it).
func (t *Tx) Set(d *Document, st int, v *Version) {
	t.Touch(d)
	if t.owned != nil {
		// v may share slices with other versions: own nothing of it yet.
		for _, f := range d.Model.Fields {
			delete(t.owned, ownedKey{d, st, f.Name})
		}
	}
	d.Versions[st] = v
	t.cloned[d] |= 1 << st
}

// Doc returns the live document with id, including ones created in the tx.
func (t *Tx) Doc(id string) *Document {
	if d := t.Created[id]; d != nil {
		return d
	}
	if d := t.st.ByID[id]; d != nil && !t.Deleted[d] {
		return d
	}
	return nil
}

// NewDoc creates an empty document of m.
func (t *Tx) NewDoc(m *Model) *Document {
	d := &Document{Model: m, ID: t.st.ids.next(), Versions: make([]*Version, len(t.st.cat.Stages))}
	t.Touch(d)
	t.Created[d.ID] = d
	return d
}

// Remove deletes d from every stage.
func (t *Tx) Remove(d *Document) {
	t.Touch(d)
	t.Deleted[d] = true
	for i := range d.Versions {
		d.Versions[i] = nil
	}
}

// Rollback undoes every change of the tx.
func (t *Tx) Rollback() {
	for d, vs := range t.Saved {
		copy(d.Versions, vs)
	}
}

// Commit checks unique constraints, writes the changed documents through
// to the backend and updates the indexes. On error the tx is rolled back.
func (t *Tx) Commit() error {
	s := t.st
	if err := t.checkUnique(); err != nil {
		t.Rollback()
		return err
	}
	if s.backend != nil && len(t.Order) > 0 {
		writes := make([]Write, 0, len(t.Order))
		for _, d := range t.Order {
			w := Write{Bucket: d.Model.Name, Key: d.ID}
			if !t.Deleted[d] && HasVersion(d) {
				b, err := encodeDocument(s.cat, d)
				if err != nil {
					t.Rollback()
					return fmt.Errorf("storing %s %q: %w", d.Model.Name, d.ID, err)
				}
				w.Value = b
			}
			writes = append(writes, w)
		}
		if err := s.backend.Apply(writes); err != nil {
			t.Rollback()
			return fmt.Errorf("storing %d entries: %w", len(writes), err)
		}
	}
	for _, d := range t.Order {
		md := s.ByModel[d.Model.Name]
		old := t.Saved[d]
		_, isNew := t.Created[d.ID]
		md.index(d, old, true)
		if t.Deleted[d] || !HasVersion(d) {
			if !isNew {
				md.removeSortedVersions(d, old)
				delete(s.ByID, d.ID)
			}
			continue
		}
		md.index(d, d.Versions, false)
		if isNew {
			s.ByID[d.ID] = d
			md.add(d)
		}
	}
	return nil
}

// HasVersion reports whether d exists in any stage.
func HasVersion(d *Document) bool {
	for _, v := range d.Versions {
		if v != nil {
			return true
		}
	}
	return false
}

// removeSortedVersions removes d, whose versions were old, from the
// ordered lists.
func (md *Docs) removeSortedVersions(d *Document, old []*Version) {
	cur := d.Versions
	d.Versions = old
	md.remove(d)
	d.Versions = cur
}

// checkUnique reports a unique constraint a changed document violates.
func (t *Tx) checkUnique() error {
	type key struct {
		model  string
		st     int
		fk, vk string
	}
	seen := map[key]*Document{}
	for _, d := range t.Order {
		if t.Deleted[d] {
			continue
		}
		md := t.st.ByModel[d.Model.Name]
		for st, v := range d.Versions {
			if v == nil || t.cloned[d]&(1<<st) == 0 && !t.IsCreated(d) {
				continue
			}
			var err error
			UniqueEntries(d.Model, v, func(fk, vk string) {
				if err != nil {
					return
				}
				k := key{d.Model.Name, st, fk, vk}
				if o := seen[k]; o != nil && o != d {
					err = uniqueError(d, fk, vk)
					return
				}
				seen[k] = d
				if o := md.Unique[st][fk][vk]; o != nil && o != d && !t.Touched(o) {
					err = uniqueError(d, fk, vk)
				}
			})
			if err != nil {
				return err
			}
		}
	}
	// Touched documents whose unique values did not change still hold them.
	for _, d := range t.Order {
		if t.Deleted[d] {
			continue
		}
		for st, v := range d.Versions {
			if v == nil || !(t.cloned[d]&(1<<st) == 0 && !t.IsCreated(d)) {
				continue
			}
			var err error
			UniqueEntries(d.Model, v, func(fk, vk string) {
				k := key{d.Model.Name, st, fk, vk}
				if o := seen[k]; o != nil && o != d && err == nil {
					err = uniqueError(o, fk, vk)
				}
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// IsCreated reports whether d was created in the tx.
func (t *Tx) IsCreated(d *Document) bool { return t.Created[d.ID] == d }

// uniqueError is Hygraph's unique-violation message, naming the model and
// the value.
func uniqueError(d *Document, fk, vk string) error {
	field, locale, _ := cutByte(fk, 0)
	val := vk[1:]
	if vk[0] == 's' {
		val = fmt.Sprintf("%q", val)
	}
	where := ""
	if locale != "" {
		where = fmt.Sprintf(" in locale %s", locale)
	}
	return fmt.Errorf("value is not unique for the field %q: %s already has an entry with %s %s%s", field, d.Model.Name, field, val, where)
}

func cutByte(s string, b byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
