package schema

import (
	"bufio"
	"io"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// SDL returns s as SDL text; see PrintSDL.
func SDL(s *ast.Schema) string {
	var b strings.Builder
	_ = PrintSDL(&b, s) // a strings.Builder does not fail
	return b.String()
}

// PrintSDL writes s as SDL that schema.Load and genqlient read back: every
// type, field, argument, default value, enum value, union member, interface,
// input field, description and applied directive, and the directives the
// schema declares, without gqlparser's built-ins (built-in scalars,
// introspection types, built-in directives) and without the __schema and
// __type fields. Definitions keep their source order (ordered by source name
// when s was loaded from several files); the output is deterministic.
func PrintSDL(w io.Writer, s *ast.Schema) error {
	var types []*ast.Definition
	for _, d := range s.Types {
		if !isBuiltInDef(d) {
			types = append(types, d)
		}
	}
	sort.SliceStable(types, func(i, j int) bool {
		return sdlPosLess(types[i].Position, types[j].Position, types[i].Name, types[j].Name)
	})
	var dirs []*ast.DirectiveDefinition
	for _, d := range s.Directives {
		if !isBuiltInDirective(d) {
			dirs = append(dirs, d)
		}
	}
	sort.SliceStable(dirs, func(i, j int) bool {
		return sdlPosLess(dirs[i].Position, dirs[j].Position, dirs[i].Name, dirs[j].Name)
	})
	doc := sdlDocument{
		description: s.Description,
		directives:  dirs,
		types:       types,
		schemaDirs:  s.SchemaDirectives,
	}
	if s.Query != nil {
		doc.query = s.Query.Name
	}
	if s.Mutation != nil {
		doc.mutation = s.Mutation.Name
	}
	if s.Subscription != nil {
		doc.subscription = s.Subscription.Name
	}
	bw := bufio.NewWriter(w)
	doc.print(&sdlPrinter{w: bw})
	return bw.Flush()
}

// isBuiltInDef reports whether d comes from gqlparser's prelude.
func isBuiltInDef(d *ast.Definition) bool {
	return d.BuiltIn || (d.Position != nil && d.Position.Src != nil && d.Position.Src.BuiltIn) ||
		strings.HasPrefix(d.Name, "__")
}

func isBuiltInDirective(d *ast.DirectiveDefinition) bool {
	return d.Position != nil && d.Position.Src != nil && d.Position.Src.BuiltIn
}

// sdlPosLess orders definitions by source name, then offset, then name.
func sdlPosLess(a, b *ast.Position, an, bn string) bool {
	switch {
	case a != nil && b != nil && a.Src != nil && b.Src != nil:
		if a.Src.Name != b.Src.Name {
			return a.Src.Name < b.Src.Name
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
	case (a == nil) != (b == nil):
		return a != nil
	}
	return an < bn
}

// sdlDocument is what PrintSDL (and Introspect) print, in order.
type sdlDocument struct {
	description                   string
	query, mutation, subscription string
	schemaDirs                    ast.DirectiveList
	directives                    []*ast.DirectiveDefinition
	types                         []*ast.Definition
}

func (d *sdlDocument) print(p *sdlPrinter) {
	conventional := (d.query == "" || d.query == "Query") &&
		(d.mutation == "" || d.mutation == "Mutation") &&
		(d.subscription == "" || d.subscription == "Subscription")
	if !conventional || d.description != "" || len(d.schemaDirs) > 0 {
		p.description(d.description, "")
		p.str("schema")
		p.directives(d.schemaDirs)
		p.str(" {\n")
		for _, r := range [][2]string{{"query", d.query}, {"mutation", d.mutation}, {"subscription", d.subscription}} {
			if r[1] != "" {
				p.str("  " + r[0] + ": " + r[1] + "\n")
			}
		}
		p.str("}\n")
		p.sep = true
	}
	for _, dir := range d.directives {
		p.separate()
		p.description(dir.Description, "")
		p.str("directive @" + dir.Name)
		p.args(dir.Arguments, "")
		if dir.IsRepeatable {
			p.str(" repeatable")
		}
		p.str(" on ")
		for i, l := range dir.Locations {
			if i > 0 {
				p.str(" | ")
			}
			p.str(string(l))
		}
		p.str("\n")
	}
	for _, t := range d.types {
		p.separate()
		p.definition(t)
	}
}

// sdlPrinter writes SDL; errors surface from the bufio.Writer's Flush.
type sdlPrinter struct {
	w   *bufio.Writer
	sep bool // a definition was written; the next one needs a blank line
}

func (p *sdlPrinter) str(s string) { _, _ = p.w.WriteString(s) }

func (p *sdlPrinter) separate() {
	if p.sep {
		p.str("\n")
	}
	p.sep = true
}

func (p *sdlPrinter) definition(t *ast.Definition) {
	p.description(t.Description, "")
	switch t.Kind {
	case ast.Scalar:
		p.str("scalar " + t.Name)
		p.directives(t.Directives)
		p.str("\n")
	case ast.Object, ast.Interface:
		if t.Kind == ast.Object {
			p.str("type " + t.Name)
		} else {
			p.str("interface " + t.Name)
		}
		if len(t.Interfaces) > 0 {
			p.str(" implements " + strings.Join(t.Interfaces, " & "))
		}
		p.directives(t.Directives)
		p.fields(t.Fields, false)
	case ast.Union:
		p.str("union " + t.Name)
		p.directives(t.Directives)
		if len(t.Types) > 0 {
			p.str(" = " + strings.Join(t.Types, " | "))
		}
		p.str("\n")
	case ast.Enum:
		p.str("enum " + t.Name)
		p.directives(t.Directives)
		if len(t.EnumValues) == 0 {
			p.str("\n")
			return
		}
		p.str(" {\n")
		for i, v := range t.EnumValues {
			if i > 0 && v.Description != "" {
				p.str("\n")
			}
			p.description(v.Description, "  ")
			p.str("  " + v.Name)
			p.directives(v.Directives)
			p.str("\n")
		}
		p.str("}\n")
	case ast.InputObject:
		p.str("input " + t.Name)
		p.directives(t.Directives)
		p.fields(t.Fields, true)
	}
}

func (p *sdlPrinter) fields(fields ast.FieldList, input bool) {
	var list ast.FieldList
	for _, f := range fields {
		if !strings.HasPrefix(f.Name, "__") {
			list = append(list, f)
		}
	}
	if len(list) == 0 {
		p.str("\n")
		return
	}
	p.str(" {\n")
	for i, f := range list {
		if i > 0 && f.Description != "" {
			p.str("\n")
		}
		p.description(f.Description, "  ")
		p.str("  " + f.Name)
		if !input {
			p.args(f.Arguments, "  ")
		}
		p.str(": " + f.Type.String())
		if input && f.DefaultValue != nil {
			p.str(" = " + sdlValue(f.DefaultValue))
		}
		p.directives(f.Directives)
		p.str("\n")
	}
	p.str("}\n")
}

// args prints an argument list, one per line when any has a description.
func (p *sdlPrinter) args(args ast.ArgumentDefinitionList, indent string) {
	if len(args) == 0 {
		return
	}
	multiline := false
	for _, a := range args {
		if a.Description != "" {
			multiline = true
		}
	}
	p.str("(")
	for i, a := range args {
		if multiline {
			if i > 0 && a.Description != "" {
				p.str("\n")
			}
			p.str("\n")
			p.description(a.Description, indent+"  ")
			p.str(indent + "  ")
		} else if i > 0 {
			p.str(", ")
		}
		p.str(a.Name + ": " + a.Type.String())
		if a.DefaultValue != nil {
			p.str(" = " + sdlValue(a.DefaultValue))
		}
		p.directives(a.Directives)
	}
	if multiline {
		p.str("\n" + indent)
	}
	p.str(")")
}

func (p *sdlPrinter) directives(list ast.DirectiveList) {
	for _, d := range list {
		p.str(" @" + d.Name)
		if len(d.Arguments) == 0 {
			continue
		}
		p.str("(")
		for i, a := range d.Arguments {
			if i > 0 {
				p.str(", ")
			}
			p.str(a.Name + ": " + sdlValue(a.Value))
		}
		p.str(")")
	}
}

// description prints desc as a block string when that keeps its value
// exactly, else as a quoted string.
func (p *sdlPrinter) description(desc, indent string) {
	if desc == "" {
		return
	}
	if blockSafe(desc) {
		p.str(indent + `"""` + "\n")
		for _, line := range strings.Split(strings.ReplaceAll(desc, `"""`, `\"""`), "\n") {
			if line != "" {
				p.str(indent + line)
			}
			p.str("\n")
		}
		p.str(indent + `"""` + "\n")
		return
	}
	p.str(indent + sdlQuote(desc) + "\n")
}

// blockSafe reports whether desc survives a block string printed with a
// uniform indentation: no line starts with whitespace (the common indent
// would be stripped), no leading or trailing blank line (those are dropped),
// no carriage returns or other control characters but tabs.
func blockSafe(desc string) bool {
	lines := strings.Split(desc, "\n")
	if strings.TrimSpace(lines[0]) == "" || strings.TrimSpace(lines[len(lines)-1]) == "" {
		return false
	}
	for _, l := range lines {
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			return false
		}
		for i := 0; i < len(l); i++ {
			if l[i] < 0x20 && l[i] != '\t' {
				return false
			}
		}
	}
	return true
}

// sdlQuote quotes s as a GraphQL string literal.
func sdlQuote(s string) string {
	v := ast.Value{Kind: ast.StringValue, Raw: s}
	return v.String()
}

// sdlValue prints a literal value: lists as [a, b], objects as {k: v},
// block strings as quoted strings.
func sdlValue(v *ast.Value) string {
	switch v.Kind {
	case ast.ListValue:
		parts := make([]string, len(v.Children))
		for i, c := range v.Children {
			parts[i] = sdlValue(c.Value)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ast.ObjectValue:
		parts := make([]string, len(v.Children))
		for i, c := range v.Children {
			parts[i] = c.Name + ": " + sdlValue(c.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case ast.BlockValue:
		return sdlQuote(v.Raw)
	}
	return v.String()
}
