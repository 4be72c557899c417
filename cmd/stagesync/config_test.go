package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/stagesync"
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
		{"bad filestack_url", `stages:
  src: {endpoint: http://a}
  dst: {endpoint: http://b, assets: {system: legacy, filestack_url: "localhost:4482"}}
`, `stagesync.yaml:3: stages.dst.assets.filestack_url: "localhost:4482" is not an http(s) URL`},
		{"filestack_url of the upload system", `stages:
  src: {endpoint: http://a}
  dst: {endpoint: http://b, assets: {system: upload, filestack_url: "http://127.0.0.1:4482"}}
`, `stagesync.yaml:3: stages.dst.assets.filestack_url: the upload asset system stores files itself; filestack_url is for the legacy one`},
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
		if code != exitOK || !strings.HasPrefix(tableRow(stdout, "Book"), "Book 3 ") {
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
		if code != exitOK || !strings.HasPrefix(tableRow(stdout, "Book"), "Book 3 ") {
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

// planConfigOf runs the plan command's flag parsing and config file on
// args in the working directory and returns the resulting flags and
// SyncConfig.
func planConfigOf(t *testing.T, args ...string) (*syncFlags, stagesync.SyncConfig, string, error) {
	t.Helper()
	var f syncFlags
	cmd := &cobra.Command{Use: "plan"}
	f.register(cmd)
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "")
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	f.modelsSet = cmd.Flags().Changed("models")
	var warnings strings.Builder
	if err := f.applyConfigFile(cmd, &warnings); err != nil {
		return &f, stagesync.SyncConfig{}, warnings.String(), err
	}
	cfg, err := f.config(true, nil)
	return &f, cfg, warnings.String(), err
}

const precedenceConfig = `stages:
  src: {endpoint: "http://src.invalid/api", token_env: SRC_TOKEN}
  dst: {endpoint: "http://dst.invalid/api", token_env: DST_TOKEN}
  other: {endpoint: "http://other.invalid/api"}
sync:
  - from: src
    to: dst
    models: [Hotel, Review]
    match: {Hotel: slug}
    defaults: {Hotel.twitterHandle: "@unknown", Hotel.stars: 3}
    handled: [Hotel.legacyField]
    page_size: 50
    rate: 7
    hygraph_plan: growth
    state: s.db
    plan: {out: plan.db}
  - name: to-other
    from: src
    to: other
`

// TestConfigFilePrecedence: a flag wins over the file, the file over the
// flag's default.
func TestConfigFilePrecedence(t *testing.T) {
	t.Setenv("SRC_TOKEN", "src-token")
	t.Setenv("DST_TOKEN", "dst-token")
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, configFileName, precedenceConfig)

	f, cfg, _, err := planConfigOf(t, "--pair", "src-dst", "--rate", "9", "--match", "Review=title", "--to", "http://elsewhere.invalid/api")
	if err != nil {
		t.Fatal(err)
	}
	if f.rate != 9 {
		t.Errorf("rate %v, want 9 (the flag)", f.rate)
	}
	if st := cfg.Dest.Stats(); f.hygraphPlan != "growth" || st.Rate != 9 || st.MutationOps != 10 || st.QueryOps != 30 {
		t.Errorf("plan %q, scheduler %+v; want growth's (10/30 operations) from the file, starting at 9 req/s (the flag)", f.hygraphPlan, st)
	}
	if cfg.PageSize != 50 {
		t.Errorf("page size %d, want 50 (the file)", cfg.PageSize)
	}
	if cfg.MaxDelete != 0 || cfg.Mirror || cfg.Delta {
		t.Errorf("max delete %d, mirror %v, delta %v: want the defaults", cfg.MaxDelete, cfg.Mirror, cfg.Delta)
	}
	if !slices.Equal(cfg.Models, []string{"Hotel", "Review"}) {
		t.Errorf("models %v, want the file's", cfg.Models)
	}
	if !maps.Equal(cfg.Match, map[string]string{"Review": "title"}) {
		t.Errorf("match %v, want the flag's alone", cfg.Match)
	}
	if cfg.Defaults["Hotel.twitterHandle"] != "@unknown" || cfg.Defaults["Hotel.stars"] != float64(3) {
		t.Errorf("defaults %v", cfg.Defaults)
	}
	if !slices.Equal(cfg.Handled, []string{"Hotel.legacyField"}) {
		t.Errorf("handled %v", cfg.Handled)
	}
	if cfg.StatePath != "s.db" || f.out != "plan.db" {
		t.Errorf("state %q, plan out %q: want the file's", cfg.StatePath, f.out)
	}
	if got := cfg.Source.Endpoint(); got != "http://src.invalid/api" {
		t.Errorf("source %s, want the file's", got)
	}
	if got := cfg.Dest.Endpoint(); got != "http://elsewhere.invalid/api" {
		t.Errorf("destination %s, want the flag's", got)
	}
	if f.toTokenEnv != "DST_TOKEN" {
		t.Errorf("destination token from %q, want the file stage's DST_TOKEN", f.toTokenEnv)
	}

	// Stages named by --from and --to pick their pair.
	if _, cfg, _, err := planConfigOf(t, "--from", "src", "--to", "other"); err != nil {
		t.Fatal(err)
	} else if cfg.Dest.Endpoint() != "http://other.invalid/api" || cfg.Models != nil || cfg.PageSize != 0 {
		t.Errorf("--from src --to other: destination %s, models %v, page size %d", cfg.Dest.Endpoint(), cfg.Models, cfg.PageSize)
	}
	if _, cfg, _, err := planConfigOf(t, "--pair", "to-other"); err != nil {
		t.Fatal(err)
	} else if cfg.Dest.Endpoint() != "http://other.invalid/api" {
		t.Errorf("--pair to-other: destination %s", cfg.Dest.Endpoint())
	}
	// A flag token variable wins over the file's.
	t.Setenv("MY_TOKEN", "mine")
	if f, _, _, err := planConfigOf(t, "--pair", "src-dst", "--to-token-env", "MY_TOKEN"); err != nil {
		t.Fatal(err)
	} else if f.toTokenEnv != "MY_TOKEN" {
		t.Errorf("destination token from %q, want MY_TOKEN", f.toTokenEnv)
	}
	// Endpoints on both flags: the file's pairs stay out, as without a file.
	if _, cfg, _, err := planConfigOf(t, "--from", "http://a.invalid", "--to", "http://b.invalid"); err != nil {
		t.Fatal(err)
	} else if cfg.Models != nil || cfg.StatePath != defaultStatePath("http://a.invalid", "http://b.invalid") {
		t.Errorf("endpoints on the command line: models %v, state %s", cfg.Models, cfg.StatePath)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "stagesync.yaml: 2 pairs could run (src-dst, to-other): pick one with --pair NAME"},
		{[]string{"--pair", "nope"}, "stagesync.yaml: --pair nope: no such pair (pairs: src-dst, to-other)"},
	} {
		if _, _, _, err := planConfigOf(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestConfigFileFlag: --config names a file elsewhere; its relative paths
// and its .env are beside it. Without a file, nothing changes.
func TestConfigFileFlag(t *testing.T) {
	t.Setenv("SRC_TOKEN", "src-token")
	os.Unsetenv("DST_TOKEN")
	dir := t.TempDir()
	t.Chdir(dir)
	sub := filepath.Join(dir, "conf")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, sub, "stages.yml", precedenceConfig)
	writeFile(t, sub, ".env", "DST_TOKEN=from-dotenv\n")

	f, cfg, _, err := planConfigOf(t, "--config", path, "--pair", "src-dst")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StatePath != filepath.Join(sub, "s.db") || f.out != filepath.Join(sub, "plan.db") {
		t.Errorf("state %s, plan %s: want them beside the file", cfg.StatePath, f.out)
	}
	if tok, err := f.token(f.toToken, f.toTokenEnv, "--to-token-env"); err != nil || tok != "from-dotenv" {
		t.Errorf("destination token %q, %v: want the .env's", tok, err)
	}

	// No file in the working directory: as before the config file.
	if _, _, _, err := planConfigOf(t, "--pair", "src-dst"); err == nil || err.Error() != "--from and --to are required" {
		t.Errorf("without a file: %v", err)
	}
	code, _, stderr := runCLI(t, "plan", "--from", "http://a.invalid")
	if code != exitUsage || !strings.Contains(stderr, "--from and --to are required") {
		t.Errorf("without a file: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "plan", "--config", filepath.Join(dir, "missing.yaml"))
	if code != exitUsage || !strings.Contains(stderr, "--config: open "+filepath.Join(dir, "missing.yaml")) {
		t.Errorf("--config of a missing file: exit %d\n%s", code, stderr)
	}
}

// TestConfigFilePlanApply: a plan file made from the config file is
// applied with the tokens of its .env.
func TestConfigFilePlanApply(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	os.Unsetenv("DST_TOKEN")
	dir := libraryFile(t, src, dst, "rate: 1000", "rate: 1000\n    plan: {out: plan.db}")
	writeFile(t, dir, ".env", "DST_TOKEN="+dst.Token+"\n")
	if code, stdout, stderr := runCLI(t, "plan", "-q"); code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Chdir(t.TempDir()) // apply finds the .env by the plan's --config
	code, stdout, stderr := runCLI(t, "apply", "-q", filepath.Join(dir, "plan.db"))
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := len(dst.Stage.All("Book", "DRAFT")); got != 3 {
		t.Errorf("destination has %d books after apply, want 3", got)
	}
}

// readmePath is the README, found before a test changes the working
// directory.
var readmePath, _ = filepath.Abs("../../README.md")

// TestConfigFileReadme: the README's example is a valid config file.
func TestConfigFileReadme(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## Config file\n")
	_, example, ok2 := strings.Cut(section, "```yaml\n")
	example, _, ok3 := strings.Cut(example, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no yaml block under ## Config file")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, configFileName, example)
	t.Setenv("DELTA_TOKEN", "d")
	t.Setenv("MASTER_TOKEN", "m")
	f, cfg, warnings, err := planConfigOf(t)
	if err != nil {
		t.Fatal(err)
	}
	if warnings != "" {
		t.Errorf("warnings: %s", warnings)
	}
	if cfg.StatePath != ".stagesync/delta-master.db" || cfg.Match["Hotel"] != "slug" || cfg.Defaults["Hotel.twitterHandle"] != "@unknown" ||
		len(cfg.Models) != 3 || f.out != "delta-master.plan" || f.planOut != "delta-master.plan.json" {
		t.Errorf("the example gives state %s, match %v, defaults %v, models %v, plan %s and %s",
			cfg.StatePath, cfg.Match, cfg.Defaults, cfg.Models, f.out, f.planOut)
	}
}

// TestConfigFileAssetKey: the destination's legacy asset key is read only
// when assets may be copied.
func TestConfigFileAssetKey(t *testing.T) {
	os.Unsetenv("NOPE_TOKEN")
	t.Setenv("KEY", "filestack-key")
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, configFileName, `stages:
  src: {endpoint: "http://src.invalid"}
  dst:
    endpoint: "http://dst.invalid"
    assets: {system: legacy, key_env: NOPE_TOKEN}
  keyed: {endpoint: "http://keyed.invalid", assets: {system: legacy, key_env: KEY}}
sync:
  - {from: src, to: dst, assets: skip}
  - {from: src, to: keyed}
`)
	if f, cfg, _, err := planConfigOf(t, "--pair", "src-dst"); err != nil {
		t.Errorf("assets skipped: %v", err)
	} else if f.assetsKeyEnv != "" || !cfg.SkipAssets {
		t.Errorf("assets skipped: key from %q, skip %v", f.assetsKeyEnv, cfg.SkipAssets)
	}
	want := "stagesync.yaml:5: stages.dst.assets.key_env: environment variable NOPE_TOKEN is empty or unset"
	if _, _, _, err := planConfigOf(t, "--pair", "src-dst", "--assets"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("--assets: %v, want %q", err, want)
	}
	if f, _, _, err := planConfigOf(t, "--pair", "src-keyed"); err != nil || f.files == nil || f.assetsKeyEnv != "KEY" {
		t.Errorf("legacy destination with its key: %v, key from %q", err, f.assetsKeyEnv)
	}
}
