package stagesync_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// TestSyncFailuresPerEntry: an entry that fails for several reasons (here
// authors whose books and favorite the transform dropped with an error) is
// reported once, with every reason, and counted once: a model never has
// more failed entries than it read.
func TestSyncFailuresPerEntry(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 12)
	cfg := p.config()
	cfg.Transform = func(_ context.Context, model string, entry map[string]any) error {
		if model == "Book" {
			return errors.New("no ISBN")
		}
		return nil
	}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range report.Models() {
		if m.Failed > m.Read {
			t.Errorf("%s: %d failed of %d read", m.Name, m.Failed, m.Read)
		}
	}
	seen := map[string]bool{}
	several := 0
	for _, f := range report.Failures() {
		key := f.Model + " " + f.SourceID
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if f.Model != "Author" {
			continue
		}
		reasons := f.Reasons()
		if len(reasons) > 1 {
			several++
		}
		for _, r := range reasons {
			if r.Op != "relation" || !strings.Contains(r.Message, "has no entry in the destination") {
				t.Errorf("author %s: reason %+v", f.SourceID, r)
			}
		}
	}
	if several == 0 {
		t.Errorf("no author lists several missing books: %+v", report.Failures())
	}
	if got := len(report.Failures()); got != 12+3 {
		t.Errorf("%d failed entries, want the 12 books and the 3 authors", got)
	}
	for _, m := range report.Models() {
		if m.Name == "Book" && m.Failed != 12 || m.Name == "Author" && m.Failed != 3 {
			t.Errorf("%s: %d failed", m.Name, m.Failed)
		}
	}
}

// TestSyncReadOnlyToken: a destination token that may not write (403 on
// mutations) stops the run with one *SystemicError instead of a failure
// per entry.
func TestSyncReadOnlyToken(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 12)
	cfg := p.config()
	cfg.Dest = fastStageAt("dest", p.dst.URL, p.dst.ReadToken)
	report, _, err := stagesync.Sync(context.Background(), cfg)
	var se *stagesync.SystemicError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SystemicError; %d failures", err, len(report.Failures()))
	}
	var he *stagesync.HTTPError
	if se.Stage != "dest" || !errors.As(err, &he) || he.StatusCode != 403 {
		t.Errorf("err = %#v, want the destination's 403", se)
	}
	if !strings.Contains(err.Error(), `stage "dest"`) || strings.Count(err.Error(), `stage "dest"`) != 1 {
		t.Errorf("message %q should name the stage once", err)
	}
	if fs := report.Failures(); len(fs) != 0 {
		t.Errorf("%d failures reported, want none: first %+v", len(fs), fs[0])
	}
	for _, m := range report.Models() {
		if m.Failed != 0 || m.Created != 0 {
			t.Errorf("%s: %+v", m.Name, m)
		}
	}
}

// TestSyncNoMutationType: a destination schema without a Mutation type
// cannot be written (it used to give a pre-flight finding per model); a
// source one's models cannot be discovered (it used to copy nothing and
// succeed). Each stops before reading, naming the stage.
func TestSyncNoMutationType(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 3)
	readOnly := librarySchema(t, nil)
	readOnly.Mutation = nil
	delete(readOnly.Types, "Mutation")
	for _, tt := range []struct {
		name, stage string
		edit        func(*stagesync.SyncConfig)
	}{
		{"dest", "dest", func(c *stagesync.SyncConfig) { c.DestSchema = readOnly }},
		{"source", "source", func(c *stagesync.SyncConfig) { c.SourceSchema = readOnly }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := p.config()
			tt.edit(&cfg)
			before := p.src.Stage.Counters().Requests + p.dst.Stage.Counters().Requests
			report, _, err := stagesync.Sync(context.Background(), cfg)
			var se *stagesync.SystemicError
			if !errors.As(err, &se) || se.Stage != tt.stage || !strings.Contains(err.Error(), "no Mutation type") {
				t.Fatalf("err = %v, want a *SystemicError naming %s", err, tt.stage)
			}
			var pe *stagesync.PreflightError
			if errors.As(err, &pe) {
				t.Errorf("a pre-flight error: %v", err)
			}
			if after := p.src.Stage.Counters().Requests + p.dst.Stage.Counters().Requests; after != before {
				t.Errorf("%d requests sent", after-before)
			}
			if len(report.Failures()) != 0 {
				t.Errorf("failures %+v", report.Failures())
			}
		})
	}
}

// TestSyncSameFailureStops: when every write fails the same way (here a
// field the destination requires, which the source does not fill) the
// run stops after systemicRun of them, with one error.
func TestSyncSameFailureStops(t *testing.T) {
	src := librarySchema(t, nil)
	dst := librarySchema(t, func(s string) string {
		return strings.Replace(s, "    pages: Int\n", "    pages: Int\n    isbn: String!\n", 1)
	})
	p := newPair(t, src, dst)
	p.seedLibrary(t, 40)
	cfg := p.config()
	cfg.Handled = []string{"Book.isbn"}
	cfg.Concurrency = 4
	report, _, err := stagesync.Sync(context.Background(), cfg)
	var se *stagesync.SystemicError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SystemicError; failures %+v", err, report.Failures())
	}
	if se.Stage != "dest" || se.Op != "create" || se.Count < 10 {
		t.Errorf("err = %v (%+v)", err, se)
	}
	for _, f := range report.Failures() {
		if f.Model == "Book" && f.Op == "create" {
			t.Errorf("the failure that stopped the run is reported for %s too: %s", f.SourceID, f.Message)
		}
	}
	for _, m := range report.Models() {
		if m.Name == "Book" && m.Created != 0 {
			t.Errorf("Book: %+v", m)
		}
	}
}

// TestSyncInterrupted: the writes an interruption (ctx cancelled) cuts
// short are not reported as failed, and the same sync resumes.
func TestSyncInterrupted(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPairOf(t, s, s, nil, []stagetest.Option{stagetest.WithLimits(stagetest.Limits{Latency: 5 * time.Millisecond})})
	p.seedLibrary(t, 60)
	path := filepath.Join(t.TempDir(), "state.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := p.fileConfig(path, nil, nil)
	cfg.Progress = func(ev stagesync.Event) {
		if ev.Phase == stagesync.PhaseWrite && ev.Model == "Book" && ev.Done >= 20 {
			cancel()
		}
	}
	report, _, err := stagesync.Sync(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if fs := report.Failures(); len(fs) != 0 {
		t.Errorf("%d failures reported for an interruption, first %+v", len(fs), fs[0])
	}
	written := 0
	for _, m := range report.Models() {
		written += m.Created
	}
	if written == 0 || written >= len(p.seeded["Book"])+7 {
		t.Errorf("%d entries written before the interruption", written)
	}
	report, _ = mustSync(t, p.fileConfig(path, nil, nil))
	for _, m := range report.Models() {
		if m.Created+m.Updated+m.Unchanged != m.Read {
			t.Errorf("resumed: %+v", m)
		}
	}
	p.loadState(t, path, p.src.URL, p.dst.URL)
	p.compare(t)
}
