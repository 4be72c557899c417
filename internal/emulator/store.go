package emulator

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

// ref is one relation target.
type ref struct {
	typ string // target model
	id  string
}

// comp is one component value, embedded in a version.
type comp struct {
	typ  string
	id   string
	vals map[string]any
}

// locData holds the localized values of one locale of a version.
type locData struct {
	createdAt, updatedAt, publishedAt string
	vals                              map[string]any
}

// version is a document in one stage.
type version struct {
	createdAt, updatedAt, publishedAt string
	// vals holds non-localized values by field name: scalars and enums as
	// Go values (string, int64, float64, bool, []any, map[string]any),
	// DateTime as canonical strings, relations as []ref, components as
	// []*comp.
	vals map[string]any
	// locs holds localized values by locale; nil for models without
	// localized fields. The default locale is always present.
	locs map[string]*locData
}

// document is one entry in every stage it exists in.
type document struct {
	model    *modelInfo
	id       string
	versions []*version // by stage index; nil where the entry does not exist
}

// clone returns a copy of v that may be changed without affecting v. Values
// are shared; slices and maps in them must be replaced, not mutated.
func (v *version) clone() *version {
	n := *v
	n.vals = make(map[string]any, len(v.vals)+1)
	for k, x := range v.vals {
		n.vals[k] = x
	}
	if v.locs != nil {
		n.locs = make(map[string]*locData, len(v.locs))
		for l, d := range v.locs {
			n.locs[l] = d.clone()
		}
	}
	return &n
}

func (d *locData) clone() *locData {
	n := *d
	n.vals = make(map[string]any, len(d.vals)+1)
	for k, x := range d.vals {
		n.vals[k] = x
	}
	return &n
}

// store indexes the documents of a stage.
type store struct {
	byID    map[string]*document
	byModel map[string]*modelDocs
}

// modelDocs are the documents of one model, kept in default order
// (creation time, then id) and in id order.
type modelDocs struct {
	sorted []*document
	// byID holds the same documents as sorted, ordered by id, so that a
	// page read in id order (orderBy: id_ASC) starts at its cursor without
	// looking at every entry (see cursorSelect).
	byID []*document
	// unique indexes values of unique fields per stage:
	// stage -> field(+"\x00"+locale) -> value key -> document.
	unique []map[string]map[string]*document
}

func newStore(c *catalog) *store {
	s := &store{byID: map[string]*document{}, byModel: map[string]*modelDocs{}}
	for _, m := range c.order {
		md := &modelDocs{unique: make([]map[string]map[string]*document, len(c.stages))}
		for i := range md.unique {
			md.unique[i] = map[string]map[string]*document{}
		}
		s.byModel[m.name] = md
	}
	return s
}

// lessDoc orders documents by creation time, then id.
func lessDoc(a, b *document) bool {
	ca, cb := docCreatedAt(a), docCreatedAt(b)
	if ca != cb {
		return ca < cb
	}
	return a.id < b.id
}

// add adds d to the ordered lists of md.
func (md *modelDocs) add(d *document) {
	md.insertSorted(d)
	md.insertByID(d)
}

// remove removes d from the ordered lists of md.
func (md *modelDocs) remove(d *document) {
	md.removeSorted(d)
	md.removeByID(d)
}

// searchID returns the index in md.byID of the first document whose id is
// not less than id.
func (md *modelDocs) searchID(id string) int {
	return sort.Search(len(md.byID), func(i int) bool { return md.byID[i].id >= id })
}

// insertByID adds d to md.byID in id order. Generated ids grow over time,
// so d usually goes at the end.
func (md *modelDocs) insertByID(d *document) {
	if n := len(md.byID); n == 0 || md.byID[n-1].id < d.id {
		md.byID = append(md.byID, d)
		return
	}
	i := md.searchID(d.id)
	md.byID = append(md.byID, nil)
	copy(md.byID[i+1:], md.byID[i:])
	md.byID[i] = d
}

// removeByID removes d from md.byID.
func (md *modelDocs) removeByID(d *document) {
	for i := md.searchID(d.id); i < len(md.byID) && md.byID[i].id == d.id; i++ {
		if md.byID[i] == d {
			md.byID = append(md.byID[:i], md.byID[i+1:]...)
			return
		}
	}
}

// insertSorted adds d to md.sorted in default order.
func (md *modelDocs) insertSorted(d *document) {
	i := sort.Search(len(md.sorted), func(i int) bool { return !lessDoc(md.sorted[i], d) })
	md.sorted = append(md.sorted, nil)
	copy(md.sorted[i+1:], md.sorted[i:])
	md.sorted[i] = d
}

// removeSorted removes d from md.sorted.
func (md *modelDocs) removeSorted(d *document) {
	i := sort.Search(len(md.sorted), func(i int) bool { return !lessDoc(md.sorted[i], d) })
	if i < len(md.sorted) && md.sorted[i] == d {
		md.sorted = append(md.sorted[:i], md.sorted[i+1:]...)
		return
	}
	for j := range md.sorted { // not where expected: fall back to a scan
		if md.sorted[j] == d {
			md.sorted = append(md.sorted[:j], md.sorted[j+1:]...)
			return
		}
	}
}

// docCreatedAt is the default sort key of a document: its creation time,
// which is the same in every stage and never changes.
func docCreatedAt(d *document) string {
	for _, v := range d.versions {
		if v != nil {
			return v.createdAt
		}
	}
	return ""
}

// uniqueKey is the index key of a unique value; ok is false for values
// that are not indexed (null, objects).
func uniqueKey(v any) (string, bool) {
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

// uniqueEntries lists the unique index entries of v: field key -> value key.
func uniqueEntries(m *modelInfo, v *version, fn func(fieldKey, valueKey string)) {
	if v == nil {
		return
	}
	for _, name := range m.unique {
		f := m.byName[name]
		if f == nil || name == "id" || f.kind != kindScalar && f.kind != kindEnum {
			continue
		}
		if f.localized {
			for l, d := range v.locs {
				if k, ok := uniqueKey(d.vals[name]); ok {
					fn(name+"\x00"+l, k)
				}
			}
			continue
		}
		if k, ok := uniqueKey(v.vals[name]); ok {
			fn(name, k)
		}
	}
}

// index adds (or with del, removes) the unique entries of d's versions.
func (md *modelDocs) index(d *document, versions []*version, del bool) {
	for st, v := range versions {
		idx := md.unique[st]
		uniqueEntries(d.model, v, func(fk, vk string) {
			m := idx[fk]
			if del {
				if m != nil && m[vk] == d {
					delete(m, vk)
				}
				return
			}
			if m == nil {
				m = map[string]*document{}
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

// timeFormat is how the emulator prints DateTime values, like Hygraph:
// microseconds and an explicit UTC offset.
const timeFormat = "2006-01-02T15:04:05.000000+00:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }
