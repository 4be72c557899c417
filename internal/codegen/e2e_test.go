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
// generates four packages, then vets them and runs the tests of
// testdata/e2e in each (one `go test` for all, to compile once):
//
//   - social: Account, Comment and Post of the real social fixture (only
//     with ../shared/fixtures/hygraph: subtest "hygraph social" finds it); its
//     test seeds an emulated source stage, syncs to an emulated destination
//     through the generated typed models only, and checks with
//     stagesync.Compare that the destination equals the source.
//   - kinds: a model with an optional field of every kind
//     (testdata/kinds.yaml); its test proves nulls stay null (and zeros
//     zero, values unchanged) through the typed models.
//   - trimmed: social again, with city removed by hand from
//     readAccounts.graphql and `go generate` run again (doc.go's line); its
//     test proves the rest syncs and the destination's city is left alone.
//     Only with the social fixture, as social.
//   - variant: a hand-written read query (alias, genqlient's own type
//     name, unusual variables) that the glue must call correctly.
func TestGenerateE2E(t *testing.T) {
	mod := tempModule(t)
	// Without the fixture the subtest is skipped (or fails, see package
	// fixturedir) and the packages of the synthesized schemas go on alone.
	var social string
	t.Run("hygraph social", func(t *testing.T) { social = fixture(t, "social") })
	models := []string{"Account", "Comment", "Post"}
	pkg := func(name, schemaSrc string) (dir, schemaPath string) {
		dir = filepath.Join(mod, name)
		schemaPath = filepath.Join(dir, "schema.graphql")
		copyFile(t, schemaSrc, schemaPath)
		for _, f := range []string{"sync_test.go"} {
			copyFile(t, filepath.Join("testdata", "e2e", name, f), filepath.Join(dir, f))
		}
		return dir, schemaPath
	}

	if social != "" {
		e2eSocial(t, mod, pkg, social, models)
	}

	// kinds.
	dir, schemaPath := pkg("kinds", synthesized(t, "kinds.yaml"))
	if _, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Thing"}, OutDir: dir}); err != nil {
		t.Fatal(err)
	}

	// variant.
	dir, schemaPath = pkg("variant", synthesized(t, "hotel.yaml"))
	copyFile(t, filepath.Join("testdata", "variant", "readHotels.graphql"), filepath.Join(dir, QueriesDir, "readHotels.graphql"))
	if _, err := Generate(Options{SchemaPath: schemaPath, Models: []string{"Hotel"}, OutDir: dir}); err != nil {
		t.Fatal(err)
	}

	goCmd(t, mod, "vet", "./...")
	out := goCmd(t, mod, "test", "-count=1", "./...")
	t.Logf("go test in the generated module:\n%s", out)
}

// e2eSocial generates the packages social and trimmed of TestGenerateE2E
// in mod from the social fixture.
func e2eSocial(t *testing.T, mod string, pkg func(name, schemaSrc string) (dir, schemaPath string), social string, models []string) {
	t.Helper()
	// social, generated twice: the second run changes nothing.
	dir, schemaPath := pkg("social", social)
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
	for name, b := range readTree(t, dir) {
		if before[name] != b {
			t.Errorf("social/%s changed on the second run", name)
		}
	}

	// trimmed: generate, remove city from the read query, go generate.
	dir, schemaPath = pkg("trimmed", social)
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
}
