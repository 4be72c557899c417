package emulator

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/vektah/gqlparser/v2/ast"
)

// view is a document as seen in one stage and locale.
type view struct {
	d   *store.Document
	v   *store.Version
	loc string // the locale the entry is read in (default locale for unlocalized models)
}

// ctxInfo is what nested fields inherit from the entry they are read from.
type ctxInfo struct {
	stage   int
	locales []string
}

// viewOf returns d as read in stage with the locale fallback list locales:
// the first locale d has; false if d does not exist there.
func (s *Stage) viewOf(d *store.Document, stage int, locales []string) (view, bool) {
	if d == nil || stage < 0 || stage >= len(d.Versions) {
		return view{}, false
	}
	v := d.Versions[stage]
	if v == nil {
		return view{}, false
	}
	if !d.Model.Localized || v.Locs == nil {
		loc := s.cat.Locales[0]
		if len(locales) > 0 {
			loc = locales[0]
		}
		return view{d: d, v: v, loc: loc}, true
	}
	for _, l := range locales {
		if v.Locs[l] != nil {
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
	i, ok := s.cat.StageIdx[name]
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
	published := s.cat.Draft
	if p, ok := s.cat.StageIdx["PUBLISHED"]; ok {
		published = p
	}
	stage, err := s.stageArg(args, published)
	if err != nil {
		return nil, err
	}
	ci := ctxInfo{stage: stage, locales: localesArg(args, s.cat.Locales[:1])}
	switch rf.op {
	case opNode:
		id, _ := args["id"].(string)
		d := s.st.ByID[id]
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
func (s *Stage) allViews(m *store.Model, ci ctxInfo) []view {
	md := s.st.ByModel[m.Name]
	if md == nil {
		return nil
	}
	out := make([]view, 0, len(md.Sorted))
	for _, d := range md.Sorted {
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
func (s *Stage) selectViews(m *store.Model, views []view, args map[string]any, ci ctxInfo, root bool) (selection, error) {
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

func (s *Stage) pageArgs(m *store.Model, args map[string]any) (pageArgs, error) {
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
			if vw.d.ID == pa.after {
				start = i + 1
				break
			}
		}
	}
	if pa.hasBefore {
		end = start
		for i := start; i < len(views); i++ {
			if views[i].d.ID == pa.before {
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
func (s *Stage) orderViews(m *store.Model, views []view, orderBy string) error {
	i := strings.LastIndexByte(orderBy, '_')
	if i <= 0 {
		return fmt.Errorf("invalid orderBy value %q", orderBy)
	}
	name, dir := orderBy[:i], orderBy[i+1:]
	f := m.ByName[name]
	if f == nil {
		return fmt.Errorf("%s cannot be ordered by %q", m.Name, name)
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
		return views[idx[a]].d.ID < views[idx[b]].d.ID
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
func (s *Stage) fieldOf(vw view, f *store.Field, variation string) any {
	if f.Kind == store.KindSystem {
		switch f.Name {
		case "id":
			return vw.d.ID
		case "createdAt", "updatedAt", "publishedAt":
			return s.systemDate(vw, f.Name, variation)
		case "stage":
			for i, v := range vw.d.Versions {
				if v == vw.v {
					return s.cat.Stages[i]
				}
			}
		case "locale":
			return vw.loc
		}
		return nil
	}
	if f.Localized {
		if ld := vw.v.Locs[vw.loc]; ld != nil {
			return ld.Vals[f.Name]
		}
		return nil
	}
	return vw.v.Vals[f.Name]
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
	base = pick(vw.v.CreatedAt, vw.v.UpdatedAt, vw.v.PublishedAt)
	if ld := vw.v.Locs[vw.loc]; ld != nil {
		loc = pick(ld.CreatedAt, ld.UpdatedAt, ld.PublishedAt)
	}
	var out string
	switch variation {
	case "BASE":
		out = base
	case "LOCALIZATION":
		out = loc
		if vw.v.Locs == nil {
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
func (s *Stage) findUnique(m *store.Model, where map[string]any, stage int, tx *tx) (*store.Document, error) {
	if len(where) == 0 {
		return nil, fmt.Errorf("%s: a unique where input needs exactly one field, got none", m.Name)
	}
	var found *store.Document
	for k, val := range where {
		if val == nil {
			continue
		}
		var d *store.Document
		if k == "id" {
			id, _ := val.(string)
			d = s.st.ByID[id]
			if d != nil && d.Model != m {
				d = nil
			}
			if tx != nil && d == nil {
				d = tx.Created[id]
			}
		} else {
			f := m.ByName[k]
			if f == nil {
				return nil, fmt.Errorf("%s has no unique field %q", m.Name, k)
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
	if found != nil && (stage >= len(found.Versions) || found.Versions[stage] == nil) {
		return nil, nil
	}
	return found, nil
}

// lookupUnique finds the entry whose unique field f has value val in stage
// (in the default locale for localized fields).
func (s *Stage) lookupUnique(m *store.Model, f *store.Field, val any, stage int, tx *tx) *store.Document {
	vk, ok := store.UniqueKey(canonical(f, val))
	if !ok {
		return nil
	}
	fk := f.Name
	if f.Localized {
		fk += "\x00" + s.cat.Locales[0]
	}
	if tx != nil {
		// Entries changed in this mutation take precedence.
		for _, d := range tx.Order {
			if d.Versions == nil || stage >= len(d.Versions) {
				continue
			}
			var hit bool
			store.UniqueEntries(m, d.Versions[stage], func(k, v string) {
				if k == fk && v == vk {
					hit = true
				}
			})
			if hit && d.Model == m {
				return d
			}
		}
	}
	md := s.st.ByModel[m.Name]
	if md == nil {
		return nil
	}
	d := md.Unique[stage][fk][vk]
	if d != nil && tx != nil && tx.Touched(d) {
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
		edges[i] = map[string]any{"cursor": vw.d.ID, "node": s.entry(vw, ci)}
	}
	pi := map[string]any{
		"hasNextPage":     sel.hasNext,
		"hasPreviousPage": sel.hasPrev,
		"startCursor":     nil,
		"endCursor":       nil,
		"pageSize":        int64(len(sel.page)),
	}
	if len(sel.page) > 0 {
		pi["startCursor"] = sel.page[0].d.ID
		pi["endCursor"] = sel.page[len(sel.page)-1].d.ID
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
		return views[i].d.ID < views[j].d.ID
	})
}
