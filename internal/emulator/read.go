package emulator

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// view is a document as seen in one stage and locale.
type view struct {
	d   *document
	v   *version
	loc string // the locale the entry is read in (default locale for unlocalized models)
}

// ctxInfo is what nested fields inherit from the entry they are read from.
type ctxInfo struct {
	stage   int
	locales []string
}

// viewOf returns d as read in stage with the locale fallback list locales:
// the first locale d has; false if d does not exist there.
func (s *Stage) viewOf(d *document, stage int, locales []string) (view, bool) {
	if d == nil || stage < 0 || stage >= len(d.versions) {
		return view{}, false
	}
	v := d.versions[stage]
	if v == nil {
		return view{}, false
	}
	if !d.model.localized || v.locs == nil {
		loc := s.cat.locales[0]
		if len(locales) > 0 {
			loc = locales[0]
		}
		return view{d: d, v: v, loc: loc}, true
	}
	for _, l := range locales {
		if v.locs[l] != nil {
			return view{d: d, v: v, loc: l}, true
		}
	}
	return view{}, false
}

// stageArg returns the stage index named by args["stage"], or def.
func (s *Stage) stageArg(args map[string]any, def int) (int, error) {
	name, ok := args["stage"].(string)
	if !ok {
		return def, nil
	}
	i, ok := s.cat.stageIdx[name]
	if !ok {
		return 0, fmt.Errorf("unknown stage %q", name)
	}
	return i, nil
}

// localesArg returns args["locales"], or def when absent or empty.
func localesArg(args map[string]any, def []string) []string {
	l, ok := args["locales"].([]any)
	if !ok || len(l) == 0 {
		return def
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// query answers a root query field.
func (s *Stage) query(rf *rootField, field *ast.Field, args map[string]any) (any, error) {
	published := s.cat.draft
	if p, ok := s.cat.stageIdx["PUBLISHED"]; ok {
		published = p
	}
	stage, err := s.stageArg(args, published)
	if err != nil {
		return nil, err
	}
	ci := ctxInfo{stage: stage, locales: localesArg(args, s.cat.locales[:1])}
	switch rf.op {
	case opNode:
		id, _ := args["id"].(string)
		d := s.st.byID[id]
		if vw, ok := s.viewOf(d, stage, ci.locales); ok {
			return s.entry(vw, ci), nil
		}
		return nil, nil
	case opSingle:
		where, _ := args["where"].(map[string]any)
		d, err := s.findUnique(rf.model, where, stage, nil)
		if err != nil || d == nil {
			return nil, err
		}
		if vw, ok := s.viewOf(d, stage, ci.locales); ok {
			return s.entry(vw, ci), nil
		}
		return nil, nil
	case opList, opConnection:
		res, ok := s.cursorSelect(rf.model, args, ci)
		if !ok {
			views := s.allViews(rf.model, ci)
			if res, err = s.selectViews(rf.model, views, args, ci, true); err != nil {
				return nil, err
			}
		}
		if rf.op == opList {
			return s.entries(res.page, ci), nil
		}
		return s.connection(res, ci), nil
	}
	return nil, nil
}

// allViews lists the entries of m in stage, in default order.
func (s *Stage) allViews(m *modelInfo, ci ctxInfo) []view {
	md := s.st.byModel[m.name]
	if md == nil {
		return nil
	}
	out := make([]view, 0, len(md.sorted))
	for _, d := range md.sorted {
		if vw, ok := s.viewOf(d, ci.stage, ci.locales); ok {
			out = append(out, vw)
		}
	}
	return out
}

// selection is a filtered, ordered and paginated list of entries.
type selection struct {
	page             []view
	total            int // after filtering, before pagination
	hasNext, hasPrev bool
	// count, when not nil, counts the entries after filtering instead of
	// total; it is only called when the total is asked for.
	count func() int
}

// aggregate is the aggregate object of a connection, whose count is
// computed when it is selected.
type aggregate struct{ count func() int }

func (aggregate) TypeName() string { return "Aggregate" }

func (a aggregate) ResolveField(_ context.Context, f *ast.Field, _ map[string]any) (any, error) {
	if f.Name == "count" {
		return int64(a.count()), nil
	}
	return nil, nil
}

// selectViews filters views with args["where"], orders them by
// args["orderBy"] (ties and default: creation time, then id, ascending)
// and paginates with first/last/skip/after/before. root marks root fields,
// where a missing first/last means the default page size.
func (s *Stage) selectViews(m *modelInfo, views []view, args map[string]any, ci ctxInfo, root bool) (selection, error) {
	pa, err := s.pageArgs(m, args)
	if err != nil {
		return selection{}, err
	}
	if where, ok := args["where"].(map[string]any); ok && len(where) > 0 {
		kept := views[:0:0]
		for _, vw := range views {
			ok, err := s.matchEntry(vw, where, ci)
			if err != nil {
				return selection{}, err
			}
			if ok {
				kept = append(kept, vw)
			}
		}
		views = kept
	}
	if ob, ok := args["orderBy"].(string); ok && ob != "" {
		if err := s.orderViews(m, views, ob); err != nil {
			return selection{}, err
		}
	}
	return s.paginate(views, pa), nil
}

// pageArgs are the pagination arguments of a list field.
type pageArgs struct {
	first, last, skip int // -1 when absent
	after, before     string
	hasAfter          bool
	hasBefore         bool
}

func (s *Stage) pageArgs(m *modelInfo, args map[string]any) (pageArgs, error) {
	pa := pageArgs{first: -1, last: -1, skip: -1}
	for _, k := range []string{"first", "last", "skip"} {
		v, ok := args[k]
		if !ok || v == nil {
			continue
		}
		n, ok := v.(int64)
		if !ok {
			return pa, fmt.Errorf("argument %q must be an Int", k)
		}
		if n < 0 {
			return pa, fmt.Errorf("argument %q must not be negative, got %d", k, n)
		}
		if k != "skip" && n > int64(s.cfg.maxPage) {
			return pa, fmt.Errorf("argument %q with value %d exceeds maximum page size of %d", k, n, s.cfg.maxPage)
		}
		switch k {
		case "first":
			pa.first = int(n)
		case "last":
			pa.last = int(n)
		case "skip":
			pa.skip = int(n)
		}
	}
	if v, ok := args["after"].(string); ok {
		pa.after, pa.hasAfter = v, true
	}
	if v, ok := args["before"].(string); ok {
		pa.before, pa.hasBefore = v, true
	}
	if pa.first >= 0 && pa.hasBefore {
		return pa, fmt.Errorf("arguments \"first\" and \"before\" cannot be combined")
	}
	if pa.last >= 0 && pa.hasAfter {
		return pa, fmt.Errorf("arguments \"last\" and \"after\" cannot be combined")
	}
	return pa, nil
}

// paginate cuts a page out of ordered views. Cursors are entry ids; a
// cursor that is not in the list selects nothing after (or before) it.
func (s *Stage) paginate(views []view, pa pageArgs) selection {
	total := len(views)
	start, end := 0, len(views)
	if pa.hasAfter {
		start = end
		for i, vw := range views {
			if vw.d.id == pa.after {
				start = i + 1
				break
			}
		}
	}
	if pa.hasBefore {
		end = start
		for i := start; i < len(views); i++ {
			if views[i].d.id == pa.before {
				end = i
				break
			}
		}
	}
	if pa.last >= 0 {
		if pa.skip > 0 {
			end = max(start, end-pa.skip)
		}
		if end-start > pa.last {
			start = end - pa.last
		}
	} else {
		if pa.skip > 0 {
			start = min(end, start+pa.skip)
		}
		n := pa.first
		if n < 0 {
			n = DefaultPageSize
			if s.cfg.defaultPage > 0 {
				n = s.cfg.defaultPage
			}
		}
		if end-start > n {
			end = start + n
		}
	}
	return selection{page: views[start:end], total: total, hasNext: end < total, hasPrev: start > 0}
}

// orderViews sorts views by an orderBy enum value such as title_DESC;
// ties are broken by id, ascending.
func (s *Stage) orderViews(m *modelInfo, views []view, orderBy string) error {
	i := strings.LastIndexByte(orderBy, '_')
	if i <= 0 {
		return fmt.Errorf("invalid orderBy value %q", orderBy)
	}
	name, dir := orderBy[:i], orderBy[i+1:]
	f := m.byName[name]
	if f == nil {
		return fmt.Errorf("%s cannot be ordered by %q", m.name, name)
	}
	desc := dir == "DESC"
	keys := make([]any, len(views))
	for j, vw := range views {
		keys[j] = s.fieldOf(vw, f, "COMBINED")
	}
	idx := make([]int, len(views))
	for j := range idx {
		idx[j] = j
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := keys[idx[a]], keys[idx[b]]
		c := compareNullsLast(ka, kb)
		if desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
		return views[idx[a]].d.id < views[idx[b]].d.id
	})
	sorted := make([]view, len(views))
	for j, k := range idx {
		sorted[j] = views[k]
	}
	copy(views, sorted)
	return nil
}

// compareNullsLast compares two values for ordering; nulls sort after
// every value ascending (and so before every value descending), as in
// PostgreSQL.
func compareNullsLast(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	c, _ := compareValues(a, b)
	return c
}

// compareValues compares two scalar values; ok is false when they are not
// comparable (different types).
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case fa < fb:
		return -1, true
	case fa > fb:
		return 1, true
	}
	return 0, true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// fieldOf returns the stored value of field f of an entry (system date
// fields per variation).
func (s *Stage) fieldOf(vw view, f *fieldInfo, variation string) any {
	if f.kind == kindSystem {
		switch f.name {
		case "id":
			return vw.d.id
		case "createdAt", "updatedAt", "publishedAt":
			return s.systemDate(vw, f.name, variation)
		case "stage":
			for i, v := range vw.d.versions {
				if v == vw.v {
					return s.cat.stages[i]
				}
			}
		case "locale":
			return vw.loc
		}
		return nil
	}
	if f.localized {
		if ld := vw.v.locs[vw.loc]; ld != nil {
			return ld.vals[f.name]
		}
		return nil
	}
	return vw.v.vals[f.name]
}

// systemDate returns createdAt, updatedAt or publishedAt: of the base
// document (BASE), of the localization (LOCALIZATION) or the later of both
// (COMBINED, the default).
func (s *Stage) systemDate(vw view, name, variation string) any {
	var base, loc string
	pick := func(c, u, p string) string {
		switch name {
		case "createdAt":
			return c
		case "updatedAt":
			return u
		}
		return p
	}
	base = pick(vw.v.createdAt, vw.v.updatedAt, vw.v.publishedAt)
	if ld := vw.v.locs[vw.loc]; ld != nil {
		loc = pick(ld.createdAt, ld.updatedAt, ld.publishedAt)
	}
	var out string
	switch variation {
	case "BASE":
		out = base
	case "LOCALIZATION":
		out = loc
		if vw.v.locs == nil {
			out = base
		}
	default:
		out = base
		if loc > out {
			out = loc
		}
	}
	if out == "" {
		return nil
	}
	return out
}

// findUnique finds the entry of m matching a unique where input in stage,
// or nil. tx, when not nil, is searched too (entries changed in the
// current mutation are indexed only when it commits).
func (s *Stage) findUnique(m *modelInfo, where map[string]any, stage int, tx *tx) (*document, error) {
	if len(where) == 0 {
		return nil, fmt.Errorf("%s: a unique where input needs exactly one field, got none", m.name)
	}
	var found *document
	for k, val := range where {
		if val == nil {
			continue
		}
		var d *document
		if k == "id" {
			id, _ := val.(string)
			d = s.st.byID[id]
			if d != nil && d.model != m {
				d = nil
			}
			if tx != nil && d == nil {
				d = tx.created[id]
			}
		} else {
			f := m.byName[k]
			if f == nil {
				return nil, fmt.Errorf("%s has no unique field %q", m.name, k)
			}
			d = s.lookupUnique(m, f, val, stage, tx)
		}
		if d == nil {
			return nil, nil
		}
		if found != nil && found != d {
			return nil, nil
		}
		found = d
	}
	if found != nil && (stage >= len(found.versions) || found.versions[stage] == nil) {
		return nil, nil
	}
	return found, nil
}

// lookupUnique finds the entry whose unique field f has value val in stage
// (in the default locale for localized fields).
func (s *Stage) lookupUnique(m *modelInfo, f *fieldInfo, val any, stage int, tx *tx) *document {
	vk, ok := uniqueKey(canonical(f, val))
	if !ok {
		return nil
	}
	fk := f.name
	if f.localized {
		fk += "\x00" + s.cat.locales[0]
	}
	if tx != nil {
		// Entries changed in this mutation take precedence.
		for _, d := range tx.order {
			if d.versions == nil || stage >= len(d.versions) {
				continue
			}
			var hit bool
			uniqueEntries(m, d.versions[stage], func(k, v string) {
				if k == fk && v == vk {
					hit = true
				}
			})
			if hit && d.model == m {
				return d
			}
		}
	}
	md := s.st.byModel[m.name]
	if md == nil {
		return nil
	}
	d := md.unique[stage][fk][vk]
	if d != nil && tx != nil && tx.touched(d) {
		return nil // changed in this mutation and no longer matching
	}
	return d
}

// entries turns views into resolvable entries.
func (s *Stage) entries(views []view, ci ctxInfo) []any {
	out := make([]any, len(views))
	for i, vw := range views {
		out[i] = s.entry(vw, ci)
	}
	return out
}

// connection renders a selection as a <Model>Connection.
func (s *Stage) connection(sel selection, ci ctxInfo) map[string]any {
	edges := make([]any, len(sel.page))
	for i, vw := range sel.page {
		edges[i] = map[string]any{"cursor": vw.d.id, "node": s.entry(vw, ci)}
	}
	pi := map[string]any{
		"hasNextPage":     sel.hasNext,
		"hasPreviousPage": sel.hasPrev,
		"startCursor":     nil,
		"endCursor":       nil,
		"pageSize":        int64(len(sel.page)),
	}
	if len(sel.page) > 0 {
		pi["startCursor"] = sel.page[0].d.id
		pi["endCursor"] = sel.page[len(sel.page)-1].d.id
	}
	var agg any = map[string]any{"count": int64(sel.total)}
	if sel.count != nil {
		agg = aggregate{count: sel.count}
	}
	return map[string]any{
		"edges":     edges,
		"pageInfo":  pi,
		"aggregate": agg,
	}
}

// sortViews sorts views stably by cmp, breaking ties by id.
func sortViews(views []view, cmp func(a, b view) int) {
	sort.SliceStable(views, func(i, j int) bool {
		if c := cmp(views[i], views[j]); c != 0 {
			return c < 0
		}
		return views[i].d.id < views[j].d.id
	})
}
