package gqlexec

import (
	"context"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// introspection answers __schema and __type from an *ast.Schema.
type introspection struct {
	schema     *ast.Schema
	types      []*ast.Definition // in definition order
	directives []*ast.DirectiveDefinition
}

func newIntrospection(s *ast.Schema) *introspection {
	in := &introspection{schema: s}
	for _, d := range s.Types {
		in.types = append(in.types, d)
	}
	sort.SliceStable(in.types, func(i, j int) bool {
		return positionLess(in.types[i].Position, in.types[j].Position, in.types[i].Name, in.types[j].Name)
	})
	for _, d := range s.Directives {
		in.directives = append(in.directives, d)
	}
	sort.SliceStable(in.directives, func(i, j int) bool {
		return positionLess(in.directives[i].Position, in.directives[j].Position, in.directives[i].Name, in.directives[j].Name)
	})
	return in
}

// positionLess orders definitions: built-ins first, then by source name and
// offset, then by name.
func positionLess(a, b *ast.Position, an, bn string) bool {
	ab, bb := isBuiltInPos(a), isBuiltInPos(b)
	if ab != bb {
		return ab
	}
	if a != nil && b != nil && a.Src != nil && b.Src != nil {
		if a.Src.Name != b.Src.Name {
			return a.Src.Name < b.Src.Name
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
	} else if (a == nil) != (b == nil) {
		return a != nil
	}
	return an < bn
}

func isBuiltInPos(p *ast.Position) bool { return p != nil && p.Src != nil && p.Src.BuiltIn }

func (in *introspection) schemaObject() Object { return schemaIntro{in} }

func (in *introspection) typeByName(name string) any {
	d := in.schema.Types[name]
	if d == nil {
		return nil
	}
	return typeIntro{in: in, def: d}
}

type schemaIntro struct{ in *introspection }

func (schemaIntro) TypeName() string { return "__Schema" }

func (s schemaIntro) ResolveField(_ context.Context, f *ast.Field, _ map[string]any) (any, error) {
	in := s.in
	switch f.Name {
	case "description":
		return nullString(in.schema.Description), nil
	case "types":
		out := make([]any, len(in.types))
		for i, d := range in.types {
			out[i] = typeIntro{in: in, def: d}
		}
		return out, nil
	case "queryType":
		return in.named(in.schema.Query), nil
	case "mutationType":
		return in.named(in.schema.Mutation), nil
	case "subscriptionType":
		return in.named(in.schema.Subscription), nil
	case "directives":
		out := make([]any, len(in.directives))
		for i, d := range in.directives {
			out[i] = directiveIntro{in: in, def: d}
		}
		return out, nil
	}
	return nil, nil
}

func (in *introspection) named(d *ast.Definition) any {
	if d == nil {
		return nil
	}
	return typeIntro{in: in, def: d}
}

// typeIntro is a __Type: a named definition, or a list/non-null wrapper.
type typeIntro struct {
	in  *introspection
	def *ast.Definition // named type
	typ *ast.Type       // wrapper, when def is nil
}

// ref returns the __Type of a type reference.
func (in *introspection) ref(t *ast.Type) any {
	if t.NonNull || t.Elem != nil {
		return typeIntro{in: in, typ: t}
	}
	d := in.schema.Types[t.NamedType]
	if d == nil {
		return nil
	}
	return typeIntro{in: in, def: d}
}

func (typeIntro) TypeName() string { return "__Type" }

func (t typeIntro) ResolveField(_ context.Context, f *ast.Field, args map[string]any) (any, error) {
	if t.def == nil {
		switch f.Name {
		case "kind":
			if t.typ.NonNull {
				return "NON_NULL", nil
			}
			return "LIST", nil
		case "ofType":
			if t.typ.NonNull {
				inner := *t.typ
				inner.NonNull = false
				return t.in.ref(&inner), nil
			}
			return t.in.ref(t.typ.Elem), nil
		}
		return nil, nil
	}
	d := t.def
	includeDeprecated, _ := args["includeDeprecated"].(bool)
	switch f.Name {
	case "kind":
		return string(d.Kind), nil
	case "name":
		return d.Name, nil
	case "description":
		return nullString(d.Description), nil
	case "specifiedByURL":
		if dir := d.Directives.ForName("specifiedBy"); dir != nil {
			if a := dir.Arguments.ForName("url"); a != nil && a.Value != nil {
				return a.Value.Raw, nil
			}
		}
		return nil, nil
	case "isOneOf":
		if d.Kind != ast.InputObject {
			return nil, nil
		}
		return d.Directives.ForName("oneOf") != nil, nil
	case "fields":
		if d.Kind != ast.Object && d.Kind != ast.Interface {
			return nil, nil
		}
		out := []any{}
		for _, fd := range d.Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue
			}
			if !includeDeprecated && fd.Directives.ForName("deprecated") != nil {
				continue
			}
			out = append(out, fieldIntro{in: t.in, def: fd})
		}
		return out, nil
	case "interfaces":
		if d.Kind != ast.Object && d.Kind != ast.Interface {
			return nil, nil
		}
		out := []any{}
		for _, name := range d.Interfaces {
			if i := t.in.schema.Types[name]; i != nil {
				out = append(out, typeIntro{in: t.in, def: i})
			}
		}
		return out, nil
	case "possibleTypes":
		if d.Kind != ast.Interface && d.Kind != ast.Union {
			return nil, nil
		}
		var defs []*ast.Definition
		if d.Kind == ast.Union {
			for _, name := range d.Types {
				if m := t.in.schema.Types[name]; m != nil {
					defs = append(defs, m)
				}
			}
		} else {
			defs = append(defs, t.in.schema.PossibleTypes[d.Name]...)
			sort.SliceStable(defs, func(i, j int) bool {
				return positionLess(defs[i].Position, defs[j].Position, defs[i].Name, defs[j].Name)
			})
		}
		out := make([]any, len(defs))
		for i, m := range defs {
			out[i] = typeIntro{in: t.in, def: m}
		}
		return out, nil
	case "enumValues":
		if d.Kind != ast.Enum {
			return nil, nil
		}
		out := []any{}
		for _, ev := range d.EnumValues {
			if !includeDeprecated && ev.Directives.ForName("deprecated") != nil {
				continue
			}
			out = append(out, enumValueIntro{ev})
		}
		return out, nil
	case "inputFields":
		if d.Kind != ast.InputObject {
			return nil, nil
		}
		out := []any{}
		for _, fd := range d.Fields {
			if !includeDeprecated && fd.Directives.ForName("deprecated") != nil {
				continue
			}
			out = append(out, inputValueIntro{in: t.in, name: fd.Name, desc: fd.Description, typ: fd.Type, def: fd.DefaultValue, dirs: fd.Directives})
		}
		return out, nil
	case "ofType":
		return nil, nil
	}
	return nil, nil
}

type fieldIntro struct {
	in  *introspection
	def *ast.FieldDefinition
}

func (fieldIntro) TypeName() string { return "__Field" }

func (fi fieldIntro) ResolveField(_ context.Context, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "name":
		return fi.def.Name, nil
	case "description":
		return nullString(fi.def.Description), nil
	case "args":
		includeDeprecated, _ := args["includeDeprecated"].(bool)
		return fi.in.args(fi.def.Arguments, includeDeprecated), nil
	case "type":
		return fi.in.ref(fi.def.Type), nil
	case "isDeprecated":
		return fi.def.Directives.ForName("deprecated") != nil, nil
	case "deprecationReason":
		return deprecationReason(fi.def.Directives), nil
	}
	return nil, nil
}

func (in *introspection) args(list ast.ArgumentDefinitionList, includeDeprecated bool) []any {
	out := []any{}
	for _, a := range list {
		if !includeDeprecated && a.Directives.ForName("deprecated") != nil {
			continue
		}
		out = append(out, inputValueIntro{in: in, name: a.Name, desc: a.Description, typ: a.Type, def: a.DefaultValue, dirs: a.Directives})
	}
	return out
}

type inputValueIntro struct {
	in   *introspection
	name string
	desc string
	typ  *ast.Type
	def  *ast.Value
	dirs ast.DirectiveList
}

func (inputValueIntro) TypeName() string { return "__InputValue" }

func (iv inputValueIntro) ResolveField(_ context.Context, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "name":
		return iv.name, nil
	case "description":
		return nullString(iv.desc), nil
	case "type":
		return iv.in.ref(iv.typ), nil
	case "defaultValue":
		if iv.def == nil {
			return nil, nil
		}
		return ValueLiteral(iv.def), nil
	case "isDeprecated":
		return iv.dirs.ForName("deprecated") != nil, nil
	case "deprecationReason":
		return deprecationReason(iv.dirs), nil
	}
	return nil, nil
}

type enumValueIntro struct{ def *ast.EnumValueDefinition }

func (enumValueIntro) TypeName() string { return "__EnumValue" }

func (ev enumValueIntro) ResolveField(_ context.Context, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "name":
		return ev.def.Name, nil
	case "description":
		return nullString(ev.def.Description), nil
	case "isDeprecated":
		return ev.def.Directives.ForName("deprecated") != nil, nil
	case "deprecationReason":
		return deprecationReason(ev.def.Directives), nil
	}
	return nil, nil
}

type directiveIntro struct {
	in  *introspection
	def *ast.DirectiveDefinition
}

func (directiveIntro) TypeName() string { return "__Directive" }

func (di directiveIntro) ResolveField(_ context.Context, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "name":
		return di.def.Name, nil
	case "description":
		return nullString(di.def.Description), nil
	case "isRepeatable":
		return di.def.IsRepeatable, nil
	case "locations":
		out := make([]any, len(di.def.Locations))
		for i, l := range di.def.Locations {
			out[i] = string(l)
		}
		return out, nil
	case "args":
		includeDeprecated, _ := args["includeDeprecated"].(bool)
		return di.in.args(di.def.Arguments, includeDeprecated), nil
	}
	return nil, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// deprecationReason returns the reason of a @deprecated directive, its
// default when none is given, or nil when not deprecated.
func deprecationReason(dirs ast.DirectiveList) any {
	d := dirs.ForName("deprecated")
	if d == nil {
		return nil
	}
	if a := d.Arguments.ForName("reason"); a != nil && a.Value != nil && a.Value.Kind != ast.NullValue {
		return a.Value.Raw
	}
	return "No longer supported"
}

// ValueLiteral prints v as a GraphQL literal, the form introspection uses
// for defaultValue: strings quoted, lists as [a, b], objects as {k: v}.
func ValueLiteral(v *ast.Value) string {
	var b strings.Builder
	writeLiteral(&b, v)
	return b.String()
}

func writeLiteral(b *strings.Builder, v *ast.Value) {
	switch v.Kind {
	case ast.ListValue:
		b.WriteByte('[')
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLiteral(b, c.Value)
		}
		b.WriteByte(']')
	case ast.ObjectValue:
		b.WriteByte('{')
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
			b.WriteString(": ")
			writeLiteral(b, c.Value)
		}
		b.WriteByte('}')
	case ast.BlockValue:
		// A block string's value is printed as an ordinary string literal.
		sv := *v
		sv.Kind = ast.StringValue
		b.WriteString(sv.String())
	default:
		b.WriteString(v.String())
	}
}
