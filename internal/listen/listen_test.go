package listen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/gcmssig"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

const testSecret = "webhook-secret"

// librarySchema is the sync engine's test project (authors, books, tags).
func librarySchema(t testing.TB) *ast.Schema {
	t.Helper()
	desc, err := os.ReadFile("../../stagesync/testdata/sync/library.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(desc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("library.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fastStage(name string, s *stagetest.Server) *stagesync.Stage {
	return stagesync.NewStage(name, s.URL, s.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond),
		stagesync.WithMaxConcurrency(8))
}

// front is an HTTP server whose handler is set later.
type front struct {
	*httptest.Server
	h atomic.Pointer[http.Handler]
}

func newFront(t *testing.T) *front {
	f := &front{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := f.h.Load()
		if h == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *front) set(h http.Handler) { f.h.Store(&h) }

// world is a source stage that sends webhooks, a destination and a
// listener between them.
type world struct {
	schema       *ast.Schema
	src, dst     *stagetest.Server
	source, dest *stagesync.Stage
	hooks        *front
	l            *Listener
	dir          string
}

// newWorld starts the stages; the source's webhooks go to w.hooks.
func newWorld(t *testing.T) *world {
	w := &world{schema: librarySchema(t), dir: t.TempDir()}
	w.hooks = newFront(t)
	w.src = stagetest.NewServer(t, w.schema, stagetest.WithWebhook(stagetest.Webhook{URL: w.hooks.URL, Secret: testSecret, Backoff: 5 * time.Millisecond}))
	w.dst = stagetest.NewServer(t, w.schema)
	w.source, w.dest = fastStage("source", w.src), fastStage("dest", w.dst)
	return w
}

func (w *world) config() Config {
	return Config{
		Sync: stagesync.SyncConfig{
			Source: w.source, Dest: w.dest, SourceSchema: w.schema, DestSchema: w.schema,
			StatePath: filepath.Join(w.dir, "state.db"), Mirror: true,
		},
		Queue:  QueueConfig{URL: filepath.Join(w.dir, "queue.db"), RetryBase: 10 * time.Millisecond, MaxAttempts: 5},
		Secret: testSecret,
	}
}

// listen opens and starts a listener.
func (w *world) listen(t *testing.T, cfg Config) *Listener {
	t.Helper()
	l, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = l.Stop(ctx)
		l.Close()
	})
	w.l = l
	return l
}

// drain waits until the source has delivered its webhooks and the
// listener's queue has no job left, polling.
func (w *world) drain(t *testing.T, delivered func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pending, err := w.l.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if w.src.Stage.WebhookStats().Queued == 0 && (delivered == nil || delivered()) && pending == 0 {
			// Settled twice in a row: no job in flight inserted another.
			if p, _ := w.l.Pending(context.Background()); p == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %d jobs pending, webhooks %+v", pending, w.src.Stage.WebhookStats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// compare fails the test for every way the destination differs.
func (w *world) compare(t *testing.T) {
	t.Helper()
	state := w.l.cfg.Sync.State
	if state == nil { // opened by each run (a PostgreSQL queue)
		var err error
		if state, err = stagesync.LoadState(w.l.cfg.Sync.StatePath, w.source.Endpoint(), w.dest.Endpoint()); err != nil {
			t.Fatal(err)
		}
		defer state.Close()
	}
	diffs, err := stagesync.Compare(context.Background(), stagesync.CompareConfig{
		Source: w.source, Dest: w.dest, SourceSchema: w.schema, DestSchema: w.schema, State: state,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range diffs {
		if i == 20 {
			t.Errorf("... and %d more differences", len(diffs)-i)
			break
		}
		t.Errorf("difference: %s", d)
	}
	total := 0
	for _, m := range []string{"Author", "Book", "Tag"} {
		src, dst := len(w.src.Stage.All(m, "DRAFT")), len(w.dst.Stage.All(m, "DRAFT"))
		if src != dst {
			t.Errorf("%s: %d entries in the source, %d in the destination", m, src, dst)
		}
		total += src
	}
	if total == 0 {
		t.Error("the source has no entries left: nothing was compared")
	}
}

// noFailedJobs fails the test when a job failed every attempt.
func (w *world) noFailedJobs(t *testing.T) {
	t.Helper()
	if s := w.l.Stats(); s.Discarded[KindSyncEntry]+s.Discarded[KindDeltaSync] > 0 {
		t.Errorf("jobs failed every attempt: %v", s.Discarded)
	}
}

// editor makes random edits on the source: creates, updates, relation
// reorders, publishes, unpublishes and deletes of authors, books and tags.
type editor struct {
	t   *testing.T
	s   *stagesync.Stage
	rng *rand.Rand
	n   int
	ids map[string][]string
}

func newEditor(t *testing.T, s *stagesync.Stage, seed uint64) *editor {
	if v := os.Getenv("STAGESYNC_LISTEN_SEED"); v != "" {
		// Another sequence of edits (21 found the published versions that
		// change with their targets' publish state, see referrers.go).
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("STAGESYNC_LISTEN_SEED: %v", err)
		}
		seed = n
		t.Logf("edits of seed %d", seed)
	}
	return &editor{t: t, s: s, rng: rand.New(rand.NewPCG(seed, 1)), ids: map[string][]string{}}
}

func (e *editor) do(query string, vars map[string]any) map[string]any {
	e.t.Helper()
	var out map[string]any
	if err := e.s.Do(context.Background(), query, vars, &out); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return out
}

func (e *editor) pick(model string) string {
	ids := e.ids[model]
	if len(ids) == 0 {
		return ""
	}
	return ids[e.rng.IntN(len(ids))]
}

func (e *editor) create(model string) {
	e.n++
	var data map[string]any
	switch model {
	case "Tag":
		data = map[string]any{"name": fmt.Sprintf("tag %d", e.n)}
	case "Author":
		data = map[string]any{"name": fmt.Sprintf("author %d", e.n), "bio": "bio"}
		if m := e.pick("Author"); m != "" {
			data["mentor"] = map[string]any{"connect": map[string]any{"id": m}}
		}
	case "Book":
		data = map[string]any{"title": fmt.Sprintf("book %d", e.n), "pages": e.n, "genre": "FICTION"}
		if a := e.pick("Author"); a != "" {
			data["author"] = map[string]any{"connect": map[string]any{"id": a}}
		}
		var tags []any
		for range e.rng.IntN(3) {
			if tg := e.pick("Tag"); tg != "" && !slices.ContainsFunc(tags, func(x any) bool { return x.(map[string]any)["id"] == tg }) {
				tags = append(tags, map[string]any{"id": tg})
			}
		}
		if len(tags) > 0 {
			data["tags"] = map[string]any{"connect": tags}
		}
	}
	out := e.do(fmt.Sprintf(`mutation($data: %sCreateInput!) { item: create%s(data: $data) { id } }`, model, model), map[string]any{"data": data})
	id := out["item"].(map[string]any)["id"].(string)
	e.ids[model] = append(e.ids[model], id)
	if e.rng.IntN(2) == 0 {
		e.do(fmt.Sprintf(`mutation($id: ID!) { publish%s(where: {id: $id}) { id } }`, model), map[string]any{"id": id})
	}
}

// step makes one random edit.
func (e *editor) step() {
	models := []string{"Tag", "Author", "Book"}
	model := models[e.rng.IntN(len(models))]
	id := e.pick(model)
	if id == "" || e.rng.IntN(4) == 0 {
		e.create(model)
		return
	}
	vars := map[string]any{"id": id}
	switch e.rng.IntN(6) {
	case 0: // update a field
		e.n++
		field := map[string]string{"Tag": "name", "Author": "name", "Book": "title"}[model]
		vars["data"] = map[string]any{field: fmt.Sprintf("%s %d", model, e.n)}
		e.do(fmt.Sprintf(`mutation($id: ID!, $data: %sUpdateInput!) { update%s(where: {id: $id}, data: $data) { id } }`, model, model), vars)
	case 1: // relations: a book's tags reordered and changed, or its author
		if model != "Book" {
			e.create("Book")
			return
		}
		var tags []any
		for _, tg := range e.rng.Perm(len(e.ids["Tag"])) {
			if len(tags) < 3 {
				tags = append(tags, map[string]any{"id": e.ids["Tag"][tg]})
			}
		}
		data := map[string]any{"tags": map[string]any{"set": tags}}
		if a := e.pick("Author"); a != "" {
			data["author"] = map[string]any{"connect": map[string]any{"id": a}}
		}
		vars["data"] = data
		e.do(`mutation($id: ID!, $data: BookUpdateInput!) { updateBook(where: {id: $id}, data: $data) { id } }`, vars)
	case 2, 3:
		e.do(fmt.Sprintf(`mutation($id: ID!) { publish%s(where: {id: $id}) { id } }`, model), vars)
	case 4:
		e.do(fmt.Sprintf(`mutation($id: ID!) { unpublish%s(where: {id: $id}) { id } }`, model), vars)
	case 5:
		e.do(fmt.Sprintf(`mutation($id: ID!) { delete%s(where: {id: $id}) { id } }`, model), vars)
		e.ids[model] = slices.DeleteFunc(e.ids[model], func(x string) bool { return x == id })
	}
}

func TestListenEndToEnd(t *testing.T) {
	w := newWorld(t)
	l := w.listen(t, w.config())
	w.hooks.set(l.Handler())
	ed := newEditor(t, w.source, 12)
	for range 60 {
		ed.step()
	}
	w.drain(t, nil)
	w.compare(t)
	w.noFailedJobs(t)
	s := l.Stats()
	if s.Events["accepted"] == 0 || s.Completed[KindSyncEntry] == 0 {
		t.Errorf("stats %+v: no event accepted or job done", s)
	}
	if s.Completed[KindSyncEntry] > s.Events["accepted"] {
		t.Errorf("%d jobs for %d events", s.Completed[KindSyncEntry], s.Events["accepted"])
	}
	t.Logf("%d webhooks accepted, %d sync-entry jobs done, event-to-write p50 %.3fs p95 %.3fs",
		s.Events["accepted"], s.Completed[KindSyncEntry], s.Latency.P50, s.Latency.P95)

	// More edits, and the stages are equal again.
	for range 40 {
		ed.step()
	}
	w.drain(t, nil)
	w.compare(t)
}

// recorded is a webhook as the source sent it.
type recorded struct {
	body   []byte
	header string
}

// TestListenDuplicatedOutOfOrder replays the source's webhooks to the
// listener shuffled, each twice.
func TestListenDuplicatedOutOfOrder(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	var got []recorded
	w.hooks.set(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, recorded{b, r.Header.Get(gcmssig.Header)})
		mu.Unlock()
	}))
	ed := newEditor(t, w.source, 2)
	for range 60 {
		ed.step()
	}
	for w.src.Stage.WebhookStats().Queued > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	l := w.listen(t, w.config())
	h := l.Handler()
	mu.Lock()
	events := slices.Concat(got, got)
	mu.Unlock()
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	for _, ev := range events {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(ev.body))
		req.Header.Set(gcmssig.Header, ev.header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("webhook answered %d: %s", rec.Code, rec.Body)
		}
	}
	w.drain(t, nil)
	w.compare(t)
	w.noFailedJobs(t)
	s := l.Stats()
	t.Logf("%d webhooks (each twice, shuffled), %d sync-entry jobs done", len(events), s.Completed[KindSyncEntry])
}

func TestListenBadInput(t *testing.T) {
	w := newWorld(t)
	cfg := w.config()
	cfg.Sync.Models = []string{"Book", "Author"}
	cfg.Environment = "master"
	l := w.listen(t, cfg)
	h := l.Handler()
	now := time.Now()
	sign := func(body string, at time.Time) string { return gcmssig.Sign(testSecret, []byte(body), "master", at) }
	book := `{"operation":"update","data":{"__typename":"Book","id":"b1","stage":"DRAFT"}}`
	big := `{"operation":"update","data":{"__typename":"Book","id":"b1","pad":"` + string(bytes.Repeat([]byte("x"), MaxBody)) + `"}}`
	tests := []struct {
		name, body, header string
		want               int
		enqueued           bool
	}{
		{"good", book, sign(book, now), http.StatusAccepted, true},
		{"no signature", book, "", http.StatusUnauthorized, false},
		{"bad signature", book, gcmssig.Sign("other", []byte(book), "master", now), http.StatusUnauthorized, false},
		{"stale", book, sign(book, now.Add(-time.Hour)), http.StatusUnauthorized, false},
		{"another environment", book, gcmssig.Sign(testSecret, []byte(book), "dev", now), http.StatusForbidden, false},
		{"too large", big, sign(big, now), http.StatusRequestEntityTooLarge, false},
		{"malformed JSON", `{"operation":`, sign(`{"operation":`, now), http.StatusBadRequest, false},
		{"no id", `{"operation":"update","data":{"__typename":"Book"}}`, sign(`{"operation":"update","data":{"__typename":"Book"}}`, now), http.StatusBadRequest, false},
		{"unknown operation", `{"operation":"explode","data":{"__typename":"Book","id":"b1"}}`, sign(`{"operation":"explode","data":{"__typename":"Book","id":"b1"}}`, now), http.StatusBadRequest, false},
		{"unknown model", `{"operation":"update","data":{"__typename":"Nope","id":"b1"}}`, sign(`{"operation":"update","data":{"__typename":"Nope","id":"b1"}}`, now), http.StatusBadRequest, false},
		{"model not synced", `{"operation":"update","data":{"__typename":"Tag","id":"t1"}}`, sign(`{"operation":"update","data":{"__typename":"Tag","id":"t1"}}`, now), http.StatusAccepted, false},
	}
	// The worker is stopped, so that what is enqueued stays pending.
	ctx := context.Background()
	if err := l.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := l.Pending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/hygraph", bytes.NewReader([]byte(tt.body)))
			if tt.header != "" {
				req.Header.Set(gcmssig.Header, tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("answered %d (%s), want %d", rec.Code, bytes.TrimSpace(rec.Body.Bytes()), tt.want)
			}
			after, err := l.Pending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if enq := after > before; enq != tt.enqueued {
				t.Errorf("enqueued: %t, want %t", enq, tt.enqueued)
			}
		})
	}
	s := l.Stats()
	want := map[string]int{"accepted": 1, "unauthorized": 3, "too_large": 1, "bad_request": 4, "ignored": 1, "wrong_environment": 1}
	for k, n := range want {
		if s.Events[k] != n {
			t.Errorf("events %s: %d, want %d", k, s.Events[k], n)
		}
	}
	// A burst for one entry is one job.
	for range 5 {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(book)))
		req.Header.Set(gcmssig.Header, sign(book, now))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("answered %d", rec.Code)
		}
	}
	if n, _ := l.Pending(ctx); n != 1 {
		t.Errorf("%d jobs pending after a burst of one entry, want 1", n)
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
		if path == "/metrics" && !bytes.Contains(rec.Body.Bytes(), []byte("stagesync_listen_queue_depth 1\n")) {
			t.Errorf("metrics without the queue depth:\n%s", rec.Body)
		}
	}
}

// TestListenDeltaSync: with no webhook at all, the periodic delta sync
// brings the source's entries over.
func TestListenDeltaSync(t *testing.T) {
	w := newWorld(t)
	w.hooks.set(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})) // webhooks lost
	ed := newEditor(t, w.source, 5)
	for range 20 {
		ed.step()
	}
	cfg := w.config()
	cfg.Every = 50 * time.Millisecond
	l := w.listen(t, cfg)
	waitUntil(t, "a delta sync", func() bool { return l.Stats().Completed[KindDeltaSync] >= 1 })
	w.drain(t, nil)
	w.compare(t)
	w.noFailedJobs(t)
	if n := l.Stats().Completed[KindSyncEntry]; n != 0 {
		t.Errorf("%d sync-entry jobs without a webhook", n)
	}
}

// TestListenFailedJobs: a job that keeps failing ends in the failed list
// with its reason, never blocking the others, and runs again on retry.
func TestListenFailedJobs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var broken atomic.Bool
	broken.Store(true)
	bad, err := w.src.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "cursed"})
	if err != nil {
		t.Fatal(err)
	}
	good, err := w.src.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "fine"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.config()
	cfg.Queue.MaxAttempts = 2
	cfg.Sync.Transform = func(_ context.Context, model string, entry map[string]any) error {
		if entry["name"] == "cursed" && broken.Load() {
			return fmt.Errorf("the transform refuses %s", entry["name"])
		}
		return nil
	}
	l := w.listen(t, cfg)
	for _, ev := range []Event{{Operation: "create", Model: "Tag", ID: bad[0]}, {Operation: "create", Model: "Tag", ID: good[0]}} {
		if _, _, err := l.Enqueue(ctx, ev, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	w.drain(t, nil)
	jobs, err := OpenJobs(ctx, cfg.Queue.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer jobs.Close()
	failed, err := jobs.Failed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].State != "discarded" || len(failed[0].Errors) != 2 ||
		!strings.Contains(failed[0].Errors[1].Error, "the transform refuses cursed") {
		t.Fatalf("failed jobs %+v, want the cursed tag's, discarded after 2 attempts with the transform's error", failed)
	}
	if tags := w.dst.Stage.All("Tag", "DRAFT"); len(tags) != 1 || tags[0]["name"] != "fine" {
		t.Errorf("the destination has tags %v, want the fine one only", tags)
	}
	broken.Store(false)
	if _, err := jobs.Retry(ctx, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	w.drain(t, nil)
	w.compare(t)
	if failed, _ := jobs.Failed(ctx); len(failed) != 0 {
		t.Errorf("failed jobs after the retry: %+v", failed)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 minutes for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListenDeletesOnDeleteEventOnly: with Mirror, an entry the source no
// longer returns is deleted from the destination for a delete event only.
// An update event for it (a source that answers an id read with nothing,
// as for a token that lost read access) keeps the copy; a delete event is
// never absorbed by a pending job of another event.
func TestListenDeletesOnDeleteEventOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.hooks.set(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})) // events given by hand
	tag, err := w.src.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "kept"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.config()
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.l = l
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = l.Stop(ctx)
		l.Close()
	})
	if _, _, err := l.Enqueue(ctx, Event{Operation: "create", Model: "Tag", ID: tag[0]}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w.drain(t, nil)
	if n := len(w.dst.Stage.All("Tag", "DRAFT")); n != 1 {
		t.Fatalf("%d tags in the destination after the create, want 1", n)
	}

	if err := w.source.Do(ctx, `mutation($id: ID!) { deleteTag(where: {id: $id}) { id } }`, map[string]any{"id": tag[0]}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Enqueue(ctx, Event{Operation: "update", Model: "Tag", ID: tag[0]}, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.drain(t, nil)
	if n := len(w.dst.Stage.All("Tag", "DRAFT")); n != 1 {
		t.Fatalf("%d tags in the destination after an update event for an entry the source did not return, want the copy kept", n)
	}
	w.noFailedJobs(t)

	if err := l.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Enqueue(ctx, Event{Operation: "update", Model: "Tag", ID: tag[0]}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, absorbed, err := l.Enqueue(ctx, Event{Operation: "delete", Model: "Tag", ID: tag[0]}, time.Now()); err != nil || absorbed {
		t.Fatalf("the delete event: absorbed %v, err %v; want a job of its own", absorbed, err)
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w.drain(t, nil)
	if n := len(w.dst.Stage.All("Tag", "DRAFT")); n != 0 {
		t.Errorf("%d tags in the destination after the delete event, want 0", n)
	}
	w.noFailedJobs(t)
}
