package gate

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// mutationsBody is a request of n aliased mutations.
func mutationsBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"query":"mutation {`)
	for i := range n {
		fmt.Fprintf(&b, ` m%d: createPost(data: {title: \"x\"}) { id }`, i)
	}
	b.WriteString(` }"}`)
	return b.String()
}

// queriesBody is a request of n aliased queries.
func queriesBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"query":"{`)
	for i := range n {
		fmt.Fprintf(&b, ` q%d: posts { id }`, i)
	}
	b.WriteString(` }"}`)
	return b.String()
}

// holdingHandler stands in for the GraphQL handler and keeps each request
// in flight until release is closed, telling on entered when one arrives.
func holdingHandler(entered chan<- struct{}, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":{}}`)
	})
}

// serveGate sends body through h and returns the recorded answer.
func serveGate(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newGateRequest(t.Context(), "", body))
	return rec
}

// TestGateConcurrentOperations: the operations of every request in flight
// count against the cap of their kind, each root field once, so that one
// request of 6 mutations is over a cap of 5 on its own, and a request
// that would take the count over the cap gets Hygraph's 429 body without
// Retry-After while another is being served.
func TestGateConcurrentOperations(t *testing.T) {
	var c Counters
	g := New(Limits{ConcurrentQueries: 4, ConcurrentMutations: 5}, &c, nil)
	entered, release := make(chan struct{}, 8), make(chan struct{})
	h := g.Wrap(holdingHandler(entered, release))

	// Over the cap on its own: refused, nothing reaches the handler.
	rec := serveGate(t, h, mutationsBody(6))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("6 mutations against a cap of 5: status %d, want 429", rec.Code)
	}
	if msg := decodeGateError(t, rec.Result(), rec.Body.Bytes()); !strings.HasPrefix(msg, "Too many requests") {
		t.Errorf("message %q, want it to start with \"Too many requests\"", msg)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "" {
		t.Errorf("Retry-After %q, want none by default", ra)
	}

	// 3 mutations in flight: 2 more fit, 3 more do not; queries count
	// apart.
	var wg sync.WaitGroup
	hold := func(body string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rec := serveGate(t, h, body); rec.Code != http.StatusOK {
				t.Errorf("held request: status %d: %s", rec.Code, rec.Body)
			}
		}()
		<-entered
	}
	hold(mutationsBody(3))
	if q, m := g.operationsInFlight(); q != 0 || m != 3 {
		t.Fatalf("in flight %d queries, %d mutations; want 0 and 3", q, m)
	}
	if rec := serveGate(t, h, mutationsBody(3)); rec.Code != http.StatusTooManyRequests {
		t.Errorf("3 more mutations with 3 in flight (cap 5): status %d, want 429", rec.Code)
	}
	hold(mutationsBody(2))
	hold(queriesBody(4))
	if rec := serveGate(t, h, queriesBody(1)); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a 5th query operation (cap 4): status %d, want 429", rec.Code)
	}
	if rec := serveGate(t, h, mutationsBody(1)); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a 6th mutation operation (cap 5): status %d, want 429", rec.Code)
	}
	close(release)
	wg.Wait()
	if q, m := g.operationsInFlight(); q != 0 || m != 0 {
		t.Errorf("after the requests: in flight %d queries, %d mutations; want none", q, m)
	}
	// Free again: the full cap in one request passes.
	if rec := serveGate(t, h, mutationsBody(5)); rec.Code != http.StatusOK {
		t.Errorf("5 mutations with none in flight: status %d, want 200", rec.Code)
	}
	if n := c.Throttled.Load(); n != 4 {
		t.Errorf("Counters.Throttled = %d, want 4", n)
	}
}

// TestGateConcurrentOperationsRetryAfter: with RetryAfter set, a 429 for
// concurrent operations carries the header too.
func TestGateConcurrentOperationsRetryAfter(t *testing.T) {
	h := New(Limits{ConcurrentMutations: 1, RetryAfter: true}, nil, nil).Wrap(gateEchoHandler(nil))
	rec := serveGate(t, h, mutationsBody(2))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 429 with the header", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// TestGateServiceTime: a request of n mutations waits the service time n
// times, one after another, and leaves one operation of the count after
// each but the last; queries wait once. Fake timers: nothing sleeps.
func TestGateServiceTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		waits int
	}{
		{"3 mutations", mutationsBody(3), 3},
		{"3 queries", queriesBody(3), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(Limits{ServiceTime: 20 * time.Millisecond, ConcurrentMutations: 10, ConcurrentQueries: 10}, nil, nil)
			ft := installGateFakeTimer(g)
			h := g.Wrap(gateEchoHandler(nil))
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- serveGate(t, h, tc.body) }()
			for i := range tc.waits {
				if d := <-ft.created; d != 20*time.Millisecond {
					t.Fatalf("wait %d: timer of %v, want 20ms", i, d)
				}
				q, m := g.operationsInFlight()
				if got, want := q+m, 3-i; tc.waits == 3 && got != want {
					t.Errorf("before mutation %d ends: %d operations in flight, want %d", i, got, want)
				}
				if tc.waits == 1 && q != 3 {
					t.Errorf("queries in flight %d, want 3", q)
				}
				ft.fire <- time.Time{}
			}
			if rec := <-done; rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			select {
			case d := <-ft.created:
				t.Errorf("an extra wait of %v", d)
			default:
			}
			if q, m := g.operationsInFlight(); q+m != 0 {
				t.Errorf("after the request: %d operations in flight", q+m)
			}
		})
	}
}

// TestGateBodyCapsByKind: queries and mutations have their own body caps.
func TestGateBodyCapsByKind(t *testing.T) {
	h := New(Limits{MaxQueryBody: 100, MaxMutationBody: 300}, nil, nil).Wrap(gateEchoHandler(nil))
	cases := []struct {
		name string
		body string
		want int
	}{
		{"small query", queriesBody(1), 200},
		{"query over its cap", queriesBody(6), 413},
		{"mutation under its cap, over the query cap", mutationsBody(3), 200},
		{"mutation over its cap", mutationsBody(8), 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serveGate(t, h, tc.body)
			if rec.Code != tc.want {
				t.Errorf("body of %d bytes: status %d, want %d", len(tc.body), rec.Code, tc.want)
			}
		})
	}
}
