package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// withNotes adds a model in no relation, Note, to the library.
func withNotes(desc string) string {
	return strings.TrimRight(desc, "\n") + "\n  Note:\n    title: String! unique\n"
}

// seedPublished writes n published entries of model (Book or Note), each
// with a draft that differs from its published version, into the stage.
func seedPublished(t *testing.T, s *stagetest.Server, model string, n int) []string {
	t.Helper()
	field := map[string]string{"Book": "title", "Note": "title"}[model]
	docs := make([]map[string]any, n)
	for i := range docs {
		docs[i] = map[string]any{field: fmt.Sprintf("%s %03d", model, i)}
	}
	ids, err := s.Stage.Seed(model, "PUBLISHED", docs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if err := s.Stage.Update(context.Background(), model, id, map[string]any{field: fmt.Sprintf("%s %03d (draft)", model, i)}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// syncArgs are the arguments of a sync from src to dst with a state in dir.
func syncArgs(t *testing.T, src, dst *stagetest.Server, dstToken, dir string, extra ...string) []string {
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dstToken)
	return append([]string{"sync", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
		"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "100000",
		"--state", filepath.Join(dir, "state.db")}, extra...)
}

// cliArgs returns the arguments of a command (sync, plan, …) from src to
// dst with syncArgs's flags, the state in dir, and extra.
func cliArgs(t *testing.T, src, dst *stagetest.Server, dir string) func(cmd string, extra ...string) []string {
	return func(cmd string, extra ...string) []string {
		a := syncArgs(t, src, dst, dst.Token, dir, extra...)
		a[0] = cmd
		return a
	}
}

// TestSyncCommandProgressConcurrent drives the progress output while
// entries are written, published in batches by the publisher (Note is in
// no relation cycle), concurrently with the writes and with each other,
// and their drafts written on top: run with -race, the printer must see
// one event at a time. Each phase and model gets one heading.
func TestSyncCommandProgressConcurrent(t *testing.T) {
	src, dst := libraryStage(t, withNotes), libraryStage(t, withNotes)
	seedLibrary(t, src)
	seedPublished(t, src, "Note", 400)
	code, stdout, stderr := runCLI(t, syncArgs(t, src, dst, dst.Token, t.TempDir(), "--page-size", "50")...)
	if code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	headings := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "state:":
		case len(f) == 1 || len(f) == 2:
			headings[line]++
		case len(f) == 3 && strings.Count(f[2], "/") == 1:
		default:
			t.Errorf("progress line %q", line)
		}
	}
	for _, h := range []string{"write     Note", "publish   Note", "draft     Note"} {
		if headings[h] != 1 {
			t.Errorf("heading %q printed %d times:\n%s", h, headings[h], stderr)
		}
	}
	for h, n := range headings {
		if n > 1 {
			t.Errorf("heading %q printed %d times", h, n)
		}
	}
}

// TestSyncCommandReadOnlyToken: a destination token that may only read
// stops the sync with one message, not a failure per entry.
func TestSyncCommandReadOnlyToken(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	seedPublished(t, src, "Book", 60)
	code, stdout, stderr := runCLI(t, syncArgs(t, src, dst, dst.ReadToken, t.TempDir(), "-q")...)
	if code != exitBlocked {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitBlocked, stdout, stderr)
	}
	if n := strings.Count(stdout+stderr, "403"); n != 1 || !strings.Contains(stderr, `stage "destination"`) {
		t.Errorf("want one message naming the destination and the 403, got %d:\n%s\n%s", n, stdout, stderr)
	}
	if strings.Contains(stdout, "failed:") {
		t.Errorf("failures listed:\n%s", stdout)
	}
}

// TestSyncCommandFailureLines: the terminal shows the first failed
// entries; the report file has them all.
func TestSyncCommandFailureLines(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedPublished(t, src, "Book", 30)
	// The destination has books of the same (unique) titles, other ids:
	// each create fails, each its own way.
	for i := range 30 {
		if _, err := dst.Stage.Seed("Book", "DRAFT", map[string]any{"title": fmt.Sprintf("Book %03d (draft)", i)}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, syncArgs(t, src, dst, dst.Token, dir, "-q", "--models", "Book")...)
	if code != exitFailures {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailures, stdout, stderr)
	}
	lines := 0
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "  Book ") {
			lines++
		}
	}
	report := filepath.Join(dir, "state.report.json")
	if lines != maxFailureLines || !strings.Contains(stdout, "... and 10 more failed entries in the report ("+report+")") {
		t.Errorf("%d failure lines, want %d and a pointer to the report:\n%s", lines, maxFailureLines, stdout)
	}
	if r := readReport(t, report); len(r.Failures) != 30 {
		t.Errorf("report file lists %d failures, want 30", len(r.Failures))
	}
	if !strings.Contains(stderr, "30 entries failed") {
		t.Errorf("stderr %q", stderr)
	}
}

// TestSyncCommandInterrupted: Ctrl-C stops the sync cleanly: no failure
// for the writes it cut short, one line saying how to resume, exit 130;
// the same command then finishes the job.
func TestSyncCommandInterrupted(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send to oneself")
	}
	src := libraryStage(t, nil)
	dst := libraryStage(t, nil, stagetest.WithLimits(stagetest.Limits{Latency: 5 * time.Millisecond}))
	seedLibrary(t, src)
	seedPublished(t, src, "Book", 200)
	dir := t.TempDir()
	args := syncArgs(t, src, dst, dst.Token, dir, "-q", "--page-size", "20")
	// While the test runs, SIGINT is caught here too: it never ends the
	// test process, even should it come after the sync.
	caught := make(chan os.Signal, 1)
	signal.Notify(caught, os.Interrupt)
	defer signal.Stop(caught)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for dst.Stage.Counters().Mutations < 30 {
			select {
			case <-finished:
				return
			case <-time.After(time.Millisecond):
			}
		}
		p, err := os.FindProcess(os.Getpid())
		if err == nil {
			err = p.Signal(os.Interrupt)
		}
		if err != nil {
			t.Error(err)
		}
	}()
	code, stdout, stderr := runCLI(t, args...)
	close(finished)
	<-done
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitInterrupted, stdout, stderr)
	}
	if !strings.Contains(stderr, " written; resume with the same command") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line saying how to resume", stderr)
	}
	if strings.Contains(stdout, "failed:") {
		t.Errorf("failures listed for an interruption:\n%s", stdout)
	}
	code, stdout, stderr = runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("resumed: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := len(dst.Stage.All("Book", "DRAFT")); got != 203 {
		t.Errorf("destination has %d books, want 203", got)
	}
}

// TestSyncCommandNoMutationType: a stage whose schema has no Mutation
// type stops the sync with one message naming it: as the destination it
// cannot be written (it used to give a pre-flight finding per model), as
// the source its models cannot be discovered (it used to copy nothing and
// exit 0).
func TestSyncCommandNoMutationType(t *testing.T) {
	b, err := os.ReadFile(libraryYAML)
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(b)
	if err != nil {
		t.Fatal(err)
	}
	readOnly, err := schema.LoadString("library.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	readOnly.Mutation = nil
	delete(readOnly.Types, "Mutation")
	for _, tt := range []struct{ name, stage string }{{"dest", "destination"}, {"source", "source"}} {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := libraryStage(t, nil), libraryStage(t, nil)
			if tt.name == "dest" {
				dst = stagetest.NewServer(t, readOnly)
			} else {
				src = stagetest.NewServer(t, readOnly)
			}
			seedLibrary(t, src)
			code, stdout, stderr := runCLI(t, syncArgs(t, src, dst, dst.Token, t.TempDir(), "-q")...)
			if code != exitBlocked {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, exitBlocked, stdout, stderr)
			}
			if !strings.Contains(stderr, `stage "`+tt.stage+`"`) || !strings.Contains(stderr, "no Mutation type") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line naming the %s and its missing Mutation type", stderr, tt.stage)
			}
			if n := dst.Stage.Counters().Mutations; n != 0 {
				t.Errorf("%d mutations", n)
			}
		})
	}
}
