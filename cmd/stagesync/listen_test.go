package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/gcmssig"
	"github.com/stagesync/stagesync/internal/listen"
	"github.com/stagesync/stagesync/internal/pgtest"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

const listenSecret = "listen-test-secret"

// listener is a `stagesync listen` child process.
type listener struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

var listeningAt = regexp.MustCompile(`listening for webhooks at (http://[^/\s]+)/`)

// startListener starts `stagesync listen` and waits for its address.
// env are more VAR=value pairs for it.
func startListener(t *testing.T, bin string, args []string, env ...string) *listener {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = cliEnv(append([]string{"STAGESYNC_WEBHOOK_SECRET=" + listenSecret, "SRC_TOKEN=" + getenv(t, "SRC_TOKEN"), "DST_TOKEN=" + getenv(t, "DST_TOKEN")}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &listener{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			l.logs.WriteString(line + "\n") // read by the test only after done
			if m := listeningAt.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		l.done <- cmd.Wait()
	}()
	select {
	case l.url = <-addr:
	case err := <-l.done:
		t.Fatalf("listen exited before listening: %v\n%s", err, l.logs)
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("listen did not start within a minute")
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-l.done:
		case <-time.After(10 * time.Second):
		}
	})
	return l
}

func getenv(t *testing.T, k string) string {
	t.Helper()
	for _, kv := range cliEnv() {
		if name, v, _ := strings.Cut(kv, "="); name == k {
			return v
		}
	}
	return ""
}

// metric reads one value of the listener's /metrics.
func (l *listener) metric(t *testing.T, name string) int {
	t.Helper()
	resp, err := http.Get(l.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(f)
		}
	}
	t.Fatalf("no %s in /metrics:\n%s", name, b)
	return 0
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 3 minutes for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postHook sends a webhook signed for the master environment; it returns
// the status.
func postHook(t *testing.T, url, body string) int {
	t.Helper()
	return postHookFrom(t, url, body, "master")
}

// postHookFrom sends a webhook signed for the environment env.
func postHookFrom(t *testing.T, url, body, env string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(gcmssig.Header, gcmssig.Sign(listenSecret, []byte(body), env, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestListenCommandKilled kills a listener (SIGKILL) with jobs pending and
// one running; after a restart on the same queue and state every
// acknowledged event is applied, once in effect: the destination equals
// the source, with no duplicates.
func TestListenCommandKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the CLI")
	}
	bin := buildCLI(t)
	src := libraryStage(t, nil)
	dst := libraryStage(t, nil, stagetest.WithLimits(stagetest.Limits{Latency: 20 * time.Millisecond}))
	seedLibrary(t, src)
	var events []string
	for _, model := range []string{"Book", "Author", "Tag"} {
		for _, e := range src.Stage.All(model, "DRAFT") {
			events = append(events, fmt.Sprintf(`{"operation":"update","data":{"__typename":%q,"id":%q,"stage":"DRAFT"}}`, model, e["id"]))
		}
	}
	dir := t.TempDir()
	args := syncArgs(t, src, dst, dst.Token, dir, "--addr", "127.0.0.1:0", "--queue", filepath.Join(dir, "queue.db"),
		"--mirror", "--job-timeout", "2s", "--rescue-after", "3s")
	args[0] = "listen"

	first := startListener(t, bin, args)
	for _, ev := range events {
		if code := postHook(t, first.url, ev); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d", code)
		}
	}
	// Some jobs done, others pending: kill it.
	waitFor(t, "a job done", func() bool {
		return first.metric(t, `stagesync_listen_jobs_completed_total{kind="sync-entry"}`) >= 1
	})
	pending := first.metric(t, "stagesync_listen_queue_depth")
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	t.Logf("killed with %d of %d jobs pending", pending, len(events))
	if pending == 0 {
		t.Log("every job was done before the kill: the restart has nothing to do")
	}

	second := startListener(t, bin, args)
	waitFor(t, "the queue to drain", func() bool { return second.metric(t, "stagesync_listen_queue_depth") == 0 })
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-second.done; err != nil {
		t.Fatalf("listen after SIGTERM: %v\n%s", err, second.logs)
	}

	state, err := stagesync.LoadState(filepath.Join(dir, "state.db"), src.URL, dst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	source := stagesync.NewStage("source", src.URL, src.Token)
	dest := stagesync.NewStage("dest", dst.URL, dst.Token)
	diffs, err := stagesync.Compare(context.Background(), stagesync.CompareConfig{Source: source, Dest: dest, State: state})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}
	for _, model := range []string{"Book", "Author", "Tag"} {
		if s, d := len(src.Stage.All(model, "DRAFT")), len(dst.Stage.All(model, "DRAFT")); s != d {
			t.Errorf("%s: %d in the source, %d in the destination", model, s, d)
		}
	}
}

func TestListenCommandUsage(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	args := syncArgs(t, src, dst, dst.Token, t.TempDir(), "--addr", "127.0.0.1:0", "--secret-env", "STAGESYNC_TEST_NO_SECRET")
	args[0] = "listen"
	t.Setenv("STAGESYNC_TEST_NO_SECRET", "")
	code, _, stderr := runCLI(t, args...)
	if code != exitUsage || !strings.Contains(stderr, "STAGESYNC_TEST_NO_SECRET") {
		t.Errorf("without a secret: exit %d, %q; want a usage error naming the variable", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "jobs", "--queue", filepath.Join(t.TempDir(), "queue.db"))
	if code != exitOK || !strings.Contains(stdout, "no failed jobs") {
		t.Errorf("jobs on an empty queue: exit %d, %q %q", code, stdout, stderr)
	}
}

// TestServeWebhook: `serve --webhook` posts signed Hygraph-shaped
// webhooks on every change.
func TestServeWebhook(t *testing.T) {
	desc, err := os.ReadFile(libraryYAML)
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(desc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "library.graphql")
	if err := os.WriteFile(file, []byte(sdl), 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := gcmssig.Verify(listenSecret, r.Header.Get(gcmssig.Header), body, time.Now(), time.Minute); err != nil {
			got <- "bad signature: " + err.Error()
			return
		}
		got <- string(body)
	}))
	defer recv.Close()
	t.Setenv("STAGESYNC_TEST_HOOK_SECRET", listenSecret)
	s := startServe(t, "--schema", file, "--addr", "127.0.0.1:0", "--token", "tok",
		"--webhook", recv.URL, "--webhook-secret-env", "STAGESYNC_TEST_HOOK_SECRET", "--webhook-models", "Tag")
	if code, body := post(t, s.endpoint, "tok", `mutation { createTag(data: {name: "x"}) { id } }`, nil); code != http.StatusOK {
		t.Fatalf("create: %d %s", code, body)
	}
	select {
	case body := <-got:
		if !strings.Contains(body, `"operation":"create"`) || !strings.Contains(body, `"__typename":"Tag"`) {
			t.Errorf("webhook %s", body)
		}
	case <-time.After(time.Minute):
		t.Fatal("no webhook within a minute")
	}

	code, _, stderr := runCLI(t, "serve", "--schema", file, "--webhook-secret-env", "X")
	if code != exitUsage || !strings.Contains(stderr, "--webhook") {
		t.Errorf("--webhook-secret-env without --webhook: exit %d, %q", code, stderr)
	}
}

// postgresQueueURL returns a postgres:// URL in a schema of its own,
// skipping the test without STAGESYNC_TEST_POSTGRES.
func postgresQueueURL(t *testing.T) string {
	return pgtest.SchemaURL(t, "the PostgreSQL queue and state")
}

// TestListenCommandPostgresKilled: two listeners on one PostgreSQL queue
// and one PostgreSQL state, sharing no file (as on two machines); one is
// killed (SIGKILL) with jobs pending and in flight, the other finishes
// them, and the destination equals the source.
func TestListenCommandPostgresKilled(t *testing.T) {
	queue := postgresQueueURL(t)
	stateURL := postgresQueueURL(t) // a schema of its own
	bin := buildCLI(t)
	src := libraryStage(t, nil)
	dst := libraryStage(t, nil, stagetest.WithLimits(stagetest.Limits{Latency: 20 * time.Millisecond}))
	seedLibrary(t, src)
	var events []string
	for _, model := range []string{"Book", "Author", "Tag"} {
		for _, e := range src.Stage.All(model, "DRAFT") {
			events = append(events, fmt.Sprintf(`{"operation":"update","data":{"__typename":%q,"id":%q,"stage":"DRAFT"}}`, model, e["id"]))
		}
	}
	dir := t.TempDir()
	args := syncArgs(t, src, dst, dst.Token, dir, "--addr", "127.0.0.1:0", "--queue", queue, "--state", stateURL,
		"--mirror", "--job-timeout", "2s", "--rescue-after", "3s")
	args[0] = "listen"
	a := startListener(t, bin, args)
	b := startListener(t, bin, args)
	for i, ev := range events {
		to := a
		if i%2 == 1 {
			to = b
		}
		if code := postHook(t, to.url, ev); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d", code)
		}
	}
	waitFor(t, "a job done", func() bool {
		return a.metric(t, `stagesync_listen_jobs_completed_total{kind="sync-entry"}`)+b.metric(t, `stagesync_listen_jobs_completed_total{kind="sync-entry"}`) >= 1
	})
	t.Logf("killing one listener with %d jobs pending", a.metric(t, "stagesync_listen_queue_depth"))
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	waitFor(t, "the other listener to drain the queue", func() bool { return b.metric(t, "stagesync_listen_queue_depth") == 0 })
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-b.done; err != nil {
		t.Fatalf("listen after SIGTERM: %v\n%s", err, b.logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a state file beside the PostgreSQL state: %v", err)
	}
	state, err := stagesync.LoadState(stateURL, src.URL, dst.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	diffs, err := stagesync.Compare(context.Background(), stagesync.CompareConfig{
		Source: stagesync.NewStage("source", src.URL, src.Token), Dest: stagesync.NewStage("dest", dst.URL, dst.Token), State: state})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}
	for _, model := range []string{"Book", "Author", "Tag"} {
		if s, d := len(src.Stage.All(model, "DRAFT")), len(dst.Stage.All(model, "DRAFT")); s != d {
			t.Errorf("%s: %d in the source, %d in the destination", model, s, d)
		}
	}
}

// TestJobsCommand lists a job that failed every attempt, with its error,
// and retries it.
func TestJobsCommand(t *testing.T) {
	ctx := context.Background()
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	ids, err := src.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "cursed"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	queue := filepath.Join(dir, "queue.db")
	l, err := listen.Open(ctx, listen.Config{
		Sync: stagesync.SyncConfig{
			Source: stagesync.NewStage("source", src.URL, src.Token), Dest: stagesync.NewStage("dest", dst.URL, dst.Token),
			StatePath: filepath.Join(dir, "state.db"),
			Transform: func(context.Context, string, map[string]any) error { return errors.New("the transform refuses it") },
		},
		Queue:  listen.QueueConfig{URL: queue, MaxAttempts: 1},
		Secret: listenSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Enqueue(ctx, listen.Event{Operation: "create", Model: "Tag", ID: ids[0]}, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job to fail", func() bool {
		n, err := l.Pending(ctx)
		return err == nil && n == 0
	})
	if err := l.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	l.Close()

	code, stdout, stderr := runCLI(t, "jobs", "--queue", queue)
	if code != exitOK || !strings.Contains(stdout, "discarded\tsync-entry") || !strings.Contains(stdout, "the transform refuses it") {
		t.Fatalf("jobs: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "jobs", "--queue", queue, "--retry-all")
	if code != exitOK || !strings.Contains(stdout, "retrying job") {
		t.Fatalf("jobs --retry-all: exit %d\n%s\n%s", code, stdout, stderr)
	}
	j, err := listen.OpenJobs(ctx, queue)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if n, err := j.Pending(ctx); err != nil || n != 1 {
		t.Errorf("after --retry-all: %d jobs pending (%v), want 1", n, err)
	}
}

// TestListenCommandConfigFile: a pair's listen keys in stagesync.yaml set
// listen's flags (the queue path relative to the file, the secret's
// variable, the source environment checked against each webhook's
// signature); a bad value is an error at its file:line and key.
func TestListenCommandConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the CLI")
	}
	bin := buildCLI(t)
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	listenKeys := "    rate: 1000\n    listen:\n      addr: 127.0.0.1:0\n      secret_env: MY_HOOK_SECRET\n      queue: q/listen.db\n      source_env: master\n      depth: 1\n"
	dir := libraryFile(t, src, dst, "    rate: 1000\n", listenKeys)

	l := startListener(t, bin, []string{"listen", "--config", filepath.Join(dir, configFileName)}, "MY_HOOK_SECRET="+listenSecret)
	first := src.Stage.All("Book", "DRAFT")[0]
	book := first["id"]
	event := fmt.Sprintf(`{"operation":"update","data":{"__typename":"Book","id":%q,"stage":"DRAFT"}}`, book)
	if code := postHookFrom(t, l.url, event, "dev"); code != http.StatusForbidden {
		t.Errorf("a webhook signed for dev: %d, want 403", code)
	}
	if code := postHook(t, l.url, event); code != http.StatusAccepted {
		t.Errorf("a webhook signed for master: %d, want 202", code)
	}
	waitFor(t, "the job", func() bool {
		return l.metric(t, `stagesync_listen_jobs_completed_total{kind="sync-entry"}`) >= 1
	})
	if n := l.metric(t, `stagesync_listen_webhooks_total{result="wrong_environment"}`); n != 1 {
		t.Errorf("%d webhooks refused for their environment, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "q", "listen.db")); err != nil {
		t.Errorf("the queue of the file: %v", err)
	}
	found := false
	for _, b := range dst.Stage.All("Book", "DRAFT") {
		found = found || b["title"] == first["title"]
	}
	if !found {
		t.Errorf("the book of the event (%v) is not in the destination", first["title"])
	}
	if err := l.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-l.done
	if !strings.Contains(l.logs.String(), "webhooks of environment master") {
		t.Errorf("the start line does not name the environment checked:\n%s", l.logs)
	}

	for _, tt := range []struct{ edit, want string }{
		{"      depth: 1\n", "      depth: 1\n      every: soon\n"},
		{"      secret_env: MY_HOOK_SECRET\n", "      secret_env: NOT_SET_ANYWHERE\n"},
	} {
		libraryFile(t, src, dst, "    rate: 1000\n", strings.Replace(listenKeys, tt.edit, tt.want, 1))
		code, _, stderr := runCLI(t, "listen")
		if code != exitUsage || !strings.Contains(stderr, configFileName+":") || !strings.Contains(stderr, "sync[0].listen.") {
			t.Errorf("%q: exit %d, %q; want a usage error at the file's line and key", strings.TrimSpace(tt.want), code, stderr)
		}
	}
}

func TestHygraphEnvironment(t *testing.T) {
	for in, want := range map[string]string{
		"https://eu-central-1.cdn.hygraph.com/content/ckx1abc/master":  "master",
		"https://api-eu-central-1.hygraph.com/v2/ckx1abc/dev":          "dev",
		"https://eu-central-1.cdn.hygraph.com/content/ckx1abc/master/": "master",
		"http://127.0.0.1:4468/":                                       "",
		"https://example.com/content/ckx1abc":                          "",
	} {
		if got := hygraphEnvironment(in); got != want {
			t.Errorf("hygraphEnvironment(%q) = %q, want %q", in, got, want)
		}
	}
}
