package gqlexec

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// coerceArgs computes argument values per CoerceArgumentValues of the spec:
// literals and variables, defaults applied, input objects completed with
// their field defaults.
func (e *Executor) coerceArgs(defs ast.ArgumentDefinitionList, args ast.ArgumentList, vars map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(defs))
	for _, def := range defs {
		arg := args.ForName(def.Name)
		var val any
		has := false
		if arg != nil && arg.Value != nil {
			var err error
			val, has, err = e.coerceLiteral(def.Type, arg.Value, vars)
			if err != nil {
				return nil, fmt.Errorf("argument %s: %w", def.Name, err)
			}
		}
		if !has && def.DefaultValue != nil {
			var err error
			val, has, err = e.coerceLiteral(def.Type, def.DefaultValue, nil)
			if err != nil {
				return nil, fmt.Errorf("argument %s: default: %w", def.Name, err)
			}
		}
		if !has {
			if def.Type.NonNull {
				return nil, fmt.Errorf("argument %s of type %s is required", def.Name, def.Type)
			}
			continue
		}
		if val == nil && def.Type.NonNull {
			return nil, fmt.Errorf("argument %s of type %s cannot be null", def.Name, def.Type)
		}
		out[def.Name] = val
	}
	return out, nil
}

// coerceLiteral converts the literal v to a Go value of type typ. has is
// false when v is a variable that was not provided.
func (e *Executor) coerceLiteral(typ *ast.Type, v *ast.Value, vars map[string]any) (val any, has bool, err error) {
	if v.Kind == ast.Variable {
		val, has = vars[v.Raw]
		return val, has, nil
	}
	if v.Kind == ast.NullValue {
		return nil, true, nil
	}
	if typ.Elem != nil {
		if v.Kind != ast.ListValue {
			item, has, err := e.coerceLiteral(typ.Elem, v, vars)
			if err != nil || !has {
				return nil, has, err
			}
			return []any{item}, true, nil
		}
		list := make([]any, 0, len(v.Children))
		for _, c := range v.Children {
			item, _, err := e.coerceLiteral(typ.Elem, c.Value, vars)
			if err != nil {
				return nil, false, err
			}
			list = append(list, item)
		}
		return list, true, nil
	}
	def := e.schema.Types[typ.NamedType]
	if def == nil {
		return nil, false, fmt.Errorf("unknown type %s", typ.NamedType)
	}
	switch def.Kind {
	case ast.InputObject:
		if v.Kind != ast.ObjectValue {
			return nil, false, fmt.Errorf("expected an object of type %s", def.Name)
		}
		obj := make(map[string]any, len(def.Fields))
		for _, f := range def.Fields {
			var fv any
			fhas := false
			if c := v.Children.ForName(f.Name); c != nil {
				fv, fhas, err = e.coerceLiteral(f.Type, c, vars)
				if err != nil {
					return nil, false, fmt.Errorf("%s.%s: %w", def.Name, f.Name, err)
				}
			}
			if !fhas && f.DefaultValue != nil {
				fv, fhas, err = e.coerceLiteral(f.Type, f.DefaultValue, nil)
				if err != nil {
					return nil, false, fmt.Errorf("%s.%s: default: %w", def.Name, f.Name, err)
				}
			}
			if !fhas {
				continue
			}
			obj[f.Name] = fv
		}
		return obj, true, nil
	case ast.Enum:
		return v.Raw, true, nil
	case ast.Scalar:
		switch def.Name {
		case "Int":
			n, err := strconv.ParseInt(v.Raw, 10, 64)
			return n, err == nil, err
		case "Float":
			f, err := strconv.ParseFloat(v.Raw, 64)
			return f, err == nil, err
		case "String", "ID":
			return v.Raw, true, nil
		case "Boolean":
			b, err := strconv.ParseBool(v.Raw)
			return b, err == nil, err
		}
		// Custom scalar: the literal's natural Go value.
		val, err := v.Value(vars)
		return val, err == nil, err
	}
	return nil, false, fmt.Errorf("type %s is not an input type", def.Name)
}

// inputError is a variable coercion error; path is collected in reverse
// while unwinding, so the happy path builds no paths.
type inputError struct {
	rpath ast.Path
	msg   string
}

func (e *inputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) *inputError {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

func (e *inputError) at(p ast.PathElement) *inputError {
	e.rpath = append(e.rpath, p)
	return e
}

// gqlError returns the error with its path rooted at variable.
func (e *inputError) gqlError(variable string) *gqlerror.Error {
	path := ast.Path{ast.PathName("variable"), ast.PathName(variable)}
	for i := len(e.rpath) - 1; i >= 0; i-- {
		path = append(path, e.rpath[i])
	}
	return gqlerror.ErrorPathf(path, "%s", e.msg)
}

// normalizeInput coerces a variable value, as decoded from JSON or given
// by a Go caller, to type typ: Int to int64, Float to float64, ID to
// string, enums checked, input object field defaults applied, unknown and
// missing required fields rejected.
func (e *Executor) normalizeInput(typ *ast.Type, v any) (any, *inputError) {
	if v == nil {
		if typ.NonNull {
			return nil, inputErrorf("cannot be null")
		}
		return nil, nil
	}
	if typ.Elem != nil {
		switch l := v.(type) {
		case []any:
			out := make([]any, len(l))
			for i, item := range l {
				nv, err := e.normalizeInput(typ.Elem, item)
				if err != nil {
					return nil, err.at(ast.PathIndex(i))
				}
				out[i] = nv
			}
			return out, nil
		case string, map[string]any, bool, float64, int64, int:
		default:
			rv := reflect.ValueOf(v)
			if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
				out := make([]any, rv.Len())
				for i := range out {
					nv, err := e.normalizeInput(typ.Elem, rv.Index(i).Interface())
					if err != nil {
						return nil, err.at(ast.PathIndex(i))
					}
					out[i] = nv
				}
				return out, nil
			}
		}
		// A single value where a list is expected is a list of one.
		item, err := e.normalizeInput(typ.Elem, v)
		if err != nil {
			return nil, err.at(ast.PathIndex(0))
		}
		return []any{item}, nil
	}
	def := e.schema.Types[typ.NamedType]
	if def == nil {
		return nil, inputErrorf("unknown type %s", typ.NamedType)
	}
	switch def.Kind {
	case ast.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
				return nil, inputErrorf("must be a %s, not a %T", def.Name, v)
			}
			m = make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
		}
		out := make(map[string]any, len(m))
		seen := 0
		for _, f := range def.Fields {
			fv, ok := m[f.Name]
			if !ok {
				if f.DefaultValue != nil {
					dv, _, err := e.coerceLiteral(f.Type, f.DefaultValue, nil)
					if err != nil {
						return nil, inputErrorf("default: %v", err).at(ast.PathName(f.Name))
					}
					out[f.Name] = dv
				} else if f.Type.NonNull {
					return nil, inputErrorf("must be defined").at(ast.PathName(f.Name))
				}
				continue
			}
			seen++
			nv, err := e.normalizeInput(f.Type, fv)
			if err != nil {
				return nil, err.at(ast.PathName(f.Name))
			}
			out[f.Name] = nv
		}
		if seen < len(m) {
			for k := range m {
				if k != "__typename" && def.Fields.ForName(k) == nil {
					return nil, inputErrorf("unknown field").at(ast.PathName(k))
				}
			}
		}
		return out, nil
	case ast.Enum:
		s, ok := v.(string)
		if !ok || def.EnumValues.ForName(s) == nil {
			return nil, inputErrorf("%v is not a valid %s", v, def.Name)
		}
		return s, nil
	case ast.Scalar:
		switch def.Name {
		case "Int":
			n, ok := toInt64(v)
			if !ok || n > math.MaxInt32 || n < math.MinInt32 {
				return nil, inputErrorf("cannot use %v as Int", v)
			}
			return n, nil
		case "Float":
			f, ok := toFloat64(v)
			if !ok {
				return nil, inputErrorf("cannot use %v as Float", v)
			}
			return f, nil
		case "String":
			s, ok := v.(string)
			if !ok {
				return nil, inputErrorf("cannot use %T as String", v)
			}
			return s, nil
		case "Boolean":
			b, ok := v.(bool)
			if !ok {
				return nil, inputErrorf("cannot use %T as Boolean", v)
			}
			return b, nil
		case "ID":
			if s, ok := v.(string); ok {
				return s, nil
			}
			if n, ok := toInt64(v); ok {
				return strconv.FormatInt(n, 10), nil
			}
			return nil, inputErrorf("cannot use %v as ID", v)
		}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i, nil
			}
			f, err := n.Float64()
			if err != nil {
				return nil, inputErrorf("bad number %s", n)
			}
			return f, nil
		}
		return v, nil
	}
	return nil, inputErrorf("%s is not an input type", def.Name)
}

// toInt64 converts integral numbers (including integral floats and
// json.Number) to int64.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && !math.IsInf(n, 0) && math.Abs(n) < 1<<63 {
			return int64(n), true
		}
		return 0, false
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	case reflect.Float32:
		return toInt64(rv.Float())
	}
	return 0, false
}

// toFloat64 converts numbers (including json.Number) to float64.
func toFloat64(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}
