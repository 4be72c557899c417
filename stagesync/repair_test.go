package stagesync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// faultyWrites fails chosen mutation requests (counted from 1) in two
// ways: applied has the stage apply the request and then loses its answer
// (a connection reset after the stage wrote: the client cannot know
// whether it was applied); lost fails the request before it leaves.
// Every other request passes.
type faultyWrites struct {
	base          http.RoundTripper
	applied, lost []int

	mu     sync.Mutex
	count  int
	struck int
}

func (f *faultyWrites) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if !parseGQL(body).mutation {
		return f.base.RoundTrip(req)
	}
	f.mu.Lock()
	f.count++
	n := f.count
	applied, lost := slices.Contains(f.applied, n), slices.Contains(f.lost, n)
	if applied || lost {
		f.struck++
	}
	f.mu.Unlock()
	switch {
	case lost:
		return nil, fmt.Errorf("test: mutation request %d: connection reset before the stage read it", n)
	case applied:
		resp, err := f.base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		return nil, fmt.Errorf("test: mutation request %d: connection reset after the stage applied it", n)
	}
	return f.base.RoundTrip(req)
}

func (f *faultyWrites) strikes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.struck
}

// TestSyncRepairsInOneRun loses the answers of mutation requests, some
// applied by the stage and some not, in one sync of the library (books
// point at authors and tags, so a create that failed fails the entries
// pointing at it too). The run must repair itself and end with every
// entry synced once, from one call of Sync: the creates that arrived
// adopted for the entries they were sent for, the others created, the
// dependants written. Before, the run reported the entries failed and a
// user had to run the command again.
func TestSyncRepairsInOneRun(t *testing.T) {
	for _, tc := range []struct {
		name          string
		applied, lost []int
	}{
		{"applied", []int{1, 3, 4, 6}, nil},
		{"not-sent", nil, []int{1, 2, 5}},
		{"both", []int{2, 5}, []int{1, 3, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := resilienceSchema(t)
			p := newPair(t, s, s)
			p.seedLibrary(t, 30)
			path := filepath.Join(t.TempDir(), "state.db")
			fw := &faultyWrites{base: newTransport(t), applied: tc.applied, lost: tc.lost}
			p.dest = stageVia("dest", p.dst.URL, p.dst.Token, fw)
			cfg := p.fileConfig(path, nil, nil)
			report, _, err := stagesync.Sync(context.Background(), cfg)
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			logFailures(t, "sync", report)
			failOnFailures(t, "sync", report)
			if fw.strikes() == 0 {
				t.Fatal("no mutation request was struck: the test tests nothing")
			}
			// A request that failed before the stage read it is sent
			// again at once (the Stage knows it was not written); one
			// whose answer was lost after it was written may have been
			// applied: once the model's writes are done, its entry is
			// looked for and adopted, or created again (reconcile), so
			// the pass needs no other after it.
			if report.Rounds != 1 {
				t.Errorf("report.Rounds = %d after %d struck requests, want 1", report.Rounds, fw.strikes())
			}
			for _, m := range report.Models() {
				if want := len(p.src.Stage.All(m.Name, "DRAFT")); m.Created != want || m.Read != want || m.Failed != 0 {
					t.Errorf("%s: read %d, created %d, failed %d; want %d read and created, 0 failed", m.Name, m.Read, m.Created, m.Failed, want)
				}
			}
			p.loadState(t, path, p.src.URL, p.dst.URL)
			p.noDuplicates(t)
			sameEntries(t, p, "Book", "title", "pages")
			p.compare(t)
			p.dest = stageVia("dest", p.dst.URL, p.dst.Token, newTransport(t))
			p.noopSync(t, p.fileConfig(path, nil, nil))
		})
	}
}

// TestSyncRepairSharedCreatedAt loses applied creates of notes created in
// bulk (one createdAt, no unique field): the run must adopt each for the
// note it was sent for (by the content sent), never another's.
func TestSyncRepairSharedCreatedAt(t *testing.T) {
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	for i := range 40 {
		p.seed(t, "Note", "DRAFT", map[string]any{
			"title": fmt.Sprintf("Note %02d", i), "body": fmt.Sprintf("body %d", i%7), "createdAt": bulkCreatedAt,
		})
	}
	path := filepath.Join(t.TempDir(), "state.db")
	fw := &faultyWrites{base: newTransport(t), applied: []int{1, 2, 4}, lost: []int{3}}
	p.dest = stageVia("dest", p.dst.URL, p.dst.Token, fw)
	cfg := p.fileConfig(path, nil, nil)
	cfg.Models = []string{"Note"}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	failOnFailures(t, "sync", report)
	if m := modelReport(report, "Note"); m.Created != 40 {
		t.Errorf("Note: %+v, want 40 created (those adopted within the run too)", m)
	}
	p.loadState(t, path, p.src.URL, p.dst.URL)
	sameEntries(t, p, "Note", "title", "body")
}

// TestSyncRepairStopsWithoutProgress: creates of books fail in every
// pass (their requests never reach the stage), those of tags and authors
// pass. The first pass writes tags and authors; the next ones repair none
// of the entries the first left failed (they write the tags and authors
// again, which point at books), so the run ends after three such passes
// with the books reported, rather than making MaxRounds passes. A stage
// that fails every write ends the run after one pass.
func TestSyncRepairStopsWithoutProgress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		field  string // mutations with this root field fail; "" all
		passes int
	}{{"books", "createBook", 4}, {"all", "", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			s := resilienceSchema(t)
			p := newPair(t, s, s)
			p.seedLibrary(t, 5)
			base := newTransport(t)
			down := roundTripFunc(func(req *http.Request) (*http.Response, error) {
				body, err := readBody(req)
				if err != nil {
					return nil, err
				}
				if g := parseGQL(body); g.mutation && (tc.field == "" || slices.Contains(g.fields, tc.field)) {
					return nil, errors.New("test: connection refused")
				}
				return base.RoundTrip(req)
			})
			p.dest = stageVia("dest", p.dst.URL, p.dst.Token, down)
			cfg := p.config()
			cfg.MaxRounds = 6
			passes := 0
			cfg.Progress = func(ev stagesync.Event) {
				if ev.Phase == stagesync.PhasePreflight {
					passes++
				}
			}
			report, _, err := stagesync.Sync(context.Background(), cfg)
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			if m := modelReport(report, "Book"); m.Failed != 5 {
				t.Errorf("Book: %+v, want the 5 books failed", m)
			}
			if passes != tc.passes || report.Rounds != tc.passes {
				t.Errorf("%d passes (report.Rounds %d), want %d", passes, report.Rounds, tc.passes)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSyncResumeCreateWithMissingTarget: books whose tags failed to be
// created are created without them, and their answers are lost after the
// stage applied them. The next run must adopt each book it created, by
// the content the create sent: without the tags it could not point at.
// Before, the digest of what was sent held the missing tags, no
// destination entry matched it, and every such book was created again (a
// duplicate of each, left behind).
func TestSyncResumeCreateWithMissingTarget(t *testing.T) {
	s := resilienceSchema(t)
	p := newPair(t, s, s)
	p.seedLibrary(t, 6)
	path := filepath.Join(t.TempDir(), "state.db")
	base := newTransport(t)
	faults := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		body, err := readBody(req)
		if err != nil {
			return nil, err
		}
		g := parseGQL(body)
		switch {
		case g.mutation && slices.Contains(g.fields, "createTag"):
			return nil, errors.New("test: connection refused") // not sent: the tags are not created
		case g.mutation && slices.Contains(g.fields, "createBook"):
			resp, err := base.RoundTrip(req)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			return nil, errors.New("test: connection reset after the stage applied the request")
		}
		return base.RoundTrip(req)
	})
	cfg := p.fileConfig(path, nil, stageVia("dest", p.dst.URL, p.dst.Token, faults))
	cfg.MaxRounds = 1 // the run ends (is killed) before it repairs
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if m := modelReport(report, "Book"); m.Failed != 6 {
		t.Fatalf("first sync: %+v, want the 6 books failed (tags missing, answers lost)", m)
	}
	if n := len(p.dst.Stage.All("Book", "DRAFT")); n != 6 {
		t.Fatalf("%d books arrived, want 6", n)
	}

	p.dest = stageVia("dest", p.dst.URL, p.dst.Token, newTransport(t))
	cfg = p.fileConfig(path, nil, nil)
	report, _, err = stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	failOnFailures(t, "resumed sync", report)
	if m := modelReport(report, "Book"); m.Created != 0 {
		t.Errorf("resumed sync created %d books, want 0: each was adopted", m.Created)
	}
	p.loadState(t, path, p.src.URL, p.dst.URL)
	p.noDuplicates(t)
	sameEntries(t, p, "Book", "title", "pages")
	p.compare(t)
}
