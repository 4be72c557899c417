package emulator

import (
	"fmt"
)

// tx is the unit of work of one root mutation field. Changed documents get
// cloned versions (the originals are kept), so a failing field is undone
// by putting the originals back; nothing is visible to other requests
// before commit (they are excluded by the stage lock anyway).
type tx struct {
	s       *Stage
	now     string
	saved   map[*document][]*version // versions before the tx
	cloned  map[*document]uint64     // stages whose version was cloned (bit per stage)
	order   []*document              // touched documents, in order
	created map[string]*document     // by id
	deleted map[*document]bool
	// owned marks relation slices allocated by this tx (in versions it
	// cloned), which it may append to in place.
	owned map[ownedKey]bool
}

type ownedKey struct {
	d     *document
	st    int
	field string
}

// appendRef appends r to the relation field of d's (cloned) version v in
// stage st, in place when the tx owns the slice, so that linking many
// entries in one tx stays linear.
func (t *tx) appendRef(d *document, st int, v *version, field string, r ref) {
	k := ownedKey{d, st, field}
	refs := asRefs(v.vals[field])
	if t.owned[k] {
		v.vals[field] = append(refs, r)
		return
	}
	n := make([]ref, len(refs), len(refs)+1+len(refs)/4)
	copy(n, refs)
	v.vals[field] = append(n, r)
	if t.owned == nil {
		t.owned = map[ownedKey]bool{}
	}
	t.owned[k] = true
}

func (s *Stage) begin() *tx {
	return &tx{
		s:       s,
		now:     formatTime(s.cfg.clock()),
		saved:   map[*document][]*version{},
		cloned:  map[*document]uint64{},
		created: map[string]*document{},
		deleted: map[*document]bool{},
	}
}

// touch records d's versions before its first change in the tx.
func (t *tx) touch(d *document) {
	if _, ok := t.saved[d]; ok {
		return
	}
	t.saved[d] = append([]*version(nil), d.versions...)
	t.order = append(t.order, d)
}

func (t *tx) touched(d *document) bool {
	_, ok := t.saved[d]
	return ok
}

// mut returns d's version in stage st, cloned once per tx so it may be
// changed; nil when d does not exist in st.
func (t *tx) mut(d *document, st int) *version {
	t.touch(d)
	v := d.versions[st]
	if v == nil {
		return nil
	}
	if t.cloned[d]&(1<<st) == 0 {
		v = v.clone()
		d.versions[st] = v
		t.cloned[d] |= 1 << st
	}
	return v
}

// set installs a new version of d in stage st (nil removes it).
func (t *tx) set(d *document, st int, v *version) {
	t.touch(d)
	if t.owned != nil {
		// v may share slices with other versions: own nothing of it yet.
		for _, f := range d.model.fields {
			delete(t.owned, ownedKey{d, st, f.name})
		}
	}
	d.versions[st] = v
	t.cloned[d] |= 1 << st
}

// doc returns the live document with id, including ones created in the tx.
func (t *tx) doc(id string) *document {
	if d := t.created[id]; d != nil {
		return d
	}
	if d := t.s.st.byID[id]; d != nil && !t.deleted[d] {
		return d
	}
	return nil
}

// newDoc creates an empty document of m.
func (t *tx) newDoc(m *modelInfo) *document {
	d := &document{model: m, id: t.s.ids.next(), versions: make([]*version, len(t.s.cat.stages))}
	t.touch(d)
	t.created[d.id] = d
	return d
}

// remove deletes d from every stage.
func (t *tx) remove(d *document) {
	t.touch(d)
	t.deleted[d] = true
	for i := range d.versions {
		d.versions[i] = nil
	}
}

// inTx runs fn in one tx under the write lock: rolled back when fn fails,
// committed (written through to the backend) when it succeeds.
func (s *Stage) inTx(fn func(t *tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.begin()
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	return t.commit()
}

// rollback undoes every change of the tx.
func (t *tx) rollback() {
	for d, vs := range t.saved {
		copy(d.versions, vs)
	}
}

// commit checks unique constraints, writes the changed documents through
// to the backend and updates the indexes. On error the tx is rolled back.
func (t *tx) commit() error {
	s := t.s
	if err := t.checkUnique(); err != nil {
		t.rollback()
		return err
	}
	if s.cfg.backend != nil && len(t.order) > 0 {
		writes := make([]Write, 0, len(t.order))
		for _, d := range t.order {
			w := Write{Bucket: d.model.name, Key: d.id}
			if !t.deleted[d] && hasVersion(d) {
				b, err := encodeDocument(s.cat, d)
				if err != nil {
					t.rollback()
					return fmt.Errorf("storing %s %q: %w", d.model.name, d.id, err)
				}
				w.Value = b
			}
			writes = append(writes, w)
		}
		if err := s.cfg.backend.Apply(writes); err != nil {
			t.rollback()
			return fmt.Errorf("storing %d entries: %w", len(writes), err)
		}
	}
	for _, d := range t.order {
		md := s.st.byModel[d.model.name]
		old := t.saved[d]
		_, isNew := t.created[d.id]
		md.index(d, old, true)
		if t.deleted[d] || !hasVersion(d) {
			if !isNew {
				md.removeSortedVersions(d, old)
				delete(s.st.byID, d.id)
			}
			continue
		}
		md.index(d, d.versions, false)
		if isNew {
			s.st.byID[d.id] = d
			md.add(d)
		}
	}
	s.counters.EntriesWritten.Add(int64(len(t.order)))
	t.notifyHooks()
	return nil
}

func hasVersion(d *document) bool {
	for _, v := range d.versions {
		if v != nil {
			return true
		}
	}
	return false
}

// removeSortedVersions removes d, whose versions were old, from the
// ordered lists.
func (md *modelDocs) removeSortedVersions(d *document, old []*version) {
	cur := d.versions
	d.versions = old
	md.remove(d)
	d.versions = cur
}

// checkUnique reports a unique constraint a changed document violates.
func (t *tx) checkUnique() error {
	type key struct {
		model  string
		st     int
		fk, vk string
	}
	seen := map[key]*document{}
	for _, d := range t.order {
		if t.deleted[d] {
			continue
		}
		md := t.s.st.byModel[d.model.name]
		for st, v := range d.versions {
			if v == nil || t.cloned[d]&(1<<st) == 0 && !t.isCreated(d) {
				continue
			}
			var err error
			uniqueEntries(d.model, v, func(fk, vk string) {
				if err != nil {
					return
				}
				k := key{d.model.name, st, fk, vk}
				if o := seen[k]; o != nil && o != d {
					err = uniqueError(d, fk, vk)
					return
				}
				seen[k] = d
				if o := md.unique[st][fk][vk]; o != nil && o != d && !t.touched(o) {
					err = uniqueError(d, fk, vk)
				}
			})
			if err != nil {
				return err
			}
		}
	}
	// Touched documents whose unique values did not change still hold them.
	for _, d := range t.order {
		if t.deleted[d] {
			continue
		}
		for st, v := range d.versions {
			if v == nil || !(t.cloned[d]&(1<<st) == 0 && !t.isCreated(d)) {
				continue
			}
			var err error
			uniqueEntries(d.model, v, func(fk, vk string) {
				k := key{d.model.name, st, fk, vk}
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

func (t *tx) isCreated(d *document) bool { return t.created[d.id] == d }

// uniqueError is Hygraph's unique-violation message, naming the model and
// the value.
func uniqueError(d *document, fk, vk string) error {
	field, locale, _ := cutByte(fk, 0)
	val := vk[1:]
	if vk[0] == 's' {
		val = fmt.Sprintf("%q", val)
	}
	where := ""
	if locale != "" {
		where = fmt.Sprintf(" in locale %s", locale)
	}
	return fmt.Errorf("value is not unique for the field %q: %s already has an entry with %s %s%s", field, d.model.name, field, val, where)
}

func cutByte(s string, b byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
