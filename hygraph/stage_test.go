package hygraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/stagesync/stagesync/internal/gqlexec"
)

// testSDL is the schema of the fake stage the tests talk to.
const testSDL = `
type Item {
  id: ID!
  name: String!
  tags: [String!]
}
type Query {
  item(id: ID!): Item
  items(first: Int, after: String): [Item!]!
  count: Int!
  boom: Int!
}
type Mutation {
  upsertItem(id: ID!, name: String!, tags: [String!]): Item
  createItem(name: String!): Item
  strictCreate(name: String!): Item!
}
`

const testToken = "s3cr3t-t0ken-value"

// fakeStage is an httptest server running gqlexec over testSDL, recording
// what it receives. Items whose name starts with "fail" fail to upsert.
type fakeStage struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	items   map[string]string // id → name
	calls   []string          // "upsertItem:<id>", in execution order
	bodies  []string          // request bodies, in arrival order
	hold    *held             // the next request waits for release
	nextID  int
	handler http.Handler

	requests atomic.Int64
	// latency is added to every request (benchmarks only).
	latency time.Duration
	// intercept, when set, may answer a request itself (return true).
	intercept func(w http.ResponseWriter, r *http.Request, n int64) bool
}

type held struct {
	arrived chan struct{}
	release chan struct{}
}

func newFakeStage(t testing.TB) *fakeStage {
	t.Helper()
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "test.graphql", Input: testSDL})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeStage{t: t, items: map[string]string{}}
	f.handler = gqlexec.Handler(gqlexec.New(schema, gqlexec.RootResolverFunc(f.resolve)))
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeStage) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	n := f.requests.Add(1)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	h := f.hold
	f.hold = nil
	f.mu.Unlock()
	if h != nil {
		close(h.arrived)
		<-h.release
	}
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"message":"unauthorized"}],"data":null}`)
		return
	}
	if f.intercept != nil && f.intercept(w, r, n) {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.handler.ServeHTTP(w, r)
}

// holdNext makes the next request wait at the server until release is
// called; arrived is closed when it got there.
func (f *fakeStage) holdNext() (arrived <-chan struct{}, release func()) {
	h := &held{arrived: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.hold = h
	f.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(h.release) }) }
	f.t.Cleanup(release)
	return h.arrived, release
}

func (f *fakeStage) resolve(_ context.Context, _ ast.Operation, field *ast.Field, args map[string]any) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch field.Name {
	case "item":
		id := args["id"].(string)
		name, ok := f.items[id]
		if !ok {
			return nil, nil
		}
		return map[string]any{"id": id, "name": name}, nil
	case "items":
		ids := make([]string, 0, len(f.items))
		for id := range f.items {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var out []any
		after, _ := args["after"].(string)
		for _, id := range ids {
			if id > after {
				out = append(out, map[string]any{"id": id, "name": f.items[id]})
			}
		}
		return out, nil
	case "count":
		return len(f.items), nil
	case "boom":
		return nil, errors.New("boom")
	case "strictCreate":
		return nil, errors.New("strict create failed")
	case "upsertItem":
		id, name := args["id"].(string), args["name"].(string)
		f.calls = append(f.calls, "upsertItem:"+id)
		if strings.HasPrefix(name, "fail") {
			return nil, fmt.Errorf("cannot upsert %s", id)
		}
		f.items[id] = name
		return map[string]any{"id": id, "name": name, "tags": args["tags"]}, nil
	case "createItem":
		f.nextID++
		id := fmt.Sprintf("c%03d", f.nextID)
		f.calls = append(f.calls, "createItem:"+id)
		f.items[id] = args["name"].(string)
		return map[string]any{"id": id, "name": f.items[id]}, nil
	}
	return nil, fmt.Errorf("unknown field %s", field.Name)
}

func (f *fakeStage) snapshotBodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.bodies)
}

func (f *fakeStage) snapshotCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fastOptions make a stage for tests: no rate limit, tiny retry waits.
func fastOptions(extra ...StageOption) []StageOption {
	return append([]StageOption{
		WithRateLimit(RateLimit{Initial: math.Inf(1)}),
		WithRetryWait(time.Millisecond, 2*time.Millisecond),
		WithRetryMax(3),
	}, extra...)
}

func (f *fakeStage) stage(opts ...StageOption) *Stage {
	return NewStage("dev", f.srv.URL, testToken, fastOptions(opts...)...)
}

type upsertData struct {
	UpsertItem *struct {
		ID   string   `json:"id"`
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	} `json:"upsertItem"`
}

const upsertMutation = `mutation Upsert($id: ID!, $name: String!) { upsertItem(id: $id, name: $name) { id name } }`

func TestStageDo(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage()
	ctx := context.Background()

	var out upsertData
	if err := s.Do(ctx, upsertMutation, map[string]any{"id": "a1", "name": "Alpha"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.UpsertItem == nil || out.UpsertItem.Name != "Alpha" {
		t.Fatalf("got %+v", out)
	}

	// Through the graphql.Client, as generated code calls it.
	var q struct {
		Item struct{ Name string } `json:"item"`
	}
	resp := &graphql.Response{Data: &q}
	err := s.Client().MakeRequest(ctx, &graphql.Request{
		Query:     `query Get($id: ID!) { item(id: $id) { name } }`,
		Variables: map[string]any{"id": "a1"},
		OpName:    "Get",
	}, resp)
	if err != nil || q.Item.Name != "Alpha" {
		t.Fatalf("MakeRequest = %v, %+v", err, q)
	}
}

func TestStageGraphQLErrors(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage()
	ctx := context.Background()

	tests := []struct {
		name     string
		query    string
		vars     map[string]any
		wantPath string
		wantMsg  string
	}{
		{"field error keeps its path", upsertMutation, map[string]any{"id": "x", "name": "fail-me"}, "upsertItem", "cannot upsert x"},
		{"validation error, data null", `query { nope }`, nil, "", "nope"},
		{"variable coercion error, data null", `query($n: Int) { items(first: $n) { id } }`, map[string]any{"n": "x"}, "variable.n", "Int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out map[string]any
			err := s.Do(ctx, tt.query, tt.vars, &out)
			var gerr *GraphQLError
			if !errors.As(err, &gerr) {
				t.Fatalf("err = %v (%T), want *GraphQLError", err, err)
			}
			if gerr.Stage != "dev" || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q", err)
			}
			if got := gerr.Errors[0].Path.String(); got != tt.wantPath {
				t.Errorf("path = %q, want %q", got, tt.wantPath)
			}
			var list gqlerror.List
			if !errors.As(err, &list) {
				t.Errorf("errors.As(gqlerror.List) failed")
			}
		})
	}
}

// TestStageHTTPErrors covers non-200 answers: typed, naming the stage,
// never the token.
func TestStageHTTPErrors(t *testing.T) {
	f := newFakeStage(t)
	f.intercept = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		status, _ := strconv.Atoi(r.Header.Get("X-Status"))
		if status == 0 {
			return false
		}
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"message":"status %d for `+testToken+`"}],"data":null}`, status)
		return true
	}
	tests := []struct {
		status    int
		token     string
		wantMsg   string
		rateLimit bool
	}{
		{status: 401, token: "wrong-token-value", wantMsg: `stage "dev": HTTP 401`},
		{status: 403, wantMsg: `stage "dev": HTTP 403`},
		{status: 400, wantMsg: "status 400"},
		{status: 413, wantMsg: "too large"},
		{status: 429, wantMsg: "retry after 7s", rateLimit: true},
		{status: 500, wantMsg: "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			token := testToken
			if tt.token != "" {
				token = tt.token
			}
			s := NewStage("dev", f.srv.URL, token, fastOptions(
				WithHeader("X-Status", strconv.Itoa(tt.status)),
				WithRetryAfterCap(time.Millisecond),
				WithRetryMax(1))...)
			err := s.Do(context.Background(), `{ count }`, nil, nil)
			var herr *HTTPError
			if !errors.As(err, &herr) || herr.StatusCode != tt.status || herr.Stage != "dev" {
				t.Fatalf("err = %v, want *HTTPError %d", err, tt.status)
			}
			var rl *RateLimitError
			if got := errors.As(err, &rl); got != tt.rateLimit {
				t.Errorf("RateLimitError = %v, want %v", got, tt.rateLimit)
			} else if got && rl.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter = %v (uncapped value expected)", rl.RetryAfter)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", msg, tt.wantMsg)
			}
			if strings.Contains(msg, testToken) || strings.Contains(herr.Body, testToken) || (tt.token != "" && strings.Contains(msg, tt.token)) {
				t.Errorf("token leaked: %q / %q", msg, herr.Body)
			}
			if errors.Is(err, ErrMaybeApplied) {
				t.Errorf("a query is never ErrMaybeApplied")
			}
		})
	}
}

// TestStageRetries covers which failures are retried for which requests.
func TestStageRetries(t *testing.T) {
	const (
		query    = `{ count }`
		mutation = `mutation { createItem(name: "x") { id } }`
	)
	type fault int
	const (
		status500 fault = iota
		status429
		dropAfterRead // connection closed after the request was read
	)
	tests := []struct {
		name        string
		fault       fault
		query       string
		idempotent  bool
		wantReqs    int64 // requests the server saw (1 fault + retries)
		wantErr     bool
		wantMaybe   bool
		wantSuccess bool
	}{
		{"query retried after 500", status500, query, false, 2, false, false, true},
		{"mutation not retried after 500", status500, mutation, false, 1, true, true, false},
		{"idempotent mutation retried after 500", status500, mutation, true, 2, false, false, true},
		{"mutation retried after 429", status429, mutation, false, 2, false, false, true},
		{"query retried after dropped connection", dropAfterRead, query, false, 2, false, false, true},
		{"mutation not retried after dropped connection", dropAfterRead, mutation, false, 1, true, true, false},
		{"idempotent mutation retried after dropped connection", dropAfterRead, mutation, true, 2, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStage(t)
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int64) bool {
				if n > 1 {
					return false
				}
				switch tt.fault {
				case status500:
					w.WriteHeader(500)
					io.WriteString(w, "boom")
				case status429:
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(429)
				case dropAfterRead:
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.Close()
					}
				}
				return true
			}
			s := f.stage()
			ctx := context.Background()
			if tt.idempotent {
				ctx = Idempotent(ctx)
			}
			err := s.Do(ctx, tt.query, nil, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := errors.Is(err, ErrMaybeApplied); got != tt.wantMaybe {
				t.Errorf("ErrMaybeApplied = %v, want %v (err %v)", got, tt.wantMaybe, err)
			}
			if got := f.requests.Load(); got != tt.wantReqs {
				t.Errorf("server saw %d requests, want %d", got, tt.wantReqs)
			}
			st := s.Stats()
			if st.Requests != tt.wantReqs || st.Retries != tt.wantReqs-1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// TestStageNotSentIsRetried: a connection refused never reached the stage,
// so even a plain mutation is retried and is not ErrMaybeApplied.
func TestStageNotSentIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := NewStage("dev", "http://"+addr+"/graphql", testToken, fastOptions(WithRetryMax(2))...)
	err = s.Do(context.Background(), `mutation { createItem(name: "x") { id } }`, nil, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	if errors.Is(err, ErrMaybeApplied) {
		t.Errorf("connection refused reported as maybe applied: %v", err)
	}
	if st := s.Stats(); st.Requests != 3 {
		t.Errorf("attempts = %d, want 3", st.Requests)
	}
	if !strings.Contains(err.Error(), `stage "dev"`) {
		t.Errorf("err = %q does not name the stage", err)
	}
}

// TestStageThrottleAdapts: a 429 halves the stage's rate.
func TestStageThrottleAdapts(t *testing.T) {
	f := newFakeStage(t)
	f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}
	s := f.stage(WithRateLimit(RateLimit{Initial: 1000, Max: 1000}))
	if err := s.Do(context.Background(), `{ count }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Rate != 500 || st.Throttled != 1 || st.Retries != 1 {
		t.Errorf("stats = %+v, want rate 500 after one 429", st)
	}
}

func TestStageContextCancelled(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage()
	ctx, cancel := context.WithCancel(context.Background())
	arrived, release := f.holdNext()
	done := make(chan error, 1)
	go func() { done <- s.Do(ctx, `mutation { createItem(name: "x") { id } }`, nil, nil) }()
	<-arrived
	cancel()
	err := <-done
	release()
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrMaybeApplied) {
		t.Errorf("err = %v, want context.Canceled and ErrMaybeApplied", err)
	}
}

func TestStageNeverPrintsToken(t *testing.T) {
	var logs bytes.Buffer
	f := newFakeStage(t)
	f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	}
	s := f.stage(WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err := s.Do(context.Background(), `{ count }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), logs.String()} {
		if strings.Contains(out, testToken) {
			t.Errorf("token printed: %s", out)
		}
	}
	if !strings.Contains(logs.String(), "retrying request") || !strings.Contains(logs.String(), "stage=dev") {
		t.Errorf("logs = %s", logs.String())
	}
	b, _ := json.Marshal(struct{ T secret }{secret(testToken)})
	if strings.Contains(string(b), testToken) {
		t.Errorf("secret marshals as %s", b)
	}
}

func TestBackoff(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	resp := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	half := func() float64 { return 0.5 }
	tests := []struct {
		name    string
		attempt int
		resp    *http.Response
		want    time.Duration
	}{
		{"exponential 0", 0, nil, 750 * time.Millisecond},
		{"exponential 2", 2, resp(500, ""), 3 * time.Second},
		{"capped at max", 10, resp(502, ""), 7500 * time.Millisecond},
		{"retry-after seconds", 0, resp(429, "3"), 3 * time.Second},
		{"retry-after capped", 0, resp(429, "120"), 20 * time.Second},
		{"retry-after date", 0, resp(503, now.Add(5*time.Second).Format(http.TimeFormat)), 5 * time.Second},
		{"retry-after garbage", 1, resp(429, "soon"), 1500 * time.Millisecond},
		{"retry-after ignored on 500", 0, resp(500, "9"), 750 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backoff(time.Second, 10*time.Second, 20*time.Second, tt.attempt, tt.resp, half, now)
			if got != tt.want {
				t.Errorf("backoff = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAIMD drives the adaptive rate as a pure state machine.
func TestAIMD(t *testing.T) {
	type step struct {
		ev       string // "ok", "429" (current epoch), "stale429" (epoch before the last decrease)
		n        int    // repeat
		wantRate float64
	}
	tests := []struct {
		name  string
		cfg   RateLimit
		steps []step
	}{
		{"defaults start at 5 and never exceed it", RateLimit{}, []step{
			{"ok", 100, 5},
			{"429", 1, 2.5},
			{"ok", 19, 2.5},
			{"ok", 1, 3},
			{"ok", 20, 3.5},
			{"ok", 100, 5},
		}},
		{"decrease floors at min", RateLimit{Initial: 8, Min: 1.5}, []step{
			{"429", 1, 4},
			{"429", 1, 2},
			{"429", 1, 1.5},
			{"429", 1, 1.5},
		}},
		{"a volley of 429s from one epoch halves once", RateLimit{Initial: 10}, []step{
			{"429", 1, 5},
			{"stale429", 3, 5},
			{"429", 1, 2.5},
		}},
		{"a 429 resets the success count", RateLimit{Initial: 4, Max: 8, IncreaseAfter: 3, Step: 1}, []step{
			{"ok", 2, 4},
			{"429", 1, 2},
			{"ok", 2, 2},
			{"ok", 1, 3},
			{"ok", 3, 4},
			{"ok", 3, 5},
			{"ok", 30, 8},
		}},
		{"infinite rate never adapts", RateLimit{Initial: math.Inf(1)}, []step{
			{"429", 3, math.Inf(1)},
			{"ok", 50, math.Inf(1)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAIMD(tt.cfg)
			for i, s := range tt.steps {
				for range s.n {
					switch s.ev {
					case "ok":
						a.success()
					case "429":
						a.throttled(a.epoch)
					case "stale429":
						a.throttled(a.epoch - 1)
					}
				}
				if a.rate != s.wantRate {
					t.Fatalf("step %d (%s×%d): rate = %v, want %v", i, s.ev, s.n, a.rate, s.wantRate)
				}
			}
		})
	}
}

// TestLimiterVirtualTime checks the token bucket follows the adaptive rate,
// on virtual time.
func TestLimiterVirtualTime(t *testing.T) {
	l := newLimiter(RateLimit{Initial: 4, Max: 4})
	t0 := time.Unix(1000, 0)
	count := func(from time.Time, d time.Duration) int {
		n := 0
		for at := from; at.Before(from.Add(d)); at = at.Add(time.Millisecond) {
			if l.lim.AllowN(at, 1) {
				n++
			}
		}
		return n
	}
	if got := count(t0, time.Second); got != 4 {
		t.Errorf("at 4 req/s: %d requests in a second", got)
	}
	l.observe(0, true, 0)
	if got := count(t0.Add(time.Second), 2*time.Second); got != 4 && got != 5 {
		t.Errorf("at 2 req/s: %d requests in two seconds", got)
	}
	if got := l.rate(); got != 2 {
		t.Errorf("rate = %v", got)
	}

	// A Retry-After pauses the whole stage; a shorter one does not shorten
	// the pause.
	l.now = func() time.Time { return t0 }
	l.observe(l.state.epoch, true, 5*time.Second)
	l.observe(l.state.epoch, true, time.Second)
	if want := t0.Add(5 * time.Second); !l.pause.Equal(want) {
		t.Errorf("pause until %v, want %v", l.pause, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("wait during a pause with a cancelled context = %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"2", 2 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
