package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// initSchema is a small project on the asset system ("upload" or
// "legacy") whose hotels reference destinations and photos.
func initSchema(t *testing.T, system string) *ast.Schema {
	t.Helper()
	sdl, err := schema.SynthesizeDescription([]byte(strings.Replace(travelDesc, "%SYSTEM%", system, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("travel-"+system+".graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seedTravel seeds a destination with two hotels into st.
func seedTravel(t *testing.T, st *stagetest.Stage) {
	t.Helper()
	dest, err := st.Seed("Destination", "PUBLISHED", map[string]any{"name": "Lisbon"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Ritz", "Ibis"} {
		if _, err := st.Seed("Hotel", "PUBLISHED", map[string]any{"name": name, "destination": dest[0]}); err != nil {
			t.Fatal(err)
		}
	}
}

// readFile returns a file's content.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInitFromFlags(t *testing.T) {
	s := initSchema(t, "upload")
	src := stagetest.NewServer(t, s)
	dst := stagetest.NewServer(t, s)
	seedTravel(t, src.Stage)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	t.Chdir(t.TempDir())

	code, stdout, stderr := runCLI(t, "init", "--from", src.URL, "--from-token-env", "SRC_TOKEN", "--to", dst.URL, "--to-token-env", "DST_TOKEN")
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s\n%s", code, stdout, stderr)
	}
	text := readFile(t, configFileName)
	for _, secret := range []string{src.Token, dst.Token} {
		if strings.Contains(text, secret) {
			t.Fatalf("%s holds a token:\n%s", configFileName, text)
		}
	}
	c, err := parseConfig(configFileName, []byte(text))
	if err != nil {
		t.Fatalf("%s does not read back: %v\n%s", configFileName, err, text)
	}
	// stagetest.Server's URL ends in /content/stagetest/master for both:
	// the stages are named by their side.
	if got := c.Stages["source"]; got == nil || got.Endpoint != src.URL || got.TokenEnv != "SRC_TOKEN" || got.Assets == nil || got.Assets.System != "upload" {
		t.Errorf("stage source: %+v\n%s", got, text)
	}
	if got := c.Stages["destination"]; got == nil || got.Endpoint != dst.URL || got.TokenEnv != "DST_TOKEN" {
		t.Errorf("stage destination: %+v", got)
	}
	if len(c.Sync) != 1 || c.Sync[0].From != "source" || c.Sync[0].To != "destination" {
		t.Errorf("pairs %+v, want source → destination", c.Sync)
	}

	// A bare plan and sync use the file.
	code, stdout, stderr = runCLI(t, "plan")
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := tableRow(stdout, "Hotel"); !strings.HasPrefix(got, "Hotel 2 0 0") {
		t.Errorf("plan row of Hotel %q, want 2 creates:\n%s", got, stdout)
	}
	if n := dst.Stage.Counters().Mutations; n != 0 {
		t.Errorf("plan ran %d mutations", n)
	}
	if code, stdout, stderr = runCLI(t, "sync", "--yes", "-q"); code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(dst.Stage.All("Hotel", "DRAFT")); n != 2 {
		t.Errorf("the destination has %d hotels, want 2", n)
	}
	if code, stdout, _ = runCLI(t, "plan"); code != exitOK || tableRow(stdout, "Hotel") != "Hotel 0 0 2 0 0 0 0 0 0" {
		t.Errorf("plan after the sync: exit %d, Hotel %q, want 2 unchanged:\n%s", code, tableRow(stdout, "Hotel"), stdout)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	t.Chdir(t.TempDir())
	args := []string{"init", "--from", "https://eu-central-1.cdn.hygraph.com/content/p1/master", "--from-token-env", "UNSET_SRC_TOKEN",
		"--to", "https://eu-central-1.cdn.hygraph.com/content/p1/dev", "--to-token-env", "UNSET_DST_TOKEN"}
	if err := os.WriteFile(configFileName, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, args...)
	if code != exitUsage || !strings.Contains(stderr, "stagesync.yaml exists") || !strings.Contains(stderr, "--force") {
		t.Errorf("init over a file: exit %d, want %d naming --force:\n%s", code, exitUsage, stderr)
	}
	if got := readFile(t, configFileName); got != "# mine\n" {
		t.Errorf("the file was changed: %q", got)
	}
	// With the tokens unset nothing is contacted (these hosts are not
	// reachable from tests): the file is written, and init says what to set.
	code, stdout, stderr := runCLI(t, append(args, "--force")...)
	if code != exitOK {
		t.Fatalf("init --force: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "set UNSET_SRC_TOKEN, UNSET_DST_TOKEN") {
		t.Errorf("init does not name the variables to set:\n%s", stdout)
	}
	c, err := parseConfig(configFileName, []byte(readFile(t, configFileName)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stages["master"] == nil || c.Stages["dev"] == nil || c.Sync[0].From != "master" || c.Sync[0].To != "dev" {
		t.Errorf("stages %v, pairs %+v: want master → dev, named after the endpoints", c.names, c.Sync[0])
	}
}

// initProject serves a project with master (legacy asset system, a
// bucket, seeded) and dev (the same schema, a bucket of its own), with
// content token "content-token-x1" and Management token "mgmt".
func initProject(t *testing.T) *stagetest.ProjectServer {
	t.Helper()
	s := initSchema(t, "legacy")
	p := stagetest.NewProject(stagetest.ProjectConfig{ID: "hotels", Name: "Hotels", ManagementToken: "mgmt"})
	for _, name := range []string{"master", "dev"} {
		st, err := stagetest.NewStage(s, stagetest.WithLimits(stagetest.Limits{Token: "content-token-x1"}), stagetest.WithAssets(nil, name+"-filestack-key"))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AddEnvironment(name, st); err != nil {
			t.Fatal(err)
		}
	}
	seedTravel(t, p.Environment("master"))
	return stagetest.NewProjectServer(t, p)
}

func TestInitFromManagementAPI(t *testing.T) {
	srv := initProject(t)
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("MGMT_TOKEN", "mgmt")
	t.Setenv("HYGRAPH_MASTER_TOKEN", "content-token-x1")
	t.Setenv("DEV_TOKEN", "content-token-x1")

	code, stdout, stderr := runCLI(t, "init", "--management-token-env", "MGMT_TOKEN", "--project", "hotels",
		"--management-endpoint", srv.ManagementURL, "--token-env", "dev=DEV_TOKEN")
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s\n%s", code, stdout, stderr)
	}
	text := readFile(t, configFileName)
	for _, secret := range []string{"mgmt", "content-token-x1", "master-filestack-key", "dev-filestack-key"} {
		if strings.Contains(text, secret) {
			t.Errorf("%s holds the secret %q:\n%s", configFileName, secret, text)
		}
	}
	c, err := parseConfig(configFileName, []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	want := map[string]stageConfig{
		"master": {Endpoint: srv.EnvironmentURL("master"), TokenEnv: "HYGRAPH_MASTER_TOKEN", Assets: &assetsConfig{System: "legacy", KeyEnv: "HYGRAPH_MASTER_FILESTACK_KEY"}},
		"dev":    {Endpoint: srv.EnvironmentURL("dev"), TokenEnv: "DEV_TOKEN", Assets: &assetsConfig{System: "legacy", KeyEnv: "HYGRAPH_DEV_FILESTACK_KEY"}},
	}
	for name, w := range want {
		got := c.Stages[name]
		if got == nil || got.Endpoint != w.Endpoint || got.TokenEnv != w.TokenEnv || got.Assets == nil || *got.Assets != *w.Assets {
			t.Errorf("stage %s: %+v (assets %+v), want %+v (assets %+v)", name, got, got.Assets, w, w.Assets)
		}
	}
	if len(c.Sync) != 1 || c.Sync[0].From != "master" || c.Sync[0].To != "dev" {
		t.Errorf("pairs %+v, want master → dev", c.Sync)
	}
	// The Filestack keys went to .env, readable by its owner only.
	env := readFile(t, ".env")
	for _, line := range []string{"HYGRAPH_MASTER_FILESTACK_KEY=master-filestack-key", "HYGRAPH_DEV_FILESTACK_KEY=dev-filestack-key"} {
		if !strings.Contains(env, line+"\n") {
			t.Errorf(".env lacks %s:\n%s", line, env)
		}
	}
	if fi, err := os.Stat(".env"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf(".env: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}

	// A bare plan uses the file (assets left out: the emulated buckets are
	// not at Filestack's URL, which the CLI would use to copy files).
	code, stdout, stderr = runCLI(t, "plan", "--skip-assets")
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := tableRow(stdout, "Hotel"); !strings.HasPrefix(got, "Hotel 2 0 0") {
		t.Errorf("plan row of Hotel %q, want 2 creates:\n%s", got, stdout)
	}

	// Again with --force: the keys are in .env already, and stay once.
	if code, _, stderr = runCLI(t, "init", "--management-token-env", "MGMT_TOKEN", "--project", "hotels",
		"--management-endpoint", srv.ManagementURL, "--token-env", "dev=DEV_TOKEN", "--force", "--from", "dev", "--to", "master"); code != exitOK {
		t.Fatalf("init --force: exit %d\n%s", code, stderr)
	}
	if got := strings.Count(readFile(t, ".env"), "HYGRAPH_MASTER_FILESTACK_KEY="); got != 1 {
		t.Errorf(".env has the master key %d times, want once", got)
	}
	c, err = parseConfig(configFileName, []byte(readFile(t, configFileName)))
	if err != nil || c.Sync[0].From != "dev" || c.Sync[0].To != "master" {
		t.Errorf("with --from dev --to master: %v, pairs %+v", err, c.Sync)
	}
}

func TestInitBadInput(t *testing.T) {
	srv := initProject(t)
	t.Setenv("MGMT_TOKEN", "mgmt")
	t.Setenv("WRONG_TOKEN", "not-the-token")
	t.Setenv("EMPTY_TOKEN", "")
	mgmt := func(extra ...string) []string {
		return append([]string{"init", "--management-endpoint", srv.ManagementURL}, extra...)
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"nothing", []string{"init"}, exitUsage, []string{"--from URL --from-token-env VAR", "--management-token-env VAR --project ID"}},
		{"unknown project", mgmt("--management-token-env", "MGMT_TOKEN", "--project", "nope"), exitUsage,
			[]string{"--project nope: unknown to the token in MGMT_TOKEN", "belongs to project hotels", "pass --project hotels"}},
		{"refused management token", mgmt("--management-token-env", "WRONG_TOKEN", "--project", "hotels"), exitUsage,
			[]string{"refuses the token in WRONG_TOKEN (HTTP 401", "set WRONG_TOKEN to a Management API token of project hotels"}},
		{"unset management token", mgmt("--management-token-env", "EMPTY_TOKEN", "--project", "hotels"), exitUsage,
			[]string{"--management-token-env EMPTY_TOKEN: the environment variable is empty or unset"}},
		{"no project", mgmt("--management-token-env", "MGMT_TOKEN"), exitUsage, []string{"--project: missing"}},
		{"a token instead of a variable", mgmt("--management-token-env", "abc-123.xyz", "--project", "hotels"), exitUsage,
			[]string{`--management-token-env "abc-123.xyz": want the name of an environment variable`}},
		{"unknown environment", mgmt("--management-token-env", "MGMT_TOKEN", "--project", "hotels", "--from", "master", "--to", "staging"), exitUsage,
			[]string{`--to staging: project hotels has no environment "staging" (it has master, dev)`}},
		{"wrong management endpoint", []string{"init", "--management-endpoint", srv.URL + "/graphql", "--management-token-env", "MGMT_TOKEN", "--project", "hotels"}, exitUsage,
			[]string{"HTTP 404: is it the Management API's URL"}},
		{"refused content token", []string{"init", "--from", srv.EnvironmentURL("master"), "--from-token-env", "WRONG_TOKEN",
			"--to", srv.EnvironmentURL("dev"), "--to-token-env", "MGMT_TOKEN"}, exitUsage,
			[]string{"stage master (" + srv.EnvironmentURL("master") + ")", "refuses the token in WRONG_TOKEN"}},
		{"not a URL", []string{"init", "--from", "master", "--from-token-env", "A", "--to", srv.EnvironmentURL("dev"), "--to-token-env", "B"}, exitUsage,
			[]string{`--from "master": want the stage's content-API endpoint`}},
		{"no token variable", []string{"init", "--from", srv.EnvironmentURL("master"), "--to", srv.EnvironmentURL("dev"), "--to-token-env", "B"}, exitUsage,
			[]string{"--from-token-env: missing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, secret := range []string{"mgmt", "not-the-token"} {
				if strings.Contains(stderr, secret) && !strings.Contains(tc.name, "token instead") {
					t.Errorf("stderr shows the secret %q:\n%s", secret, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, configFileName)); err == nil {
				t.Errorf("%s written despite the error", configFileName)
			}
		})
	}
}

func TestInitNewAssetSystem(t *testing.T) {
	// On the new asset system the Management API gives no Filestack key:
	// the stage's schema tells the system when its token is set, and
	// nothing goes to .env.
	p := stagetest.NewProject(stagetest.ProjectConfig{ID: "shop", ManagementToken: "mgmt"})
	for _, name := range []string{"master", "staging", "dev"} {
		st, err := stagetest.NewStage(initSchema(t, "upload"), stagetest.WithLimits(stagetest.Limits{Token: "content-token-x2"}), stagetest.WithAssets(nil, ""))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AddEnvironment(name, st); err != nil {
			t.Fatal(err)
		}
	}
	srv := stagetest.NewProjectServer(t, p)
	t.Chdir(t.TempDir())
	t.Setenv("MGMT_TOKEN", "mgmt")
	t.Setenv("HYGRAPH_MASTER_TOKEN", "content-token-x2")
	t.Setenv("HYGRAPH_STAGING_TOKEN", "")
	t.Setenv("HYGRAPH_DEV_TOKEN", "")
	code, stdout, stderr := runCLI(t, "init", "--management-token-env", "MGMT_TOKEN", "--project", "shop", "--management-endpoint", srv.ManagementURL)
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "set HYGRAPH_STAGING_TOKEN, HYGRAPH_DEV_TOKEN") || !strings.Contains(stdout, "add a pair under sync:") {
		t.Errorf("init's output:\n%s", stdout)
	}
	c, err := parseConfig(configFileName, []byte(readFile(t, configFileName)))
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Stages["master"].Assets; a == nil || a.System != "upload" || a.KeyEnv != "" {
		t.Errorf("master's assets %+v, want the upload system", a)
	}
	for _, name := range []string{"staging", "dev"} {
		if a := c.Stages[name].Assets; a != nil {
			t.Errorf("%s: assets %+v written with no token to tell the system", name, a)
		}
	}
	if len(c.Sync) != 0 {
		t.Errorf("pairs %+v: with three environments init cannot guess one", c.Sync)
	}
	if _, err := os.Stat(".env"); err == nil {
		t.Error(".env written with no key to put in it")
	}
}
