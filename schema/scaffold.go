package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// OperationKind says what a scaffolded operation is for.
type OperationKind string

// The operation kinds Scaffold produces, one .graphql file each per model.
// File and operation names derive from the model's root fields, shown here
// for a model Post whose list field is posts:
//
//	kind         file                        operation         root field
//	read         readPosts.graphql           ReadPosts         posts
//	upsert       upsertPost.graphql          UpsertPost        upsertPost
//	create       createPost.graphql          CreatePost        createPost
//	update       updatePost.graphql          UpdatePost        updatePost
//	publish      publishPost.graphql         PublishPost       publishPost
//	publishMany  publishManyPosts.graphql    PublishManyPosts  publishManyPostsConnection
//
// Operation names are exported (upper-case first letter) so that the Go
// functions genqlient generates from them are exported too.
const (
	OpRead        OperationKind = "read"
	OpUpsert      OperationKind = "upsert"
	OpCreate      OperationKind = "create"
	OpUpdate      OperationKind = "update"
	OpPublish     OperationKind = "publish"
	OpPublishMany OperationKind = "publishMany"
)

// OperationKinds are all operation kinds in the order Scaffold emits them.
var OperationKinds = []OperationKind{OpRead, OpUpsert, OpCreate, OpUpdate, OpPublish, OpPublishMany}

// Operation is one scaffolded GraphQL operation, ready for genqlient.
type Operation struct {
	// Model is the model the operation reads or writes, e.g. "Post".
	Model string
	// Kind is what the operation is for.
	Kind OperationKind
	// Name is the GraphQL operation name, e.g. "ReadPosts"; genqlient names
	// the generated function after it.
	Name string
	// File is the base name of the file the operation belongs in, e.g.
	// "readPosts.graphql".
	File string
	// Text is the file's content: the operation with its genqlient
	// directives and comments.
	Text string
}

// ScaffoldOptions tune Scaffold. The zero value scaffolds every kind of
// operation a model supports.
type ScaffoldOptions struct {
	// Kinds restricts the operations to these kinds; empty means all.
	Kinds []OperationKind
}

// Scaffold returns genqlient-ready GraphQL operations for models of the
// project p discovered from schema s: for each model one read query and the
// upsert, create, update, publish and publishMany mutations the schema has
// (see OperationKind for the names). An empty models list means every
// writable model, system models such as Asset included; components cannot be
// scaffolded on their own, they are read inline with the models that embed
// them.
//
// The read query pages with a cursor over the model's list field and selects
// everything a copy needs, in the shape the sync engine reads: system
// timestamps and stage, every content field (relations and assets as ids,
// to-many relations with first: 100, components whole, rich text as its
// AST), the localized fields in the project's other locales
// (localizations(locales: [...], includeCurrent: false)), and the published
// version with the same fields (documentInStages(stages: [PUBLISHED])).
// Fields that cannot be written back (references to system models such as
// User, component cycles) are left out and named in the operation's comment.
//
// Generated Go types get short, stable names: the read query's entry type
// is the model name (Post), its localizations and published versions are
// PostLocalization and PostInStage, and every mutation returns a PostRef.
// Nullable fields read are pointers, so null survives the round trip.
// Optional input fields become pointers (optional lists plain slices)
// omitted from the request when nil, so an unset field is never sent as a
// zero value. The flip side: these typed inputs cannot send an explicit null
// (or an empty list) to clear a field in an update; drop omitempty from that
// field's `for:` directive in the (hand-edited) file to send nil as null.
//
// Every operation is validated against s before it is returned; an error
// names the model and file. An unknown or read-only model is an error that
// lists the writable models.
func Scaffold(s *ast.Schema, p *Project, models []string, opts ScaffoldOptions) ([]Operation, error) {
	if s == nil || p == nil {
		return nil, errors.New("schema: scaffold: nil schema or project")
	}
	kinds := opts.Kinds
	if len(kinds) == 0 {
		kinds = OperationKinds
	}
	for _, k := range kinds {
		if !slices.Contains(OperationKinds, k) {
			return nil, fmt.Errorf("schema: scaffold: unknown operation kind %q (known: %s)", k, scJoinKinds(OperationKinds))
		}
	}

	var writable []*Model
	for _, m := range p.Models {
		if m.Writable && !m.Component && m.API != nil {
			writable = append(writable, m)
		}
	}
	var chosen []*Model
	if len(models) == 0 {
		chosen = writable
	}
	seen := map[string]bool{}
	for _, name := range models {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		i := slices.IndexFunc(writable, func(m *Model) bool { return m.Name == name })
		if i < 0 {
			names := make([]string, len(writable))
			for j, m := range writable {
				names[j] = m.Name
			}
			why := "unknown model"
			if m := p.Model(name); m != nil {
				why = "model is not writable"
				if m.Component {
					why = "components are scaffolded with the models that embed them"
				}
			}
			return nil, fmt.Errorf("schema: scaffold: %s %q; writable models: %s", why, name, strings.Join(names, ", "))
		}
		chosen = append(chosen, writable[i])
	}

	sc := &scaffolder{s: s, p: p}
	var ops []Operation
	files := map[string]string{}
	for _, m := range chosen {
		for _, k := range OperationKinds {
			if !slices.Contains(kinds, k) {
				continue
			}
			op, err := sc.operation(m, k)
			if err != nil {
				return nil, fmt.Errorf("schema: scaffold: model %s: %w", m.Name, err)
			}
			if op == nil {
				continue // the schema has no such root field for m
			}
			if err := scValidateOperation(s, op); err != nil {
				return nil, err
			}
			if other, dup := files[strings.ToLower(op.File)]; dup {
				return nil, fmt.Errorf("schema: scaffold: model %s: file %s clashes with model %s's", m.Name, op.File, other)
			}
			files[strings.ToLower(op.File)] = m.Name
			ops = append(ops, *op)
		}
	}
	return ops, nil
}

// WriteScaffold writes each operation to dir/op.File, creating dir if
// needed. It never overwrites: a file that already exists (an operation
// someone may have edited by hand) is left alone and its path returned in
// skipped. written lists the files created, in the order of ops.
func WriteScaffold(dir string, ops []Operation) (written, skipped []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("schema: scaffold: %w", err)
	}
	for _, op := range ops {
		path := filepath.Join(dir, op.File)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			skipped = append(skipped, path)
			continue
		}
		if err != nil {
			return written, skipped, fmt.Errorf("schema: scaffold: model %s: %w", op.Model, err)
		}
		_, werr := f.WriteString(op.Text)
		cerr := f.Close()
		if werr == nil {
			werr = cerr
		}
		if werr != nil {
			return written, skipped, fmt.Errorf("schema: scaffold: model %s: write %s: %w", op.Model, path, werr)
		}
		written = append(written, path)
	}
	return written, skipped, nil
}

// DefaultGenqlientBindings returns the Go types the scaffolded operations are
// meant to be generated with: GraphQL scalar name → fully qualified Go type,
// as genqlient.yaml's bindings expect them. Every choice round-trips the
// value a stage returns unchanged when it is written to another stage:
//
//   - Date and DateTime stay strings: time.Time would re-format the value
//     (offset, precision) and cannot parse a bare Date.
//   - Json and RichTextAST are json.RawMessage: the document as sent, null
//     included, with no float64 rounding of numbers.
//   - Long is int64; RGBAHue and RGBATransparency are json.Number, which
//     accepts the number (or numeric string) as sent; Hex is a string.
//
// Nullable fields are pointers in the generated types (the scaffolded
// operations ask for it), so null stays distinguishable from a zero value.
func DefaultGenqlientBindings() map[string]string {
	return map[string]string{
		"Date":             "string",
		"DateTime":         "string",
		"Json":             "encoding/json.RawMessage",
		"RichTextAST":      "encoding/json.RawMessage",
		"Long":             "int64",
		"Hex":              "string",
		"RGBAHue":          "encoding/json.Number",
		"RGBATransparency": "encoding/json.Number",
	}
}

// scValidateOperation parses op.Text and validates it against s.
func scValidateOperation(s *ast.Schema, op *Operation) error {
	doc, err := parser.ParseQuery(&ast.Source{Name: op.File, Input: op.Text})
	if err == nil {
		if list := validator.ValidateWithRules(s, doc, nil); len(list) > 0 {
			err = list
		}
	}
	if err == nil {
		return nil
	}
	var msgs []string
	var list gqlerror.List
	var one *gqlerror.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = gqlerror.List{one}
	default:
		return fmt.Errorf("schema: scaffold: model %s: %s: %w", op.Model, op.File, err)
	}
	for _, e := range list {
		pos := ""
		if len(e.Locations) > 0 {
			pos = fmt.Sprintf("%d:%d: ", e.Locations[0].Line, e.Locations[0].Column)
		}
		msgs = append(msgs, pos+e.Message)
	}
	return fmt.Errorf("schema: scaffold: model %s: %s: invalid operation: %s", op.Model, op.File, strings.Join(msgs, "; "))
}

func scJoinKinds(ks []OperationKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// scaffolder builds the operations of one Scaffold call.
type scaffolder struct {
	s *ast.Schema
	p *Project
}

// operation builds the operation of kind k for m, or nil when the schema has
// no root field for it.
func (sc *scaffolder) operation(m *Model, k OperationKind) (*Operation, error) {
	switch k {
	case OpRead:
		return sc.read(m)
	case OpPublishMany:
		return sc.publishMany(m)
	default:
		return sc.mutation(m, k)
	}
}

// scUpperFirst returns s with its first letter in upper case.
func scUpperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// scFileHeader opens every scaffolded file; the blank line after it keeps it
// out of genqlient's doc comments.
const scFileHeader = "# Scaffolded by `stagesync schema scaffold`. Edit freely: stagesync never\n" +
	"# overwrites an existing file. Generate Go code with `go tool genqlient`.\n\n"

// scWriter accumulates an operation's text with indentation.
type scWriter struct {
	b      strings.Builder
	indent int
}

func (w *scWriter) line(format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", w.indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *scWriter) open(format string, args ...any) {
	w.line(format+" {", args...)
	w.indent++
}

func (w *scWriter) close() {
	w.indent--
	w.line("}")
}

// comment writes text as # lines, wrapped at about 76 columns.
func (w *scWriter) comment(text string) {
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len(line)+1+len(word) > 76 {
				w.line("# %s", line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		if line == "" {
			w.line("#")
		} else {
			w.line("# %s", line)
		}
	}
}

// scVariable is one variable definition of an operation.
type scVariable struct {
	name, typ string
	// directive is a genqlient directive for the scVariable, without "# ".
	directive string
}

// operationLine opens the operation, writing one variable per line so that a
// genqlient directive applies to exactly one variable.
func (w *scWriter) operationLine(keyword, name string, vars []scVariable) {
	if len(vars) == 0 {
		w.open("%s %s", keyword, name)
		return
	}
	w.line("%s %s(", keyword, name)
	w.indent++
	for _, v := range vars {
		if v.directive != "" {
			w.line("# %s", v.directive)
		}
		w.line("$%s: %s", v.name, v.typ)
	}
	w.indent--
	w.line(") {")
	w.indent++
}

// inputDirectives returns the `for:` directives that make every optional
// field of every input type reachable from types a pointer omitted when nil
// (optional lists: a slice omitted when empty). They are the same for an
// input type wherever it appears, as genqlient requires of input types
// shared between operations of one package.
func (sc *scaffolder) inputDirectives(types ...string) []string {
	seen := map[string]bool{}
	var queue []string
	push := func(name string) {
		if d := sc.s.Types[name]; d != nil && d.Kind == ast.InputObject && !seen[name] {
			seen[name] = true
			queue = append(queue, name)
		}
	}
	for _, t := range types {
		push(t)
	}
	for i := 0; i < len(queue); i++ {
		for _, f := range sc.s.Types[queue[i]].Fields {
			push(f.Type.Name())
		}
	}
	sort.Strings(queue)
	var out []string
	for _, name := range queue {
		for _, f := range sc.s.Types[name].Fields {
			if f.Type.NonNull {
				continue
			}
			if f.Type.Elem != nil {
				out = append(out, fmt.Sprintf(`@genqlient(for: "%s.%s", omitempty: true)`, name, f.Name))
			} else {
				out = append(out, fmt.Sprintf(`@genqlient(for: "%s.%s", pointer: true, omitempty: true)`, name, f.Name))
			}
		}
	}
	return out
}

// scNullHandlingDoc explains the input directives in each mutation file.
const scNullHandlingDoc = "Optional input fields are pointers (optional lists are slices) " +
	"omitted from the request when nil or empty, so an unset field is never written as " +
	"a zero value; set a field to write it. The directives below say so for every input " +
	"type the operation uses, identically in every file, as genqlient requires."

// scRefSelection writes the root field of a single-entry mutation and its
// selection, <Model>Ref { id updatedAt }, the same in every mutation.
func scRefSelection(w *scWriter, m *Model, field string, args string) {
	w.line(`# @genqlient(typename: "%sRef")`, m.Name)
	w.open("%s(%s)", field, args)
	w.line("id")
	w.line("updatedAt")
	w.close()
}

// mutation builds the upsert, create, update and publish mutations.
func (sc *scaffolder) mutation(m *Model, k OperationKind) (*Operation, error) {
	var root string
	switch k {
	case OpUpsert:
		root = m.API.Upsert
	case OpCreate:
		root = m.API.Create
	case OpUpdate:
		root = m.API.Update
	case OpPublish:
		root = m.API.Publish
	}
	if root == "" || sc.s.Mutation == nil {
		return nil, nil
	}
	fd := sc.s.Mutation.Fields.ForName(root)
	if fd == nil {
		return nil, nil
	}
	name := scUpperFirst(root)
	file := root + ".graphql"

	var vars []scVariable
	var args []string
	var inputs []string
	for _, a := range fd.Arguments {
		switch {
		case a.Type.NonNull && a.DefaultValue == nil:
			// where, data, upsert: required inputs.
		case k == OpPublish && a.Name == "to":
			// Always say where to publish.
		case k == OpPublish && a.Name == "locales":
			vars = append(vars, scVariable{name: a.Name, typ: scNullable(a.Type).String(), directive: "@genqlient(omitempty: true)"})
			args = append(args, a.Name+": $"+a.Name)
			continue
		default:
			continue
		}
		vars = append(vars, scVariable{name: a.Name, typ: a.Type.String()})
		args = append(args, a.Name+": $"+a.Name)
		inputs = append(inputs, a.Type.Name())
	}
	scSortVariables(vars, args)
	if k == OpPublish && fd.Arguments.ForName("to") == nil {
		return nil, fmt.Errorf("%s.graphql: %s has no `to` argument", root, root)
	}

	w := &scWriter{}
	w.b.WriteString(scFileHeader)
	switch k {
	case OpUpsert:
		w.comment(fmt.Sprintf("%s creates the %s entry that where names, or updates it when it exists. Returns the entry's id and updatedAt.", name, m.Name))
	case OpCreate:
		w.comment(fmt.Sprintf("%s creates a %s entry (in DRAFT). The create input has no id: the new entry gets a new one, returned with its updatedAt.", name, m.Name))
	case OpUpdate:
		w.comment(fmt.Sprintf("%s updates the %s entry that where names. Returns its id and updatedAt.", name, m.Name))
	case OpPublish:
		loc := ""
		if fd.Arguments.ForName("locales") != nil {
			loc = " (and the localizations in locales, when set)"
		}
		w.comment(fmt.Sprintf("%s publishes the %s entry that where names to the stages in to%s.", name, m.Name, loc))
	}
	if dirs := sc.inputDirectives(inputs...); len(dirs) > 0 {
		w.line("#")
		w.comment(scNullHandlingDoc)
		for _, d := range dirs {
			w.line("# %s", d)
		}
	}
	w.operationLine("mutation", name, vars)
	scRefSelection(w, m, root, strings.Join(args, ", "))
	w.close()
	return &Operation{Model: m.Name, Kind: k, Name: name, File: file, Text: w.b.String()}, nil
}

// scVariableRank orders variables: what is read or written first, then
// where to, then the optional knobs.
var scVariableRank = map[string]int{
	"first": 0, "after": 1, "stage": 2, "where": 3, "ids": 3,
	"data": 4, "upsert": 4, "to": 5, "locales": 6,
}

// scSortVariables sorts vars, and args alongside them, by scVariableRank;
// args[i] must be the argument that uses vars[i].
func scSortVariables(vars []scVariable, args []string) {
	rank := func(v scVariable) int {
		if r, ok := scVariableRank[v.name]; ok {
			return r
		}
		return 10
	}
	idx := make([]int, len(vars))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rank(vars[idx[a]]) < rank(vars[idx[b]]) })
	v2 := make([]scVariable, len(vars))
	a2 := make([]string, len(args))
	for i, j := range idx {
		v2[i], a2[i] = vars[j], args[j]
	}
	copy(vars, v2)
	copy(args, a2)
}

// scNullable returns t without its outer non-null marker.
func scNullable(t *ast.Type) *ast.Type {
	c := *t
	c.NonNull = false
	return &c
}

// publishMany builds the batch publish mutation over a list of ids.
func (sc *scaffolder) publishMany(m *Model) (*Operation, error) {
	root := m.API.PublishMany
	if root == "" || sc.s.Mutation == nil {
		return nil, nil
	}
	fd := sc.s.Mutation.Fields.ForName(root)
	if fd == nil {
		return nil, nil
	}
	where := fd.Arguments.ForName("where")
	to := fd.Arguments.ForName("to")
	if where == nil || to == nil {
		return nil, fmt.Errorf("%s has no where or to argument", root)
	}
	wt := sc.s.Types[where.Type.Name()]
	idIn := (*ast.FieldDefinition)(nil)
	if wt != nil {
		idIn = wt.Fields.ForName("id_in")
	}
	if idIn == nil {
		return nil, fmt.Errorf("%s: %s has no id_in filter", root, where.Type.Name())
	}
	opName := strings.TrimSuffix(scUpperFirst(root), "Connection")
	file := strings.TrimSuffix(root, "Connection") + ".graphql"

	idType := "ID"
	if idIn.Type.Elem != nil {
		idType = idIn.Type.Elem.Name()
	}
	vars := []scVariable{
		{name: "ids", typ: "[" + idType + "!]!"},
		{name: "to", typ: to.Type.String()},
	}
	args := []string{"where: {id_in: $ids}", "to: $to"}
	if a := fd.Arguments.ForName("first"); a != nil {
		vars = append(vars, scVariable{name: "first", typ: scNullable(a.Type).String(), directive: "@genqlient(pointer: true, omitempty: true)"})
		args = append(args, "first: $first")
	}
	if a := fd.Arguments.ForName("locales"); a != nil {
		vars = append(vars, scVariable{name: "locales", typ: scNullable(a.Type).String(), directive: "@genqlient(omitempty: true)"})
		args = append(args, "locales: $locales")
	}

	w := &scWriter{}
	w.b.WriteString(scFileHeader)
	loc := ""
	if fd.Arguments.ForName("locales") != nil {
		loc = " (and the localizations in locales, when set)"
	}
	first := ""
	if fd.Arguments.ForName("first") != nil {
		first = " Set first to len(ids) when the batch is larger than the stage's default page size: " +
			"without it only the first page of matches is published."
	}
	w.comment(fmt.Sprintf("%s publishes the DRAFT versions of the %s entries with the given ids to the stages in to%s.%s "+
		"Returns the ids published.", opName, m.Name, loc, first))
	w.operationLine("mutation", opName, vars)
	w.open("%s(%s)", root, strings.Join(args, ", "))
	w.open("edges")
	w.open("node")
	w.line("id")
	w.close()
	w.close()
	w.close()
	w.close()
	return &Operation{Model: m.Name, Kind: OpPublishMany, Name: opName, File: file, Text: w.b.String()}, nil
}

// read builds the cursor-paginated read query.
//
// It pages over the list field (posts) rather than the connection
// (postsConnection): with orderBy id_ASC the cursor is simply the last id of
// the previous page (after: $after), a page shorter than first is the last
// one, and the generated entry type is the model itself instead of
// edges[].node wrappers. That keeps the types a transform works on flat.
func (sc *scaffolder) read(m *Model) (*Operation, error) {
	if m.API.List == "" || sc.s.Query == nil {
		return nil, nil
	}
	list := sc.s.Query.Fields.ForName(m.API.List)
	t := sc.s.Types[m.Name]
	if list == nil || t == nil {
		return nil, nil
	}
	name := "Read" + scUpperFirst(m.API.List)
	file := "read" + scUpperFirst(m.API.List) + ".graphql"

	var vars []scVariable
	var args []string
	for _, a := range list.Arguments {
		switch a.Name {
		case "first":
			vars = append(vars, scVariable{name: "first", typ: a.Type.Name() + "!"})
		case "after":
			vars = append(vars, scVariable{name: "after", typ: a.Type.Name(), directive: "@genqlient(pointer: true, omitempty: true)"})
		case "stage":
			vars = append(vars, scVariable{name: "stage", typ: a.Type.Name() + "!"})
		case "locales":
			vars = append(vars, scVariable{name: "locales", typ: scNullable(a.Type).String(), directive: "@genqlient(omitempty: true)"})
		case "where":
			vars = append(vars, scVariable{name: "where", typ: a.Type.Name(), directive: "@genqlient(pointer: true, omitempty: true)"})
		default:
			continue
		}
		args = append(args, a.Name+": $"+a.Name)
	}
	scSortVariables(vars, args)
	for _, need := range []string{"first", "after", "stage"} {
		if list.Arguments.ForName(need) == nil {
			return nil, fmt.Errorf("%s: list field %s has no %s argument", file, m.API.List, need)
		}
	}
	order := "no orderBy: the list field cannot be ordered by id, so pages follow the stage's default order"
	if a := list.Arguments.ForName("orderBy"); a != nil {
		if e := sc.s.Types[a.Type.Name()]; e != nil && e.EnumValues.ForName("id_ASC") != nil {
			args = append(args, "orderBy: id_ASC")
			order = ""
		}
	}

	var inputs []string
	for _, v := range vars {
		if v.name == "where" {
			inputs = append(inputs, strings.Trim(v.typ, "[]!"))
		}
	}

	body := &scWriter{indent: 2}
	rs := &scReadSelection{sc: sc}
	sysFields := []string{"id", "createdAt", "updatedAt", "publishedAt", "stage"}
	var localized []*Field
	for _, f := range m.ContentFields() {
		if f.Localized {
			localized = append(localized, f)
		}
	}
	if len(localized) > 0 {
		sysFields = append(sysFields, "locale")
	}
	for _, f := range sysFields {
		if fd := t.Fields.ForName(f); fd != nil {
			sc.pointerHint(body, fd)
			body.line("%s", f)
		}
	}
	if uf := t.Fields.ForName("url"); m.Name == "Asset" && uf != nil && scRequiredArgs(uf) == "" && uf.Type.Name() == "String" {
		// Derived, so not a content field, but the engine needs it to
		// copy the file itself.
		body.line("# The file's URL, to copy the file into the destination's asset storage.")
		sc.pointerHint(body, uf)
		body.line("url")
	}
	// The draft and the published version select the same content: the
	// engine writes the published version of an entry from what
	// documentInStages holds, so a field it lacks there would be lost.
	locs := sc.otherLocales()
	content := func(w *scWriter, where string) error {
		if err := rs.fields(w, m, m.ContentFields(), []string{m.Name}, where); err != nil {
			return err
		}
		lf := t.Fields.ForName("localizations")
		if len(localized) == 0 || len(locs) == 0 || lf == nil {
			return nil
		}
		var a []string
		if lf.Arguments.ForName("locales") != nil {
			a = append(a, "locales: ["+strings.Join(locs, ", ")+"]")
		}
		if lf.Arguments.ForName("includeCurrent") != nil {
			a = append(a, "includeCurrent: false")
		}
		args := ""
		if len(a) > 0 {
			args = "(" + strings.Join(a, ", ") + ")"
		}
		w.line(`# @genqlient(typename: "%sLocalization")`, m.Name)
		w.open("localizations%s", args)
		w.line("locale")
		if err := rs.fields(w, m, localized, []string{m.Name}, where+".localizations"); err != nil {
			return err
		}
		w.line("updatedAt")
		w.close()
		return nil
	}
	if err := content(body, m.Name); err != nil {
		return nil, err
	}
	if df := t.Fields.ForName("documentInStages"); df != nil && slices.Contains(sc.p.Stages, "PUBLISHED") {
		a := ""
		if df.Arguments.ForName("stages") != nil {
			a = "(stages: [PUBLISHED])"
		}
		body.line(`# @genqlient(typename: "%sInStage")`, m.Name)
		body.open("documentInStages%s", a)
		body.line("id")
		body.line("stage")
		body.line("updatedAt")
		sc.pointerHint(body, t.Fields.ForName("publishedAt"))
		body.line("publishedAt")
		if err := content(body, m.Name); err != nil {
			return nil, err
		}
		body.close()
	}

	w := &scWriter{}
	w.b.WriteString(scFileHeader)
	w.comment(fmt.Sprintf("%s reads one page of %s entries in stage, ordered by id: pass first (the page size, at most "+
		"the stage's maximum) and, after the first page, the id of the last entry read as after. A page with fewer "+
		"than first entries is the last. where narrows the read (e.g. updatedAt_gt for a delta sync); locales, when "+
		"set, chooses the locale of the entry itself.", name, m.Name))
	w.line("#")
	w.comment("Relations and assets are read as ids (to-many relations up to 100 targets), components whole, rich " +
		"text as its AST (the shape the create input takes), localized fields once more per other locale in " +
		"localizations, and the published version in documentInStages with the same fields (empty when the entry " +
		"is not published). createdBy, updatedBy, publishedBy, history and scheduledIn are not read: a copy cannot " +
		"write them.")
	w.line("#")
	w.comment("stagesync syncs what this query selects: remove a field and a sync leaves it alone in the " +
		"destination; remove documentInStages and the publish state is left alone; remove localizations and the " +
		"other locales are. Keep the fields of documentInStages the same as the entry's.")
	if order != "" {
		w.line("#")
		w.comment("Note: " + order + ".")
	}
	if len(rs.skipped) > 0 {
		w.line("#")
		w.comment("Not read, because a copy cannot write them:")
		for _, s := range rs.skipped {
			w.line("#   - %s", s)
		}
	}
	if dirs := sc.inputDirectives(inputs...); len(dirs) > 0 {
		w.line("#")
		w.comment("The where filter's optional fields are pointers (lists slices) omitted when nil, so " +
			"a filter sends only what is set. The directives below say so for every input type it uses.")
		for _, d := range dirs {
			w.line("# %s", d)
		}
	}
	w.operationLine("query", name, vars)
	w.line(`# @genqlient(typename: "%s")`, m.Name)
	w.open("%s(%s)", m.API.List, strings.Join(args, ", "))
	w.b.WriteString(body.b.String())
	w.close()
	w.close()
	return &Operation{Model: m.Name, Kind: OpRead, Name: name, File: file, Text: w.b.String()}, nil
}

// scReadSelection writes the selection of content fields for the read query
// and notes the fields it leaves out.
type scReadSelection struct {
	sc      *scaffolder
	skipped []string
}

// fields writes the selections of fields of owner (a model or component).
// path holds the component types being expanded, to cut cycles; where names
// the position for skip notes, e.g. "Page.sections".
func (rs *scReadSelection) fields(w *scWriter, owner *Model, fields []*Field, path []string, where string) error {
	t := rs.sc.s.Types[owner.Name]
	if t == nil {
		return fmt.Errorf("type %s is not in the schema", owner.Name)
	}
	for _, f := range fields {
		fd := t.Fields.ForName(f.Name)
		if fd == nil {
			return fmt.Errorf("field %s.%s is not in the schema", owner.Name, f.Name)
		}
		at := where + "." + f.Name
		if required := scRequiredArgs(fd); required != "" {
			rs.skip(fmt.Sprintf("%s: it takes required arguments (%s)", at, required))
			continue
		}
		switch f.Kind {
		case KindScalar, KindEnum, KindJSON:
			if def := rs.sc.s.Types[fd.Type.Name()]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
				rs.skip(fmt.Sprintf("%s: type %s is not a plain value", at, fd.Type.Name()))
				continue
			}
			rs.sc.pointerHint(w, fd)
			w.line("%s", f.Name)
		case KindRelation, KindAsset:
			target := fd.Type.Name()
			if tm := rs.sc.p.Model(target); tm != nil && !tm.Writable {
				rs.skip(fmt.Sprintf("%s: it references %s, which cannot be written", at, target))
				continue
			}
			rs.sc.pointerHint(w, fd)
			w.open("%s%s", f.Name, scNestedPage(fd))
			w.line("id")
			w.close()
		case KindUnionRelation:
			members := rs.unionMembers(fd)
			var keep []string
			for _, mem := range members {
				if tm := rs.sc.p.Model(mem); tm == nil || tm.Writable {
					keep = append(keep, mem)
				}
			}
			if len(keep) == 0 {
				rs.skip(fmt.Sprintf("%s: none of its members can be written", at))
				continue
			}
			rs.sc.pointerHint(w, fd)
			w.open("%s%s", f.Name, scNestedPage(fd))
			w.line("__typename")
			for _, mem := range keep {
				w.open("... on %s", mem)
				w.line("id")
				w.close()
			}
			w.close()
		case KindComponent:
			target := fd.Type.Name()
			if slices.Contains(path, target) {
				rs.skip(fmt.Sprintf("%s: component %s contains itself; read it with a separate query", at, target))
				continue
			}
			cm := rs.sc.p.Model(target)
			if cm == nil {
				return fmt.Errorf("field %s: component %s is not in the project", at, target)
			}
			rs.sc.pointerHint(w, fd)
			w.open("%s", f.Name)
			if err := rs.component(w, cm, append(path, target), at); err != nil {
				return err
			}
			w.close()
		case KindUnionComponent:
			var keep []*Model
			for _, mem := range rs.unionMembers(fd) {
				if slices.Contains(path, mem) {
					rs.skip(fmt.Sprintf("%s: member %s contains itself; read it with a separate query", at, mem))
					continue
				}
				cm := rs.sc.p.Model(mem)
				if cm == nil {
					return fmt.Errorf("field %s: component %s is not in the project", at, mem)
				}
				keep = append(keep, cm)
			}
			rs.sc.pointerHint(w, fd)
			w.open("%s", f.Name)
			w.line("__typename")
			for _, cm := range keep {
				w.open("... on %s", cm.Name)
				if err := rs.component(w, cm, append(path, cm.Name), at); err != nil {
					return err
				}
				w.close()
			}
			w.close()
		case KindRichText:
			rs.sc.pointerHint(w, fd)
			w.open("%s", f.Name)
			w.line("raw")
			w.close()
		case KindLocation:
			rs.sc.pointerHint(w, fd)
			w.open("%s", f.Name)
			w.line("latitude")
			w.line("longitude")
			w.close()
		case KindColor:
			rs.sc.pointerHint(w, fd)
			w.open("%s", f.Name)
			w.line("hex")
			w.close()
		default:
			rs.skip(fmt.Sprintf("%s: %s is a system type", at, fd.Type.Name()))
		}
	}
	return nil
}

// skip notes a field left out of the read, once.
func (rs *scReadSelection) skip(note string) {
	if !slices.Contains(rs.skipped, note) {
		rs.skipped = append(rs.skipped, note)
	}
}

// scMaxNestedPage is the most entries a to-many relation is read with: like
// a page, Hygraph returns only a few (10) unless asked for more, and at most
// 100. The sync engine reads relations the same way.
const scMaxNestedPage = 100

// scNestedPage returns the arguments that read every target of a to-many
// relation field, or "" for a to-one relation.
func scNestedPage(fd *ast.FieldDefinition) string {
	if fd.Type.Elem == nil || fd.Arguments.ForName("first") == nil {
		return ""
	}
	return fmt.Sprintf("(first: %d)", scMaxNestedPage)
}

// otherLocales returns the project's locales but the default one.
func (sc *scaffolder) otherLocales() []string {
	if len(sc.p.Locales) < 2 {
		return nil
	}
	return sc.p.Locales[1:]
}

// component writes the selection of one component value: its id and its
// content fields.
func (rs *scReadSelection) component(w *scWriter, cm *Model, path []string, where string) error {
	if t := rs.sc.s.Types[cm.Name]; t != nil && t.Fields.ForName("id") != nil {
		w.line("id")
	}
	return rs.fields(w, cm, cm.ContentFields(), path, where)
}

// unionMembers returns the member types of the union fd holds.
func (rs *scReadSelection) unionMembers(fd *ast.FieldDefinition) []string {
	if u := rs.sc.s.Types[fd.Type.Name()]; u != nil {
		return u.Types
	}
	return nil
}

// pointerHint marks a nullable field so that genqlient generates a pointer
// for it: a null read from one stage then stays null when it is written to
// another, instead of turning into a zero value. Lists (nil vs empty slice)
// and unions (nil interface) need no hint.
func (sc *scaffolder) pointerHint(w *scWriter, fd *ast.FieldDefinition) {
	if fd == nil || fd.Type.NonNull || fd.Type.Elem != nil {
		return
	}
	if d := sc.s.Types[fd.Type.Name()]; d != nil && (d.Kind == ast.Union || d.Kind == ast.Interface) {
		return
	}
	w.line("# @genqlient(pointer: true)")
}

// scRequiredArgs lists the arguments of fd that must be given, or "".
func scRequiredArgs(fd *ast.FieldDefinition) string {
	var names []string
	for _, a := range fd.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			names = append(names, a.Name)
		}
	}
	return strings.Join(names, ", ")
}
