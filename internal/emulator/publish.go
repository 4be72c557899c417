package emulator

import (
	"fmt"
	"slices"

	"github.com/stagesync/stagesync/internal/emulator/store"
)

// stagesArg returns the stage indexes named by a [Stage!] argument.
func (t *tx) stagesArg(v any, def string) ([]int, error) {
	list := store.AsList(v)
	if v == nil {
		list = []any{def}
	}
	out := make([]int, 0, len(list))
	for _, x := range list {
		name, _ := x.(string)
		i, ok := t.s.cat.StageIdx[name]
		if !ok {
			return nil, fmt.Errorf("unknown stage %q", name)
		}
		out = append(out, i)
	}
	return out, nil
}

// publish copies d's DRAFT version to the stages in args["to"] (default
// PUBLISHED): base fields unless publishBase is false, and the locales in
// args["locales"] (all when absent; plus the default locale unless
// withDefaultLocale is false); the other localizations published before
// stay, and so do those of the named locales DRAFT lacks unless the stage
// has WithPublishDropsLocales. It returns the first stage published to.
func (t *tx) publish(d *store.Document, args map[string]any) (int, error) {
	draft := t.s.cat.Draft
	src := d.Versions[draft]
	if src == nil {
		return draft, fmt.Errorf("%s %q has no DRAFT version to publish", d.Model.Name, d.ID)
	}
	to, err := t.stagesArg(args["to"], "PUBLISHED")
	if err != nil {
		return draft, err
	}
	publishBase := true
	if b, ok := args["publishBase"].(bool); ok {
		publishBase = b
	}
	withDefault := true
	if b, ok := args["withDefaultLocale"].(bool); ok {
		withDefault = b
	}
	var locales map[string]bool
	if l, ok := args["locales"].([]any); ok && len(l) > 0 {
		locales = map[string]bool{}
		for _, x := range l {
			s, _ := x.(string)
			locales[s] = true
		}
		if withDefault {
			locales[t.s.cat.Locales[0]] = true
		}
	}
	for _, st := range to {
		if st == draft {
			continue
		}
		old := d.Versions[st]
		nv := src.Clone()
		nv.PublishedAt = t.Now
		if !publishBase && old != nil {
			nv.Vals = old.Clone().Vals
			nv.UpdatedAt, nv.PublishedAt = old.UpdatedAt, old.PublishedAt
		}
		if src.Locs != nil {
			nv.Locs = map[string]*store.Loc{}
			if old != nil {
				for l, ld := range old.Locs {
					nv.Locs[l] = ld
				}
			}
			for l, ld := range src.Locs {
				if locales == nil || locales[l] {
					c := ld.Clone()
					c.PublishedAt = t.Now
					nv.Locs[l] = c
				}
			}
			if t.s.cfg.publishDropsLocales {
				for l := range nv.Locs {
					if src.Locs[l] == nil && (locales == nil || locales[l]) {
						delete(nv.Locs, l)
					}
				}
			}
			if def := t.s.cat.Locales[0]; nv.Locs[def] == nil && src.Locs[def] != nil {
				c := src.Locs[def].Clone()
				c.PublishedAt = t.Now
				nv.Locs[def] = c
			}
		}
		// Relations to entries are rewritten below so that both sides of
		// two-way relations agree in st.
		t.Set(d, st, nv)
		t.syncRelations(d, st, old)
	}
	first := draft
	if len(to) > 0 {
		first = to[0]
	}
	return first, nil
}

// syncRelations makes the other side of d's two-way relations in stage st
// agree with d's version there, given the version d had before (old).
func (t *tx) syncRelations(d *store.Document, st int, old *store.Version) {
	nv := d.Versions[st]
	for _, f := range d.Model.Fields {
		if f.Kind != store.KindRelation || len(f.Reverse) == 0 {
			continue
		}
		var before, after []store.Ref
		if old != nil {
			before = store.AsRefs(old.Vals[f.Name])
		}
		if nv != nil {
			after = store.AsRefs(nv.Vals[f.Name])
		}
		// Entries of stage st that hold d on the other side while d's
		// version there does not hold them (they were linked while d was
		// not in st, or d's old version did not say) lose it too: a
		// two-way relation is one set of links per stage.
		before = slices.Clone(before)
		for tm, g := range f.Reverse {
			md := t.s.st.ByModel[tm]
			if md == nil {
				continue
			}
			for _, bd := range md.Sorted {
				if t.Deleted[bd] || hasRef(after, bd.ID) || hasRef(before, bd.ID) {
					continue
				}
				if vb := bd.Versions[st]; vb != nil && hasRef(store.AsRefs(vb.Vals[g]), d.ID) {
					before = append(before, store.Ref{Type: tm, ID: bd.ID})
				}
			}
		}
		for _, r := range before {
			if hasRef(after, r.ID) {
				continue
			}
			if g := f.Reverse[r.Type]; g != "" {
				if bd := t.Doc(r.ID); bd != nil {
					if vb := t.Mut(bd, st); vb != nil {
						setVal(vb.Vals, g, refsValue(removeRef(store.AsRefs(vb.Vals[g]), d.ID)))
					}
				}
			}
		}
		for _, r := range after {
			g := f.Reverse[r.Type]
			bd := t.Doc(r.ID)
			if g == "" || bd == nil || bd.Versions[st] == nil {
				continue
			}
			gf := bd.Model.ByName[g]
			vb := bd.Versions[st]
			if hasRef(store.AsRefs(vb.Vals[g]), d.ID) {
				continue
			}
			vb = t.Mut(bd, st)
			if !gf.List {
				for _, c := range store.AsRefs(vb.Vals[g]) {
					if cd := t.Doc(c.ID); cd != nil && cd != d {
						if cf := cd.Model.ByName[gf.Reverse[cd.Model.Name]]; cf != nil {
							if vc := t.Mut(cd, st); vc != nil {
								setVal(vc.Vals, cf.Name, refsValue(removeRef(store.AsRefs(vc.Vals[cf.Name]), bd.ID)))
							}
						}
					}
				}
				vb.Vals[g] = []store.Ref{{Type: d.Model.Name, ID: d.ID}}
				continue
			}
			t.AppendRef(bd, st, vb, g, store.Ref{Type: d.Model.Name, ID: d.ID})
		}
	}
}

// unpublish removes d from the stages in args["from"] (default PUBLISHED),
// or, with args["locales"], only those localizations (the whole version
// when none would remain).
func (t *tx) unpublish(d *store.Document, args map[string]any) error {
	from, err := t.stagesArg(args["from"], "PUBLISHED")
	if err != nil {
		return err
	}
	var locales []string
	if l, ok := args["locales"].([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			locales = append(locales, s)
		}
	}
	unpublishBase := true
	if b, ok := args["unpublishBase"].(bool); ok {
		unpublishBase = b
	}
	for _, st := range from {
		if st == t.s.cat.Draft {
			return fmt.Errorf("%s %q cannot be unpublished from the DRAFT stage", d.Model.Name, d.ID)
		}
		old := d.Versions[st]
		if old == nil {
			continue
		}
		if len(locales) > 0 && old.Locs != nil {
			nv := old.Clone()
			for _, l := range locales {
				delete(nv.Locs, l)
			}
			if len(nv.Locs) > 0 && (!unpublishBase || nv.Locs[t.s.cat.Locales[0]] != nil) {
				t.Set(d, st, nv)
				continue
			}
		}
		t.Set(d, st, nil)
		t.syncRelations(d, st, old)
	}
	return nil
}

// many runs an updateMany/deleteMany/publishMany/unpublishMany mutation:
// it selects the entries matching where (paginated like a list; the
// Connection forms take at most the maximum page size, the deprecated
// BatchPayload forms every match) and applies the operation to each.
func (t *tx) many(rf *rootField, args map[string]any, ci *ctxInfo) (selection, error) {
	s := t.s
	m := rf.model
	st := s.cat.Draft
	var err error
	switch rf.op {
	case opPublishMany:
		if name, ok := args["from"].(string); ok {
			if st, err = t.stageByName(name); err != nil {
				return selection{}, err
			}
		}
	case opUnpublishMany:
		if name, ok := args["stage"].(string); ok {
			if st, err = t.stageByName(name); err != nil {
				return selection{}, err
			}
		}
	}
	sci := ctxInfo{stage: st, locales: s.cat.Locales}
	views := s.allViews(m, sci)
	pa := args
	if !rf.connection {
		pa = withoutKeys(args, "first", "last", "skip", "after", "before")
		pa["first"] = int64(len(views))
		if len(views) > s.cfg.maxPage {
			// The page-size check does not apply to the BatchPayload forms.
			return t.manyAll(rf, m, views, args, sci, ci)
		}
	} else if _, ok := args["first"]; !ok {
		if _, ok := args["last"]; !ok {
			pa = withoutKeys(args)
			pa["first"] = int64(s.cfg.maxPage)
		}
	}
	sel, err := s.selectViews(m, views, pa, sci, true)
	if err != nil {
		return selection{}, err
	}
	return t.applyMany(rf, sel, args, ci)
}

// manyAll is many for a BatchPayload form matching more than a page.
func (t *tx) manyAll(rf *rootField, m *store.Model, views []view, args map[string]any, sci ctxInfo, ci *ctxInfo) (selection, error) {
	var kept []view
	where, _ := args["where"].(map[string]any)
	for _, vw := range views {
		ok, err := t.s.matchEntry(vw, where, sci)
		if err != nil {
			return selection{}, err
		}
		if ok {
			kept = append(kept, vw)
		}
	}
	return t.applyMany(rf, selection{page: kept, total: len(kept)}, args, ci)
}

func (t *tx) stageByName(name string) (int, error) {
	i, ok := t.s.cat.StageIdx[name]
	if !ok {
		return 0, fmt.Errorf("unknown stage %q", name)
	}
	return i, nil
}

// applyMany applies a ...Many operation to the selected entries and
// returns them as they are afterwards (deleted entries as they were).
func (t *tx) applyMany(rf *rootField, sel selection, args map[string]any, ci *ctxInfo) (selection, error) {
	out := make([]view, 0, len(sel.page))
	for _, vw := range sel.page {
		d := vw.d
		switch rf.op {
		case opUpdateMany:
			if err := t.update(d, store.AsMap(args["data"])); err != nil {
				return selection{}, err
			}
			out = append(out, view{d: d, v: d.Versions[t.s.cat.Draft], loc: vw.loc})
		case opDeleteMany:
			out = append(out, vw)
			t.Remove(d)
		case opPublishMany:
			st, err := t.publish(d, args)
			if err != nil {
				return selection{}, err
			}
			ci.stage = st
			out = append(out, view{d: d, v: d.Versions[st], loc: vw.loc})
		case opUnpublishMany:
			if err := t.unpublish(d, args); err != nil {
				return selection{}, err
			}
			if v := d.Versions[t.s.cat.Draft]; v != nil {
				out = append(out, view{d: d, v: v, loc: vw.loc})
			}
		}
	}
	return selection{page: out, total: len(out), hasNext: sel.hasNext, hasPrev: sel.hasPrev}, nil
}
