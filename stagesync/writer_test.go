package stagesync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// changeLog is a Writer that records every change before passing it on.
type changeLog struct {
	mu      sync.Mutex
	changes []stagesync.Change
	ids     map[string]bool // the ids the creates made
}

func (r *changeLog) wrap(next stagesync.Writer) stagesync.Writer {
	return stagesync.WriterFunc(func(ctx context.Context, c stagesync.Change) (string, error) {
		id, err := next.Write(ctx, c)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err == nil {
			r.changes = append(r.changes, c)
			if id != "" {
				r.ids[id] = true
			}
		}
		return id, err
	})
}

// refs returns the ids a change's data connects, sets or disconnects.
func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if k == "id" {
				if s, ok := y.(string); ok {
					out = append(out, s)
				}
				continue
			}
			out = append(out, refs(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, refs(y)...)
		}
	}
	return out
}

// TestSyncWriterSeesEveryWrite: every write of a sync (creates, updates
// of the relation passes, publishes, drafts on top) goes through the
// Writer seam: the destination executes exactly the mutations the
// Writer passed on, the changes add up to the report, and no change
// carries an id that is not the destination's.
func TestSyncWriterSeesEveryWrite(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 12)
	rec := &changeLog{ids: map[string]bool{}}
	cfg := p.config()
	cfg.Writer = rec.wrap
	before := p.dst.Stage.Counters()
	report, _ := mustSync(t, cfg)
	p.compare(t)

	ops := 0
	created, published := map[string]int{}, map[string]int{}
	var sourceIDs []string
	for _, m := range p.seeded {
		sourceIDs = append(sourceIDs, m...)
	}
	for _, c := range rec.changes {
		switch c.Op {
		case stagesync.OpPublish, stagesync.OpUnpublish:
			ops++ // one mutation for the batch
			if c.Op == stagesync.OpPublish {
				published[c.Model] += len(c.IDs)
			}
		default:
			ops++
		}
		if c.Op == stagesync.OpCreate {
			created[c.Model]++
		}
		for _, id := range append(refs(c.Data), c.IDs...) {
			if slices.Contains(sourceIDs, id) && !rec.ids[id] {
				t.Errorf("%s %s carries source id %s", c.Op, c.Model, id)
			}
		}
		if c.ID != "" && !rec.ids[c.ID] {
			t.Errorf("%s %s of %s, which no create of this run made", c.Op, c.Model, c.ID)
		}
	}
	t.Logf("mutations %d, changes %d, created %v, published %v", p.dst.Stage.Counters().Mutations-before.Mutations, ops, created, published)
	if got := p.dst.Stage.Counters().Mutations - before.Mutations; got != int64(ops) {
		t.Errorf("the destination ran %d mutations, the Writer passed on %d", got, ops)
	}
	for _, m := range report.Models() {
		if created[m.Name] != m.Created || published[m.Name] != m.Published {
			t.Errorf("%s: the Writer saw %d creates and %d publishes, the report counts %d and %d",
				m.Name, created[m.Name], published[m.Name], m.Created, m.Published)
		}
	}
	if len(rec.changes) == 0 || published["Book"] == 0 {
		t.Fatalf("the Writer saw %d changes, %d book publishes", len(rec.changes), published["Book"])
	}
}

// TestSyncWriterRefuses: a Writer that refuses some creates fails those
// entries only; a mirror run then deletes nothing (the delete guard), and
// the next run, with the default Writer, completes the copy without
// duplicates.
func TestSyncWriterRefuses(t *testing.T) {
	s := describedSchema(t, "notes.graphql", notesDesc)
	p := newPair(t, s, s)
	seedNotes(t, p.src.Stage.Seed, "Note", 10)
	old := seedNotes(t, p.dst.Stage.Seed, "Old", 3)
	cfg := p.config()
	cfg.Models = []string{"Note"}
	cfg.Mirror = true
	cfg.MaxDelete = -1
	refuse := errors.New("refused by the test's writer")
	var mu sync.Mutex
	var deletes int
	cfg.Writer = func(next stagesync.Writer) stagesync.Writer {
		return stagesync.WriterFunc(func(ctx context.Context, c stagesync.Change) (string, error) {
			if title, _ := c.Data["title"].(string); c.Op == stagesync.OpCreate && (title == "Note 3" || title == "Note 7") {
				return "", refuse
			}
			if c.Op == stagesync.OpDelete {
				mu.Lock()
				deletes++
				mu.Unlock()
			}
			return next.Write(ctx, c)
		})
	}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	guardError(t, err)
	var failed []string
	for _, f := range report.Failures() {
		if f.Op != "create" || !strings.Contains(f.Message, refuse.Error()) {
			t.Errorf("failure %+v, want a refused create", f)
		}
		failed = append(failed, f.SourceID)
	}
	if len(failed) != 2 || deletes != 0 || notesCount(p) != 3+8 {
		t.Fatalf("failed %v, deletes %d, %d notes; want 2 failed creates, no delete, the 3 old notes and 8 new", failed, deletes, notesCount(p))
	}

	// The Writer's error may hide an applied create (it is not an answer
	// of the stage), so the next run adopts or creates it: here, creates.
	cfg.Writer = nil
	mustSync(t, cfg)
	p.compare(t, "Note")
	if n := notesCount(p); n != 10 {
		t.Errorf("%d notes after the second run, want the source's 10 (the 3 old ones deleted)", n)
	}
	for _, id := range old {
		if _, ok := p.dst.Stage.Get("Note", id, "DRAFT"); ok {
			t.Errorf("old note %s not deleted by the mirror", id)
		}
	}
}

// ExampleWriter wraps the writer of a sync to keep an audit log of every
// change it sends to the destination (here two emulated stages; against
// Hygraph, the environments' content-API endpoints and tokens).
func ExampleWriter() {
	sdl, err := schema.SynthesizeDescription([]byte("models:\n  Note:\n    title: String\n"))
	if err != nil {
		panic(err)
	}
	s, err := schema.LoadString("notes.graphql", sdl)
	if err != nil {
		panic(err)
	}
	serve := func() (*stagetest.Stage, *httptest.Server) {
		st, err := stagetest.NewStage(s)
		if err != nil {
			panic(err)
		}
		return st, httptest.NewServer(st)
	}
	src, srcServer := serve()
	defer srcServer.Close()
	_, dstServer := serve()
	defer dstServer.Close()
	if _, err := src.Seed("Note", "PUBLISHED", map[string]any{"title": "Hello"}, map[string]any{"title": "World"}); err != nil {
		panic(err)
	}

	var mu sync.Mutex
	var audit []string
	_, _, err = stagesync.Sync(context.Background(), stagesync.SyncConfig{
		Source: stagesync.NewStage("source", srcServer.URL, ""),
		Dest:   stagesync.NewStage("dest", dstServer.URL, ""),
		Writer: func(next stagesync.Writer) stagesync.Writer {
			return stagesync.WriterFunc(func(ctx context.Context, c stagesync.Change) (string, error) {
				id, err := next.Write(ctx, c)
				mu.Lock()
				defer mu.Unlock()
				audit = append(audit, fmt.Sprintf("%s %s %v %d ids, error: %v", c.Op, c.Model, c.Data["title"], len(c.IDs), err))
				return id, err
			})
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	slices.Sort(audit) // the writes run concurrently
	for _, line := range audit {
		fmt.Println(line)
	}
	// Output:
	// create Note Hello 0 ids, error: <nil>
	// create Note World 0 ids, error: <nil>
	// publish Note <nil> 2 ids, error: <nil>
}
