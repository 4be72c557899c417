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

// syncedNotes returns a pair of stages whose source has n notes, synced
// to the destination, the config of that sync (Note only, with an
// identity map in memory) and the notes' source ids.
func syncedNotes(t *testing.T, n int) (*pair, stagesync.SyncConfig, []string) {
	t.Helper()
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	ids := seedNotes(t, p.src.Stage.Seed, "Note", n)
	cfg := p.config()
	cfg.Models = []string{"Note"}
	cfg.State = stagesync.NewState(p.src.URL, p.dst.URL)
	mustSync(t, cfg)
	return p, cfg, ids
}

// deleteSourceNote deletes a note from the source stage.
func deleteSourceNote(t *testing.T, p *pair, id string) {
	t.Helper()
	if err := p.source.Do(context.Background(), `mutation($id: ID!) { deleteNote(where: {id: $id}) { id } }`, map[string]any{"id": id}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestSyncMirrorWrongSourceWritesNothing: a mirror run whose deletes the
// guard refuses for their number has the wrong source (or one that lost
// most of its entries): its entries must not be written either. The plan
// made before the first write stops the run. The old code created the
// source's 2 new notes, then refused the 18 deletes.
func TestSyncMirrorWrongSourceWritesNothing(t *testing.T) {
	ctx := context.Background()
	p, cfg, ids := syncedNotes(t, 20)
	for _, id := range ids[2:] {
		deleteSourceNote(t, p, id)
	}
	seedNotes(t, p.src.Stage.Seed, "Other", 2)

	cfg.Mirror = true
	writes := 0
	cfg.Writer = func(next stagesync.Writer) stagesync.Writer {
		return stagesync.WriterFunc(func(ctx context.Context, c stagesync.Change) (string, error) {
			writes++
			return next.Write(ctx, c)
		})
	}
	report, plan, err := stagesync.Sync(ctx, cfg)
	g := guardError(t, err)
	if !g.Stopped || g.Count != 18 || !strings.Contains(err.Error(), "Nothing was written") {
		t.Errorf("guard %+v, want the run stopped before writing, for 18 deletes", g)
	}
	if writes != 0 {
		t.Errorf("%d writes sent, want none", writes)
	}
	if n := notesCount(p); n != 20 {
		t.Errorf("%d notes in the destination, want the 20 it had", n)
	}
	if m := plan.Model("Note"); m.Create != 2 || m.Orphaned != 18 {
		t.Errorf("plan %+v, want the 2 creates and 18 orphans the check refused", m)
	}
	if m := modelReport(report, "Note"); m.Created != 0 || m.Deleted != 0 {
		t.Errorf("report %+v, want nothing created or deleted", m)
	}
}

// TestSyncConfirm: Confirm is asked with the whole plan before the first
// write; a no writes nothing, a yes writes what it showed.
func TestSyncConfirm(t *testing.T) {
	ctx := context.Background()
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	seedNotes(t, p.src.Stage.Seed, "Note", 12)
	cfg := p.config()
	cfg.Models = []string{"Note"}
	cfg.PlanLimit = 5 // the plan Confirm gets lists 5, counts all
	var shown []stagesync.ModelPlan
	cfg.Confirm = func(pl *stagesync.Plan) bool { shown = pl.Models(); return false }
	_, _, err := stagesync.Sync(ctx, cfg)
	if !errors.Is(err, stagesync.ErrNotConfirmed) {
		t.Fatalf("err = %v, want ErrNotConfirmed", err)
	}
	if len(shown) != 1 || shown[0].Create != 12 || len(shown[0].Entries) != 5 || shown[0].Omitted != 7 {
		t.Errorf("Confirm was shown %+v, want 12 creates of Note, 5 listed", shown)
	}
	if n := notesCount(p); n != 0 {
		t.Fatalf("%d notes written without a yes", n)
	}
	cfg.Confirm = func(pl *stagesync.Plan) bool {
		if n := notesCount(p); n != 0 {
			t.Errorf("%d notes written before Confirm", n)
		}
		return true
	}
	report, _ := mustSync(t, cfg)
	if m := modelReport(report, "Note"); m.Created != 12 || notesCount(p) != 12 {
		t.Errorf("report %+v, %d notes in the destination; want 12 created", m, notesCount(p))
	}
}

// TestSyncMirrorDeletesOnlyPlanned: a destination entry that becomes an
// orphan after the plan was made (here: while Confirm is asked) is not
// deleted: the run deletes only what the plan it checked deleted.
func TestSyncMirrorDeletesOnlyPlanned(t *testing.T) {
	p, cfg, ids := syncedNotes(t, 20)
	deleteSourceNote(t, p, ids[0])
	cfg.Mirror = true
	var planned int
	cfg.Confirm = func(pl *stagesync.Plan) bool {
		planned = pl.Model("Note").Delete
		deleteSourceNote(t, p, ids[1]) // after the plan: its copy is not deleted by this run
		return true
	}
	report, _ := mustSync(t, cfg)
	if m := modelReport(report, "Note"); planned != 1 || m.Deleted != 1 || m.Orphaned != 1 {
		t.Errorf("planned %d deletes; report %+v; want 1 planned and deleted, 1 orphaned", planned, m)
	}
	if n := notesCount(p); n != 19 {
		t.Errorf("%d notes in the destination, want 19", n)
	}
}

// TestSyncMirrorNotAskedWhenGuarded: when entries fail in the plan, the
// guard refuses the deletes, so the run does not ask to confirm them; it
// writes the rest and deletes nothing.
func TestSyncMirrorNotAskedWhenGuarded(t *testing.T) {
	p, cfg, ids := syncedNotes(t, 20)
	deleteSourceNote(t, p, ids[0])
	seedNotes(t, p.src.Stage.Seed, "New", 1)
	cfg.Mirror = true
	cfg.Transform = func(_ context.Context, _ string, e map[string]any) error {
		if e["title"] == "Note 5" {
			return errors.New("cannot transform")
		}
		return nil
	}
	asked := 0
	cfg.ConfirmDelete = func([]stagesync.Deletion) bool { asked++; return true }
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if g := guardError(t, err); g.Stopped || !strings.Contains(g.Reason, "failed") {
		t.Errorf("guard %+v, want the deletes refused for the failure, the run not stopped", g)
	}
	if asked != 0 {
		t.Errorf("asked %d times to confirm deletes the guard refuses", asked)
	}
	if m := modelReport(report, "Note"); m.Created != 1 || m.Deleted != 0 || m.Orphaned != 1 {
		t.Errorf("report %+v, want the new note created, the orphan kept", m)
	}
}
