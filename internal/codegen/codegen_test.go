package codegen

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/internal/fixturedir"
	"github.com/stagesync/stagesync/schema"
)

// update rewrites the golden files under testdata/ instead of comparing:
// go test ./internal/codegen -run Golden -update
var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// fixture returns the absolute path of a real Hygraph schema of
// ../shared/fixtures/hygraph, skipping t without it (see package fixturedir).
func fixture(t *testing.T, name string) string {
	t.Helper()
	return fixturedir.Path(t, name+".graphql")
}

// plainModule makes dir a module with no requirements, so that genqlient's
// package lookup in it succeeds quietly.
func plainModule(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/gen\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// packageDir returns a fresh package directory in a plain module, with the
// schema at schemaSrc copied to schema.graphql in it.
func packageDir(t *testing.T, name, schemaSrc string) (dir, schemaPath string) {
	t.Helper()
	root := t.TempDir()
	plainModule(t, root)
	dir = filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(schemaSrc)
	if err != nil {
		t.Fatal(err)
	}
	schemaPath = filepath.Join(dir, "schema.graphql")
	if err := os.WriteFile(schemaPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, schemaPath
}

// synthesized writes the SDL of a description under testdata/ to a file in
// a temporary directory and returns its path.
func synthesized(t *testing.T, desc string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", desc))
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(b)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), strings.TrimSuffix(desc, ".yaml")+".graphql")
	if err := os.WriteFile(path, []byte(sdl), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readTree returns every file under dir, by slash path relative to it.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/codegen -run Golden -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (run with -update to accept):\n%s", name, path, got)
	}
}

// TestGenerateGolden generates the social fixture's Account, Comment and
// Post and compares the glue, doc.go and the config with golden files.
func TestGenerateGolden(t *testing.T) {
	dir, schemaPath := packageDir(t, "social", fixture(t, "social"))
	res, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Account", " Comment", "Post"}, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scaffolded) != 18 || len(res.Kept) != 0 {
		t.Errorf("scaffolded %d, kept %d; want 18 and 0", len(res.Scaffolded), len(res.Kept))
	}
	var got []string
	for _, m := range res.Models {
		got = append(got, strings.Join([]string{m.Model, m.Func, m.Operation, m.File, m.Type}, " "))
	}
	want := []string{
		"Account AccountModel ReadAccounts queries/readAccounts.graphql Account",
		"Comment CommentModel ReadComments queries/readComments.graphql Comment",
		"Post PostModel ReadPosts queries/readPosts.graphql Post",
	}
	if !slices.Equal(got, want) {
		t.Errorf("models:\n got %q\nwant %q", got, want)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %q", res.Warnings)
	}
	tree := readTree(t, dir)
	for _, f := range []string{GlueFile, DocFile, ConfigFile} {
		golden(t, "social/"+f+".golden", tree[f])
	}
	if !strings.Contains(tree["generated.go"], "\ntype Account struct {") {
		t.Error("generated.go has no type Account")
	}
}

// TestGenerateTwiceIsIdentical runs Generate twice: the second run writes
// nothing new and leaves every byte as it was.
func TestGenerateTwiceIsIdentical(t *testing.T) {
	dir, schemaPath := packageDir(t, "hotels", synthesized(t, "hotel.yaml"))
	opts := Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir}
	if _, err := Generate(opts); err != nil {
		t.Fatal(err)
	}
	before := readTree(t, dir)
	generated := filepath.Join(dir, "generated.go")
	old, err := os.Stat(generated)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	// genqlient rewrote generated.go with the same bytes; it keeps its time,
	// as a file left alone.
	if now, err := os.Stat(generated); err != nil || !now.ModTime().Equal(old.ModTime()) {
		t.Errorf("generated.go's time changed on the second run: %v", err)
	}
	if len(res.Written) != 0 || len(res.Scaffolded) != 0 || len(res.Kept) != 6 {
		t.Errorf("second run: written %q, scaffolded %q, kept %d", res.Written, res.Scaffolded, len(res.Kept))
	}
	after := readTree(t, dir)
	for name, b := range before {
		if after[name] != b {
			t.Errorf("%s changed on the second run", name)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d files after the second run, %d before", len(after), len(before))
	}
}

// TestGenerateTrimmedQuery removes a field from the scaffolded read query:
// the next run keeps the file and the entry type loses the field.
func TestGenerateTrimmedQuery(t *testing.T) {
	dir, schemaPath := packageDir(t, "hotels", synthesized(t, "hotel.yaml"))
	opts := Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir}
	if _, err := Generate(opts); err != nil {
		t.Fatal(err)
	}
	read := filepath.Join(dir, QueriesDir, "readHotels.graphql")
	b, err := os.ReadFile(read)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := trimField(string(b), "stars")
	if trimmed == string(b) {
		t.Fatal("stars not found in the read query")
	}
	if err := os.WriteFile(read, []byte(trimmed), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(read); string(got) != trimmed {
		t.Error("the hand-trimmed query was overwritten")
	}
	gen, err := os.ReadFile(filepath.Join(dir, "generated.go"))
	if err != nil {
		t.Fatal(err)
	}
	hotel := regexp.MustCompile(`(?s)\ntype Hotel struct \{.*?\n\}`).FindString(string(gen))
	if hotel == "" || strings.Contains(hotel, "Stars") {
		t.Errorf("type Hotel after trimming:\n%s", hotel)
	}
	if !slices.Contains(res.Written, filepath.Join(dir, "generated.go")) {
		t.Errorf("generated.go not rewritten: %q", res.Written)
	}
}

// trimField removes every selection of a scalar field (and the genqlient
// directive above it) from an operation's text.
func trimField(text, field string) string {
	re := regexp.MustCompile(`(?m)^( *# @genqlient\(pointer: true\)\n)? *` + regexp.QuoteMeta(field) + `\n`)
	return re.ReplaceAllString(text, "")
}

// TestGenerateHandWrittenRead checks the glue of a hand-written read query:
// an alias, genqlient's own entry type name, a pointer stage, a non-pointer
// after and optional variables left unset.
func TestGenerateHandWrittenRead(t *testing.T) {
	dir, schemaPath := packageDir(t, "variant", synthesized(t, "hotel.yaml"))
	copyFile(t, filepath.Join("testdata", "variant", "readHotels.graphql"), filepath.Join(dir, QueriesDir, "readHotels.graphql"))
	res, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Models) != 1 || res.Models[0].Type != "ReadHotelsItemsHotel" {
		t.Fatalf("models: %+v", res.Models)
	}
	glue, err := os.ReadFile(filepath.Join(dir, GlueFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"func HotelModel(transform func(ctx context.Context, entry *ReadHotelsItemsHotel) error) stagesync.TypedModel[ReadHotelsItemsHotel] {",
		"var cursor string\n\t\t\tif after != nil {\n\t\t\t\tcursor = *after\n\t\t\t}\n",
		"stage := StageDraft\n",
		"resp, err := ReadHotels(ctx, c, &first, cursor, &stage, *new(int), nil)\n",
		"return resp.Items, nil\n",
	} {
		if !strings.Contains(string(glue), want) {
			t.Errorf("glue lacks %q:\n%s", want, glue)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGenerateReadQueryChecks covers read queries the glue refuses or
// warns about; each error names the model and the file.
func TestGenerateReadQueryChecks(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string // operation files besides the scaffolded ones
		err     []string          // substrings of the error
		warning string            // substring of a warning
	}{
		{
			name: "required variable",
			files: map[string]string{"readHotels.graphql": "query ReadHotels($first: Int!, $after: String, $where: HotelWhereInput!) {\n" +
				"  hotels(first: $first, after: $after, where: $where, stage: DRAFT, orderBy: id_ASC) { id }\n}\n"},
			err: []string{"model Hotel", "queries/readHotels.graphql", "$where is required"},
		},
		{
			name:  "no id",
			files: map[string]string{"readHotels.graphql": "query ReadHotels($first: Int!, $after: String) {\n  hotels(first: $first, after: $after, stage: DRAFT, orderBy: id_ASC) { name }\n}\n"},
			err:   []string{"model Hotel", "queries/readHotels.graphql", "does not select id"},
		},
		{
			name:  "two read queries",
			files: map[string]string{"allHotels.graphql": "query AllHotels($first: Int!, $after: String) {\n  hotels(first: $first, after: $after, stage: DRAFT, orderBy: id_ASC) { id }\n}\n"},
			err:   []string{"model Hotel has two read queries", "queries/allHotels.graphql", "queries/readHotels.graphql"},
		},
		{
			name: "optional variable sent as zero",
			files: map[string]string{"readHotels.graphql": "query ReadHotels($first: Int!, $after: String, $skip: Int) {\n" +
				"  hotels(first: $first, after: $after, skip: $skip, stage: DRAFT, orderBy: id_ASC) { id }\n}\n"},
			err: []string{"model Hotel", "$skip is optional", "pointer: true, omitempty: true"},
		},
		{
			name: "null for a non-null argument",
			files: map[string]string{"readHotels.graphql": "query ReadHotels($first: Int!, $after: String, $locales: [Locale!]) {\n" +
				"  hotels(first: $first, after: $after, locales: $locales, stage: DRAFT, orderBy: id_ASC) { id }\n}\n"},
			err: []string{"model Hotel", "$locales would be sent as null", "argument locales of hotels", "omitempty: true"},
		},
		{
			name:    "unordered",
			files:   map[string]string{"readHotels.graphql": "query ReadHotels($first: Int!, $after: String) {\n  hotels(first: $first, after: $after, stage: DRAFT) { id }\n}\n"},
			warning: "queries/readHotels.graphql: ReadHotels does not order by id_ASC",
		},
		{
			name:    "published stage",
			files:   map[string]string{"readHotels.graphql": "query ReadHotels($first: Int!, $after: String) {\n  hotels(first: $first, after: $after, orderBy: id_ASC) { id }\n}\n"},
			warning: "ReadHotels sets no stage",
		},
		{
			name:    "no cursor",
			files:   map[string]string{"readHotels.graphql": "query ReadHotels($first: Int!) {\n  hotels(first: $first, stage: DRAFT, orderBy: id_ASC) { id }\n}\n"},
			warning: "not with $first and $after variables",
		},
	}
	hotel := synthesized(t, "hotel.yaml")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, schemaPath := packageDir(t, "hotels", hotel)
			for name, text := range tc.files {
				path := filepath.Join(dir, QueriesDir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir})
			if len(tc.err) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				// genqlient had written generated.go: it is taken back.
				if _, err := os.Stat(filepath.Join(dir, "generated.go")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("generated.go left behind by a failed run (stat: %v)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
				t.Errorf("warnings %q lack %q", res.Warnings, tc.warning)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	hotel := synthesized(t, "hotel.yaml")
	cases := []struct {
		name string
		opts func(dir, schemaPath string) Options
		want []string
	}{
		{"no schema", func(dir, _ string) Options { return Options{OutDir: dir} }, []string{"no schema"}},
		{"no out", func(_, s string) Options { return Options{SchemaPath: s} }, []string{"no output directory"}},
		{"missing schema", func(dir, _ string) Options {
			return Options{SchemaPath: filepath.Join(dir, "nope.graphql"), OutDir: dir}
		}, []string{"nope.graphql"}},
		{"unknown model", func(dir, s string) Options {
			return Options{SchemaPath: s, Models: []string{"Hotel", "Nope"}, OutDir: dir}
		}, []string{`"Nope"`, "Hotel"}},
		{"bad package", func(dir, s string) Options {
			return Options{SchemaPath: s, Models: []string{"Hotel"}, OutDir: dir, Package: "not-a-name"}
		}, []string{`"not-a-name"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, schemaPath := packageDir(t, "hotels", hotel)
			_, err := Generate(tc.opts(dir, schemaPath))
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

// TestGenerateOutsideModule generates into a directory in no module:
// genqlient cannot look the package up, and its warning is Generate's.
func TestGenerateOutsideModule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hotels")
	schemaPath := filepath.Join(dir, "schema.graphql")
	copyFile(t, synthesized(t, "hotel.yaml"), schemaPath)
	res, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "genqlient: unable to identify current package-path")
	}) {
		t.Errorf("warnings %q lack genqlient's", res.Warnings)
	}
	if glue, _ := os.ReadFile(filepath.Join(dir, GlueFile)); !strings.Contains(string(glue), "\npackage hotels\n") {
		t.Errorf("glue:\n%s", glue)
	}
}

// TestGenerateConfig checks who owns genqlient.yaml: Generate rewrites the
// default config while its first line says so, and only reads a config
// without that line or one given by ConfigPath.
func TestGenerateConfig(t *testing.T) {
	hotel := synthesized(t, "hotel.yaml")

	t.Run("default is rewritten", func(t *testing.T) {
		dir, schemaPath := packageDir(t, "hotels", hotel)
		opts := Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir}
		if _, err := Generate(opts); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, ConfigFile)
		b, _ := os.ReadFile(cfg)
		if !strings.HasPrefix(string(b), configMarker+"\n") || !strings.Contains(string(b), "package: hotels\n") {
			t.Fatalf("config:\n%s", b)
		}
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "package: hotels", "package: other", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		// A new package name: the package's files say so (genqlient warns
		// when they do not).
		for _, f := range []string{"generated.go", GlueFile, DocFile} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "renamed.go"), []byte("package renamed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		opts.Package = "renamed"
		t.Chdir(dir) // where genqlient looks the package up, as under go generate
		res, err := Generate(opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = os.ReadFile(cfg)
		if !strings.Contains(string(b), "package: renamed\n") || !slices.Contains(res.Written, cfg) {
			t.Errorf("config not rewritten:\n%s", b)
		}
		glue, _ := os.ReadFile(filepath.Join(dir, GlueFile))
		if !strings.Contains(string(glue), "\npackage renamed\n") {
			t.Errorf("glue not in package renamed:\n%s", glue)
		}
	})

	t.Run("without the marker it is the user's", func(t *testing.T) {
		dir, schemaPath := packageDir(t, "hotels", hotel)
		opts := Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir}
		if _, err := Generate(opts); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, ConfigFile)
		b, _ := os.ReadFile(cfg)
		mine := strings.Replace(strings.TrimPrefix(string(b), configMarker+"\n"), "generated: generated.go", "generated: ops_gen.go", 1)
		if err := os.WriteFile(cfg, []byte(mine), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(opts); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(cfg); string(b) != mine {
			t.Error("hand-edited config rewritten")
		}
		if _, err := os.Stat(filepath.Join(dir, "ops_gen.go")); err != nil {
			t.Errorf("the hand-edited config was not used: %v", err)
		}
	})

	t.Run("explicit config", func(t *testing.T) {
		dir, schemaPath := packageDir(t, "hotels", hotel)
		root := filepath.Dir(dir)
		cfg := filepath.Join(root, "genqlient.yaml")
		opts := Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir, ConfigPath: cfg}
		if _, err := Generate(opts); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(cfg)
		for _, want := range []string{"schema: hotels/schema.graphql\n", "  - hotels/queries/*.graphql\n", "generated: hotels/generated.go\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("config lacks %q:\n%s", want, b)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
			t.Error("a default config was written beside the explicit one")
		}
		doc, _ := os.ReadFile(filepath.Join(dir, DocFile))
		if !strings.Contains(string(doc), "//go:generate "+GenerateCommand+" --config ../genqlient.yaml --schema schema.graphql --models Hotel --out .\n") {
			t.Errorf("doc.go:\n%s", doc)
		}
		// Once written, it is the user's: a second run only reads it.
		if err := os.WriteFile(cfg, append(b, []byte("# mine\n")...), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(opts); err != nil {
			t.Fatal(err)
		}
		if b2, _ := os.ReadFile(cfg); !strings.HasSuffix(string(b2), "# mine\n") {
			t.Error("explicit config rewritten")
		}
	})
}

// TestGenerateDocumentedPackage generates into a package that has its own
// doc comment: doc.go then carries only the //go:generate line.
func TestGenerateDocumentedPackage(t *testing.T) {
	dir, schemaPath := packageDir(t, "hotels", synthesized(t, "hotel.yaml"))
	main := "// Command hotels syncs hotels.\npackage main\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	// genqlient looks the package up from the working directory, as when
	// go generate runs it in the package.
	t.Chdir(dir)
	if _, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, DocFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "package main\n\n" +
		"// The typed operations and typed models of this package are generated from the\n" +
		"// files in queries/: after editing one, run go generate.\n" +
		"//\n" +
		"//go:generate " + GenerateCommand + " --schema schema.graphql --models Hotel --out .\n"
	if string(doc) != want {
		t.Errorf("doc.go:\n%s\nwant:\n%s", doc, want)
	}
}
