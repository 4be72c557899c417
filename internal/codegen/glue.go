package codegen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	gql "github.com/vektah/gqlparser/v2/ast"
	gqlparser "github.com/vektah/gqlparser/v2/parser"

	"github.com/stagesync/stagesync/schema"
)

// glue is the typed-model code of one package.
type glue struct {
	pkgDir   string
	pkg      string // the package, as genqlient's generated file says
	models   []ModelGlue
	reads    []readGlue
	warnings []string
}

// readGlue is what the Read function of one typed model does.
type readGlue struct {
	ModelGlue
	prelude []string // statements before the call
	args    []string // the call's arguments
	field   string   // the response field holding the entries
	pointer bool     // the entries are pointers
	ctx     bool     // the operation function takes a context
}

// readQuery is a read query found in an operation file.
type readQuery struct {
	op    *gql.OperationDefinition
	file  string // as shown in messages: relative to the package dir
	model *schema.Model
	root  *gql.Field
	// first, after and stage are the variables given to those arguments.
	first, after, stage string
	// nonNullArg maps a variable given directly to a non-null argument of
	// the root field to the argument's name.
	nonNullArg map[string]string
}

// buildGlue finds the read queries of the operations cfg names and works
// out, from genqlient's generated code, how the glue calls them.
func buildGlue(cfgPath string, cfg *runConfig, s *gql.Schema, p *schema.Project, generated []byte) (*glue, error) {
	g := &glue{pkgDir: filepath.Dir(cfg.Generated)}
	if cfg.ClientGetter != "" {
		return nil, fmt.Errorf("codegen: %s sets client_getter: the typed models need operation functions that take the stage's graphql.Client", cfgPath)
	}
	if cfg.ContextType != "context.Context" && cfg.ContextType != "-" {
		return nil, fmt.Errorf("codegen: %s sets context_type %s: the typed models need context.Context (or -)", cfgPath, cfg.ContextType)
	}
	queries, err := g.readQueries(cfg.Operations, s, p)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, cfg.Generated, generated, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("codegen: genqlient's %s does not parse: %w", cfg.Generated, err)
	}
	g.pkg = file.Name.Name
	gen := indexGenerated(file)
	taken, err := g.packageNames(cfg.Generated, gen)
	if err != nil {
		return nil, err
	}
	for _, q := range queries {
		r, err := q.glue(gen, cfg.ContextType != "-")
		if err != nil {
			return nil, fmt.Errorf("codegen: model %s: %s: %w", q.model.Name, q.file, err)
		}
		if where, ok := taken[r.Func]; ok {
			return nil, fmt.Errorf("codegen: model %s: the glue function %s clashes with %s in %s; rename it there (e.g. with a typename directive)",
				q.model.Name, r.Func, r.Func, where)
		}
		g.reads = append(g.reads, r)
		g.models = append(g.models, r.ModelGlue)
	}
	if where, ok := taken["Models"]; ok {
		return nil, fmt.Errorf("codegen: the glue function Models clashes with Models in %s", where)
	}
	return g, nil
}

// readQueries parses the operation files and returns their read queries,
// sorted by model name. A model read by two queries is an error.
func (g *glue) readQueries(globs []string, s *gql.Schema, p *schema.Project) ([]*readQuery, error) {
	files, err := expandGlobs(globs)
	if err != nil {
		return nil, err
	}
	byList := map[string]*schema.Model{}
	for _, m := range p.Models {
		if m.API != nil && m.API.List != "" && !m.Component {
			byList[m.API.List] = m
		}
	}
	var out []*readQuery
	seen := map[string]*readQuery{}
	for _, name := range files {
		switch filepath.Ext(name) {
		case ".graphql", ".graphqls", ".gql":
		default:
			continue // genqlient's operations in Go files are not read queries of ours
		}
		text, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("codegen: %w", err)
		}
		shown := relPath(g.pkgDir, name)
		doc, gerr := gqlparser.ParseQuery(&gql.Source{Name: shown, Input: string(text)})
		if gerr != nil {
			return nil, fmt.Errorf("codegen: %s: %w", shown, gerr)
		}
		for _, op := range doc.Operations {
			q := g.readQuery(s, op, shown, byList)
			if q == nil {
				continue
			}
			if other := seen[q.model.Name]; other != nil {
				return nil, fmt.Errorf("codegen: model %s has two read queries, %s in %s and %s in %s; keep one",
					q.model.Name, other.op.Name, other.file, op.Name, shown)
			}
			seen[q.model.Name] = q
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(a, b *readQuery) int { return strings.Compare(a.model.Name, b.model.Name) })
	return out, nil
}

// readQuery returns op as a read query, or nil when it is not one: a query
// whose only root field is a model's list field with first and after
// given by variables.
func (g *glue) readQuery(s *gql.Schema, op *gql.OperationDefinition, file string, byList map[string]*schema.Model) *readQuery {
	if op.Operation != gql.Query || op.Name == "" {
		return nil
	}
	var roots []*gql.Field
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*gql.Field)
		if !ok {
			return nil // fragments at the root: not a shape the glue reads
		}
		if f.Name != "__typename" {
			roots = append(roots, f)
		}
	}
	if len(roots) != 1 || byList[roots[0].Name] == nil {
		return nil
	}
	root := roots[0]
	q := &readQuery{op: op, file: file, model: byList[root.Name], root: root, nonNullArg: map[string]string{}}
	var def *gql.FieldDefinition
	if s.Query != nil {
		def = s.Query.Fields.ForName(root.Name)
	}
	literal := map[string]string{}
	for _, a := range root.Arguments {
		if a.Value == nil {
			continue
		}
		switch a.Value.Kind {
		case gql.Variable:
			if def != nil {
				if ad := def.Arguments.ForName(a.Name); ad != nil && ad.Type.NonNull {
					q.nonNullArg[a.Value.Raw] = a.Name
				}
			}
			switch a.Name {
			case "first":
				q.first = a.Value.Raw
			case "after":
				q.after = a.Value.Raw
			case "stage":
				q.stage = a.Value.Raw
			}
		default:
			literal[a.Name] = a.Value.String()
		}
	}
	if q.first == "" || q.after == "" {
		if q.first != "" || q.after != "" {
			// Paged, but not in a way the glue can drive.
			g.warnings = append(g.warnings, fmt.Sprintf("%s: %s reads %s but not with $first and $after variables, so it has no typed model",
				file, op.Name, root.Name))
		}
		return nil
	}
	if q.stage == "" {
		if st, ok := literal["stage"]; !ok && !defaultsToDraft(def) {
			g.warnings = append(g.warnings, fmt.Sprintf("%s: %s sets no stage, so it reads the stage's default (PUBLISHED on Hygraph) instead of DRAFT",
				file, op.Name))
		} else if ok && st != "DRAFT" {
			g.warnings = append(g.warnings, fmt.Sprintf("%s: %s reads stage %s; the sync engine expects DRAFT", file, op.Name, st))
		}
	}
	if o, ok := literal["orderBy"]; !ok || o != "id_ASC" {
		g.warnings = append(g.warnings, fmt.Sprintf("%s: %s does not order by id_ASC; pages may skip or repeat entries", file, op.Name))
	}
	return q
}

// defaultsToDraft reports whether the stage argument of the list field def
// defaults to DRAFT.
func defaultsToDraft(def *gql.FieldDefinition) bool {
	if def == nil {
		return false
	}
	a := def.Arguments.ForName("stage")
	return a != nil && a.DefaultValue != nil && a.DefaultValue.Raw == "DRAFT"
}

// glue works out the Read function of q from the generated code.
func (q *readQuery) glue(gen *generatedIndex, withCtx bool) (readGlue, error) {
	if !selectsID(q.root.SelectionSet) {
		return readGlue{}, fmt.Errorf("%s does not select id, which the sync needs to page and match entries", q.op.Name)
	}
	fn := gen.funcs[q.op.Name]
	if fn == nil {
		return readGlue{}, fmt.Errorf("genqlient generated no function %s", q.op.Name)
	}
	params := map[string]ast.Expr{}
	for _, f := range fn.Type.Params.List {
		for _, n := range f.Names {
			params[n.Name] = f.Type
		}
	}
	if _, ok := params["client_"]; !ok {
		return readGlue{}, fmt.Errorf("%s takes no graphql.Client", q.op.Name)
	}
	r := readGlue{ModelGlue: ModelGlue{Model: q.model.Name, Func: q.model.Name + "Model", Operation: q.op.Name, File: q.file}, ctx: withCtx}
	if withCtx {
		r.args = append(r.args, "ctx")
	}
	r.args = append(r.args, "c")
	input := gen.structs["__"+q.op.Name+"Input"]
	for _, v := range q.op.VariableDefinitions {
		typ, ok := params[v.Variable]
		if !ok {
			return readGlue{}, fmt.Errorf("%s has no parameter for $%s", q.op.Name, v.Variable)
		}
		arg, prelude, err := q.argument(v, typ, gen, input)
		if err != nil {
			return readGlue{}, err
		}
		r.args = append(r.args, arg)
		r.prelude = append(r.prelude, prelude...)
	}

	// The entries: the response's field for the root field.
	if fn.Type.Results == nil || len(fn.Type.Results.List) == 0 {
		return readGlue{}, fmt.Errorf("%s returns nothing", q.op.Name)
	}
	star, ok := fn.Type.Results.List[0].Type.(*ast.StarExpr)
	respName := ""
	if ok {
		if id, ok := star.X.(*ast.Ident); ok {
			respName = id.Name
		}
	}
	resp := gen.structs[respName]
	if resp == nil {
		return readGlue{}, fmt.Errorf("genqlient generated no response type for %s", q.op.Name)
	}
	key := q.root.Alias
	if key == "" {
		key = q.root.Name
	}
	for _, f := range resp.Fields.List {
		if jsonName(f) != key || len(f.Names) != 1 {
			continue
		}
		list, ok := f.Type.(*ast.ArrayType)
		if !ok || list.Len != nil {
			return readGlue{}, fmt.Errorf("%s.%s is not a slice", respName, f.Names[0].Name)
		}
		elem := list.Elt
		if s, ok := elem.(*ast.StarExpr); ok {
			r.pointer = true
			elem = s.X
		}
		id, ok := elem.(*ast.Ident)
		if !ok {
			return readGlue{}, fmt.Errorf("%s.%s is not a slice of a generated type", respName, f.Names[0].Name)
		}
		r.field = f.Names[0].Name
		r.Type = id.Name
		return r, nil
	}
	return readGlue{}, fmt.Errorf("%s has no field for %s", respName, key)
}

// argument returns the glue's argument for variable v of Go type typ:
// first and after are passed through, stage is DRAFT, and every other
// variable is left unset (nil, or its zero value when it is omitted from
// the request when zero).
func (q *readQuery) argument(v *gql.VariableDefinition, typ ast.Expr, gen *generatedIndex, input *ast.StructType) (string, []string, error) {
	name := v.Variable
	typeText := exprString(typ)
	switch name {
	case q.first:
		switch typeText {
		case "int":
			return "first", nil, nil
		case "*int":
			return "&first", nil, nil
		}
		return "", nil, fmt.Errorf("$%s (first) has Go type %s; want int or *int", name, typeText)
	case q.after:
		switch typeText {
		case "*string":
			return "after", nil, nil
		case "string":
			return "cursor", []string{"var cursor string", "if after != nil {", "cursor = *after", "}"}, nil
		}
		return "", nil, fmt.Errorf("$%s (after) has Go type %s; want *string or string", name, typeText)
	case q.stage:
		base, ptr := typ, false
		if s, ok := typ.(*ast.StarExpr); ok {
			base, ptr = s.X, true
		}
		draft := `"DRAFT"`
		if id, ok := base.(*ast.Ident); !ok || id.Name != "string" {
			c, ok := gen.constOf(exprString(base), "DRAFT")
			if !ok {
				return "", nil, fmt.Errorf("$%s (stage) has Go type %s, which has no DRAFT value", name, typeText)
			}
			draft = c
		}
		if ptr {
			return "&stage", []string{"stage := " + draft}, nil
		}
		return draft, nil, nil
	}
	if v.Type.NonNull && v.DefaultValue == nil {
		return "", nil, fmt.Errorf("$%s is required, and the glue can only fill $%s, $%s and a stage: make $%s optional or remove it",
			name, q.first, q.after, name)
	}
	omitted := false
	if input != nil {
		for _, f := range input.Fields.List {
			if jsonName(f) == name && strings.Contains(tagOf(f), ",omitempty") {
				omitted = true
			}
		}
	}
	nilable := false
	switch typ.(type) {
	case *ast.StarExpr, *ast.ArrayType, *ast.MapType, *ast.InterfaceType:
		nilable = true
	}
	if !omitted && q.nonNullArg[name] != "" {
		return "", nil, fmt.Errorf("$%s would be sent as null, but argument %s of %s cannot be null (its default applies only to a variable "+
			"left out of the request): add `# @genqlient(omitempty: true)` above it", name, q.nonNullArg[name], q.root.Name)
	}
	switch {
	case nilable:
		return "nil", nil, nil
	case omitted:
		return "*new(" + typeText + ")", nil, nil // zero: left out of the request
	}
	return "", nil, fmt.Errorf("$%s is optional, but its Go type %s is neither a pointer nor omitted when zero, so the glue would send a zero value: "+
		"add `# @genqlient(pointer: true, omitempty: true)` above it", name, typeText)
}

// selectsID reports whether a selection set selects id as "id".
func selectsID(set gql.SelectionSet) bool {
	for _, sel := range set {
		if f, ok := sel.(*gql.Field); ok && f.Name == "id" && (f.Alias == "" || f.Alias == "id") {
			return true
		}
	}
	return false
}

// generatedIndex indexes genqlient's generated file.
type generatedIndex struct {
	funcs   map[string]*ast.FuncDecl
	structs map[string]*ast.StructType
	consts  map[string][][2]string // type -> (name, value) pairs
	names   map[string]bool        // every top-level name
}

func indexGenerated(f *ast.File) *generatedIndex {
	gen := &generatedIndex{funcs: map[string]*ast.FuncDecl{}, structs: map[string]*ast.StructType{}, consts: map[string][][2]string{}, names: map[string]bool{}}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				gen.funcs[d.Name.Name] = d
				gen.names[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					gen.names[spec.Name.Name] = true
					if st, ok := spec.Type.(*ast.StructType); ok {
						gen.structs[spec.Name.Name] = st
					}
				case *ast.ValueSpec:
					for i, n := range spec.Names {
						gen.names[n.Name] = true
						if d.Tok != token.CONST || spec.Type == nil || i >= len(spec.Values) {
							continue
						}
						if lit, ok := spec.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if v, err := strconv.Unquote(lit.Value); err == nil {
								t := exprString(spec.Type)
								gen.consts[t] = append(gen.consts[t], [2]string{n.Name, v})
							}
						}
					}
				}
			}
		}
	}
	return gen
}

// constOf returns the constant of type typ whose value is value.
func (gen *generatedIndex) constOf(typ, value string) (string, bool) {
	for _, c := range gen.consts[typ] {
		if c[1] == value {
			return c[0], true
		}
	}
	return "", false
}

// packageNames returns the top-level names the glue must not declare:
// genqlient's and those of the package's other Go files, each with the
// file that declares it.
func (g *glue) packageNames(generatedPath string, gen *generatedIndex) (map[string]string, error) {
	taken := map[string]string{}
	for n := range gen.names {
		taken[n] = filepath.Base(generatedPath)
	}
	entries, err := os.ReadDir(g.pkgDir)
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			name == GlueFile || name == filepath.Base(generatedPath) {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(g.pkgDir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			continue // the compiler will say so
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					taken[d.Name.Name] = name
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						taken[spec.Name.Name] = name
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							taken[n.Name] = name
						}
					}
				}
			}
		}
	}
	return taken, nil
}

// render returns the glue file, in package g.pkg.
func (g *glue) render() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by `stagesync gen`. DO NOT EDIT.\n\n")
	comment(&b, "The typed models below follow the read queries of the operation files as they are on disk: "+
		"edit a query, not this file, and rerun go generate.")
	b.WriteString("\n")
	fmt.Fprintf(&b, "package %s\n\n", g.pkg)
	if len(g.reads) > 0 {
		b.WriteString("import (\n\t\"context\"\n\n\t\"github.com/Khan/genqlient/graphql\"\n\n\t\"github.com/stagesync/stagesync/stagesync\"\n)\n\n")
	} else {
		b.WriteString("import \"github.com/stagesync/stagesync/stagesync\"\n\n")
	}
	for _, r := range g.reads {
		comment(&b, fmt.Sprintf("%s is the typed model of %s for stagesync.Sync, reading with %s (%s): the sync "+
			"writes the fields that query selects, the publish state when it selects documentInStages and the other "+
			"locales when it selects localizations. transform, when not nil, changes each entry in flight.",
			r.Func, r.Model, r.Operation, r.File))
		fmt.Fprintf(&b, "func %s(transform func(ctx context.Context, entry *%s) error) stagesync.TypedModel[%s] {\n", r.Func, r.Type, r.Type)
		fmt.Fprintf(&b, "return stagesync.TypedModel[%s]{\n", r.Type)
		fmt.Fprintf(&b, "Name: %q,\n", r.Model)
		ctxName := "ctx"
		if !r.ctx {
			ctxName = "_"
		}
		fmt.Fprintf(&b, "Read: func(%s context.Context, c graphql.Client, first int, after *string) ([]%s, error) {\n", ctxName, r.Type)
		for _, l := range r.prelude {
			b.WriteString(l + "\n")
		}
		fmt.Fprintf(&b, "resp, err := %s(%s)\n", r.Operation, strings.Join(r.args, ", "))
		b.WriteString("if err != nil {\nreturn nil, err\n}\n")
		if r.pointer {
			fmt.Fprintf(&b, "entries := make([]%s, 0, len(resp.%s))\n", r.Type, r.field)
			fmt.Fprintf(&b, "for _, e := range resp.%s {\nif e != nil {\nentries = append(entries, *e)\n}\n}\n", r.field)
			b.WriteString("return entries, nil\n")
		} else {
			fmt.Fprintf(&b, "return resp.%s, nil\n", r.field)
		}
		b.WriteString("},\nTransform: transform,\n}\n}\n\n")
	}
	comment(&b, "Models returns every typed model of this package, for stagesync.SyncConfig.Typed, with no "+
		"transforms: call the <Model>Model functions for models with one.")
	b.WriteString("func Models() []stagesync.Model {\n")
	if len(g.reads) == 0 {
		b.WriteString("return nil\n}\n")
	} else {
		b.WriteString("return []stagesync.Model{\n")
		for _, r := range g.reads {
			fmt.Fprintf(&b, "%s(nil),\n", r.Func)
		}
		b.WriteString("}\n}\n")
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("codegen: glue does not format (a bug): %w\n%s", err, b.Bytes())
	}
	return out, nil
}

// expandGlobs expands genqlient's operation globs as genqlient does
// (doublestar patterns, files only), sorted.
func expandGlobs(globs []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, glob := range globs {
		glob = filepath.ToSlash(filepath.Clean(glob))
		base, pattern := doublestar.SplitPattern(glob)
		matches, err := doublestar.Glob(os.DirFS(base), pattern, doublestar.WithFilesOnly())
		if err != nil {
			return nil, fmt.Errorf("codegen: operations %s: %w", glob, err)
		}
		for _, m := range matches {
			name := filepath.FromSlash(path.Join(base, m))
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// jsonName returns the JSON name in a struct field's tag.
func jsonName(f *ast.Field) string {
	name, _, _ := strings.Cut(reflect.StructTag(tagOf(f)).Get("json"), ",")
	return name
}

func tagOf(f *ast.Field) string {
	if f.Tag == nil {
		return ""
	}
	tag, err := strconv.Unquote(f.Tag.Value)
	if err != nil {
		return ""
	}
	return tag
}

func exprString(e ast.Expr) string {
	var b bytes.Buffer
	_ = printer.Fprint(&b, token.NewFileSet(), e)
	return b.String()
}
