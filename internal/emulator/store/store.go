package store

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// The store holds every document of a stage in memory. Installed versions
// are immutable: a write clones the version it changes (copy on write), so a
// response being rendered from a version is never affected by later writes,
// and a failed root mutation is rolled back by putting the old versions
// back.

// Ref is one relation target.
type Ref struct {
	Type string // target model
	ID   string
}

// Comp is one component value, embedded in a version.
type Comp struct {
	Type string
	ID   string
	Vals map[string]any
}

// Loc holds the localized values of one locale of a version.
type Loc struct {
	CreatedAt, UpdatedAt, PublishedAt string
	Vals                              map[string]any
}

// Version is a document in one stage.
type Version struct {
	CreatedAt, UpdatedAt, PublishedAt string
	// Vals holds non-localized values by field name: scalars and enums as
	// Go values (string, int64, float64, bool, []any, map[string]any),
	// DateTime as canonical strings, relations as []ref, components as
	// []*comp.
	Vals map[string]any
	// Locs holds localized values by locale; nil for models without
	// localized fields. The default locale is always present.
	Locs map[string]*Loc
}

// Document is one entry in every stage it exists in.
type Document struct {
	Model    *Model
	ID       string
	Versions []*Version // by stage index; nil where the entry does not exist
}

// Clone returns a copy of v that may be changed without affecting v. Values
// are shared; slices and maps in them must be replaced, not mutated.
func (v *Version) Clone() *Version {
	n := *v
	n.Vals = make(map[string]any, len(v.Vals)+1)
	for k, x := range v.Vals {
		n.Vals[k] = x
	}
	if v.Locs != nil {
		n.Locs = make(map[string]*Loc, len(v.Locs))
		for l, d := range v.Locs {
			n.Locs[l] = d.Clone()
		}
	}
	return &n
}

// Clone returns a copy of d that may be changed without affecting d, as
// Version.Clone does.
func (d *Loc) Clone() *Loc {
	n := *d
	n.Vals = make(map[string]any, len(d.Vals)+1)
	for k, x := range d.Vals {
		n.Vals[k] = x
	}
	return &n
}

// Store holds the documents of a stage, indexed by id and by model, makes
// their ids, and writes every committed Tx through to its Backend. It is
// not safe for concurrent use: the stage serializes writes and excludes
// them from reads.
type Store struct {
	ByID    map[string]*Document
	ByModel map[string]*Docs

	cat     *Catalog
	ids     *idGen
	backend Backend // nil: memory only
}

// Docs are the documents of one model, kept in default order
// (creation time, then id) and in id order.
type Docs struct {
	// Sorted holds the documents in default order.
	Sorted []*Document
	// ByID holds the same documents as Sorted, ordered by id, so that a
	// page read in id order (orderBy: id_ASC) starts at its cursor without
	// looking at every entry (the emulator's cursor pages).
	ByID []*Document
	// Unique indexes the values of unique fields per stage:
	// stage -> field(+"\x00"+locale) -> value key -> document.
	Unique []map[string]map[string]*Document
}

// New returns an empty store of the documents of c's models that writes
// through to b (nil: memory only; see Load). seed makes generated ids
// deterministic (0: random); clock is the time in them.
func New(c *Catalog, b Backend, seed int64, clock func() time.Time) *Store {
	s := &Store{ByID: map[string]*Document{}, ByModel: map[string]*Docs{}, cat: c, ids: newIDGen(seed, clock), backend: b}
	for _, m := range c.Order {
		md := &Docs{Unique: make([]map[string]map[string]*Document, len(c.Stages))}
		for i := range md.Unique {
			md.Unique[i] = map[string]map[string]*Document{}
		}
		s.ByModel[m.Name] = md
	}
	return s
}

// NewID returns a new id for a document or component.
func (s *Store) NewID() string { return s.ids.next() }

// LessDoc orders documents by creation time, then id.
func LessDoc(a, b *Document) bool {
	ca, cb := docCreatedAt(a), docCreatedAt(b)
	if ca != cb {
		return ca < cb
	}
	return a.ID < b.ID
}

// add adds d to the ordered lists of md.
func (md *Docs) add(d *Document) {
	md.insertSorted(d)
	md.insertByID(d)
}

// remove removes d from the ordered lists of md.
func (md *Docs) remove(d *Document) {
	md.removeSorted(d)
	md.removeByID(d)
}

// SearchID returns the index in md.ByID of the first document whose id is
// not less than id.
func (md *Docs) SearchID(id string) int {
	return sort.Search(len(md.ByID), func(i int) bool { return md.ByID[i].ID >= id })
}

// insertByID adds d to md.byID in id order. Generated ids grow over time,
// so d usually goes at the end.
func (md *Docs) insertByID(d *Document) {
	if n := len(md.ByID); n == 0 || md.ByID[n-1].ID < d.ID {
		md.ByID = append(md.ByID, d)
		return
	}
	i := md.SearchID(d.ID)
	md.ByID = append(md.ByID, nil)
	copy(md.ByID[i+1:], md.ByID[i:])
	md.ByID[i] = d
}

// removeByID removes d from md.byID.
func (md *Docs) removeByID(d *Document) {
	for i := md.SearchID(d.ID); i < len(md.ByID) && md.ByID[i].ID == d.ID; i++ {
		if md.ByID[i] == d {
			md.ByID = append(md.ByID[:i], md.ByID[i+1:]...)
			return
		}
	}
}

// insertSorted adds d to md.sorted in default order.
func (md *Docs) insertSorted(d *Document) {
	i := sort.Search(len(md.Sorted), func(i int) bool { return !LessDoc(md.Sorted[i], d) })
	md.Sorted = append(md.Sorted, nil)
	copy(md.Sorted[i+1:], md.Sorted[i:])
	md.Sorted[i] = d
}

// removeSorted removes d from md.sorted.
func (md *Docs) removeSorted(d *Document) {
	i := sort.Search(len(md.Sorted), func(i int) bool { return !LessDoc(md.Sorted[i], d) })
	if i < len(md.Sorted) && md.Sorted[i] == d {
		md.Sorted = append(md.Sorted[:i], md.Sorted[i+1:]...)
		return
	}
	for j := range md.Sorted { // not where expected: fall back to a scan
		if md.Sorted[j] == d {
			md.Sorted = append(md.Sorted[:j], md.Sorted[j+1:]...)
			return
		}
	}
}

// docCreatedAt is the default sort key of a document: its creation time,
// which is the same in every stage and never changes.
func docCreatedAt(d *Document) string {
	for _, v := range d.Versions {
		if v != nil {
			return v.CreatedAt
		}
	}
	return ""
}

// UniqueKey is the index key of a unique value; ok is false for values
// that are not indexed (null, objects).
func UniqueKey(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return "s" + x, true
	case int64:
		return "n" + strconv.FormatInt(x, 10), true
	case float64:
		return "n" + strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return "b" + strconv.FormatBool(x), true
	}
	return "", false
}

// UniqueEntries lists the unique index entries of v: field key -> value key.
func UniqueEntries(m *Model, v *Version, fn func(fieldKey, valueKey string)) {
	if v == nil {
		return
	}
	for _, name := range m.Unique {
		f := m.ByName[name]
		if f == nil || name == "id" || f.Kind != KindScalar && f.Kind != KindEnum {
			continue
		}
		if f.Localized {
			for l, d := range v.Locs {
				if k, ok := UniqueKey(d.Vals[name]); ok {
					fn(name+"\x00"+l, k)
				}
			}
			continue
		}
		if k, ok := UniqueKey(v.Vals[name]); ok {
			fn(name, k)
		}
	}
}

// index adds (or with del, removes) the unique entries of d's versions.
func (md *Docs) index(d *Document, versions []*Version, del bool) {
	for st, v := range versions {
		idx := md.Unique[st]
		UniqueEntries(d.Model, v, func(fk, vk string) {
			m := idx[fk]
			if del {
				if m != nil && m[vk] == d {
					delete(m, vk)
				}
				return
			}
			if m == nil {
				m = map[string]*Document{}
				idx[fk] = m
			}
			m[vk] = d
		})
	}
}

// idGen makes Hygraph-like ids: "c" followed by 24 lower-case letters and
// digits (25 characters, like a cuid): 8 characters of time, then random.
type idGen struct {
	rng   *rand.Rand
	clock func() time.Time
	n     uint32
}

func newIDGen(seed int64, clock func() time.Time) *idGen {
	s := uint64(seed)
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		s = binary.LittleEndian.Uint64(b[:])
	}
	return &idGen{rng: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15)), clock: clock}
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// next returns a new id. Ids made later sort after ids made earlier when
// the clock moves forward, as cuids do.
func (g *idGen) next() string {
	var b [25]byte
	b[0] = 'c'
	ms := uint64(g.clock().UnixMilli())
	for i := 8; i >= 1; i-- {
		b[i] = idAlphabet[ms%36]
		ms /= 36
	}
	g.n++
	c := g.n
	for i := 12; i >= 9; i-- {
		b[i] = idAlphabet[c%36]
		c /= 36
	}
	for i := 13; i < 25; i++ {
		b[i] = idAlphabet[g.rng.IntN(36)]
	}
	return string(b[:])
}

// timeFormat is how the store keeps and the emulator prints DateTime
// values, like Hygraph: microseconds and an explicit UTC offset.
const timeFormat = "2006-01-02T15:04:05.000000+00:00"

// FormatTime prints t as the store keeps DateTime values, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(timeFormat) }
