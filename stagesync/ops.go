package stagesync

import (
	"maps"
	"slices"
	"strings"

	"github.com/stagesync/stagesync/schema"
)

// An entry as the dynamic mode reads it is a JSON object: "id", each
// content field (scalars, enums and Json as values; relations and assets as
// {"id"} objects or lists of them; union relations with "__typename";
// components as objects with "__typename" and "id"; rich text as {"raw"};
// locations as {"latitude","longitude"}; colors as {"hex"}), and
// "localizations", a list of {"locale", <localized fields>} for the
// non-default locales.
//
// The canonical form of a version is destination-shaped: a flat map from
// "field" (default locale) or "field@locale" to a value in which relations
// are destination ids (to-one: a string or nil; to-many: a list; union
// members as "Type:id"), components are maps without ids, rich text is its
// AST. Two versions are equal when their canonical forms are; inputs are
// built from it.

// placeholder marks a relation target that has no destination id (yet).
const placeholder = "?"

// resolver maps a source id of model to its destination id.
type resolver func(model, id string) (string, bool)

// canonEntry returns the canonical form of entry for the destination model
// m of project p: the fields of m the entry has (but those in skip: the
// sides of two-way relations that are not written), and the localized
// fields of each locale it has. Relations are mapped through resolve; a target it
// cannot map becomes placeholder+source id and is listed in missing.
func canonEntry(p *schema.Project, m *schema.Model, entry map[string]any, skip map[string]bool, resolve resolver) (out map[string]any, missing []missingRef) {
	out = map[string]any{}
	c := canonizer{p: p, resolve: resolve}
	for _, f := range writableFields(m) {
		x, ok := entry[f.Name]
		if !ok || skip[f.Name] {
			continue
		}
		c.field = f.Name
		out[f.Name] = c.value(f, x)
	}
	if locs, ok := entry["localizations"].([]any); ok && len(p.Locales) > 1 {
		lf := localizedFields(m)
		for _, l := range locs {
			lm, _ := l.(map[string]any)
			locale, _ := lm["locale"].(string)
			if locale == "" || locale == p.Locales[0] {
				continue
			}
			for _, f := range lf {
				if x, ok := lm[f.Name]; ok {
					c.field = f.Name
					out[f.Name+"@"+locale] = c.value(f, x)
				}
			}
		}
	}
	return out, c.missing
}

type canonizer struct {
	p       *schema.Project
	resolve resolver
	field   string // the top-level field being canonized
	missing []missingRef
}

// missingRef is a relation target with no destination id.
type missingRef struct {
	Field, Model, ID string
}

func (c *canonizer) value(f *schema.Field, x any) any {
	if f.List {
		list, _ := x.([]any)
		out := make([]any, 0, len(list))
		for _, v := range list {
			out = append(out, c.one(f, v))
		}
		return out
	}
	if x == nil {
		return nil
	}
	return c.one(f, x)
}

func (c *canonizer) one(f *schema.Field, x any) any {
	switch f.Kind {
	case schema.KindRelation, schema.KindAsset:
		m, _ := x.(map[string]any)
		id, _ := m["id"].(string)
		if len(f.Targets) == 0 {
			return id
		}
		return c.ref(f.Targets[0], id)
	case schema.KindUnionRelation:
		m, _ := x.(map[string]any)
		t, _ := m["__typename"].(string)
		id, _ := m["id"].(string)
		return t + ":" + c.ref(t, id)
	case schema.KindComponent, schema.KindUnionComponent:
		m, _ := x.(map[string]any)
		if m == nil {
			return nil
		}
		t, _ := m["__typename"].(string)
		if t == "" && len(f.Targets) > 0 {
			t = f.Targets[0]
		}
		cm := c.p.Model(t)
		out := map[string]any{"__typename": t}
		if cm == nil {
			return out
		}
		for _, cf := range writableFields(cm) {
			if v, ok := m[cf.Name]; ok {
				out[cf.Name] = c.value(cf, v)
			}
		}
		return out
	case schema.KindRichText:
		if m, ok := x.(map[string]any); ok {
			if raw, ok := m["raw"]; ok {
				return raw
			}
		}
		return x
	default:
		return x
	}
}

func (c *canonizer) ref(model, id string) string {
	if id == "" {
		return placeholder
	}
	if d, ok := c.resolve(model, id); ok {
		return d
	}
	m := missingRef{Field: c.field, Model: model, ID: id}
	if !slices.Contains(c.missing, m) {
		c.missing = append(c.missing, m)
	}
	return placeholder + id
}

// destComponents returns the typed ids ("Type:id") of the component values
// of an entry as read, per list component field, for replacing them; and
// the canonical targets of the to-many relation fields in lists, for
// positioning them (see inputBuilder.moves).
func destComponents(m *schema.Model, entry map[string]any, lists map[string]bool) map[string][]string {
	var out map[string][]string
	for _, f := range writableFields(m) {
		if lists[f.Name] && isRelation(f.Kind) && f.List {
			list, ok := entry[f.Name].([]any)
			if !ok {
				continue
			}
			c := canonizer{resolve: sameID}
			if out == nil {
				out = map[string][]string{}
			}
			out[f.Name] = canonRefs(c.value(f, list).([]any))
			continue
		}
		if (f.Kind != schema.KindComponent && f.Kind != schema.KindUnionComponent) || !f.List {
			continue
		}
		list, _ := entry[f.Name].([]any)
		for _, x := range list {
			cm, _ := x.(map[string]any)
			id, _ := cm["id"].(string)
			t, _ := cm["__typename"].(string)
			if out == nil {
				out = map[string][]string{}
			}
			out[f.Name] = append(out[f.Name], t+":"+id)
		}
	}
	return out
}

// inputBuilder turns canonical versions into create and update inputs of
// one destination model.
type inputBuilder struct {
	p *schema.Project
	m *schema.Model
	// moves are the to-many relation fields whose updates position their
	// targets instead of setting them, drop those of them whose other
	// targets are disconnected (see order and movesInput); comps holds
	// their current targets.
	moves, drop map[string]bool
}

// build returns the input writing keys of v (a canonical version). With
// create it is a create input, and nil values are left out; otherwise an
// update input, where to-many relations are replaced with set (keeping
// their order) or, for b.moves, positioned (comps holds their current
// targets), a to-one relation or component that v lacks is
// disconnected or deleted, list components are replaced (comps holds the
// destination's current ones), and localizations are upserted or deleted.
// Relation targets that are placeholders are left out.
func (b inputBuilder) build(v map[string]any, keys []string, create bool, comps map[string][]string) map[string]any {
	data := map[string]any{}
	locs := map[string]map[string]any{}
	var dropLocales []string
	for _, k := range keys {
		if name, locale, ok := strings.Cut(k, "@"); ok {
			f := b.m.Field(name)
			if f == nil {
				continue
			}
			x, present := v[k]
			if !present {
				if !create && !slices.Contains(dropLocales, locale) && !localeInVersion(v, locale) {
					dropLocales = append(dropLocales, locale)
				}
				continue
			}
			if locs[locale] == nil {
				locs[locale] = map[string]any{}
			}
			if in, ok := b.value(f, x, create, nil); ok {
				locs[locale][name] = in
			}
			continue
		}
		f := b.m.Field(k)
		if f == nil {
			continue
		}
		if in, ok := b.value(f, v[k], create, comps[k]); ok {
			data[k] = in
		}
	}
	if create {
		// A required to-many relation must be in a create input, even
		// when it is empty or written later (in the relation pass).
		for _, f := range writableFields(b.m) {
			if _, ok := data[f.Name]; !ok && f.Required && f.List && isRelation(f.Kind) {
				data[f.Name] = map[string]any{"connect": []any{}}
			}
		}
	}
	if len(locs) > 0 || len(dropLocales) > 0 {
		ls := slices.Sorted(maps.Keys(locs))
		if create {
			var list []any
			for _, l := range ls {
				list = append(list, map[string]any{"locale": l, "data": locs[l]})
			}
			data["localizations"] = map[string]any{"create": list}
		} else {
			in := map[string]any{}
			var ups []any
			for _, l := range ls {
				// The create side of an upsert needs every localized
				// value of the locale, not only the changed ones.
				full := map[string]any{}
				for _, f := range localizedFields(b.m) {
					if x, ok := v[f.Name+"@"+l]; ok {
						if in, ok := b.value(f, x, true, nil); ok {
							full[f.Name] = in
						}
					}
				}
				ups = append(ups, map[string]any{"locale": l, "create": full, "update": locs[l]})
			}
			if len(ups) > 0 {
				in["upsert"] = ups
			}
			if len(dropLocales) > 0 {
				slices.Sort(dropLocales)
				in["delete"] = dropLocales
			}
			data["localizations"] = in
		}
	}
	return data
}

// localeInVersion reports whether v has any value in locale.
func localeInVersion(v map[string]any, locale string) bool {
	for k := range v {
		if strings.HasSuffix(k, "@"+locale) {
			return true
		}
	}
	return false
}

// value returns the input of field f for canonical value x, and false when
// nothing is to be written.
func (b inputBuilder) value(f *schema.Field, x any, create bool, comps []string) (any, bool) {
	switch f.Kind {
	case schema.KindRelation, schema.KindAsset, schema.KindUnionRelation:
		union := f.Kind == schema.KindUnionRelation
		if f.List {
			list, _ := x.([]any)
			wheres := make([]any, 0, len(list))
			for _, r := range list {
				if w, ok := whereRef(r, union); ok {
					wheres = append(wheres, w)
				}
			}
			if create {
				if len(wheres) == 0 {
					return nil, false // required ones: see build
				}
				return map[string]any{"connect": wheres}, true
			}
			if b.moves[f.Name] {
				return movesInput(canonRefs(list), comps, union, b.drop[f.Name])
			}
			return map[string]any{"set": wheres}, true
		}
		w, ok := whereRef(x, union)
		if !ok {
			if create {
				return nil, false
			}
			return map[string]any{"disconnect": true}, true
		}
		return map[string]any{"connect": w}, true
	case schema.KindComponent, schema.KindUnionComponent:
		union := f.Kind == schema.KindUnionComponent
		if f.List {
			list, _ := x.([]any)
			creates := make([]any, 0, len(list))
			for _, c := range list {
				in := b.component(c, union)
				if !create {
					if union {
						for t, d := range in {
							in = map[string]any{t: map[string]any{"data": d}}
						}
					} else {
						in = map[string]any{"data": in}
					}
				}
				creates = append(creates, in)
			}
			out := map[string]any{}
			if len(creates) > 0 {
				out["create"] = creates
			}
			if !create && len(comps) > 0 {
				var dels []any
				for _, tid := range comps {
					t, id, _ := strings.Cut(tid, ":")
					if union {
						dels = append(dels, map[string]any{t: map[string]any{"id": id}})
					} else {
						dels = append(dels, map[string]any{"id": id})
					}
				}
				out["delete"] = dels
			}
			if len(out) == 0 {
				return nil, false
			}
			return out, true
		}
		if x == nil {
			if create {
				return nil, false
			}
			return map[string]any{"delete": true}, true
		}
		return map[string]any{"create": b.component(x, union)}, true
	default:
		if x == nil && create {
			return nil, false
		}
		return x, true
	}
}

// whereRef turns a canonical relation target into a WhereUniqueInput
// ({id} or, for unions, {Type: {id}}); false for nil and placeholders.
func whereRef(r any, union bool) (any, bool) {
	s, _ := r.(string)
	if s == "" {
		return nil, false
	}
	if union {
		t, id, _ := strings.Cut(s, ":")
		if id == "" || strings.HasPrefix(id, placeholder) {
			return nil, false
		}
		return map[string]any{t: map[string]any{"id": id}}, true
	}
	if strings.HasPrefix(s, placeholder) {
		return nil, false
	}
	return map[string]any{"id": s}, true
}

// component returns the create input of a canonical component value; for
// union components it is wrapped in its member type.
func (b inputBuilder) component(x any, union bool) map[string]any {
	cm, _ := x.(map[string]any)
	t, _ := cm["__typename"].(string)
	data := map[string]any{}
	if c := b.p.Model(t); c != nil {
		sub := inputBuilder{p: b.p, m: c}
		for _, f := range writableFields(c) {
			if v, ok := cm[f.Name]; ok {
				if in, ok := sub.value(f, v, true, nil); ok {
					data[f.Name] = in
				}
			}
			if _, ok := data[f.Name]; !ok && f.Required && f.List && isRelation(f.Kind) {
				data[f.Name] = map[string]any{"connect": []any{}}
			}
		}
	}
	if union {
		return map[string]any{t: data}
	}
	return data
}
