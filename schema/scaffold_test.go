package schema

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Khan/genqlient/generate"
	"github.com/stagesync/stagesync/internal/fixturedir"
	"github.com/vektah/gqlparser/v2/ast"
)

// scaffoldFixtures are the real Hygraph schemas of ../shared/fixtures/hygraph
// the tests run on when that folder is there.
var scaffoldFixtures = []string{"blog", "pages-components", "social"}

// scaffoldSynth are the synthesized schemas of testdata/synth the tests
// always run on: blog and pages-components have the shape of the fixtures
// of the same name, social the content models of the social fixture,
// kitchensink every field kind.
var scaffoldSynth = []string{"blog", "pages-components", "social", "kitchensink"}

// scaffoldSchema is one schema the tests scaffold from.
type scaffoldSchema struct {
	name string // also the Go package name in the codegen test
	sdl  string
	s    *ast.Schema
	p    *Project
}

// loadScaffoldFixture loads and discovers a real fixture schema; its name
// (a Go package name) is "hygraph" and the fixture's. Without the fixtures,
// t is skipped (see package fixturedir).
func loadScaffoldFixture(t *testing.T, name string) scaffoldSchema {
	t.Helper()
	b, err := os.ReadFile(fixturedir.Path(t, name+".graphql"))
	if err != nil {
		t.Fatal(err)
	}
	return discoverScaffoldSchema(t, "hygraph"+strings.ReplaceAll(name, "-", ""), string(b))
}

// loadScaffoldSynth loads and discovers testdata/synth/<name>.graphql; its
// name (a Go package name) is the file's without dashes.
func loadScaffoldSynth(t *testing.T, name string) scaffoldSchema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "synth", name+".graphql"))
	if err != nil {
		t.Fatal(err)
	}
	return discoverScaffoldSchema(t, strings.ReplaceAll(name, "-", ""), string(b))
}

// loadScaffoldHotels synthesizes testdata/scaffold/hotels.yaml, a model
// with what the fixtures lack: locales, union relations, modular and nested
// components, location, color and JSON fields.
func loadScaffoldHotels(t *testing.T) scaffoldSchema {
	t.Helper()
	desc, err := os.ReadFile(filepath.Join("testdata", "scaffold", "hotels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := SynthesizeDescription(desc)
	if err != nil {
		t.Fatal(err)
	}
	return discoverScaffoldSchema(t, "hotels", sdl)
}

func discoverScaffoldSchema(t *testing.T, name, sdl string) scaffoldSchema {
	t.Helper()
	s, err := LoadString(name, sdl)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	p, err := Discover(s)
	if err != nil {
		t.Fatalf("discover %s: %v", name, err)
	}
	return scaffoldSchema{name: name, sdl: sdl, s: s, p: p}
}

// allScaffoldSchemas returns the synthesized schemas, the synthesized hotels
// model and, when ../shared/fixtures/hygraph is there, every real fixture.
// The fixtures are loaded in a subtest "hygraph fixtures", skipped (or failed,
// see package fixturedir) without them, so that t goes on with the others.
func allScaffoldSchemas(t *testing.T) []scaffoldSchema {
	t.Helper()
	var out []scaffoldSchema
	for _, name := range scaffoldSynth {
		out = append(out, loadScaffoldSynth(t, name))
	}
	out = append(out, loadScaffoldHotels(t))
	t.Run("hygraph fixtures", func(t *testing.T) {
		for _, fx := range scaffoldFixtures {
			out = append(out, loadScaffoldFixture(t, fx))
		}
	})
	return out
}

// writableModels lists the names of the models Scaffold accepts.
func writableModels(p *Project) []string {
	var names []string
	for _, m := range p.Models {
		if m.Writable && !m.Component {
			names = append(names, m.Name)
		}
	}
	return names
}

func TestScaffoldGolden(t *testing.T) {
	fx := loadScaffoldFixture(t, "blog")
	s, p := fx.s, fx.p
	cases := []struct {
		name   string
		models []string
		kinds  []OperationKind
	}{
		{"Post", []string{"Post"}, nil},
		{"Tag", []string{"Tag"}, nil},
		{"Project", []string{"Project"}, []OperationKind{OpRead, OpUpsert, OpPublishMany}},
		{"Asset", []string{"Asset"}, []OperationKind{OpRead, OpCreate}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := Scaffold(s, p, tc.models, ScaffoldOptions{Kinds: tc.kinds})
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) == 0 {
				t.Fatal("no operations")
			}
			dir := filepath.Join("testdata", "scaffold", "blog")
			for _, op := range ops {
				golden := filepath.Join(dir, op.File)
				if updateGolden() {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(op.Text), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./schema -run ScaffoldGolden -update)", err)
				}
				if string(want) != op.Text {
					t.Errorf("%s differs from %s (run with -update to accept):\n%s", op.File, golden, op.Text)
				}
			}
		})
	}
}

func TestScaffoldNames(t *testing.T) {
	fx := loadScaffoldSynth(t, "blog")
	s, p := fx.s, fx.p
	ops, err := Scaffold(s, p, []string{"Post"}, ScaffoldOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range ops {
		if op.Model != "Post" {
			t.Errorf("%s: model %q", op.File, op.Model)
		}
		got = append(got, string(op.Kind)+" "+op.Name+" "+op.File)
	}
	want := []string{
		"read ReadPosts readPosts.graphql",
		"upsert UpsertPost upsertPost.graphql",
		"create CreatePost createPost.graphql",
		"update UpdatePost updatePost.graphql",
		"publish PublishPost publishPost.graphql",
		"publishMany PublishManyPosts publishManyPosts.graphql",
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations:\n got %q\nwant %q", got, want)
	}
}

// TestScaffoldEveryModel scaffolds every writable model of every fixture;
// Scaffold validates each operation against the schema before returning it.
func TestScaffoldEveryModel(t *testing.T) {
	for _, sch := range allScaffoldSchemas(t) {
		t.Run(sch.name, func(t *testing.T) {
			models := writableModels(sch.p)
			if len(models) == 0 {
				t.Fatal("no writable models")
			}
			for _, name := range models {
				t.Run(name, func(t *testing.T) {
					ops, err := Scaffold(sch.s, sch.p, []string{name}, ScaffoldOptions{})
					if err != nil {
						t.Fatal(err)
					}
					kinds := map[OperationKind]bool{}
					for _, op := range ops {
						kinds[op.Kind] = true
						if err := scValidateOperation(sch.s, &op); err != nil {
							t.Error(err)
						}
					}
					m := sch.p.Model(name)
					for kind, root := range map[OperationKind]string{
						OpRead: m.API.List, OpCreate: m.API.Create, OpUpdate: m.API.Update,
						OpUpsert: m.API.Upsert, OpPublish: m.API.Publish, OpPublishMany: m.API.PublishMany,
					} {
						if root != "" && !kinds[kind] {
							t.Errorf("schema has %s but no %s operation", root, kind)
						}
					}
				})
			}
		})
	}
}

func TestScaffoldReadSelections(t *testing.T) {
	cases := []struct {
		schema func(*testing.T) scaffoldSchema
		model  string
		want   []string // substrings of the read query
		absent []string // substrings it must not have
	}{
		{func(t *testing.T) scaffoldSchema { return loadScaffoldFixture(t, "blog") }, "Post", []string{
			"$first: Int!", "$after: String", "$stage: Stage!", "$locales: [Locale!]", "$where: PostWhereInput",
			"orderBy: id_ASC", "tags(first: 100) {\n      id\n    }", "image {\n      id\n    }",
			"# @genqlient(pointer: true)\n    publishedAt\n",
			"documentInStages(stages: [PUBLISHED])", `typename: "Post"`, `typename: "PostInStage"`,
			// The published version is read with the same content fields.
			"documentInStages(stages: [PUBLISHED]) {\n      id\n      stage\n      updatedAt\n" +
				"      # @genqlient(pointer: true)\n      publishedAt\n      content\n",
			"      tags(first: 100) {\n        id\n      }\n      title\n    }\n  }\n}\n",
		}, []string{"localizations("}},
		{func(t *testing.T) scaffoldSchema { return loadScaffoldFixture(t, "blog") }, "Asset", []string{
			"\n    url\n", "\n    handle\n", "\n    locale\n", "imagePost(first: 100) {",
		}, []string{
			// One locale: there are no other localizations to read.
			"localizations(",
		}},
		{func(t *testing.T) scaffoldSchema { return loadScaffoldFixture(t, "pages-components") }, "PageHome", []string{
			"introContent {\n      raw\n    }", "experience {\n      id\n", `typename: "PageHome"`,
			"      introContent {\n        raw\n      }",
		}, nil},
		{loadScaffoldHotels, "Hotel", []string{
			"related(first: 100) {\n      __typename\n      ... on Destination {\n        id\n      }\n      ... on Review {\n        id\n      }",
			"blocks {\n      __typename\n      ... on Address {\n        id\n        street\n",
			"... on Gallery {", "caption {\n          raw\n        }", "photos(first: 100) {\n          id\n",
			"location {\n        latitude\n        longitude\n      }",
			"color {\n      hex\n    }", "\n    extra\n", "\n    rating\n",
			"menu {\n      id\n      label\n", "gallery {\n        id\n",
			`typename: "HotelLocalization"`,
			"\n    localizations(locales: [de], includeCurrent: false) {\n      locale\n      # @genqlient(pointer: true)\n      description\n",
			"\n    locale\n",
			// The published version's localizations, with the same type.
			"\n      # @genqlient(typename: \"HotelLocalization\")\n      localizations(locales: [de], includeCurrent: false) {\n        locale\n",
			"\n      color {\n        hex\n      }",
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			sch := tc.schema(t)
			ops, err := Scaffold(sch.s, sch.p, []string{tc.model}, ScaffoldOptions{Kinds: []OperationKind{OpRead}})
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			for _, w := range tc.want {
				if !strings.Contains(ops[0].Text, w) {
					t.Errorf("%s lacks %q", ops[0].File, w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(ops[0].Text, a) {
					t.Errorf("%s has %q", ops[0].File, a)
				}
			}
			for _, bad := range []string{"createdBy", "updatedBy", "publishedBy", "history", "scheduledIn"} {
				if regexp.MustCompile(`(?m)^\s+` + bad + `\b`).MatchString(ops[0].Text) {
					t.Errorf("%s selects %s", ops[0].File, bad)
				}
			}
		})
	}
}

func TestScaffoldErrors(t *testing.T) {
	fx := loadScaffoldSynth(t, "blog")
	s, p := fx.s, fx.p
	cases := []struct {
		name   string
		models []string
		opts   ScaffoldOptions
		want   []string
	}{
		{"unknown model", []string{"Nope"}, ScaffoldOptions{}, []string{`"Nope"`, "writable models:", "Post", "Tag", "Project", "Asset"}},
		{"read-only model", []string{"User"}, ScaffoldOptions{}, []string{"not writable", "Post"}},
		{"unknown kind", []string{"Post"}, ScaffoldOptions{Kinds: []OperationKind{"delete"}}, []string{`"delete"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Scaffold(s, p, tc.models, tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestScaffoldValidationError(t *testing.T) {
	s := loadScaffoldSynth(t, "blog").s
	op := &Operation{Model: "Post", File: "readPosts.graphql", Text: "query ReadPosts { posts { nope } }"}
	err := scValidateOperation(s, op)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"model Post", "readPosts.graphql", "nope"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestWriteScaffoldNeverOverwrites(t *testing.T) {
	fx := loadScaffoldSynth(t, "blog")
	s, p := fx.s, fx.p
	ops, err := Scaffold(s, p, []string{"Tag"}, ScaffoldOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ops")
	written, skipped, err := WriteScaffold(dir, ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(ops) || len(skipped) != 0 {
		t.Fatalf("first run: written %d skipped %d, want %d and 0", len(written), len(skipped), len(ops))
	}
	edited := filepath.Join(dir, ops[0].File)
	if err := os.WriteFile(edited, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, skipped, err = WriteScaffold(dir, ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 0 || len(skipped) != len(ops) {
		t.Fatalf("second run: written %v skipped %v", written, skipped)
	}
	if b, _ := os.ReadFile(edited); string(b) != "# mine\n" {
		t.Errorf("hand-edited file overwritten: %q", b)
	}
}

// TestScaffoldCodegen runs genqlient over the operations of every writable
// model of each fixture (one Go package per fixture, so models that
// reference each other share a package) and builds and vets the result.
func TestScaffoldCodegen(t *testing.T) {
	if testing.Short() {
		t.Skip("runs genqlient and go build")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	if err := os.MkdirAll(filepath.Join("testdata", "scaffold"), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp(filepath.Join("testdata", "scaffold"), "gen-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })

	var pkgs []string
	for _, sch := range allScaffoldSchemas(t) {
		fx, p := sch.name, sch.p
		dir := filepath.Join(root, sch.name)
		ops, err := Scaffold(sch.s, sch.p, nil, ScaffoldOptions{})
		if err != nil {
			t.Fatalf("%s: %v", fx, err)
		}
		if _, skipped, err := WriteScaffold(dir, ops); err != nil || len(skipped) > 0 {
			t.Fatalf("%s: write: %v (skipped %v)", fx, err, skipped)
		}
		// .graphqls, so that the operations glob does not take it in.
		abs, err := filepath.Abs(filepath.Join(dir, "schema.graphqls"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(sch.sdl), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := &generate.Config{
			Schema:     generate.StringList{abs},
			Operations: generate.StringList{"*.graphql"},
			Generated:  "generated.go",
			Package:    sch.name,
			Bindings:   map[string]*generate.TypeBinding{},
		}
		for scalar, goType := range DefaultGenqlientBindings() {
			cfg.Bindings[scalar] = &generate.TypeBinding{Type: goType}
		}
		absDir, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.ValidateAndFillDefaults(absDir); err != nil {
			t.Fatalf("%s: genqlient config: %v", fx, err)
		}
		files, err := generate.Generate(cfg)
		if err != nil {
			t.Fatalf("%s: genqlient: %v", fx, err)
		}
		for name, content := range files {
			if err := os.WriteFile(name, content, 0o644); err != nil {
				t.Fatal(err)
			}
			src := string(content)
			// Short, stable type names: the entry type is the model name
			// and every mutation returns <Model>Ref.
			for _, m := range writableModels(p) {
				model := p.Model(m)
				if model.API.List != "" && !strings.Contains(src, "\ntype "+m+" struct") {
					t.Errorf("%s: no type %s in generated code", fx, m)
				}
				if model.API.Create != "" && !strings.Contains(src, "\ntype "+m+"Ref struct") {
					t.Errorf("%s: no type %sRef in generated code", fx, m)
				}
			}
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(dir))
	}

	// The generated blog package (of the synthesized blog, with the real
	// one's content model) must also carry values through JSON as the
	// null-handling directives promise.
	blogDir := filepath.Join(root, "blog")
	if err := os.WriteFile(filepath.Join(blogDir, "roundtrip_test.go"), []byte(scaffoldRoundTripTest), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"build"}, {"vet"}, {"test", "-count=1"}} {
		cmd := exec.CommandContext(t.Context(), goTool, append(args, pkgs...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s %s: %v\n%s", args[0], strings.Join(pkgs, " "), err, out)
		}
	}
}

// scaffoldRoundTripTest runs inside the package generated for blog.graphql.
const scaffoldRoundTripTest = `package blog

import (
	"encoding/json"
	"testing"
)

func TestNullHandling(t *testing.T) {
	title := ""
	for _, tc := range []struct {
		v    any
		want string
	}{
		// Unset optional input fields are left out, set ones sent even when zero.
		{PostUpdateInput{Title: &title}, ` + "`" + `{"title":""}` + "`" + `},
		{PostUpdateInput{}, ` + "`" + `{}` + "`" + `},
		{PostWhereInput{Id_in: []string{"a"}}, ` + "`" + `{"id_in":["a"]}` + "`" + `},
		// Optional variables too.
		{__ReadPostsInput{First: 100, Stage: StageDraft}, ` + "`" + `{"first":100,"stage":"DRAFT"}` + "`" + `},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil || string(b) != tc.want {
			t.Errorf("%T: %s, %v; want %s", tc.v, b, err, tc.want)
		}
	}

	// A null read stays nil; a zero read stays zero.
	var a Asset
	if err := json.Unmarshal([]byte(` + "`" + `{"id":"x","height":null,"width":0,"publishedAt":null}` + "`" + `), &a); err != nil {
		t.Fatal(err)
	}
	if a.Height != nil || a.Width == nil || *a.Width != 0 || a.PublishedAt != nil {
		t.Errorf("asset %+v", a)
	}
}
`

func ExampleScaffold() {
	sdl, err := SynthesizeDescription([]byte(`
models:
  Hotel:
    name: String! unique
`))
	if err != nil {
		panic(err)
	}
	s, err := LoadString("hotels.graphql", sdl)
	if err != nil {
		panic(err)
	}
	p, err := Discover(s)
	if err != nil {
		panic(err)
	}
	ops, err := Scaffold(s, p, []string{"Hotel"}, ScaffoldOptions{})
	if err != nil {
		panic(err)
	}
	for _, op := range ops {
		fmt.Println(op.File, op.Name)
	}
	// Then: written, skipped, err := WriteScaffold("graphql", ops)

	// Output:
	// readHotels.graphql ReadHotels
	// upsertHotel.graphql UpsertHotel
	// createHotel.graphql CreateHotel
	// updateHotel.graphql UpdateHotel
	// publishHotel.graphql PublishHotel
	// publishManyHotels.graphql PublishManyHotels
}
