package emulator

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/stagesync/stagesync/internal/emulator/store"
)

// whereSpec is a parsed where-input key: the field it filters and the
// operator suffix ("" for equality).
type whereSpec struct {
	f  *store.Field
	op string
}

// whereOps are the operator suffixes of Hygraph where inputs, longest first
// where one is a suffix of another.
var whereOps = []string{
	"_not_contains", "_not_starts_with", "_not_ends_with", "_not_in",
	"_contains_all", "_contains_some", "_contains_none",
	"_starts_with", "_ends_with", "_contains",
	"_not", "_in", "_lte", "_lt", "_gte", "_gt",
	"_some", "_every", "_none", "_empty",
	"_json_path_exists", "_value_recursive",
}

// parseWhereKey maps a where-input key of model m to its field and operator.
func (c *catalog) parseWhereKey(m *store.Model, key string) *whereSpec {
	cache := c.whereKeys[m]
	if v, ok := cache.Load(key); ok {
		return v.(*whereSpec)
	}
	var spec *whereSpec
	if f := m.ByName[key]; f != nil {
		spec = &whereSpec{f: f}
	} else {
		for _, op := range whereOps {
			if name, ok := strings.CutSuffix(key, op); ok {
				if f := m.ByName[name]; f != nil {
					spec = &whereSpec{f: f, op: op}
					break
				}
			}
		}
	}
	if spec == nil {
		spec = &whereSpec{}
	}
	cache.Store(key, spec)
	return spec
}

// matchEntry reports whether an entry matches a where input.
func (s *Stage) matchEntry(vw view, where map[string]any, ci ctxInfo) (bool, error) {
	r := record{s: s, m: vw.d.Model, vw: vw, ci: ci}
	return r.match(where)
}

// record is something a where input is evaluated against: an entry or a
// component value.
type record struct {
	s  *Stage
	m  *store.Model
	vw view        // entries
	c  *store.Comp // components
	ci ctxInfo
}

func (r record) value(f *store.Field) any {
	if r.c != nil {
		if f.Name == "id" {
			return r.c.ID
		}
		if f.Name == "stage" {
			return r.s.cat.Stages[r.ci.stage]
		}
		return r.c.Vals[f.Name]
	}
	return r.s.fieldOf(r.vw, f, "COMBINED")
}

func (r record) match(where map[string]any) (bool, error) {
	for k, arg := range where {
		ok, err := r.matchKey(k, arg)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (r record) matchKey(k string, arg any) (bool, error) {
	switch k {
	case "AND":
		for _, w := range store.AsList(arg) {
			if wm, ok := w.(map[string]any); ok {
				if ok, err := r.match(wm); err != nil || !ok {
					return false, err
				}
			}
		}
		return true, nil
	case "OR":
		list := store.AsList(arg)
		if arg == nil {
			return true, nil
		}
		for _, w := range list {
			if wm, ok := w.(map[string]any); ok {
				if ok, err := r.match(wm); err != nil || ok {
					return ok, err
				}
			}
		}
		return len(list) == 0, nil
	case "NOT":
		// NOT: none of the given filters (each combined by AND) matches.
		for _, w := range store.AsList(arg) {
			if wm, ok := w.(map[string]any); ok {
				ok, err := r.match(wm)
				if err != nil {
					return false, err
				}
				if ok {
					return false, nil
				}
			}
		}
		return true, nil
	case "_search":
		q, ok := arg.(string)
		if !ok || q == "" {
			return true, nil
		}
		q = strings.ToLower(q)
		for _, f := range r.m.Fields {
			if f.Kind != store.KindScalar || f.Named != "String" || f.List {
				continue
			}
			if s, ok := r.value(f).(string); ok && strings.Contains(strings.ToLower(s), q) {
				return true, nil
			}
		}
		return false, nil
	case "documentInStages_some", "documentInStages_every", "documentInStages_none":
		return r.matchStages(strings.TrimPrefix(k, "documentInStages"), arg)
	}
	spec := r.s.cat.parseWhereKey(r.m, k)
	if spec.f == nil {
		return false, fmt.Errorf("%s: unknown filter %q", r.m.Name, k)
	}
	f := spec.f
	switch f.Kind {
	case store.KindRelation, store.KindComponent:
		return r.matchRelation(f, spec.op, arg)
	case store.KindSystem:
		switch f.Name {
		case "createdBy", "updatedBy", "publishedBy":
			return false, nil // no users in the emulator
		case "scheduledIn":
			return spec.op != "_some", nil // never scheduled
		}
	}
	val := r.value(f)
	switch spec.op {
	case "", "_not":
		if arg == nil {
			return isNullValue(val) == (spec.op == ""), nil
		}
	case "_json_path_exists":
		p, _ := arg.(string)
		return val != nil && jsonPathExists(val, p), nil
	case "_value_recursive":
		return val != nil && valueRecursive(val, arg), nil
	default:
		if arg == nil {
			return true, nil // a null operand is no filter
		}
	}
	if val == nil && !f.List {
		// Comparisons with null are never true, negated or not (SQL).
		return false, nil
	}
	return matchScalar(f, spec.op, val, canonicalFilter(f, arg)), nil
}

func isNullValue(v any) bool {
	if v == nil {
		return true
	}
	if l, ok := v.([]any); ok && l == nil {
		return true
	}
	return false
}

// matchScalar applies one operator to a stored value.
func matchScalar(f *store.Field, op string, val, arg any) bool {
	if f.List {
		have := store.AsList(val)
		want := store.AsList(arg)
		switch op {
		case "":
			return listEqual(have, want)
		case "_not":
			return !listEqual(have, want)
		case "_contains_all":
			for _, w := range want {
				if !listHas(have, w) {
					return false
				}
			}
			return true
		case "_contains_some":
			for _, w := range want {
				if listHas(have, w) {
					return true
				}
			}
			return false
		case "_contains_none":
			for _, w := range want {
				if listHas(have, w) {
					return false
				}
			}
			return true
		}
		return false
	}
	switch op {
	case "":
		return valueEqual(val, arg)
	case "_not":
		// "Any other value that exists and is not equal to the given value."
		return !valueEqual(val, arg)
	case "_in":
		return listHas(store.AsList(arg), val)
	case "_not_in":
		return !listHas(store.AsList(arg), val)
	case "_lt", "_lte", "_gt", "_gte":
		if val == nil {
			return false
		}
		c, ok := compareValues(val, arg)
		if !ok {
			return false
		}
		switch op {
		case "_lt":
			return c < 0
		case "_lte":
			return c <= 0
		case "_gt":
			return c > 0
		}
		return c >= 0
	}
	sv, ok1 := val.(string)
	sa, ok2 := arg.(string)
	if !ok1 || !ok2 {
		return strings.HasPrefix(op, "_not_") && !ok1
	}
	switch op {
	case "_contains":
		return strings.Contains(sv, sa)
	case "_not_contains":
		return !strings.Contains(sv, sa)
	case "_starts_with":
		return strings.HasPrefix(sv, sa)
	case "_not_starts_with":
		return !strings.HasPrefix(sv, sa)
	case "_ends_with":
		return strings.HasSuffix(sv, sa)
	case "_not_ends_with":
		return !strings.HasSuffix(sv, sa)
	}
	return false
}

func valueEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if c, ok := compareValues(a, b); ok {
		return c == 0
	}
	return reflect.DeepEqual(a, b)
}

func listHas(list []any, v any) bool {
	for _, x := range list {
		if valueEqual(x, v) {
			return true
		}
	}
	return false
}

func listEqual(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !valueEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// matchRelation evaluates a relation or component filter: _some, _every,
// _none on lists, a nested where on single references.
func (r record) matchRelation(f *store.Field, op string, arg any) (bool, error) {
	where, _ := arg.(map[string]any)
	var subs []record
	switch f.Kind {
	case store.KindRelation:
		for _, rf := range store.AsRefs(r.value(f)) {
			d := r.s.st.ByID[rf.ID]
			if d == nil {
				continue
			}
			if vw, ok := r.s.viewOf(d, r.ci.stage, r.ci.locales); ok {
				subs = append(subs, record{s: r.s, m: d.Model, vw: vw, ci: r.ci})
			}
		}
	case store.KindComponent:
		for _, c := range asComps(r.value(f)) {
			if m := r.s.cat.Models[c.Type]; m != nil {
				subs = append(subs, record{s: r.s, m: m, c: c, ci: r.ci})
			}
		}
	}
	matchSub := func(sub record) (bool, error) {
		w := where
		if f.Union && w != nil {
			// Union filters are keyed by member type.
			if mw, ok := w[sub.m.Name]; ok {
				w, _ = mw.(map[string]any)
			} else if len(w) > 0 && r.s.cat.Models[firstKey(w)] != nil {
				return false, nil
			}
		}
		return sub.match(w)
	}
	switch op {
	case "_empty":
		want, _ := arg.(bool)
		return (len(subs) == 0) == want, nil
	case "", "_some":
		if arg == nil && op == "" {
			return len(subs) == 0, nil
		}
		for _, sub := range subs {
			if ok, err := matchSub(sub); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "_every":
		for _, sub := range subs {
			if ok, err := matchSub(sub); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "_none":
		for _, sub := range subs {
			if ok, err := matchSub(sub); err != nil || ok {
				return false, err
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("%s: unsupported relation filter %s%s", r.m.Name, f.Name, op)
}

func firstKey(m map[string]any) string {
	for k := range m {
		return k
	}
	return ""
}

// matchStages evaluates documentInStages_some/_every/_none: the entry's
// versions in the other stages against a <Model>WhereStageInput.
func (r record) matchStages(op string, arg any) (bool, error) {
	where, _ := arg.(map[string]any)
	if r.c != nil {
		return false, nil
	}
	var others []int
	for i, v := range r.vw.d.Versions {
		if v != nil && v != r.vw.v {
			others = append(others, i)
		}
	}
	n := 0
	for _, st := range others {
		if r.matchStage(st, where) {
			n++
		}
	}
	switch op {
	case "_some":
		return n > 0, nil
	case "_every":
		return n == len(others), nil
	}
	return n == 0, nil
}

// matchStage evaluates a <Model>WhereStageInput against the version in
// stage st: stage, compareWithParent {outdated_to}, AND/OR/NOT.
func (r record) matchStage(st int, where map[string]any) bool {
	for k, arg := range where {
		switch k {
		case "stage":
			if name, ok := arg.(string); ok && r.s.cat.Stages[st] != name {
				return false
			}
		case "compareWithParent":
			cmp, _ := arg.(map[string]any)
			if want, ok := cmp["outdated_to"].(bool); ok {
				// The version in st is outdated when the parent (the entry
				// being filtered) was updated after it.
				other := r.vw.d.Versions[st]
				outdated := other.UpdatedAt < r.vw.v.UpdatedAt
				if outdated != want {
					return false
				}
			}
		case "AND":
			for _, w := range store.AsList(arg) {
				if wm, ok := w.(map[string]any); ok && !r.matchStage(st, wm) {
					return false
				}
			}
		case "OR":
			list := store.AsList(arg)
			hit := len(list) == 0
			for _, w := range list {
				if wm, ok := w.(map[string]any); ok && r.matchStage(st, wm) {
					hit = true
				}
			}
			if !hit {
				return false
			}
		case "NOT":
			for _, w := range store.AsList(arg) {
				if wm, ok := w.(map[string]any); ok && r.matchStage(st, wm) {
					return false
				}
			}
		}
	}
	return true
}

// canonicalFilter normalizes a filter operand like stored values.
func canonicalFilter(f *store.Field, arg any) any {
	if f.Named != "DateTime" {
		return arg
	}
	if l, ok := arg.([]any); ok {
		out := make([]any, len(l))
		for i, x := range l {
			out[i] = canonicalTime(x)
		}
		return out
	}
	return canonicalTime(arg)
}

// canonical normalizes an input value of field f for storage and
// comparison: DateTime values become the emulator's fixed-width UTC form.
func canonical(f *store.Field, v any) any {
	if f.Named == "DateTime" {
		if l, ok := v.([]any); ok {
			out := make([]any, len(l))
			for i, x := range l {
				out[i] = canonicalTime(x)
			}
			return out
		}
		return canonicalTime(v)
	}
	return v
}

// canonicalTime reformats an RFC 3339 string; anything else is returned
// as it is.
func canonicalTime(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t2, err2 := time.Parse("2006-01-02T15:04:05.999999999Z0700", s); err2 == nil {
			t = t2
		} else {
			return v
		}
	}
	return store.FormatTime(t)
}

// jsonPathExists reports whether a simple JSON path ($.a.b[0]) exists in v.
func jsonPathExists(v any, path string) bool {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	if path == "" {
		return true
	}
	for _, part := range strings.Split(strings.ReplaceAll(path, "[", ".["), ".") {
		if part == "" {
			continue
		}
		if strings.HasPrefix(part, "[") {
			var i int
			if _, err := fmt.Sscanf(part, "[%d]", &i); err != nil {
				return false
			}
			l, ok := v.([]any)
			if !ok || i < 0 || i >= len(l) {
				return false
			}
			v = l[i]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// valueRecursive reports whether want occurs anywhere in v.
func valueRecursive(v, want any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if valueRecursive(e, want) {
				return true
			}
		}
		return false
	case []any:
		for _, e := range x {
			if valueRecursive(e, want) {
				return true
			}
		}
		return false
	}
	return valueEqual(v, want)
}
