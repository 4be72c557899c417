package schema

import (
	"strings"
)

// gqlArg is one argument of a printed field.
type gqlArg struct{ name, typ, def string }

// gqlField is one field of a printed object or input type.
type gqlField struct {
	name, typ  string
	desc       string
	deprecated string
	args       []gqlArg
}

// printField writes one field, its arguments inline when short.
func printField(b *strings.Builder, f gqlField) {
	if f.desc != "" {
		b.WriteString("  \"\"\"\n  " + f.desc + "\n  \"\"\"\n")
	}
	b.WriteString("  " + f.name)
	if len(f.args) > 0 {
		parts := make([]string, len(f.args))
		for i, a := range f.args {
			parts[i] = a.name + ": " + a.typ
			if a.def != "" {
				parts[i] += " = " + a.def
			}
		}
		inline := "(" + strings.Join(parts, ", ") + "): " + f.typ
		if len(f.name)+len(inline)+2 <= 80 {
			b.WriteString(inline)
		} else {
			b.WriteString("(\n")
			for _, p := range parts {
				b.WriteString("    " + p + "\n")
			}
			b.WriteString("  ): " + f.typ)
		}
	} else {
		b.WriteString(": " + f.typ)
	}
	if f.deprecated != "" {
		b.WriteString(" @deprecated(reason: \"" + f.deprecated + "\")")
	}
	b.WriteString("\n")
}

func printDesc(b *strings.Builder, desc string) {
	if desc != "" {
		b.WriteString("\"\"\"\n" + desc + "\n\"\"\"\n")
	}
}

// object emits an object type; implements may be empty.
func (s *synthesizer) object(name, implements, desc string, fields []gqlField) {
	var b strings.Builder
	printDesc(&b, desc)
	b.WriteString("type " + name)
	if implements != "" {
		b.WriteString(" implements " + implements)
	}
	b.WriteString(" {\n")
	for _, f := range fields {
		printField(&b, f)
	}
	b.WriteString("}\n")
	s.add(name, b.String())
}

// input emits an input type; an input with no fields gets Hygraph's
// placeholder field `_: String`.
func (s *synthesizer) input(name, desc string, fields []gqlField) {
	if len(fields) == 0 {
		fields = []gqlField{{name: "_", typ: "String", desc: "No fields in updateMany data input"}}
	}
	var b strings.Builder
	printDesc(&b, desc)
	b.WriteString("input " + name + " {\n")
	for _, f := range fields {
		printField(&b, f)
	}
	b.WriteString("}\n")
	s.add(name, b.String())
}

func (s *synthesizer) enum(name string, values []string) {
	var b strings.Builder
	b.WriteString("enum " + name + " {\n")
	for _, v := range values {
		b.WriteString("  " + v + "\n")
	}
	b.WriteString("}\n")
	s.add(name, b.String())
}

func (s *synthesizer) union(name string, members []string) {
	s.add(name, "union "+name+" = "+strings.Join(members, " | ")+"\n")
}

// synF is shorthand for a field without arguments.
func synF(name, typ string) gqlField { return gqlField{name: name, typ: typ} }

// synFD is shorthand for a field with a description.
func synFD(name, typ, desc string) gqlField { return gqlField{name: name, typ: typ, desc: desc} }
