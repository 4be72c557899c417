package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// serveFixture is a Hygraph schema synthesized with the content model of a
// real one (models Post, Project, Tag).
const serveFixture = synthTestdata + "/blog.graphql"

// serveRun is a `stagesync serve` running in-process.
type serveRun struct {
	first    string // the "stagesync: serving ..." line
	endpoint string
	lines    <-chan string
	done     <-chan struct{} // closed when the command returned
	err      error           // what it returned, once done is closed
	cancel   context.CancelFunc
	stderr   *lockedBuffer
}

// lockedBuffer is a bytes.Buffer safe for the server and the test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `stagesync serve args...` with a context the test
// cancels, and returns once the endpoint is printed.
func startServe(t *testing.T, args ...string) *serveRun {
	t.Helper()
	run, printed, ep := serveUntil(t, "endpoint: ", args)
	run.first, run.endpoint = printed[0], ep
	return run
}

// serveUntil runs `stagesync serve args...` with a context the test
// cancels, and returns once a line starting with prefix is printed: the
// run, the lines printed so far and the rest of that line.
func serveUntil(t *testing.T, prefix string, args []string) (run *serveRun, printed []string, value string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := new(lockedBuffer)
	root := newRootCmd()
	root.SetArgs(append([]string{"serve"}, args...))
	root.SetOut(pw)
	root.SetErr(stderr)
	done := make(chan struct{})
	run = &serveRun{done: done, cancel: cancel, stderr: stderr}
	go func() {
		run.err = root.ExecuteContext(ctx)
		pw.Close()
		close(done)
	}()
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	run.lines = lines
	t.Cleanup(func() {
		cancel()
		for range lines {
		}
		<-done
	})
	for line := range lines {
		printed = append(printed, line)
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return run, printed, v
		}
	}
	<-done
	t.Fatalf("serve ended before printing %q: %v\nstdout: %q\nstderr: %s", prefix, run.err, printed, stderr)
	return nil, nil, ""
}

// stop cancels the server and returns the rest of its output and its error.
func (s *serveRun) stop() (string, error) {
	s.cancel()
	var rest []string
	for line := range s.lines {
		rest = append(rest, line)
	}
	<-s.done
	return strings.Join(rest, "\n"), s.err
}

// post sends a GraphQL request and returns the status and body.
func post(t *testing.T, endpoint, token, query string, vars map[string]any) (int, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

const serveQuery = `{ tags(first: 1, stage: DRAFT) { id } }`

func TestServe(t *testing.T) {
	cases := []struct {
		name           string
		args           []string
		generatedToken bool
		unauthStatus   int // status of a request without a token
		wantRejected   int
	}{
		{"explicit token", []string{"--schema", serveFixture, "--token", "s3cret"}, false, http.StatusUnauthorized, 1},
		{"generated token", []string{"--schema", serveFixture}, true, http.StatusUnauthorized, 1},
		{"auth off", []string{"--schema", serveFixture, "--token="}, false, http.StatusOK, 0},
		{"schema as argument", []string{serveFixture, "--token", "s3cret"}, false, http.StatusUnauthorized, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--addr", "127.0.0.1:0"}, tc.args...)
			s := startServe(t, args...)

			if !strings.HasPrefix(s.first, "stagesync: serving blog.graphql at "+s.endpoint) {
				t.Errorf("first line %q", s.first)
			}
			if strings.HasSuffix(s.endpoint, ":0/") || !strings.HasPrefix(s.endpoint, "http://127.0.0.1:") {
				t.Errorf("endpoint %q: want the real port", s.endpoint)
			}
			token := "s3cret"
			_, printed, found := strings.Cut(s.first, "(token: ")
			switch {
			case tc.generatedToken && !found:
				t.Fatalf("first line %q: want the generated token", s.first)
			case tc.generatedToken:
				token = strings.TrimSuffix(printed, ")")
			case found:
				t.Errorf("first line %q prints a token that was not generated", s.first)
			}

			if status, body := post(t, s.endpoint, token, serveQuery, nil); status != http.StatusOK {
				t.Errorf("authorized: status %d, body %s", status, body)
			}
			status, body := post(t, s.endpoint, "", serveQuery, nil)
			if status != tc.unauthStatus {
				t.Errorf("no token: status %d, want %d; body %s", status, tc.unauthStatus, body)
			}
			if strings.Contains(body, token) {
				t.Errorf("body %s echoes the token", body)
			}

			rest, err := s.stop()
			if err != nil {
				t.Fatalf("serve: %v\nstderr: %s", err, s.stderr)
			}
			want := fmt.Sprintf("requests 2, rejected %d, queries ", tc.wantRejected)
			if !strings.Contains(rest, "stagesync: stopped; "+want) || !strings.Contains(rest, "entries written") {
				t.Errorf("output after stop:\n%s\nwant the counters (%q)", rest, want)
			}
		})
	}
}

// TestServeDataSurvivesRestart: with --data, a write acknowledged by one
// server is read back by the next one on the same directory.
func TestServeDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--schema", serveFixture, "--addr", "127.0.0.1:0", "--token", "t", "--data", dir}

	s := startServe(t, args...)
	status, body := post(t, s.endpoint, "t",
		`mutation($d: TagCreateInput!) { createTag(data: $d) { id } }`,
		map[string]any{"d": map[string]any{"slug": "kept", "title": "Kept"}})
	if status != http.StatusOK || strings.Contains(body, `"errors"`) {
		t.Fatalf("create: status %d, body %s", status, body)
	}
	var created struct {
		Data struct {
			CreateTag struct{ ID string } `json:"createTag"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.Data.CreateTag.ID == "" {
		t.Fatalf("create: body %s (%v)", body, err)
	}
	rest, err := s.stop()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rest, "mutations 1, entries written 1") {
		t.Errorf("counters after stop:\n%s", rest)
	}
	if _, err := os.Stat(filepath.Join(dir, "stage.db")); err != nil {
		t.Fatal(err)
	}

	s = startServe(t, args...)
	status, body = post(t, s.endpoint, "t", `{ tags(stage: DRAFT) { id slug } }`, nil)
	if status != http.StatusOK || !strings.Contains(body, created.Data.CreateTag.ID) || !strings.Contains(body, `"kept"`) {
		t.Errorf("after restart: status %d, body %s; want tag %s", status, body, created.Data.CreateTag.ID)
	}
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeUsageErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no schema", []string{}, "no schema"},
		{"no schema but flags", []string{"--token", "x"}, "no schema"},
		{"missing schema file", []string{"--schema", "nope.graphql"}, "nope.graphql"},
		{"not SDL", []string{"--schema", "serve.go"}, "serve.go:"},
		{"missing schema argument", []string{"--schema", serveFixture, "extra.graphql"}, "extra.graphql"},
		{"bad flag value", []string{"--schema", serveFixture, "--rate", "fast"}, "--rate"},
		{"fail rate above 1", []string{"--schema", serveFixture, "--fail-rate", "1.5"}, "--fail-rate 1.5"},
		{"negative drop rate", []string{"--schema", serveFixture, "--drop-rate", "-0.1"}, "--drop-rate"},
		{"negative rate", []string{"--schema", serveFixture, "--rate", "-1"}, "--rate -1"},
		{"negative max body", []string{"--schema", serveFixture, "--max-body", "-1"}, "--max-body"},
		{"bad address", []string{"--schema", serveFixture, "--addr", "no-port"}, "--addr"},
		{"unknown plan", []string{"--schema", serveFixture, "--plan", "scale"}, `--plan: unknown plan "scale"`},
		{"negative concurrent mutations", []string{"--schema", serveFixture, "--concurrent-mutations", "-1"}, "--concurrent-mutations -1"},
		{"negative service time", []string{"--schema", serveFixture, "--service-time", "-1s"}, "--service-time"},
		{"data is a file", []string{"--schema", serveFixture, "--data", notDir}, "not a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"serve"}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want %q", stderr, tc.want)
			}
			if strings.Contains(stdout, "endpoint:") {
				t.Errorf("stdout %q: served despite the error", stdout)
			}
		})
	}
}

// TestServePlan: --plan sets a Hygraph plan's limits, and a limit given on
// its own flag wins: with --plan hobby --concurrent-mutations 2, a request
// of 3 mutations gets 429 without Retry-After, and a query over the hobby
// query body cap (10 KB) gets 413.
func TestServePlan(t *testing.T) {
	s := startServe(t, "--addr", "127.0.0.1:0", "--schema", serveFixture, "--token", "t", "--plan", "hobby", "--concurrent-mutations", "2")
	mutation := `mutation { a: deleteTag(where: {id: "x"}) { id } b: deleteTag(where: {id: "y"}) { id } c: deleteTag(where: {id: "z"}) { id } }`
	if status, body := post(t, s.endpoint, "t", mutation, nil); status != http.StatusTooManyRequests || !strings.Contains(body, "Too many requests") {
		t.Errorf("3 mutations against --concurrent-mutations 2: status %d, body %s; want 429", status, body)
	}
	big := `{ tags(first: 1, stage: DRAFT, where: {id_not: "` + strings.Repeat("x", 10_100) + `"}) { id } }`
	if status, body := post(t, s.endpoint, "t", big, nil); status != http.StatusRequestEntityTooLarge {
		t.Errorf("an 10 KB query on hobby: status %d, body %.200s; want 413", status, body)
	}
	if status, body := post(t, s.endpoint, "t", serveQuery, nil); status != http.StatusOK {
		t.Errorf("a small query: status %d, body %s", status, body)
	}
	rest, err := s.stop()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rest, "answered 429 1") {
		t.Errorf("output after stop:\n%s\nwant \"answered 429 1\"", rest)
	}
}
