package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/gcmssig"
	"github.com/stagesync/stagesync/schema"
)

const webhookModels = `
models:
  Author:
    name: String! unique
    books: "[Book] <- author"
  Book:
    title: String! unique
    author: Author -> books
`

// hookReceiver records the webhooks it is sent, answering the first fail
// requests with 500.
type hookReceiver struct {
	mu     sync.Mutex
	events []string // "operation typename stage"
	bad    int
	fail   int
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := gcmssig.Verify("hush", req.Header.Get(gcmssig.Header), body, time.Now(), time.Minute); err != nil {
		r.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.fail > 0 {
		r.fail--
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	var ev struct {
		Operation string
		Data      map[string]any
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		r.bad++
		return
	}
	r.events = append(r.events, ev.Operation+" "+ev.Data["__typename"].(string)+" "+ev.Data["stage"].(string))
}

func waitHooks(t *testing.T, s *Stage) WebhookStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.WebhookStats()
		if st.Queued == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks still queued: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhookEvents(t *testing.T) {
	sdl, err := schema.SynthesizeDescription([]byte(webhookModels))
	if err != nil {
		t.Fatal(err)
	}
	rec := &hookReceiver{fail: 2}
	recv := httptest.NewServer(rec)
	defer recv.Close()
	h := hookStage(t, sdl, Webhook{URL: recv.URL, Secret: "hush", Backoff: time.Millisecond, Models: []string{"Book"}})
	data := mustPost(t, h, `mutation { createBook(data: {title: "A"}) { id } }`, nil)
	id := data["createBook"].(map[string]any)["id"].(string)
	vars := map[string]any{"id": id}
	mustPost(t, h, `mutation($id: ID!) { updateBook(where: {id: $id}, data: {title: "B"}) { id } }`, vars)
	mustPost(t, h, `mutation($id: ID!) { publishBook(where: {id: $id}) { id } }`, vars)
	mustPost(t, h, `mutation($id: ID!) { unpublishBook(where: {id: $id}) { id } }`, vars)
	mustPost(t, h, `mutation { createAuthor(data: {name: "X"}) { id } }`, nil)
	mustPost(t, h, `mutation($id: ID!) { deleteBook(where: {id: $id}) { id } }`, vars)
	st := waitHooks(t, h)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"create Book DRAFT", "update Book DRAFT", "publish Book PUBLISHED", "unpublish Book PUBLISHED", "delete Book DRAFT"}
	var got []string
	for _, e := range rec.events {
		if !slices.Contains(got, e) { // a publish may touch the draft too
			got = append(got, e)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no %q among the events %q", w, rec.events)
		}
	}
	if rec.bad != 0 {
		t.Errorf("%d webhooks failed verification", rec.bad)
	}
	if st.Delivered != len(rec.events) || st.Attempts != len(rec.events)+2 || st.Dropped != 0 {
		t.Errorf("stats %+v for %d events and 2 failed attempts", st, len(rec.events))
	}
}

func TestWebhookGivesUp(t *testing.T) {
	sdl, err := schema.SynthesizeDescription([]byte(webhookModels))
	if err != nil {
		t.Fatal(err)
	}
	rec := &hookReceiver{fail: 100}
	recv := httptest.NewServer(rec)
	defer recv.Close()
	h := hookStage(t, sdl, Webhook{URL: recv.URL, Secret: "hush", Backoff: time.Millisecond})
	mustPost(t, h, `mutation { createBook(data: {title: "A"}) { id } }`, nil)
	st := waitHooks(t, h)
	if st.Dropped != 1 || st.Attempts != 5 || st.Delivered != 0 {
		t.Errorf("stats %+v, want one event dropped after 5 attempts", st)
	}
}

func hookStage(t *testing.T, sdl string, h Webhook) *Stage {
	t.Helper()
	s, err := schema.LoadString("webhook.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewStage(s, WithWebhook(h))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
