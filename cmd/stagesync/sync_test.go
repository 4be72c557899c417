package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// libraryStage starts an emulated stage serving the engine's test project
// (stagesync/testdata/sync/library.yaml), edited by edit when not nil.
func libraryStage(t *testing.T, edit func(string) string) *stagetest.Server {
	t.Helper()
	b, err := os.ReadFile("../../stagesync/testdata/sync/library.yaml")
	if err != nil {
		t.Fatal(err)
	}
	desc := string(b)
	if edit != nil {
		desc = edit(desc)
	}
	sdl, err := schema.SynthesizeDescription([]byte(desc))
	if err != nil {
		t.Fatal(err)
	}
	var s *ast.Schema
	if s, err = schema.LoadString("library.graphql", sdl); err != nil {
		t.Fatal(err)
	}
	return stagetest.NewServer(t, s)
}

// seedLibrary writes a few authors, tags and books into the stage.
func seedLibrary(t *testing.T, s *stagetest.Server) {
	t.Helper()
	seed := func(model, stage string, docs ...map[string]any) []string {
		ids, err := s.Stage.Seed(model, stage, docs...)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	tags := seed("Tag", "PUBLISHED", map[string]any{"name": "classic"}, map[string]any{"name": "space"})
	author := seed("Author", "PUBLISHED", map[string]any{"name": "Ursula", "bio": "Writer"})[0]
	for i, title := range []string{"Dispossessed", "Earthsea", "Lathe"} {
		stage := "PUBLISHED"
		if i == 2 {
			stage = "DRAFT"
		}
		seed("Book", stage, map[string]any{"title": title, "author": author, "tags": []any{tags[i%2]}, "pages": 100 + i})
	}
}

type reportFile struct {
	Models []struct {
		Name                                         string
		Read, Created, Updated, Unchanged, Published int
		Failed                                       int
	}
	Failures []map[string]any
}

func readReport(t *testing.T, path string) reportFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r reportFile
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report %s: %v\n%s", path, err, b)
	}
	return r
}

func (r reportFile) total(pick func(created, updated, published int) int) int {
	n := 0
	for _, m := range r.Models {
		n += pick(m.Created, m.Updated, m.Published)
	}
	return n
}

func TestSyncCommand(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	args := func(cmd string, extra ...string) []string {
		return append([]string{cmd, "--from", src.URL, "--from-token-env", "SRC_TOKEN",
			"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000",
			"--state", filepath.Join(dir, "state.json")}, extra...)
	}

	// A plan writes nothing.
	code, stdout, stderr := runCLI(t, args("plan", "--plan", filepath.Join(dir, "plan.json"))...)
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Book: create 3") {
		t.Errorf("plan output lacks the Book creates:\n%s", stdout)
	}
	if n := dst.Stage.Counters().Mutations; n != 0 {
		t.Errorf("plan ran %d mutations", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "plan.json")); err != nil {
		t.Errorf("plan file: %v", err)
	}

	// The sync copies everything.
	reportPath := filepath.Join(dir, "report.json")
	code, stdout, stderr = runCLI(t, args("sync", "--report", reportPath)...)
	if code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := readReport(t, reportPath)
	if got := r.total(func(c, _, _ int) int { return c }); got != 2+1+3 {
		t.Errorf("created %d entries, want 6; report %+v", got, r)
	}
	if got := r.total(func(_, _, p int) int { return p }); got != 2+1+2 {
		t.Errorf("published %d entries, want 5; report %+v", got, r)
	}
	if len(r.Failures) != 0 {
		t.Errorf("failures: %v", r.Failures)
	}
	if got := len(dst.Stage.All("Book", "DRAFT")); got != 3 {
		t.Errorf("destination has %d books, want 3", got)
	}
	if !strings.Contains(stderr, "Book") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}

	// A second sync writes nothing.
	before := dst.Stage.Counters().Mutations
	code, _, stderr = runCLI(t, args("sync", "--report", reportPath, "-q")...)
	if code != exitOK {
		t.Fatalf("second sync: exit %d\n%s", code, stderr)
	}
	if n := dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("second sync ran %d mutations", n)
	}
	if got := readReport(t, reportPath).total(func(c, u, _ int) int { return c + u }); got != 0 {
		t.Errorf("second sync created or updated %d entries", got)
	}
}

func TestSyncCommandPreflight(t *testing.T) {
	src := libraryStage(t, nil)
	dst := libraryStage(t, func(d string) string {
		return strings.Replace(d, "    born: Date\n", "    born: Date\n    nickname: String!\n", 1)
	})
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	base := []string{"sync", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
		"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000", "-q"}

	code, _, stderr := runCLI(t, base...)
	if code != exitBlocked {
		t.Fatalf("exit %d, want %d\n%s", code, exitBlocked, stderr)
	}
	if !strings.Contains(stderr, "Author.nickname") || !strings.Contains(stderr, "default") {
		t.Errorf("refusal does not name the field and the fix:\n%s", stderr)
	}
	if n := dst.Stage.Counters().Mutations; n != 0 {
		t.Errorf("refused sync ran %d mutations", n)
	}

	code, _, stderr = runCLI(t, append(base, "--default", "Author.nickname=anonymous")...)
	if code != exitOK {
		t.Fatalf("with a default: exit %d\n%s", code, stderr)
	}
	for _, a := range dst.Stage.All("Author", "DRAFT") {
		if a["nickname"] != "anonymous" {
			t.Errorf("author %v: nickname %v, want the default", a["name"], a["nickname"])
		}
	}
}

func TestSyncCommandUsage(t *testing.T) {
	t.Setenv("EMPTY_TOKEN", "")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no stages", []string{"sync"}, "--from and --to are required"},
		{"empty token", []string{"sync", "--from", "http://127.0.0.1:1/", "--to", "http://127.0.0.1:1/", "--from-token-env", "EMPTY_TOKEN"}, "EMPTY_TOKEN is empty"},
		{"bad match", []string{"plan", "--from", "http://127.0.0.1:1/", "--to", "http://127.0.0.1:1/", "--match", "Hotel"}, "want Model=field"},
		{"bad default", []string{"sync", "--from", "http://127.0.0.1:1/", "--to", "http://127.0.0.1:1/", "--default", "x=1"}, "want Model.field=value"},
		{"stray argument", []string{"sync", "extra"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}
