package stagesync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// failCreates answers every mutation request that creates a model's
// entry with a GraphQL error, without sending it.
type failCreates struct {
	base  http.RoundTripper
	field string
}

func (f failCreates) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	for _, fl := range parseGQL(body).fields {
		if fl == f.field {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: http.NoBody, Request: req, ContentLength: 0}, nil
		}
	}
	return f.base.RoundTrip(req)
}

// seedNotes seeds n notes titled prefix 0 … prefix n-1 into a stage.
func seedNotes(t *testing.T, seed func(model, stage string, docs ...map[string]any) ([]string, error), prefix string, n int) []string {
	t.Helper()
	var docs []map[string]any
	for i := range n {
		docs = append(docs, map[string]any{"title": fmt.Sprintf("%s %d", prefix, i)})
	}
	ids, err := seed("Note", "DRAFT", docs...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func guardError(t *testing.T, err error) *stagesync.DeleteGuardError {
	t.Helper()
	g, ok := errors.AsType[*stagesync.DeleteGuardError](err)
	if !ok {
		t.Fatalf("err = %v, want a *DeleteGuardError", err)
	}
	t.Logf("guard: %v", g)
	return g
}

func notesCount(p *pair) int { return len(p.dst.Stage.All("Note", "DRAFT")) }

// TestSyncMirrorKeepsWhenCreatesFail: the destination has copies of the
// source's notes under other ids (no state to match them), so a mirror
// run creates the source's and deletes the destination's. When the
// creates fail, nothing may be deleted: that would lose the content.
func TestSyncMirrorKeepsWhenCreatesFail(t *testing.T) {
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	seedNotes(t, p.src.Stage.Seed, "Note", 10)
	seedNotes(t, p.dst.Stage.Seed, "Note", 10)
	cfg := p.config()
	cfg.Models = []string{"Note"}
	cfg.Mirror = true
	cfg.MaxDelete = -1
	// One pass: a repair pass would adopt the destination's copies, which
	// hold what the lost creates sent (same content and creation time).
	cfg.MaxRounds = 1
	cfg.Dest = stageVia("dest", p.dst.URL, p.dst.Token, failCreates{newTransport(t), "createNote"})
	report, _, err := stagesync.Sync(context.Background(), cfg)
	g := guardError(t, err)
	if g.Count != 10 || !strings.Contains(g.Reason, "failed") {
		t.Errorf("guard %+v, want the 10 deletes held back for the failures", g)
	}
	if n := notesCount(p); n != 10 {
		t.Errorf("%d notes left in the destination, want the 10 it had", n)
	}
	if m := modelReport(report, "Note"); m.Deleted != 0 || m.Orphaned != 10 {
		t.Errorf("report %+v, want 0 deleted and 10 orphaned", m)
	}
}

// TestSyncMirrorEmptySource: a mirror run from a source without entries
// (an empty or wrong stage) deletes nothing unless MaxDelete allows it.
func TestSyncMirrorEmptySource(t *testing.T) {
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	seedNotes(t, p.dst.Stage.Seed, "Note", 5)
	cfg := p.config()
	cfg.Models = []string{"Note"}
	cfg.Mirror = true

	cfg.DryRun = true
	_, plan, err := stagesync.Sync(context.Background(), cfg)
	guardError(t, err)
	if m := plan.Model("Note"); m.Delete != 0 || m.Orphaned != 5 {
		t.Errorf("dry run plan %+v, want 5 orphans kept", m)
	}

	cfg.DryRun = false
	_, _, err = stagesync.Sync(context.Background(), cfg)
	if g := guardError(t, err); !strings.Contains(g.Reason, "no entries of Note") {
		t.Errorf("guard reason %q does not name the empty model", g.Reason)
	}
	if n := notesCount(p); n != 5 {
		t.Fatalf("%d notes left in the destination, want 5", n)
	}

	cfg.MaxDelete = 5
	if _, _, err := stagesync.Sync(context.Background(), cfg); err != nil {
		t.Fatalf("with MaxDelete 5: %v", err)
	}
	if n := notesCount(p); n != 0 {
		t.Errorf("with MaxDelete 5: %d notes left, want 0", n)
	}
}

// TestSyncMirrorShare: by default a mirror run deletes at most 10% of the
// destination's entries; MaxDelete sets another bound, and ConfirmDelete
// can refuse.
func TestSyncMirrorShare(t *testing.T) {
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	seedNotes(t, p.src.Stage.Seed, "Note", 20)
	cfg := p.config()
	cfg.Models = []string{"Note"}
	mustSync(t, cfg)
	stray := seedNotes(t, p.dst.Stage.Seed, "Stray", 4) // 4 of 24: more than 10%

	cfg.Mirror = true
	_, _, err := stagesync.Sync(context.Background(), cfg)
	if g := guardError(t, err); g.Count != 4 || !strings.Contains(g.Reason, "10%") {
		t.Errorf("guard %+v, want 4 deletes over 10%%", g)
	}
	cfg.MaxDelete = 3
	_, _, err = stagesync.Sync(context.Background(), cfg)
	if g := guardError(t, err); !strings.Contains(g.Reason, "--max-delete 4") {
		t.Errorf("guard %+v does not say how to allow the 4 deletes", g)
	}
	if n := notesCount(p); n != 24 {
		t.Fatalf("%d notes, want 24: nothing deleted", n)
	}

	cfg.MaxDelete = 4
	var asked []stagesync.Deletion
	cfg.ConfirmDelete = func(d []stagesync.Deletion) bool { asked = d; return false }
	_, _, err = stagesync.Sync(context.Background(), cfg)
	if g := guardError(t, err); !strings.Contains(g.Reason, "not confirmed") {
		t.Errorf("guard %+v, want not confirmed", g)
	}
	if len(asked) != 1 || asked[0].Model != "Note" || len(asked[0].DestIDs) != 4 {
		t.Errorf("asked to confirm %+v, want the 4 stray notes", asked)
	}
	for _, id := range stray {
		if _, ok := p.dst.Stage.Get("Note", id, "DRAFT"); !ok {
			t.Errorf("stray note %s deleted although not confirmed", id)
		}
	}

	cfg.ConfirmDelete = func([]stagesync.Deletion) bool { return true }
	report, _ := mustSync(t, cfg)
	if m := modelReport(report, "Note"); m.Deleted != 4 {
		t.Errorf("confirmed: %+v, want 4 deleted", m)
	}
	if n := notesCount(p); n != 20 {
		t.Errorf("%d notes, want the 20 of the source", n)
	}
}
