package codegen

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tempModule creates a Go module in a temporary directory that requires
// this repository, replaced by its directory, and everything the
// repository requires (its go.mod requirements and go.sum), so that code
// generated into it builds offline from the module cache.
func tempModule(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod := regexp.MustCompile(`(?m)^module .*$`).ReplaceAllString(string(gomod), "module example.com/gentest")
	mod = regexp.MustCompile(`(?m)^tool \((?s:.*?)\n\)\n|^tool [^\n]*\n`).ReplaceAllString(mod, "")
	path := repo
	if strings.ContainsAny(path, " \t\"") {
		path = strconv.Quote(path)
	}
	mod += "\nrequire github.com/stagesync/stagesync v0.0.0\n\nreplace github.com/stagesync/stagesync => " + path + "\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(repo, "go.sum"), filepath.Join(dir, "go.sum"))
	return dir
}

// goCmd runs the go command in dir, offline, and fails the test with its
// output when it fails.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.CommandContext(t.Context(), goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestGenerateE2E is the typed path end to end. In one temporary module it
// generates up to five packages, then vets them and runs the tests of
// testdata/e2e in each (one `go test` for all, to compile once):
//
//   - synthsocial: Account, Comment and Post of the synthesized social
//     schema (schema/testdata/synth/social.graphql, the content models of
//     the real social fixture); its test (testdata/e2e/social) seeds an
//     emulated source stage, syncs to an emulated destination through the
//     generated typed models only, and checks with stagesync.Compare that
//     the destination equals the source.
//   - social: the same on the real social fixture, only with
//     ../shared/fixtures/hygraph (subtest "hygraph social", skipped or
//     failed without it: see package fixturedir).
//   - kinds: a model with an optional field of every kind
//     (testdata/kinds.yaml); its test proves nulls stay null (and zeros
//     zero, values unchanged) through the typed models.
//   - trimmed: synthsocial again, with city removed by hand from
//     readAccounts.graphql and `go generate` run again (doc.go's line); its
//     test proves the rest syncs and the destination's city is left alone.
//   - variant: a hand-written read query (alias, genqlient's own type
//     name, unusual variables) that the glue must call correctly.
func TestGenerateE2E(t *testing.T) {
	mod := tempModule(t)
	synthSocial := filepath.Join("..", "..", "schema", "testdata", "synth", "social.graphql")
	models := []string{"Account", "Comment", "Post"}
	// pkg makes package name of mod with schemaSrc as its schema and the test
	// of testdata/e2e/<test> (package <test>) as a test of package name.
	pkg := func(t *testing.T, name, test, schemaSrc string) (dir, schemaPath string) {
		dir = filepath.Join(mod, name)
		schemaPath = filepath.Join(dir, "schema.graphql")
		copyFile(t, schemaSrc, schemaPath)
		for _, f := range []string{"sync_test.go"} {
			b, err := os.ReadFile(filepath.Join("testdata", "e2e", test, f))
			if err != nil {
				t.Fatal(err)
			}
			src := strings.Replace(string(b), "\npackage "+test+"\n", "\npackage "+name+"\n", 1)
			if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir, schemaPath
	}
	// generateTwice generates package name from schemaSrc with the test of
	// testdata/e2e/social; the second run changes nothing.
	generateTwice := func(t *testing.T, name, schemaSrc string) {
		dir, schemaPath := pkg(t, name, "social", schemaSrc)
		opts := Options{SchemaPath: schemaPath, Models: models, OutDir: dir}
		if _, err := Generate(opts); err != nil {
			t.Fatal(err)
		}
		before := readTree(t, dir)
		if res, err := Generate(opts); err != nil {
			t.Fatal(err)
		} else if len(res.Written) > 0 || len(res.Scaffolded) > 0 {
			t.Errorf("second run wrote %q, scaffolded %q", res.Written, res.Scaffolded)
		}
		for file, b := range readTree(t, dir) {
			if before[file] != b {
				t.Errorf("%s/%s changed on the second run", name, file)
			}
		}
	}

	generateTwice(t, "synthsocial", synthSocial)
	t.Run("hygraph social", func(t *testing.T) {
		generateTwice(t, "social", fixture(t, "social"))
	})

	// kinds.
	dir, schemaPath := pkg(t, "kinds", "kinds", synthesized(t, "kinds.yaml"))
	if _, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Thing"}, OutDir: dir}); err != nil {
		t.Fatal(err)
	}

	// trimmed: generate, remove city from the read query, go generate.
	dir, schemaPath = pkg(t, "trimmed", "trimmed", synthSocial)
	if _, err := Generate(Options{SchemaPath: schemaPath, Models: models, OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	read := filepath.Join(dir, QueriesDir, "readAccounts.graphql")
	b, err := os.ReadFile(read)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := trimField(string(b), "city")
	if strings.Count(string(b), "city\n")-strings.Count(trimmed, "city\n") != 2 {
		t.Fatalf("city not removed from the draft and the published version:\n%s", trimmed)
	}
	if err := os.WriteFile(read, []byte(trimmed), 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd(t, mod, "generate", "./trimmed")
	if b, _ := os.ReadFile(read); string(b) != trimmed {
		t.Error("go generate overwrote the hand-trimmed query")
	}

	// variant.
	dir, schemaPath = pkg(t, "variant", "variant", synthesized(t, "hotel.yaml"))
	copyFile(t, filepath.Join("testdata", "variant", "readHotels.graphql"), filepath.Join(dir, QueriesDir, "readHotels.graphql"))
	if _, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir}); err != nil {
		t.Fatal(err)
	}

	goCmd(t, mod, "vet", "./...")
	out := goCmd(t, mod, "test", "-count=1", "./...")
	t.Logf("go test in the generated module:\n%s", out)
}
