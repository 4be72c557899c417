package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// libraryYAML is the engine's test project, found before a test changes
// the working directory.
var libraryYAML, _ = filepath.Abs("../../stagesync/testdata/sync/library.yaml")

// libraryStage starts an emulated stage serving the engine's test project
// (stagesync/testdata/sync/library.yaml), edited by edit when not nil.
func libraryStage(t *testing.T, edit func(string) string, opts ...stagetest.Option) *stagetest.Server {
	t.Helper()
	b, err := os.ReadFile(libraryYAML)
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
	return stagetest.NewServer(t, s, opts...)
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

// tableRow returns the row of a printed table (plan, report) whose first
// cell is name, its cells one space apart; "" when there is none.
func tableRow(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return strings.Join(f, " ")
		}
	}
	return ""
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
	if got := tableRow(stdout, "Book"); !strings.HasPrefix(got, "Book 3 ") {
		t.Errorf("plan output lacks the Book creates:\n%s", stdout)
	}
	// A plan's progress reads as planning: nothing is written.
	if !strings.Contains(stderr, "read/plan Book") || strings.Contains(stderr, "write") {
		t.Errorf("plan progress:\n%s", stderr)
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
	t.Chdir(t.TempDir()) // the default state goes there
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
	t.Chdir(t.TempDir())
	t.Setenv("EMPTY_TOKEN", "")
	stages := []string{"--from", "http://127.0.0.1:1/", "--to", "http://127.0.0.1:1/"}
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
		{"zero rate", append([]string{"sync", "--rate", "0"}, stages...), "--rate 0: want a number of requests per second above 0"},
		{"negative rate", append([]string{"plan", "--rate", "-1"}, stages...), "--rate -1: want"},
		{"NaN rate", append([]string{"sync", "--rate", "NaN"}, stages...), "--rate NaN: want"},
		{"unknown Hygraph plan", append([]string{"sync", "--hygraph-plan", "scale"}, stages...), `--hygraph-plan: unknown plan "scale"`},
		{"negative page size", append([]string{"sync", "--page-size", "-5"}, stages...), "--page-size -5: want 1 to 100"},
		{"no models", append([]string{"sync", "--models", ""}, stages...), `--models "": name the models`},
		{"empty model", append([]string{"sync", "--models", "Book,,Tag"}, stages...), `--models "Book,,Tag": an empty model name`},
		{"blank model", append([]string{"plan", "--models", "Book, "}, stages...), `an empty model name`},
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
	if _, err := os.Stat(".stagesync"); err == nil {
		t.Error("a refused command made the state directory")
	}
}

// TestSyncCommandConfigCheck: flags that name what the stages do not have,
// or values the destination would refuse, stop the sync before anything is
// read, each problem on its own line in the terms of the flags, exit 2.
func TestSyncCommandConfigCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	code, _, stderr := runCLI(t, "sync", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
		"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000", "-q",
		"--models", "Book,Nope", "--match", "Book=pages", "--match", "Author=nick",
		"--default", "Book.title=123", "--default", "Book.genre=POETRY", "--default", "Hotel.name=x",
		"--handled", "Book.nope", "--page-size", "500")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{
		"stagesync: 8 problem(s) with the flags, nothing was read or written:\n",
		"\n  --models \"Nope\": no model \"Nope\" in either",
		"\n  --match Book=pages: Book.pages is not unique in either stage",
		"Fix: match by a field unique in both stages (title)",
		"\n  --match Author=nick: model Author has no field \"nick\" in either stage.",
		"\n  --default Book.title: Book.title is String! in stage \"destination\"",
		": 123 is not a string. Fix: give a string; on the command line quote it as JSON",
		"\n  --default Book.genre: ",
		"\"POETRY\" is not a value of the enum Genre. Fix: give one of FICTION, SCIENCE, HISTORY.",
		"\n  --default Hotel.name: no model \"Hotel\" in either",
		"\n  --handled Book.nope: model Book has no field \"nope\" in either stage.",
		"\n  --page-size 500: page size 500 is above 100",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// One request each: the schema's introspection.
	if d, s := dst.Stage.Counters(), src.Stage.Counters(); d.Requests != 1 || s.Requests != 1 || d.Mutations != 0 {
		t.Errorf("a refused sync read or wrote: destination %+v, source %+v", d, s)
	}
}

// TestSyncCommandDefaultState runs the README's sync command (no --state)
// twice: the second run finds the identity map of the first in the
// default state and writes nothing; no entry is duplicated. A plan before
// the first sync creates no state; --delta works without --state.
func TestSyncCommandDefaultState(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// Tag has no unique field here: without an identity map, every run
	// would duplicate every tag.
	src := libraryStage(t, func(d string) string { return strings.Replace(d, "name: String! unique", "name: String!", 1) })
	dst := libraryStage(t, func(d string) string { return strings.Replace(d, "name: String! unique", "name: String!", 1) })
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	args := func(cmd string, extra ...string) []string {
		return append([]string{cmd, "--from", src.URL, "--from-token-env", "SRC_TOKEN",
			"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000"}, extra...)
	}
	code, _, stderr := runCLI(t, args("plan")...)
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	state := defaultStatePath(src.URL, dst.URL)
	if !strings.Contains(stderr, "state: "+state+"\n") {
		t.Errorf("the plan does not name its state %s:\n%s", state, stderr)
	}
	if _, err := os.Stat(defaultStateDir); err == nil {
		t.Error("a plan made the state directory")
	}

	counts := func() (n map[string]int) {
		n = map[string]int{}
		for _, m := range []string{"Tag", "Author", "Book"} {
			n[m] = len(dst.Stage.All(m, "DRAFT"))
		}
		return n
	}
	for run := range 3 {
		extra := []string{}
		if run == 2 {
			extra = append(extra, "--delta")
		}
		before := dst.Stage.Counters().Mutations
		code, stdout, stderr := runCLI(t, args("sync", extra...)...)
		if code != exitOK {
			t.Fatalf("sync %d: exit %d\n%s\n%s", run+1, code, stdout, stderr)
		}
		if !strings.HasPrefix(stderr, "state: "+state+"\n") {
			t.Errorf("sync %d does not name its state first:\n%s", run+1, stderr)
		}
		if n := dst.Stage.Counters().Mutations - before; run > 0 && n != 0 {
			t.Errorf("sync %d ran %d mutations, want none", run+1, n)
		}
		if got, want := counts(), map[string]int{"Tag": 2, "Author": 1, "Book": 3}; !maps.Equal(got, want) {
			t.Errorf("after sync %d the destination has %v entries, want %v", run+1, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, state)); err != nil {
		t.Errorf("default state: %v", err)
	}

	// While another run holds the state, a sync or plan stops at once.
	held, err := stagesync.LoadState(state, src.URL, dst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	before := dst.Stage.Counters().Mutations
	for _, cmd := range []string{"sync", "plan"} {
		code, _, stderr := runCLI(t, args(cmd, "-q")...)
		want := fmt.Sprintf("stagesync: state %s is in use by pid %d on ", state, os.Getpid())
		if code != exitFailures || !strings.Contains(stderr, want) {
			t.Errorf("%s on a held state: exit %d, stderr %q; want exit %d and %q", cmd, code, stderr, exitFailures, want)
		}
	}
	if n := dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("%d mutations on a held state", n)
	}
}

// TestSyncCommandMirror: --mirror deletes only when told to: without
// --yes and no terminal to ask on it deletes nothing (exit 3, saying to
// pass --yes); with --yes within the guard it deletes. (The guard's
// limits are tested in TestSyncMirror* and TestSyncCommandMirrorEmptySource.)
func TestSyncCommandMirror(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	dir := t.TempDir()
	args := cliArgs(t, src, dst, dir)
	if code, stdout, stderr := runCLI(t, args("sync")...); code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := dst.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "stray"}); err != nil {
		t.Fatal(err)
	}
	tags := func() int { return len(dst.Stage.All("Tag", "DRAFT")) }

	code, stdout, stderr := runCLI(t, args("sync", "--mirror")...)
	if code != exitBlocked || !strings.Contains(stderr, "--yes") || !strings.Contains(stderr, "not confirmed") {
		t.Errorf("mirror without --yes: exit %d, want %d saying to pass --yes\n%s\n%s", code, exitBlocked, stdout, stderr)
	}
	if n := tags(); n != 3 {
		t.Errorf("mirror without --yes: %d tags, want 3 (nothing deleted)", n)
	}

	code, stdout, stderr = runCLI(t, args("sync", "--mirror", "--yes", "--max-delete", "0")...)
	t.Logf("guard: %s", stderr)
	if n := tags(); n != 2 || code != exitOK {
		t.Errorf("mirror --yes: exit %d, %d tags; want 0 and the stray deleted\n%s\n%s", code, n, stdout, stderr)
	}
}

// TestSyncCommandMirrorEmptySource: a mirror sync from an empty source
// deletes nothing, even with --yes, unless --max-delete allows it.
func TestSyncCommandMirrorEmptySource(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, dst)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	args := []string{"sync", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
		"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000", "-q",
		"--state", filepath.Join(dir, "state.db"), "--mirror", "--yes"}
	code, stdout, stderr := runCLI(t, args...)
	if code != exitBlocked || !strings.Contains(stderr, "no entries of") {
		t.Errorf("exit %d, want %d naming the empty models\n%s\n%s", code, exitBlocked, stdout, stderr)
	}
	if n := len(dst.Stage.All("Book", "DRAFT")); n != 3 {
		t.Errorf("%d books left, want 3", n)
	}
}

// TestSyncCommandMirrorWrongSource: a mirror sync whose plan deletes what
// the guard refuses (every book: the source has none) has the wrong source;
// it stops before its first write, so the source's tag is not written
// either (the old code created it, then refused the deletes).
func TestSyncCommandMirrorWrongSource(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, dst)
	if _, err := src.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	before := dst.Stage.Counters().Mutations
	code, stdout, stderr := runCLI(t, "sync", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
		"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000", "-q",
		"--state", filepath.Join(t.TempDir(), "state.db"), "--mirror", "--yes")
	if code != exitBlocked || !strings.Contains(stderr, "Nothing was written") {
		t.Errorf("exit %d, want %d saying nothing was written\n%s\n%s", code, exitBlocked, stdout, stderr)
	}
	// The library's error says "stagesync:" itself; the CLI does not say
	// it again.
	if strings.Contains(stderr, "stagesync: stagesync:") || !strings.Contains(stderr, "stagesync: mirror:") {
		t.Errorf("the error is printed with its prefix twice or not at all:\n%s", stderr)
	}
	if n := dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("%d mutations sent, want none", n)
	}
}
