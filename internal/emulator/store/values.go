package store

import "encoding/json"

// The values the store holds are Go values as JSON decodes them, numbers
// made plain (PlainNumbers): scalars and enums as string, int64, float64,
// bool, []any and map[string]any; relations as []Ref, components as
// []*Comp. These read them.

// AsRefs is v as a relation value: nil unless it is a []Ref.
func AsRefs(v any) []Ref {
	r, _ := v.([]Ref)
	return r
}

// AsList is v as a list: nil for nil, v itself for a []any, else a list
// of v alone.
func AsList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

// AsMap is v as an object: nil unless it is a map[string]any.
func AsMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// PlainNumbers turns json.Numbers into int64 (when integral) or float64.
func PlainNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any(nil)
		}
		for k, e := range x {
			x[k] = PlainNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = PlainNumbers(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}
