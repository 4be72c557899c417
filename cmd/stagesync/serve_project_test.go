package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startServeProject runs `stagesync serve args...` (with --env flags) and
// returns once the Management API's URL is printed, with the lines printed
// so far.
func startServeProject(t *testing.T, args ...string) (run *serveRun, printed []string, mgmtURL string) {
	t.Helper()
	return serveUntil(t, "management: ", args)
}

func TestServeProject(t *testing.T) {
	data := t.TempDir()
	run, printed, mgmtURL := startServeProject(t, "--env", "master="+serveFixture, "--env", "dev="+serveFixture,
		"--project", "blog", "--token", "tok", "--management-token", "mgmt", "--addr", "127.0.0.1:0", "--data", data, "--assets")
	base := strings.TrimSuffix(mgmtURL, "/management/graphql")
	want := []string{"endpoint master: " + base + "/content/blog/master", "endpoint dev: " + base + "/content/blog/dev"}
	for _, w := range want {
		found := false
		for _, l := range printed {
			found = found || l == w
		}
		if !found {
			t.Errorf("serve did not print %q:\n%s", w, strings.Join(printed, "\n"))
		}
	}
	filestack := ""
	for _, l := range printed {
		if u, ok := strings.CutPrefix(l, "filestack: "); ok {
			filestack, _, _ = strings.Cut(u, " ")
		}
	}
	if !strings.HasPrefix(filestack, "http://127.0.0.1:") {
		t.Errorf("serve --assets did not print the Filestack URL:\n%s", strings.Join(printed, "\n"))
	}
	// Each environment is its own stage: a tag created in dev is not in master.
	if code, body := post(t, base+"/content/blog/dev", "tok", `mutation { createTag(data: {title: "Go", slug: "go"}) { id } }`, nil); code != http.StatusOK || strings.Contains(body, "errors") {
		t.Fatalf("create in dev: %d %s", code, body)
	}
	for env, n := range map[string]int{"dev": 1, "master": 0} {
		_, body := post(t, base+"/content/blog/"+env, "tok", `{ tags(stage: DRAFT) { id } }`, nil)
		if got := strings.Count(body, `"id"`); got != n {
			t.Errorf("%s has %d tags, want %d: %s", env, got, n, body)
		}
	}
	// The Management API lists them, with the bucket keys of --assets
	// (the fixture is on the legacy asset system).
	code, body := post(t, mgmtURL, "mgmt", `{ viewer { ... on TokenViewer { project { id environments { name endpoint assetConfig { apiKey } } } } } }`, nil)
	if code != http.StatusOK || !strings.Contains(body, `"endpoint":"`+base+`/content/blog/dev"`) || !strings.Contains(body, `"apiKey":"dev-`) {
		t.Errorf("Management API: %d %s", code, body)
	}
	if code, _ := post(t, mgmtURL, "tok", `{ viewer { id } }`, nil); code != http.StatusUnauthorized {
		t.Errorf("Management API with the content token: status %d, want 401", code)
	}

	// init reads it.
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("SERVE_MGMT", "mgmt")
	if code, stdout, stderr := runCLI(t, "init", "--management-token-env", "SERVE_MGMT", "--project", "blog", "--management-endpoint", mgmtURL); code != exitOK {
		t.Fatalf("init: exit %d\n%s\n%s", code, stdout, stderr)
	}
	c, err := parseConfig(configFileName, []byte(readFile(t, configFileName)))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Stages["dev"]; s == nil || s.Endpoint != base+"/content/blog/dev" || s.TokenEnv != "HYGRAPH_DEV_TOKEN" {
		t.Errorf("stage dev: %+v", s)
	}

	rest, err := run.stop()
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, run.stderr)
	}
	if !strings.Contains(rest, "stagesync: dev stopped; requests 2, rejected 0, queries 1, mutations 1, entries written 1") {
		t.Errorf("serve's last lines:\n%s", rest)
	}
	for _, env := range []string{"master", "dev"} {
		if _, err := os.Stat(filepath.Join(data, env, "stage.db")); err != nil {
			t.Errorf("--data: %v", err)
		}
	}
}

func TestServeProjectUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"schema and env", []string{"--schema", serveFixture, "--env", "dev=" + serveFixture}, "--schema and --env"},
		{"no file", []string{"--env", "dev"}, `--env "dev": want NAME=FILE`},
		{"twice", []string{"--env", "dev=" + serveFixture, "--env", "dev=" + serveFixture}, "--env dev: given twice"},
		{"bad name", []string{"--env", "Dev=" + serveFixture}, "lower-case letters"},
		{"missing file", []string{"--env", "dev=nope.graphql"}, "--env dev: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, exitUsage, stderr, tc.want)
			}
			if strings.Contains(stdout, "management:") {
				t.Errorf("served despite the error: %s", stdout)
			}
		})
	}
}

// TestServeProjectPlan: serve --env passes --plan and --default-page to
// every environment: a list read without first gets the default page, and
// a request with more mutations than the hobby plan's 5 concurrent
// mutation operations is answered 429.
func TestServeProjectPlan(t *testing.T) {
	run, _, mgmtURL := startServeProject(t, "--env", "master="+serveFixture, "--env", "dev="+serveFixture,
		"--project", "blog", "--token", "tok", "--management-token", "mgmt", "--addr", "127.0.0.1:0",
		"--plan", "hobby", "--default-page", "3")
	base := strings.TrimSuffix(mgmtURL, "/management/graphql")
	creates := func(n int) string {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range n {
			fmt.Fprintf(&b, ` t%d: createTag(data: {title: "T%d", slug: "t%d"}) { id }`, i, i, i)
		}
		b.WriteString(" }")
		return b.String()
	}
	for _, env := range []string{"master", "dev"} {
		url := base + "/content/blog/" + env
		if code, body := post(t, url, "tok", creates(4), nil); code != http.StatusOK || strings.Contains(body, "errors") {
			t.Fatalf("%s: 4 creates in one request: %d %s", env, code, body)
		}
		if _, body := post(t, url, "tok", `{ tags(stage: DRAFT) { id } }`, nil); strings.Count(body, `"id"`) != 3 {
			t.Errorf("%s: a read without first: %s, want the default page of 3", env, body)
		}
		if code, body := post(t, url, "tok", creates(6), nil); code != http.StatusTooManyRequests {
			t.Errorf("%s: 6 mutations in one request on the hobby plan: %d %s, want 429", env, code, body)
		}
	}
	if _, err := run.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, run.stderr)
	}
}
