package gqlexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// fieldGroup is the set of fields merged under one response key, as
// collected for one concrete object type.
type fieldGroup struct {
	key string
	// keyJSON is the JSON-encoded key followed by a colon.
	keyJSON string
	// field is the field handed to resolvers; when several fields merge,
	// it is a copy of the first whose selection set joins all of theirs.
	field *ast.Field
	// def is the field's definition on the concrete object type; nil for
	// __typename.
	def *ast.FieldDefinition
	// named is the definition of def's named type.
	named *ast.Definition
	// hasArgs is set when def declares arguments.
	hasArgs bool
	// typename is set for __typename.
	typename bool
}

// execution is the state of one Execute call.
type execution struct {
	e    *Executor
	ctx  context.Context
	doc  *document
	op   *ast.OperationDefinition
	vars map[string]any
	buf  bytes.Buffer
	errs gqlerror.List
	path []pathSeg
	// tooLarge is set once the response outgrew WithMaxResponseBytes.
	tooLarge bool
}

// pathSeg is one step of the response path: a response key or a list index.
type pathSeg struct {
	key   string
	index int // -1 for a key
}

func (x *execution) currentPath() ast.Path {
	p := make(ast.Path, len(x.path))
	for i, s := range x.path {
		if s.index >= 0 {
			p[i] = ast.PathIndex(s.index)
		} else {
			p[i] = ast.PathName(s.key)
		}
	}
	return p
}

// addError records err for the field at the current path.
func (x *execution) addError(err error, f *ast.Field) {
	var list gqlerror.List
	if errors.As(err, &list) && len(list) > 0 {
		for _, e := range list {
			x.errs = append(x.errs, fieldError(e, x.currentPath(), f))
		}
		return
	}
	x.errs = append(x.errs, fieldError(err, x.currentPath(), f))
}

// plan returns the fields collected for the selection of parent (nil at
// the root) on object type typ.
func (x *execution) plan(parent *fieldGroup, typ *ast.Definition) []*fieldGroup {
	key := planKey{parent: parent, op: x.op, typ: typ}
	if !x.doc.dynamic {
		if p, ok := x.doc.plans.Load(key); ok {
			return p.([]*fieldGroup)
		}
	}
	var set ast.SelectionSet
	if parent == nil {
		set = x.op.SelectionSet
	} else {
		set = parent.field.SelectionSet
	}
	groups := x.collect(typ, set)
	if !x.doc.dynamic {
		x.doc.plans.Store(key, groups)
	}
	return groups
}

// collect implements CollectFields of the spec for object type typ.
func (x *execution) collect(typ *ast.Definition, set ast.SelectionSet) []*fieldGroup {
	var groups []*fieldGroup
	index := map[string]int{}
	merged := map[string][]*ast.Field{}
	visited := map[string]bool{}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if !x.included(s.Directives) {
					continue
				}
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				if _, ok := index[key]; ok {
					merged[key] = append(merged[key], s)
					continue
				}
				index[key] = len(groups)
				merged[key] = []*ast.Field{s}
				var kb bytes.Buffer
				writeString(&kb, key)
				kb.WriteByte(':')
				g := &fieldGroup{key: key, keyJSON: kb.String(), field: s}
				g.typename = s.Name == "__typename"
				if !g.typename {
					g.def = typ.Fields.ForName(s.Name)
					if g.def == nil && typ == x.e.schema.Query {
						g.def = s.Definition // __schema, __type
					}
					if g.def != nil {
						g.hasArgs = len(g.def.Arguments) > 0
						g.named = x.e.schema.Types[g.def.Type.Name()]
					}
				}
				groups = append(groups, g)
			case *ast.InlineFragment:
				if !x.included(s.Directives) || !x.applies(s.TypeCondition, typ) {
					continue
				}
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if visited[s.Name] || !x.included(s.Directives) {
					continue
				}
				visited[s.Name] = true
				frag := x.doc.doc.Fragments.ForName(s.Name)
				if frag == nil || !x.applies(frag.TypeCondition, typ) {
					continue
				}
				walk(frag.SelectionSet)
			}
		}
	}
	walk(set)
	for _, g := range groups {
		fields := merged[g.key]
		if len(fields) < 2 {
			continue
		}
		f := *fields[0]
		f.SelectionSet = nil
		for _, o := range fields {
			f.SelectionSet = append(f.SelectionSet, o.SelectionSet...)
		}
		g.field = &f
	}
	return groups
}

// included evaluates @skip and @include.
func (x *execution) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil || arg.Value == nil {
			continue
		}
		v, err := arg.Value.Value(x.vars)
		if err != nil {
			continue
		}
		b, _ := v.(bool)
		if d.Name == "skip" && b {
			return false
		}
		if d.Name == "include" && !b {
			return false
		}
	}
	return true
}

// applies reports whether a fragment with type condition cond applies to
// object type typ.
func (x *execution) applies(cond string, typ *ast.Definition) bool {
	if cond == "" || cond == typ.Name {
		return true
	}
	condDef := x.e.schema.Types[cond]
	if condDef == nil {
		return false
	}
	switch condDef.Kind {
	case ast.Interface, ast.Union:
		for _, p := range x.e.schema.PossibleTypes[cond] {
			if p.Name == typ.Name {
				return true
			}
		}
	}
	return false
}

// executeRoot runs the operation's root fields and writes the data object.
// It returns false when null propagated to data.
func (x *execution) executeRoot(rootType *ast.Definition) bool {
	groups := x.plan(nil, rootType)
	ok := true
	x.buf.WriteByte('{')
	for i, g := range groups {
		if i > 0 {
			x.buf.WriteByte(',')
		}
		x.buf.WriteString(g.keyJSON)
		x.path = append(x.path[:0], pathSeg{key: g.key, index: -1})
		if g.typename {
			x.buf.WriteString(`"`)
			x.buf.WriteString(rootType.Name)
			x.buf.WriteString(`"`)
			continue
		}
		if g.def == nil {
			x.addError(fmt.Errorf("no field %s on type %s", g.field.Name, rootType.Name), g.field)
			x.buf.WriteString("null")
			continue
		}
		var v any
		args, err := x.args(g)
		if err == nil {
			err = x.ctx.Err()
		}
		if err == nil {
			v, err = x.resolveRoot(g, args)
		}
		if !x.completeValue(g.def.Type, g, v, err) {
			// A non-null root field failed: data becomes null, but later
			// root fields still run (mutations have side effects).
			ok = false
			x.buf.WriteString("null")
		}
	}
	x.buf.WriteByte('}')
	x.path = x.path[:0]
	return ok
}

func (x *execution) resolveRoot(g *fieldGroup, args map[string]any) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("internal error: panic resolving %s: %v", g.field.Name, r)
		}
	}()
	switch g.field.Name {
	case "__schema":
		if x.op.Operation == ast.Query {
			return x.e.intro.schemaObject(), nil
		}
	case "__type":
		if x.op.Operation == ast.Query {
			name, _ := args["name"].(string)
			return x.e.intro.typeByName(name), nil
		}
	}
	if x.e.root == nil {
		return nil, errors.New("no resolver")
	}
	return x.e.root.ResolveRoot(x.ctx, x.op.Operation, g.field, args)
}

func resolveField(ctx context.Context, o Object, g *fieldGroup, args map[string]any) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("internal error: panic resolving %s: %v", g.field.Name, r)
		}
	}()
	return o.ResolveField(ctx, g.field, args)
}

// args coerces the arguments of g's field; nil when it declares none.
func (x *execution) args(g *fieldGroup) (map[string]any, error) {
	if !g.hasArgs {
		return nil, nil
	}
	return x.e.coerceArgs(g.def.Arguments, g.field.Arguments, x.vars)
}

// executeFields completes the selection of parent on object value v of type
// typ. It returns false when a non-null field failed, so the object is null.
func (x *execution) executeFields(typ *ast.Definition, parent *fieldGroup, v any) bool {
	if x.over() {
		return false
	}
	groups := x.plan(parent, typ)
	obj, _ := v.(Object)
	m, _ := v.(map[string]any)
	x.buf.WriteByte('{')
	for i, g := range groups {
		if i > 0 {
			x.buf.WriteByte(',')
		}
		x.buf.WriteString(g.keyJSON)
		if g.typename {
			writeString(&x.buf, typ.Name)
			continue
		}
		if g.def == nil {
			x.path = append(x.path, pathSeg{key: g.key, index: -1})
			x.addError(fmt.Errorf("no field %s on type %s", g.field.Name, typ.Name), g.field)
			x.path = x.path[:len(x.path)-1]
			x.buf.WriteString("null")
			continue
		}
		x.path = append(x.path, pathSeg{key: g.key, index: -1})
		var fv any
		var err error
		if obj != nil {
			var args map[string]any
			args, err = x.args(g)
			if err == nil {
				fv, err = resolveField(x.ctx, obj, g, args)
			}
		} else {
			fv = m[g.field.Name]
		}
		ok := x.completeValue(g.def.Type, g, fv, err)
		x.path = x.path[:len(x.path)-1]
		if !ok {
			return false
		}
	}
	x.buf.WriteByte('}')
	return true
}

// completeValue writes v completed as typ. It returns false when v is null
// (or failed) in a non-null position, so the parent must become null; the
// caller then discards what was written.
func (x *execution) completeValue(typ *ast.Type, g *fieldGroup, v any, err error) bool {
	if err != nil {
		x.addError(err, g.field)
		if typ.NonNull {
			return false
		}
		x.buf.WriteString("null")
		return true
	}
	if isNull(v) {
		if typ.NonNull {
			x.addError(fmt.Errorf("Cannot return null for non-nullable field %s.%s.", parentName(g), g.field.Name), g.field)
			return false
		}
		x.buf.WriteString("null")
		return true
	}
	start := x.buf.Len()
	var ok bool
	if typ.Elem != nil {
		ok = x.completeList(typ.Elem, g, v)
	} else {
		ok = x.completeNamed(typ.NamedType, g, v)
	}
	if ok {
		return true
	}
	x.buf.Truncate(start)
	if typ.NonNull {
		return false
	}
	x.buf.WriteString("null")
	return true
}

func parentName(g *fieldGroup) string {
	if g.field.ObjectDefinition != nil {
		return g.field.ObjectDefinition.Name
	}
	return "?"
}

// isNull reports whether v is nil or a nil pointer, map, slice or Object.
func isNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string, bool, int, int64, float64:
		return false
	case map[string]any:
		return v == nil
	case []any:
		return v == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// completeList writes the list v; false means it must become null.
func (x *execution) completeList(elem *ast.Type, g *fieldGroup, v any) bool {
	x.buf.WriteByte('[')
	item := func(i int, iv any) bool {
		if x.over() {
			return false
		}
		if i > 0 {
			x.buf.WriteByte(',')
		}
		x.path = append(x.path, pathSeg{index: i})
		ok := x.completeValue(elem, g, iv, nil)
		x.path = x.path[:len(x.path)-1]
		return ok
	}
	switch l := v.(type) {
	case []any:
		for i, iv := range l {
			if !item(i, iv) {
				return false
			}
		}
	case []map[string]any:
		for i, iv := range l {
			if !item(i, iv) {
				return false
			}
		}
	case []Object:
		for i, iv := range l {
			if !item(i, iv) {
				return false
			}
		}
	case []string:
		for i, iv := range l {
			if !item(i, iv) {
				return false
			}
		}
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			x.addError(fmt.Errorf("cannot complete %T as a list for field %s", v, g.field.Name), g.field)
			return false
		}
		for i := 0; i < rv.Len(); i++ {
			if !item(i, rv.Index(i).Interface()) {
				return false
			}
		}
	}
	x.buf.WriteByte(']')
	return true
}

// completeNamed writes v as a value of the named type; false means it must
// become null (the error is recorded).
func (x *execution) completeNamed(name string, g *fieldGroup, v any) bool {
	def := g.named
	if def == nil || def.Name != name {
		def = x.e.schema.Types[name]
	}
	if def == nil {
		x.addError(fmt.Errorf("unknown type %s", name), g.field)
		return false
	}
	switch def.Kind {
	case ast.Scalar:
		if err := writeScalar(&x.buf, name, v); err != nil {
			x.addError(fmt.Errorf("%s: %w", g.field.Name, err), g.field)
			return false
		}
		return true
	case ast.Enum:
		s, ok := enumString(v)
		if !ok || def.EnumValues.ForName(s) == nil {
			x.addError(fmt.Errorf("%s: %v is not a value of enum %s", g.field.Name, v, name), g.field)
			return false
		}
		writeString(&x.buf, s)
		return true
	case ast.Object, ast.Interface, ast.Union:
		obj, isObj := v.(Object)
		m, isMap := v.(map[string]any)
		if !isObj && !isMap {
			x.addError(fmt.Errorf("cannot complete %T as %s for field %s", v, name, g.field.Name), g.field)
			return false
		}
		typ := def
		if def.Kind != ast.Object {
			var tn string
			if isObj {
				tn = obj.TypeName()
			} else {
				tn, _ = m["__typename"].(string)
			}
			typ = x.e.schema.Types[tn]
			if typ == nil || typ.Kind != ast.Object || !x.possible(def, typ) {
				x.addError(fmt.Errorf("cannot resolve the concrete type of %s: %q is not a possible type", name, tn), g.field)
				return false
			}
		}
		return x.executeFields(typ, g, v)
	}
	x.addError(fmt.Errorf("cannot complete %s of kind %s", name, def.Kind), g.field)
	return false
}

func (x *execution) possible(abstract, obj *ast.Definition) bool {
	for _, p := range x.e.schema.PossibleTypes[abstract.Name] {
		if p == obj || p.Name == obj.Name {
			return true
		}
	}
	return false
}

func enumString(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String {
		return rv.String(), true
	}
	if st, ok := v.(fmt.Stringer); ok {
		return st.String(), true
	}
	return "", false
}
