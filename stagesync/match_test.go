package stagesync_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// notesDesc is a project whose Note model has no unique field besides its
// id: entries can be told apart only by their content.
const notesDesc = `
models:
  Note:
    title: String
    body: String
  Hotel:
    slug: String! unique
    name: String
`

// bulkCreatedAt is the creation time every seeded note shares, as entries
// created in bulk (an import, a script) do.
const bulkCreatedAt = "2024-03-01T12:00:00.000Z"

// TestSyncResumeSharedCreatedAt cancels a sync of notes that share one
// createdAt (and have no unique field) while creates are in flight, some
// applied with their answers lost, then resumes with the same state. The
// resumed run must adopt each create that arrived for the source entry it
// was sent for: no duplicates, and no source entry mapped to the copy of
// another (a swap), which a count alone would not notice.
func TestSyncResumeSharedCreatedAt(t *testing.T) {
	s := describedSchema(t, "notes.graphql", notesDesc)
	const notes = 60
	for _, pt := range []struct {
		model      string
		from, lost int
	}{{"Note", 1, 2}, {"Note", 2, 3}, {"Note", 5, 2}, {"Hotel", 1, 3}, {"Hotel", 3, 2}, {"Hotel", 5, 3}} {
		t.Run(fmt.Sprintf("%s-requests-%d-to-%d-lost", pt.model, pt.from, pt.from+pt.lost-1), func(t *testing.T) {
			t.Parallel()
			p := newPair(t, s, s)
			for i := range notes {
				p.seed(t, "Note", "DRAFT", map[string]any{
					"title": fmt.Sprintf("Note %02d", i), "body": fmt.Sprintf("body %d", i%7),
					"createdAt": bulkCreatedAt,
				})
				p.seed(t, "Hotel", "DRAFT", map[string]any{
					"slug": fmt.Sprintf("hotel-%02d", i), "name": fmt.Sprintf("Hotel %d", i%5),
					"createdAt": bulkCreatedAt,
				})
			}
			path := filepath.Join(t.TempDir(), "state.db")
			q := newQuietServer(t, p.dst.Stage)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tr := newTrackedTransport(t)
			lt := &loseTransport{base: tr, from: pt.from, to: pt.from + pt.lost, cancel: cancel}
			cfg := p.fileConfig(path, nil, stageVia("dest", q.url, p.dst.Token, lt))
			cfg.Models = []string{pt.model}
			_, _, err := stagesync.Sync(ctx, cfg)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled sync: err = %v, want context.Canceled (the run sent fewer than %d mutation requests)", err, pt.from+pt.lost)
			}
			q.waitClosed(t, tr.closeAll())
			t.Logf("%d answers lost; %d of %d notes and %d hotels arrived", lt.lostCount(),
				len(p.dst.Stage.All("Note", "DRAFT")), notes, len(p.dst.Stage.All("Hotel", "DRAFT")))

			p.dest = stageVia("dest", q.url, p.dst.Token, newTransport(t))
			cfg = p.fileConfig(path, nil, nil)
			cfg.Models = []string{pt.model}
			report, _, err := stagesync.Sync(context.Background(), cfg)
			if err != nil {
				t.Fatalf("resumed sync: %v", err)
			}
			failOnFailures(t, "resumed sync", report)
			// Nothing changed in the source: an entry adopted for the
			// source entry it was created from needs no update.
			for _, m := range report.Models() {
				if m.Updated != 0 {
					t.Errorf("resumed sync updated %d %s entries: creates were adopted for the wrong source entries", m.Updated, m.Name)
				}
			}
			p.loadState(t, path, p.src.URL, q.url)
			if pt.model == "Note" {
				sameEntries(t, p, "Note", "title", "body")
			} else {
				sameEntries(t, p, "Hotel", "slug", "name")
			}
			p.noopSync(t, cfg)
		})
	}
}

// sameEntries fails the test unless every source entry of model maps to
// its own destination copy (the same values of fields), one to one, with
// no destination entry left over.
func sameEntries(t *testing.T, p *pair, model string, fields ...string) {
	t.Helper()
	dst := map[string]map[string]any{}
	for _, d := range p.dst.Stage.All(model, "DRAFT") {
		dst[d["id"].(string)] = d
	}
	ids := p.state.IDs(model)
	used := map[string]string{}
	for _, src := range p.src.Stage.All(model, "DRAFT") {
		sid := src["id"].(string)
		did, ok := ids[sid]
		if !ok {
			t.Errorf("%s: source entry %s has no destination entry in the identity map", model, sid)
			continue
		}
		if other, dup := used[did]; dup {
			t.Errorf("%s: source entries %s and %s both map to destination entry %s", model, sid, other, did)
		}
		used[did] = sid
		d := dst[did]
		if d == nil {
			t.Errorf("%s: source entry %s maps to destination entry %s, which does not exist", model, sid, did)
			continue
		}
		for _, f := range fields {
			if d[f] != src[f] {
				t.Errorf("%s: source entry %s (%s %v) maps to destination entry %s with %s %v", model, sid, f, src[f], did, f, d[f])
			}
		}
	}
	if len(dst) != len(used) {
		t.Errorf("%s: %d entries in the destination, %d mapped from the source: duplicates", model, len(dst), len(used))
	}
}

// loseTransport holds the from-th up to the (to-1)-th mutation request
// (counted from 1) as they come; when the last of them comes, it has the
// stage apply them in reverse order, loses their answers (as when a
// process dies with writes in flight) and cancels the run: the
// destination gets the entries in an order other than the source's. Any
// later request is cancelled before it leaves.
type loseTransport struct {
	base     http.RoundTripper
	from, to int
	cancel   context.CancelFunc

	mu    sync.Mutex
	count int
	held  []heldRequest
	lost  int
}

type heldRequest struct {
	req  *http.Request
	done chan struct{}
}

func (l *loseTransport) lostCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *loseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if !parseGQL(body).mutation {
		return l.base.RoundTrip(req)
	}
	l.mu.Lock()
	l.count++
	n := l.count
	switch {
	case n < l.from:
		l.mu.Unlock()
		return l.base.RoundTrip(req)
	case n >= l.to:
		l.mu.Unlock()
		return nil, fmt.Errorf("test: cancelled before sending: %w", context.Canceled)
	case n < l.to-1:
		h := heldRequest{req: req, done: make(chan struct{})}
		l.held = append(l.held, h)
		l.mu.Unlock()
		<-h.done
		return nil, errors.New("test: connection reset after the stage applied the request")
	}
	held := append(l.held, heldRequest{req: req})
	l.held = nil
	l.mu.Unlock()
	for i := len(held) - 1; i >= 0; i-- {
		resp, err := l.base.RoundTrip(held[i].req.Clone(context.Background()))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			l.mu.Lock()
			l.lost++
			l.mu.Unlock()
		}
	}
	l.cancel()
	for _, h := range held[:len(held)-1] {
		close(h.done)
	}
	return nil, fmt.Errorf("test: cancelled after the stage applied the request: %w", context.Canceled)
}

// answerLoser has the stage apply every mutation request and loses every
// answer.
type answerLoser struct{ base http.RoundTripper }

func (a answerLoser) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := a.base.RoundTrip(req)
	if err != nil || !parseGQL(body).mutation {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("test: connection reset after the stage applied the request")
}

// TestSyncResumeAmbiguousCreate: two source notes with the same content
// and creation time are created, both answers lost. The next run cannot
// tell which copy is whose: it adopts neither, writes nothing for them,
// reports each naming both candidates, and a mirror run deletes neither.
func TestSyncResumeAmbiguousCreate(t *testing.T) {
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	twin := map[string]any{"title": "Twin", "body": "same", "createdAt": bulkCreatedAt}
	p.seed(t, "Note", "DRAFT", twin, twin)
	p.seed(t, "Note", "DRAFT", map[string]any{"title": "Other", "createdAt": bulkCreatedAt})
	path := filepath.Join(t.TempDir(), "state.db")
	cfg := p.fileConfig(path, nil, stageVia("dest", p.dst.URL, p.dst.Token, answerLoser{newTransport(t)}))
	cfg.Models = []string{"Note"}
	cfg.MaxRounds = 1 // a run that ends before it repairs (killed): the next run resumes
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	// Within the run, the note that has no twin is found and adopted;
	// the twins cannot be told apart (see reconcile).
	if n := len(report.Failures()); n != 2 {
		t.Fatalf("first sync: %d failures, want the 2 twins' creates whose answers were lost: %+v", n, report.Failures())
	}
	if n := len(p.dst.Stage.All("Note", "DRAFT")); n != 3 {
		t.Fatalf("%d notes arrived, want 3", n)
	}

	cfg = p.fileConfig(path, nil, nil)
	cfg.Models = []string{"Note"}
	cfg.Mirror = true
	report, _, err = stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	var ambiguous []stagesync.Failure
	for _, f := range report.Failures() {
		if f.Op == "adopt" {
			ambiguous = append(ambiguous, f)
		} else {
			t.Errorf("resumed sync: unexpected failure %+v", f)
		}
	}
	if len(ambiguous) != 2 {
		t.Fatalf("resumed sync: %d adopt failures, want one for each twin: %+v", len(ambiguous), report.Failures())
	}
	var copies []string
	for _, d := range p.dst.Stage.All("Note", "DRAFT") {
		if d["title"] == "Twin" {
			copies = append(copies, d["id"].(string))
		}
	}
	for _, f := range ambiguous {
		for _, id := range copies {
			if !strings.Contains(f.Message, id) {
				t.Errorf("adopt failure of %s does not name candidate %s: %s", f.SourceID, id, f.Message)
			}
		}
	}
	if n := len(p.dst.Stage.All("Note", "DRAFT")); n != 3 {
		t.Errorf("after the resumed mirror sync: %d notes in the destination, want the 3 (nothing created, nothing deleted)", n)
	}
	for _, m := range report.Models() {
		if m.Created+m.Updated+m.Deleted != 0 {
			t.Errorf("resumed sync wrote %+v", m)
		}
	}

	// The user resolves it: each twin is one of the copies.
	st, err := stagesync.LoadState(path, p.src.URL, p.dst.URL)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range ambiguous {
		if err := st.Adopt("Note", f.SourceID, copies[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Adopt("Note", ambiguous[0].SourceID, copies[1]); err == nil {
		t.Error("adopting a copy mapped to the other twin: no error")
	}
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	report, _ = mustSync(t, cfg)
	for _, m := range report.Models() {
		if m.Created+m.Updated+m.Deleted != 0 {
			t.Errorf("sync after adopting wrote %+v", m)
		}
	}
	p.loadState(t, path, p.src.URL, p.dst.URL)
	sameEntries(t, p, "Note", "title", "body")
}
