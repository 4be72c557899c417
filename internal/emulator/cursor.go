package emulator

import (
	"sort"

	"github.com/stagesync/stagesync/internal/emulator/store"
)

// Cursor pages. A root list read in default order or in id order
// (orderBy: id_ASC) with first/after, the way clients page through a model,
// is answered from the model's ordered lists in the store (Docs.Sorted and
// Docs.ByID): it finds the cursor by binary search and walks on from
// it until the page and one more entry are found, so its cost depends on
// the page size, not on the size of the model. Everything else takes the
// general path (allViews, then selectViews), and so does any read the
// quick path could answer differently: a cursor that is not in the list
// (deleted, in another stage or locale, filtered out) or a where input
// that could fail on some entry.

// cursorSelect answers selectViews(m, s.allViews(m, ci), args, ci, true)
// from the ordered lists of m when it can; ok is false when it cannot (and
// the caller must take the general path, which also reports errors). The
// total is left to selection.count, which scans the model when the
// aggregate count is selected.
func (s *Stage) cursorSelect(m *store.Model, args map[string]any, ci ctxInfo) (sel selection, ok bool) {
	if s.scanPages.Load() {
		return selection{}, false
	}
	md := s.st.ByModel[m.Name]
	if md == nil {
		return selection{}, false
	}
	pa, err := s.pageArgs(m, args)
	if err != nil || pa.last >= 0 || pa.skip > 0 || pa.hasBefore {
		return selection{}, false
	}
	where, _ := args["where"].(map[string]any)
	if len(where) > 0 && !s.cat.whereCannotFail(m, where) {
		return selection{}, false
	}
	// The list in the order of the read, and the cursor's place in it.
	var list []*store.Document
	start := 0
	switch ob, _ := args["orderBy"].(string); ob {
	case "": // default order: creation time, then id
		list = md.Sorted
		if pa.hasAfter {
			d := s.st.ByID[pa.after]
			if d == nil || d.Model != m {
				return selection{}, false
			}
			i := sort.Search(len(list), func(i int) bool { return !store.LessDoc(list[i], d) })
			if i >= len(list) || list[i] != d {
				return selection{}, false
			}
			start = i + 1
		}
	case "id_ASC":
		if f := m.ByName["id"]; f == nil || f.Kind != store.KindSystem {
			return selection{}, false
		}
		list = md.ByID
		if pa.hasAfter {
			i := md.SearchID(pa.after)
			if i >= len(list) || list[i].ID != pa.after || i+1 < len(list) && list[i+1].ID == pa.after {
				return selection{}, false
			}
			start = i + 1
		}
	default:
		return selection{}, false
	}
	// keep reports whether d is in the selection (before pagination).
	keep := func(d *store.Document) (view, bool) {
		vw, ok := s.viewOf(d, ci.stage, ci.locales)
		if !ok {
			return view{}, false
		}
		if len(where) > 0 {
			if ok, err := s.matchEntry(vw, where, ci); err != nil || !ok {
				return view{}, false
			}
		}
		return vw, true
	}
	if pa.hasAfter {
		// A cursor not in the selection selects nothing; the general path
		// answers that.
		if _, ok := keep(list[start-1]); !ok {
			return selection{}, false
		}
	}
	n := pa.first
	if n < 0 {
		n = DefaultPageSize
		if s.cfg.defaultPage > 0 {
			n = s.cfg.defaultPage
		}
	}
	page := make([]view, 0, min(n+1, len(list)-start))
	for _, d := range list[start:] {
		if len(page) > n {
			break
		}
		if vw, ok := keep(d); ok {
			page = append(page, vw)
		}
	}
	sel.hasNext = len(page) > n
	if sel.hasNext {
		page = page[:n]
	}
	sel.page = page
	sel.hasPrev = start > 0
	counted := -1
	sel.count = func() int {
		if counted < 0 {
			counted = 0
			for _, d := range list {
				if _, ok := keep(d); ok {
					counted++
				}
			}
		}
		return counted
	}
	return sel, true
}

// whereCannotFail reports whether evaluating where against an entry of m
// never fails, whatever the entry: then filtering only the entries a page
// reads answers like filtering all of them. Filters on relations and
// components (which are evaluated against other models and reject some
// operators) and unknown keys do not qualify.
func (c *catalog) whereCannotFail(m *store.Model, where map[string]any) bool {
	for k, arg := range where {
		switch k {
		case "AND", "OR", "NOT":
			for _, w := range store.AsList(arg) {
				if wm, ok := w.(map[string]any); ok && !c.whereCannotFail(m, wm) {
					return false
				}
			}
			continue
		case "_search", "documentInStages_some", "documentInStages_every", "documentInStages_none":
			continue
		}
		spec := c.parseWhereKey(m, k)
		if spec.f == nil || spec.f.Kind == store.KindRelation || spec.f.Kind == store.KindComponent {
			return false
		}
	}
	return true
}
