package schema

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// Load reads one or more SDL files and returns the schema they define
// together. Hygraph exports load as they are: custom directives that are used
// but not declared are declared on the fly. A malformed file fails with an
// error of the form "file:line:col: message".
func Load(paths ...string) (*ast.Schema, error) {
	if len(paths) == 0 {
		return nil, errors.New("schema: no SDL files given")
	}
	sources := make([]*ast.Source, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		sources = append(sources, &ast.Source{Name: p, Input: string(b)})
	}
	return LoadSources(sources...)
}

// LoadString parses a single SDL document held in memory; name is used in
// error messages in place of a file name.
func LoadString(name, sdl string) (*ast.Schema, error) {
	return LoadSources(&ast.Source{Name: name, Input: sdl})
}

// LoadSources is Load for SDL already in memory.
func LoadSources(sources ...*ast.Source) (*ast.Schema, error) {
	doc, err := parser.ParseSchemas(append([]*ast.Source{validator.Prelude}, sources...)...)
	if err != nil {
		return nil, positionError(err)
	}
	declareMissingDirectives(doc)
	s, err := validator.ValidateSchemaDocument(doc)
	if err != nil {
		return nil, positionError(err)
	}
	return s, nil
}

// positionError formats gqlparser errors as "file:line:col: message".
func positionError(err error) error {
	var list gqlerror.List
	var one *gqlerror.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = gqlerror.List{one}
	default:
		return fmt.Errorf("schema: %w", err)
	}
	msgs := make([]string, 0, len(list))
	for _, e := range list {
		file, _ := e.Extensions["file"].(string)
		if file == "" {
			file = "<input>"
		}
		line, col := 0, 0
		if len(e.Locations) > 0 {
			line, col = e.Locations[0].Line, e.Locations[0].Column
		}
		msgs = append(msgs, fmt.Sprintf("%s:%d:%d: %s", file, line, col, e.Message))
	}
	return &LoadError{Messages: msgs, Err: err}
}

// LoadError is returned by Load for SDL that does not parse or validate.
type LoadError struct {
	// Messages are "file:line:col: message" lines, one per problem.
	Messages []string
	Err      error
}

func (e *LoadError) Error() string { return "schema: " + strings.Join(e.Messages, "; ") }

// Unwrap returns the underlying gqlparser error.
func (e *LoadError) Unwrap() error { return e.Err }

// declareMissingDirectives adds a permissive declaration for every directive
// that is used but not declared, so vendor directives do not fail validation.
func declareMissingDirectives(doc *ast.SchemaDocument) {
	declared := map[string]bool{}
	for _, d := range doc.Directives {
		declared[d.Name] = true
	}
	used := map[string]map[string]bool{} // directive -> argument names
	note := func(list ast.DirectiveList) {
		for _, d := range list {
			if declared[d.Name] {
				continue
			}
			if used[d.Name] == nil {
				used[d.Name] = map[string]bool{}
			}
			for _, a := range d.Arguments {
				used[d.Name][a.Name] = true
			}
		}
	}
	visitDefs := func(defs ast.DefinitionList) {
		for _, def := range defs {
			note(def.Directives)
			for _, f := range def.Fields {
				note(f.Directives)
				for _, a := range f.Arguments {
					note(a.Directives)
				}
			}
			for _, v := range def.EnumValues {
				note(v.Directives)
			}
		}
	}
	visitDefs(doc.Definitions)
	visitDefs(doc.Extensions)
	for _, s := range doc.Schema {
		note(s.Directives)
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return
	}
	pos := &ast.Position{Src: &ast.Source{Name: "<declared by stagesync>"}}
	doc.Definitions = append(doc.Definitions, &ast.Definition{
		Kind: ast.Scalar, Name: anyScalar, Position: pos,
		Description: "Any value; declared by stagesync for undeclared vendor directives.",
	})
	for _, n := range names {
		var args ast.ArgumentDefinitionList
		argNames := make([]string, 0, len(used[n]))
		for a := range used[n] {
			argNames = append(argNames, a)
		}
		sort.Strings(argNames)
		for _, a := range argNames {
			args = append(args, &ast.ArgumentDefinition{Name: a, Type: ast.NamedType(anyScalar, pos), Position: pos})
		}
		doc.Directives = append(doc.Directives, &ast.DirectiveDefinition{
			Name:         n,
			IsRepeatable: true,
			Arguments:    args,
			Locations:    allDirectiveLocations,
			Position:     pos,
		})
	}
}

// anyScalar is the argument type of directives declared by Load.
const anyScalar = "_StagesyncAny"

var allDirectiveLocations = []ast.DirectiveLocation{
	ast.LocationSchema, ast.LocationScalar, ast.LocationObject, ast.LocationFieldDefinition,
	ast.LocationArgumentDefinition, ast.LocationInterface, ast.LocationUnion, ast.LocationEnum,
	ast.LocationEnumValue, ast.LocationInputObject, ast.LocationInputFieldDefinition,
}
