package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// writeFile writes content to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// libraryConfig is a config file of two stages, src and dst, and one pair
// between them; %SRC% and %DST% stand for the endpoints.
const libraryConfig = `# two emulated stages
stages:
  src:
    endpoint: %SRC%
    token_env: SRC_TOKEN
  dst:
    endpoint: %DST%
    token_env: DST_TOKEN
    assets: {system: upload}
sync:
  - from: src
    to: dst
    models: [Tag, Author, Book]
    match: {Book: title}
    state: state.db
    report: report.json
    rate: 1000
`

// libraryFile writes libraryConfig for src and dst, edited by the
// replacer's pairs, as stagesync.yaml in a new working directory.
func libraryFile(t *testing.T, src, dst *stagetest.Server, edits ...string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	content := strings.NewReplacer("%SRC%", src.URL, "%DST%", dst.URL).Replace(libraryConfig)
	content = strings.NewReplacer(edits...).Replace(content)
	writeFile(t, dir, configFileName, content)
	return dir
}

// TestConfigFileSync runs a sync driven only by the config file.
func TestConfigFileSync(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := libraryFile(t, src, dst)

	code, stdout, stderr := runCLI(t, "sync")
	if code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "warning") {
		t.Errorf("a warning for a clean file:\n%s", stderr)
	}
	r := readReport(t, filepath.Join(dir, "report.json"))
	if got := r.total(func(c, _, _ int) int { return c }); got != 2+1+3 {
		t.Errorf("created %d entries, want 6; report %+v", got, r)
	}
	if !strings.Contains(stderr, "state: state.db\n") {
		t.Errorf("the sync does not use the file's state:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); err != nil {
		t.Errorf("state: %v", err)
	}
	if got := len(dst.Stage.All("Book", "DRAFT")); got != 3 {
		t.Errorf("destination has %d books, want 3", got)
	}
	// Again: the state of the file maps every entry, nothing is created.
	code, stdout, stderr = runCLI(t, "sync", "-q")
	if code != exitOK {
		t.Fatalf("second sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if r := readReport(t, filepath.Join(dir, "report.json")); r.total(func(c, _, _ int) int { return c }) != 0 {
		t.Errorf("the second sync created entries: %+v", r)
	}
	if got := len(dst.Stage.All("Book", "DRAFT")); got != 3 {
		t.Errorf("destination has %d books after the second sync, want 3", got)
	}
}

// TestConfigFileErrors checks that each problem of the file is reported at
// its file:line and key, before anything is read.
func TestConfigFileErrors(t *testing.T) {
	t.Setenv("SRC_TOKEN", "s")
	t.Setenv("DST_TOKEN", "d")
	os.Unsetenv("NOPE_TOKEN")
	cases := []struct {
		name, file, want string
	}{
		{"unknown key", `stages:
  src: {endpoint: http://a, token_env: SRC_TOKEN}
  dst:
    endpoint: http://b
    tokenenv: DST_TOKEN
sync: [{from: src, to: dst}]
`, "stagesync.yaml:5: stages.dst.tokenenv: unknown key (known here: endpoint, token_env, token, assets)"},
		{"unknown top-level key", `stages: {}
pairs: []
`, "stagesync.yaml:2: pairs: unknown key"},
		{"wrong type", `stages:
  src: {endpoint: http://a, token_env: SRC_TOKEN}
  dst: {endpoint: http://b, token_env: DST_TOKEN}
sync:
  - from: src
    to: dst
    mirror: sometimes
`, `stagesync.yaml:7: sync[0].mirror: want true or false, got "sometimes"`},
		{"wrong type: a list", `stages:
  src: {endpoint: http://a}
  dst: {endpoint: http://b}
sync:
  - from: src
    to: dst
    models: Book
`, `stagesync.yaml:7: sync[0].models: want a list, got "Book"`},
		{"wrong type: a number for text", `stages:
  src: {endpoint: http://a}
  dst: {endpoint: 8080}
sync: [{from: src, to: dst}]
`, `stagesync.yaml:3: stages.dst.endpoint: want text, got int`},
		{"no such stage", `stages:
  src: {endpoint: http://a}
  dst: {endpoint: http://b}
sync:
  - from: src
    to: master
`, `stagesync.yaml:6: sync[0].to: stage "master" is not in stages (stages: dst, src)`},
		{"unset variable", `stages:
  src: {endpoint: http://a, token_env: SRC_TOKEN}
  dst:
    endpoint: http://b
    token_env: NOPE_TOKEN
sync: [{from: src, to: dst}]
`, "stagesync.yaml:5: stages.dst.token_env: environment variable NOPE_TOKEN is empty or unset, and not in "},
		{"unset asset key", `stages:
  src: {endpoint: http://a}
  dst:
    endpoint: http://b
    assets:
      system: legacy
      key_env: NOPE_TOKEN
sync: [{from: src, to: dst}]
`, "stagesync.yaml:7: stages.dst.assets.key_env: environment variable NOPE_TOKEN is empty or unset"},
		{"bad asset system", `stages:
  src: {endpoint: http://a}
  dst: {endpoint: http://b, assets: {system: s3}}
`, `stagesync.yaml:3: stages.dst.assets.system: "s3": want upload or legacy`},
		{"syntax", "stages:\n  src: [\n", "stagesync.yaml:2: YAML: did not find expected node content"},
		{"several pairs", `stages:
  a: {endpoint: http://a}
  b: {endpoint: http://b}
  c: {endpoint: http://c}
sync:
  - {from: a, to: b}
  - {from: a, to: c}
`, "stagesync.yaml: 2 pairs could run (a-b, a-c): pick one with --pair NAME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			writeFile(t, dir, configFileName, tc.file)
			code, stdout, stderr := runCLI(t, "plan", "-q")
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, stdout)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr, tc.want)
			}
		})
	}
}

// TestConfigFileTokens: tokens come from the environment, then from the
// .env beside the file; a token written into the file works with a
// warning.
func TestConfigFileTokens(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", "")

	t.Run(".env", func(t *testing.T) {
		dir := libraryFile(t, src, dst)
		writeFile(t, dir, ".env", "DST_TOKEN="+dst.Token+"\n")
		code, stdout, stderr := runCLI(t, "plan")
		if code != exitOK || !strings.Contains(stdout, "Book: create 3") {
			t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
	t.Run("the environment before .env", func(t *testing.T) {
		dir := libraryFile(t, src, dst)
		writeFile(t, dir, ".env", "SRC_TOKEN=wrong\nDST_TOKEN="+dst.Token+"\n")
		code, stdout, stderr := runCLI(t, "plan", "-q")
		if code != exitOK {
			t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
	t.Run("token in the file", func(t *testing.T) {
		libraryFile(t, src, dst, "token_env: DST_TOKEN", "token: "+dst.Token)
		code, stdout, stderr := runCLI(t, "plan", "-q")
		if code != exitOK || !strings.Contains(stdout, "Book: create 3") {
			t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
		}
		want := "warning: stagesync.yaml:8: stages.dst.token: a token written into the file"
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr:\n%s\nwant the warning %q", stderr, want)
		}
		if strings.Contains(stderr, dst.Token) {
			t.Errorf("the warning shows the token:\n%s", stderr)
		}
	})
	t.Run("token in token_env", func(t *testing.T) {
		c, err := parseConfig("s.yaml", []byte("stages:\n  dst:\n    endpoint: http://b\n    token_env: eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl\n"))
		if err != nil {
			t.Fatal(err)
		}
		w := c.warnings("dst")
		if len(w) != 1 || !strings.HasPrefix(w[0], `s.yaml:4: stages.dst.token_env: "eyJh…" looks like a token`) {
			t.Errorf("warnings %q", w)
		}
	})
}
