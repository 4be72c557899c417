package emulator

import (
	"fmt"
	"slices"
)

// stagesArg returns the stage indexes named by a [Stage!] argument.
func (t *tx) stagesArg(v any, def string) ([]int, error) {
	list := asList(v)
	if v == nil {
		list = []any{def}
	}
	out := make([]int, 0, len(list))
	for _, x := range list {
		name, _ := x.(string)
		i, ok := t.s.cat.stageIdx[name]
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
func (t *tx) publish(d *document, args map[string]any) (int, error) {
	draft := t.s.cat.draft
	src := d.versions[draft]
	if src == nil {
		return draft, fmt.Errorf("%s %q has no DRAFT version to publish", d.model.name, d.id)
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
			locales[t.s.cat.locales[0]] = true
		}
	}
	for _, st := range to {
		if st == draft {
			continue
		}
		old := d.versions[st]
		nv := src.clone()
		nv.publishedAt = t.now
		if !publishBase && old != nil {
			nv.vals = old.clone().vals
			nv.updatedAt, nv.publishedAt = old.updatedAt, old.publishedAt
		}
		if src.locs != nil {
			nv.locs = map[string]*locData{}
			if old != nil {
				for l, ld := range old.locs {
					nv.locs[l] = ld
				}
			}
			for l, ld := range src.locs {
				if locales == nil || locales[l] {
					c := ld.clone()
					c.publishedAt = t.now
					nv.locs[l] = c
				}
			}
			if t.s.cfg.publishDropsLocales {
				for l := range nv.locs {
					if src.locs[l] == nil && (locales == nil || locales[l]) {
						delete(nv.locs, l)
					}
				}
			}
			if def := t.s.cat.locales[0]; nv.locs[def] == nil && src.locs[def] != nil {
				c := src.locs[def].clone()
				c.publishedAt = t.now
				nv.locs[def] = c
			}
		}
		// Relations to entries are rewritten below so that both sides of
		// two-way relations agree in st.
		t.set(d, st, nv)
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
func (t *tx) syncRelations(d *document, st int, old *version) {
	nv := d.versions[st]
	for _, f := range d.model.fields {
		if f.kind != kindRelation || len(f.reverse) == 0 {
			continue
		}
		var before, after []ref
		if old != nil {
			before = asRefs(old.vals[f.name])
		}
		if nv != nil {
			after = asRefs(nv.vals[f.name])
		}
		// Entries of stage st that hold d on the other side while d's
		// version there does not hold them (they were linked while d was
		// not in st, or d's old version did not say) lose it too: a
		// two-way relation is one set of links per stage.
		before = slices.Clone(before)
		for tm, g := range f.reverse {
			md := t.s.st.byModel[tm]
			if md == nil {
				continue
			}
			for _, bd := range md.sorted {
				if t.deleted[bd] || hasRef(after, bd.id) || hasRef(before, bd.id) {
					continue
				}
				if vb := bd.versions[st]; vb != nil && hasRef(asRefs(vb.vals[g]), d.id) {
					before = append(before, ref{typ: tm, id: bd.id})
				}
			}
		}
		for _, r := range before {
			if hasRef(after, r.id) {
				continue
			}
			if g := f.reverse[r.typ]; g != "" {
				if bd := t.doc(r.id); bd != nil {
					if vb := t.mut(bd, st); vb != nil {
						setVal(vb.vals, g, refsValue(removeRef(asRefs(vb.vals[g]), d.id)))
					}
				}
			}
		}
		for _, r := range after {
			g := f.reverse[r.typ]
			bd := t.doc(r.id)
			if g == "" || bd == nil || bd.versions[st] == nil {
				continue
			}
			gf := bd.model.byName[g]
			vb := bd.versions[st]
			if hasRef(asRefs(vb.vals[g]), d.id) {
				continue
			}
			vb = t.mut(bd, st)
			if !gf.list {
				for _, c := range asRefs(vb.vals[g]) {
					if cd := t.doc(c.id); cd != nil && cd != d {
						if cf := cd.model.byName[gf.reverse[cd.model.name]]; cf != nil {
							if vc := t.mut(cd, st); vc != nil {
								setVal(vc.vals, cf.name, refsValue(removeRef(asRefs(vc.vals[cf.name]), bd.id)))
							}
						}
					}
				}
				vb.vals[g] = []ref{{typ: d.model.name, id: d.id}}
				continue
			}
			t.appendRef(bd, st, vb, g, ref{typ: d.model.name, id: d.id})
		}
	}
}

// unpublish removes d from the stages in args["from"] (default PUBLISHED),
// or, with args["locales"], only those localizations (the whole version
// when none would remain).
func (t *tx) unpublish(d *document, args map[string]any) error {
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
		if st == t.s.cat.draft {
			return fmt.Errorf("%s %q cannot be unpublished from the DRAFT stage", d.model.name, d.id)
		}
		old := d.versions[st]
		if old == nil {
			continue
		}
		if len(locales) > 0 && old.locs != nil {
			nv := old.clone()
			for _, l := range locales {
				delete(nv.locs, l)
			}
			if len(nv.locs) > 0 && (!unpublishBase || nv.locs[t.s.cat.locales[0]] != nil) {
				t.set(d, st, nv)
				continue
			}
		}
		t.set(d, st, nil)
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
	st := s.cat.draft
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
	sci := ctxInfo{stage: st, locales: s.cat.locales}
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
func (t *tx) manyAll(rf *rootField, m *modelInfo, views []view, args map[string]any, sci ctxInfo, ci *ctxInfo) (selection, error) {
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
	i, ok := t.s.cat.stageIdx[name]
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
			if err := t.update(d, asMap(args["data"])); err != nil {
				return selection{}, err
			}
			out = append(out, view{d: d, v: d.versions[t.s.cat.draft], loc: vw.loc})
		case opDeleteMany:
			out = append(out, vw)
			t.remove(d)
		case opPublishMany:
			st, err := t.publish(d, args)
			if err != nil {
				return selection{}, err
			}
			ci.stage = st
			out = append(out, view{d: d, v: d.versions[st], loc: vw.loc})
		case opUnpublishMany:
			if err := t.unpublish(d, args); err != nil {
				return selection{}, err
			}
			if v := d.versions[t.s.cat.draft]; v != nil {
				out = append(out, view{d: d, v: v, loc: vw.loc})
			}
		}
	}
	return selection{page: out, total: len(out), hasNext: sel.hasNext, hasPrev: sel.hasPrev}, nil
}
