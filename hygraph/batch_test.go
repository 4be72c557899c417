package hygraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// queued returns the number of requests waiting in b.
func (b *Batcher) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// waitQueued waits until n requests wait in b. It polls; nothing depends on
// how long that takes.
func waitQueued(t *testing.T, b *Batcher, n int) {
	t.Helper()
	for b.queued() < n {
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
	}
}

// call is one caller's request and what it got back.
type call struct {
	ctx  context.Context
	req  *graphql.Request
	data *upsertData
	resp *graphql.Response
	err  error
}

func upsertCall(id, name string) *call {
	c := &call{
		ctx: Idempotent(context.Background()),
		req: &graphql.Request{
			Query:     upsertMutation,
			Variables: map[string]any{"id": id, "name": name},
			OpName:    "Upsert",
		},
		data: &upsertData{},
	}
	c.resp = &graphql.Response{Data: c.data}
	return c
}

// runHeld sends first on its own and holds it at the server, queues the
// other calls behind it, then releases the server: with one concurrency
// slot, the queued calls go out as batches. It returns when all are done.
func runHeld(t *testing.T, f *fakeStage, b *Batcher, first *call, rest []*call) {
	t.Helper()
	runHeldQueued(t, f, b, first, rest, false)
}

// runHeldInOrder is runHeld with the other calls queued one after the
// other, in the order given, so that the batches they form are known.
func runHeldInOrder(t *testing.T, f *fakeStage, b *Batcher, first *call, rest []*call) {
	t.Helper()
	runHeldQueued(t, f, b, first, rest, true)
}

func runHeldQueued(t *testing.T, f *fakeStage, b *Batcher, first *call, rest []*call, inOrder bool) {
	t.Helper()
	arrived, release := f.holdNext()
	var wg sync.WaitGroup
	send := func(c *call) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.err = b.MakeRequest(c.ctx, c.req, c.resp)
		}()
	}
	send(first)
	<-arrived
	for i, c := range rest {
		send(c)
		if inOrder {
			waitQueued(t, b, i+1)
		}
	}
	if !inOrder {
		waitQueued(t, b, len(rest))
	}
	release()
	wg.Wait()
}

func TestBatchCoalesces(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())

	first := upsertCall("id00", "first")
	var rest []*call
	for i := 1; i <= 30; i++ {
		rest = append(rest, upsertCall(fmt.Sprintf("id%02d", i), fmt.Sprintf("name %d", i)))
	}
	runHeld(t, f, b, first, rest)

	for _, c := range append([]*call{first}, rest...) {
		if c.err != nil {
			t.Fatalf("%v: %v", c.req.Variables, c.err)
		}
		vars := c.req.Variables.(map[string]any)
		if got := c.data.UpsertItem; got == nil || got.ID != vars["id"] || got.Name != vars["name"] {
			t.Errorf("caller %v got %+v", vars, got)
		}
	}
	if got := f.requests.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2 (one alone, then one batch)", got)
	}
	if got := len(f.snapshotCalls()); got != 31 {
		t.Errorf("resolver ran %d upserts, want 31", got)
	}
	if st := b.Stats(); st.Requests != 2 || st.Operations != 31 || st.Isolated != 0 {
		t.Errorf("stats = %+v", st)
	}
	// The batch is one mutation with renamed variables and aliased fields.
	bodies := f.snapshotBodies()
	var req struct {
		Query     string
		Variables map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(bodies[1]), &req); err != nil {
		t.Fatal(err)
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil || len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Mutation {
		t.Fatalf("batch document %q: %v", req.Query, err)
	}
	if len(doc.Operations[0].SelectionSet) != 30 || len(req.Variables) != 60 {
		t.Errorf("batch has %d fields and %d variables", len(doc.Operations[0].SelectionSet), len(req.Variables))
	}
	if !strings.Contains(req.Query, "r0_upsertItem:upsertItem(id:$r0_id,name:$r0_name)") {
		t.Errorf("batch query = %s", req.Query)
	}
}

// TestBatchPartialFailure: a field error fails only its owner, with its own
// path.
func TestBatchPartialFailure(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())

	first := upsertCall("x0", "ok")
	ok1 := upsertCall("x1", "ok")
	bad := upsertCall("x2", "fail please")
	// An aliased field: the error path must come back as the alias.
	aliased := upsertCall("x3", "fail too")
	aliased.req.Query = `mutation Upsert($id: ID!, $name: String!) { mine: upsertItem(id: $id, name: $name) { id } }`
	var aliasedData map[string]any
	aliased.resp.Data = &aliasedData
	ok2 := upsertCall("x4", "ok")
	runHeld(t, f, b, first, []*call{ok1, bad, aliased, ok2})

	for _, c := range []*call{first, ok1, ok2} {
		if c.err != nil || c.data.UpsertItem == nil {
			t.Errorf("%v: err %v, data %+v", c.req.Variables, c.err, c.data)
		}
	}
	tests := []struct {
		c        *call
		wantPath string
		wantMsg  string
	}{
		{bad, "upsertItem", "cannot upsert x2"},
		{aliased, "mine", "cannot upsert x3"},
	}
	for _, tt := range tests {
		var gerr *GraphQLError
		if !errors.As(tt.c.err, &gerr) || len(gerr.Errors) != 1 {
			t.Fatalf("err = %v, want one GraphQL error", tt.c.err)
		}
		e := gerr.Errors[0]
		if e.Path.String() != tt.wantPath || e.Message != tt.wantMsg || len(e.Locations) != 0 {
			t.Errorf("error = %+v, want path %q message %q", e, tt.wantPath, tt.wantMsg)
		}
		if !slices0(tt.c.resp.Errors, e) {
			t.Errorf("resp.Errors = %v", tt.c.resp.Errors)
		}
	}
	if bad.data.UpsertItem != nil {
		t.Errorf("failed caller got data %+v", bad.data.UpsertItem)
	}
	if v, ok := aliasedData["mine"]; !ok || v != nil {
		t.Errorf("aliased caller data = %v, want mine: null", aliasedData)
	}
	if got := f.requests.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
}

func slices0(l gqlerror.List, e *gqlerror.Error) bool { return len(l) == 1 && l[0] == e }

// TestBatchRenaming: fragments, variables with defaults, directives, nested
// aliases and literals survive the renaming, with two callers sharing the
// same fragment and variable names.
func TestBatchRenaming(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())
	const query = `
		# a comment
		query Get($id: ID!, $withName: Boolean = true) {
			item(id: $id) { ...Parts }
			again: item(id: $id) { key: id name @include(if: $withName) }
			literal: item(id: "q\"uote\u00e9") { id }
			__typename
		}
		fragment Parts on Item { id ...Names }
		fragment Names on Item { name @skip(if: false) }`
	for _, id := range []string{"a", "b"} {
		f.items[id] = "name-" + id
	}

	type getData struct {
		Item     struct{ ID, Name string }
		Again    struct{ Key, Name string }
		Literal  *struct{ ID string }
		Typename string `json:"__typename"`
	}
	mk := func(id string, withName *bool) (*call, *getData) {
		d := &getData{}
		vars := map[string]any{"id": id, "unknown": 1}
		if withName != nil {
			vars["withName"] = *withName
		}
		return &call{
			ctx:  context.Background(),
			req:  &graphql.Request{Query: query, OpName: "Get", Variables: vars},
			resp: &graphql.Response{Data: d},
		}, d
	}
	no := false
	first, _ := mk("a", nil)
	ca, da := mk("a", nil)
	cb, db := mk("b", &no)
	runHeld(t, f, b, first, []*call{ca, cb})

	if ca.err != nil || cb.err != nil {
		t.Fatalf("errors: %v, %v", ca.err, cb.err)
	}
	want := getData{Typename: "Query"}
	want.Item.ID, want.Item.Name = "a", "name-a"
	want.Again.Key, want.Again.Name = "a", "name-a"
	if *da != want {
		t.Errorf("caller a got %+v, want %+v", *da, want)
	}
	want.Item.ID, want.Item.Name = "b", "name-b"
	want.Again.Key, want.Again.Name = "b", "" // @include(if: false)
	if *db != want {
		t.Errorf("caller b got %+v, want %+v", *db, want)
	}
	if got := f.requests.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
	batch := f.snapshotBodies()[1]
	for _, wantPart := range []string{"fragment r0_Parts on Item", "...r1_Names", "$r1_withName:Boolean=true", `_withName":false`} {
		if !strings.Contains(batch, wantPart) {
			t.Errorf("batch body lacks %q: %s", wantPart, batch)
		}
	}
	if strings.Contains(batch, "unknown") {
		t.Errorf("undeclared variables were sent: %s", batch)
	}
}

// TestBatchBudget: every merged request stays within the byte budget and
// the operation count; a request larger than the budget goes alone.
func TestBatchBudget(t *testing.T) {
	tests := []struct {
		name     string
		maxBytes int
		maxOps   int
		n        int
		nameLen  int
	}{
		{"bytes", 2_000, 50, 40, 50},
		{"ops", 1 << 20, 7, 40, 10},
		{"oversized alone", 600, 50, 6, 1_000},
		{"escapes count", 1_500, 50, 30, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStage(t)
			s := f.stage(WithMaxConcurrency(1))
			b := NewBatcher(s.Client(), WithMaxBytes(tt.maxBytes), WithMaxOps(tt.maxOps))
			filler := strings.Repeat("x", tt.nameLen)
			if tt.name == "escapes count" {
				filler = strings.Repeat("\"<\n", tt.nameLen/3) // escaped to 2 or 6 bytes each
			}
			first := upsertCall("first", "first")
			var rest []*call
			for i := range tt.n {
				rest = append(rest, upsertCall(fmt.Sprintf("id%03d", i), filler))
			}
			runHeld(t, f, b, first, rest)
			for _, c := range rest {
				if c.err != nil || c.data.UpsertItem == nil || c.data.UpsertItem.Name != filler {
					t.Fatalf("caller %v: %v %+v", c.req.Variables, c.err, c.data)
				}
			}
			bodies := f.snapshotBodies()[1:]
			if len(bodies) < 2 {
				t.Fatalf("only %d requests: nothing was limited", len(bodies))
			}
			for i, body := range bodies {
				var req struct{ Query string }
				if err := json.Unmarshal([]byte(body), &req); err != nil {
					t.Fatal(err)
				}
				doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
				if err != nil {
					t.Fatal(err)
				}
				ops := len(doc.Operations[0].SelectionSet)
				if ops > tt.maxOps {
					t.Errorf("request %d has %d operations", i, ops)
				}
				if len(body) > tt.maxBytes && ops > 1 {
					t.Errorf("request %d: %d bytes, %d operations, over the %d budget", i, len(body), ops, tt.maxBytes)
				}
			}
		})
	}
}

// TestBatchKindsNeverMix: queries, idempotent mutations and other mutations
// waiting together go out in separate requests.
func TestBatchKindsNeverMix(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())
	first := upsertCall("first", "first")
	var rest []*call
	for i := range 4 {
		rest = append(rest, upsertCall(fmt.Sprintf("u%d", i), "n"))
		create := &call{ctx: context.Background(), req: &graphql.Request{
			Query: `mutation { createItem(name: "c") { id } }`}, resp: &graphql.Response{}}
		query := &call{ctx: context.Background(), req: &graphql.Request{
			Query: `query { count }`}, resp: &graphql.Response{}}
		rest = append(rest, create, query)
	}
	runHeld(t, f, b, first, rest)
	for _, c := range rest {
		if c.err != nil {
			t.Fatal(c.err)
		}
	}
	bodies := f.snapshotBodies()[1:]
	if len(bodies) != 3 {
		t.Fatalf("%d requests, want 3 (one per kind)", len(bodies))
	}
	for _, body := range bodies {
		kinds := 0
		for _, k := range []string{"upsertItem", "createItem", "count"} {
			if strings.Contains(body, k) {
				kinds++
			}
		}
		if kinds != 1 {
			t.Errorf("mixed request: %s", body)
		}
	}
}

// TestBatchRequestErrorIsolated: an invalid request fails the whole merged
// document (as a 200 with null data, or as a 400 like Hygraph's); every
// request is then re-sent alone and only the invalid one fails, with its own
// error.
func TestBatchRequestErrorIsolated(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusBadRequest} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFakeStage(t)
			if status != http.StatusOK {
				f.intercept = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
					body, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
					if !bytes.Contains(body, []byte("nope")) {
						return false
					}
					w.WriteHeader(status)
					io.WriteString(w, `{"errors":[{"message":"Cannot query field \"nope\" on type \"Item\"."}],"data":null}`)
					return true
				}
			}
			s := f.stage(WithMaxConcurrency(1))
			b := NewBatcher(s.Client())
			first := upsertCall("first", "first")
			good := upsertCall("g1", "good")
			invalid := upsertCall("g2", "bad")
			invalid.req.Query = `mutation Upsert($id: ID!, $name: String!) { upsertItem(id: $id, name: $name) { id nope } }`
			good2 := upsertCall("g3", "good")
			runHeld(t, f, b, first, []*call{good, invalid, good2})

			for _, c := range []*call{good, good2} {
				if c.err != nil || c.data.UpsertItem == nil {
					t.Errorf("%v: %v", c.req.Variables, c.err)
				}
			}
			if !strings.Contains(fmt.Sprint(invalid.err), `"nope"`) || strings.Contains(fmt.Sprint(invalid.err), "r1_") {
				t.Errorf("invalid caller err = %v", invalid.err)
			}
			if st := b.Stats(); st.Isolated != 3 {
				t.Errorf("stats = %+v, want 3 isolated", st)
			}
			// first, the failed batch, then three alone: the upserts ran once each.
			if got := f.requests.Load(); got != 5 {
				t.Errorf("server saw %d requests, want 5", got)
			}
			if calls := f.snapshotCalls(); len(calls) != 3 {
				t.Errorf("upserts ran: %v", calls)
			}
		})
	}
}

// TestBatchHTTPFailure: a failed HTTP request fails every caller in it with
// the typed error; plain mutations also report ErrMaybeApplied.
func TestBatchHTTPFailure(t *testing.T) {
	tests := []struct {
		name      string
		mk        func(i int) *call
		wantMaybe bool
	}{
		{"idempotent", func(i int) *call { return upsertCall(fmt.Sprint(i), "n") }, false},
		{"creates", func(i int) *call {
			return &call{ctx: context.Background(), req: &graphql.Request{
				Query: `mutation { createItem(name: "c") { id } }`}, resp: &graphql.Response{}}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStage(t)
			f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
				if n == 1 {
					return false
				}
				w.WriteHeader(http.StatusBadGateway)
				return true
			}
			s := f.stage(WithMaxConcurrency(1), WithRetryMax(0))
			b := NewBatcher(s.Client())
			var rest []*call
			for i := range 5 {
				rest = append(rest, tt.mk(i))
			}
			runHeld(t, f, b, upsertCall("first", "first"), rest)
			for _, c := range rest {
				var herr *HTTPError
				if !errors.As(c.err, &herr) || herr.StatusCode != http.StatusBadGateway {
					t.Errorf("err = %v, want *HTTPError 502", c.err)
				}
				if got := errors.Is(c.err, ErrMaybeApplied); got != tt.wantMaybe {
					t.Errorf("ErrMaybeApplied = %v, want %v", got, tt.wantMaybe)
				}
			}
			if got := f.requests.Load(); got != 2 {
				t.Errorf("server saw %d requests, want 2", got)
			}
		})
	}
}

// TestBatchLearnsBodyCap: a 413 halves the byte budget and re-sends.
func TestBatchLearnsBodyCap(t *testing.T) {
	f := newFakeStage(t)
	const capBytes = 3_000
	f.intercept = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if r.ContentLength > capBytes {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return true
		}
		return false
	}
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client(), WithMaxBytes(20_000))
	var rest []*call
	for i := range 40 {
		rest = append(rest, upsertCall(fmt.Sprintf("id%02d", i), strings.Repeat("y", 100)))
	}
	runHeld(t, f, b, upsertCall("first", "first"), rest)
	for _, c := range rest {
		if c.err != nil {
			t.Fatal(c.err)
		}
	}
	if got := b.maxBytes[1].Load(); got > capBytes {
		t.Errorf("budget = %d, want it under the %d cap", got, capBytes)
	}
	if calls := f.snapshotCalls(); len(calls) != 41 {
		t.Errorf("upserts ran %d times, want 41", len(calls))
	}
}

// TestBatchCancel: a caller that gives up while queued leaves the others
// alone and gets its context's error.
func TestBatchCancel(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())
	arrived, release := f.holdNext()
	go b.MakeRequest(context.Background(), upsertCall("first", "x").req, &graphql.Response{})
	<-arrived

	ctx, cancel := context.WithCancel(context.Background())
	gone := upsertCall("gone", "x")
	gone.ctx = ctx
	stay := upsertCall("stay", "x")
	errc := make(chan error, 2)
	go func() { errc <- b.MakeRequest(gone.ctx, gone.req, gone.resp) }()
	go func() { errc <- b.MakeRequest(stay.ctx, stay.req, stay.resp) }()
	waitQueued(t, b, 2)
	cancel()
	err1 := <-errc
	if !errors.Is(err1, context.Canceled) || errors.Is(err1, ErrMaybeApplied) {
		t.Errorf("cancelled caller err = %v", err1)
	}
	release()
	if err := <-errc; err != nil {
		t.Errorf("other caller err = %v", err)
	}
	for _, c := range f.snapshotCalls() {
		if c == "upsertItem:gone" {
			t.Errorf("cancelled upsert was sent")
		}
	}
}

// TestBatchPassThrough: what cannot be batched is sent as it is.
func TestBatchPassThrough(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage()
	b := NewBatcher(s.Client())
	tests := []struct{ name, query, op string }{
		{"two operations", `query A { count } query B { count }`, "B"},
		{"root fragment", `query { ...Q } fragment Q on Query { count }`, ""},
		{"root inline fragment", `query { ... on Query { count } }`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if parseDoc(tt.query, tt.op) != nil {
				t.Fatalf("parseDoc accepted %q", tt.query)
			}
			var out struct{ Count int }
			if err := b.MakeRequest(context.Background(), &graphql.Request{Query: tt.query, OpName: tt.op}, &graphql.Response{Data: &out}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if st := b.Stats(); st.Requests != 0 {
		t.Errorf("stats = %+v: pass-through counted as batches", st)
	}
}

// TestBatchGenericClient: a Batcher also works over a plain genqlient
// client, with its own in-flight bound.
func TestBatchGenericClient(t *testing.T) {
	f := newFakeStage(t)
	hc := &http.Client{Transport: authTransport{}}
	b := NewBatcher(graphql.NewClient(f.srv.URL, hc), WithMaxInFlight(1))
	first := upsertCall("first", "first")
	var rest []*call
	for i := range 10 {
		rest = append(rest, upsertCall(fmt.Sprint(i), "n"))
	}
	bad := upsertCall("bad", "fail")
	rest = append(rest, bad)
	runHeld(t, f, b, first, rest)
	for _, c := range rest[:10] {
		if c.err != nil || c.data.UpsertItem == nil {
			t.Errorf("err %v data %+v", c.err, c.data)
		}
	}
	var list gqlerror.List
	if !errors.As(bad.err, &list) || list[0].Path.String() != "upsertItem" {
		t.Errorf("bad err = %v", bad.err)
	}
	if got := f.requests.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
}

type authTransport struct{}

func (authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+testToken)
	return http.DefaultTransport.RoundTrip(r)
}

func TestOwnerOf(t *testing.T) {
	tests := []struct {
		path  ast.Path
		n     int
		want  int
		key   string
		found bool
	}{
		{ast.Path{ast.PathName("r0_upsertItem")}, 2, 0, "upsertItem", true},
		{ast.Path{ast.PathName("r12_a_b"), ast.PathIndex(1)}, 13, 12, "a_b", true},
		{ast.Path{ast.PathName("r12_a")}, 12, 0, "", false},
		{ast.Path{ast.PathName("r01_a")}, 5, 0, "", false},
		{ast.Path{ast.PathName("variable"), ast.PathName("r0_x")}, 5, 0, "", false},
		{ast.Path{ast.PathIndex(0)}, 5, 0, "", false},
		{nil, 5, 0, "", false},
	}
	for _, tt := range tests {
		i, key, ok := ownerOf(tt.path, tt.n)
		if i != tt.want || key != tt.key || ok != tt.found {
			t.Errorf("ownerOf(%v) = %d, %q, %v", tt.path, i, key, ok)
		}
	}
}

// BenchmarkBatchUpserts sends 1,000 concurrent idempotent upserts per
// operation through a stage whose requests take 5ms (a simulated round
// trip), unbatched and batched, and, batched only, under Hygraph's
// smallest rate limit (5 req/s; unbatched that would take 200s).
func BenchmarkBatchUpserts(b *testing.B) {
	const n = 1000
	tests := []struct {
		name    string
		batched bool
		rate    float64
	}{
		{"unbatched", false, math.Inf(1)},
		{"batched", true, math.Inf(1)},
		{"batched-5rps", true, 5},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			f := newFakeStage(b)
			f.latency = 5 * time.Millisecond
			s := NewStage("bench", f.srv.URL, testToken, WithRateLimit(RateLimit{Initial: tt.rate}))
			client := s.Client()
			if tt.batched {
				client = NewBatcher(client)
			}
			ctx := Idempotent(context.Background())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				for j := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var out upsertData
						err := client.MakeRequest(ctx, &graphql.Request{
							Query:     upsertMutation,
							Variables: map[string]any{"id": fmt.Sprintf("id%04d", j), "name": "Hotel " + strconv.Itoa(j)},
							OpName:    "Upsert",
						}, &graphql.Response{Data: &out})
						if err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			reqs := f.requests.Load()
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "upserts/s")
			b.Logf("%s: %d upserts in %d HTTP requests (%.1f per request)", tt.name, n*b.N, reqs, float64(n*b.N)/float64(reqs))
		})
	}
}

// upsertVars is how genqlient passes variables: a struct pointer.
type upsertVars struct {
	ID   string   `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
}

// TestBatchManyConcurrent: callers arriving at random moments each get
// their own answer, whatever the batches turn out to be.
func TestBatchManyConcurrent(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage(WithMaxConcurrency(2))
	b := NewBatcher(s.Client(), WithMaxOps(8))
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := Idempotent(context.Background())
			name := fmt.Sprintf("name %d", i)
			if i%17 == 0 {
				name = "fail " + name
			}
			var out upsertData
			err := b.MakeRequest(ctx, &graphql.Request{
				Query:     `mutation Upsert($id: ID!, $name: String!, $tags: [String!]) { upsertItem(id: $id, name: $name, tags: $tags) { id name tags } }`,
				Variables: &upsertVars{ID: fmt.Sprint(i), Name: name, Tags: []string{name}},
				OpName:    "Upsert",
			}, &graphql.Response{Data: &out})
			switch {
			case i%17 == 0:
				var gerr *GraphQLError
				if !errors.As(err, &gerr) || gerr.Errors[0].Message != "cannot upsert "+fmt.Sprint(i) || gerr.Errors[0].Path.String() != "upsertItem" {
					errs <- fmt.Errorf("caller %d: err %v", i, err)
				}
			case err != nil:
				errs <- fmt.Errorf("caller %d: %w", i, err)
			case out.UpsertItem == nil || out.UpsertItem.ID != fmt.Sprint(i) || out.UpsertItem.Name != name || len(out.UpsertItem.Tags) != 1 || out.UpsertItem.Tags[0] != name:
				errs <- fmt.Errorf("caller %d got %+v", i, out.UpsertItem)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := b.Stats()
	if st.Operations != n || st.Requests > n || f.requests.Load() != st.Requests {
		t.Errorf("stats = %+v, server saw %d", st, f.requests.Load())
	}
	t.Logf("%d callers in %d requests", n, st.Requests)
}

// TestBatchNullData: a non-null root field that fails nulls the whole merged
// data. Its owner gets its error; a query that lost its data is re-sent
// alone; a plain mutation that lost its data reports ErrMaybeApplied (it
// did run).
func TestBatchNullData(t *testing.T) {
	tests := []struct {
		name      string
		failing   string
		victim    string
		wantMaybe bool
	}{
		{"query re-sent", `query { boom }`, `query { count }`, false},
		{"create maybe applied", `mutation { strictCreate(name: "x") { id } }`, `mutation { createItem(name: "y") { id } }`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStage(t)
			s := f.stage(WithMaxConcurrency(1))
			b := NewBatcher(s.Client())
			mk := func(q string) *call {
				return &call{ctx: context.Background(), req: &graphql.Request{Query: q}, resp: &graphql.Response{Data: &map[string]any{}}}
			}
			failing, victim := mk(tt.failing), mk(tt.victim)
			runHeld(t, f, b, upsertCall("first", "first"), []*call{failing, victim})
			var gerr *GraphQLError
			if !errors.As(failing.err, &gerr) || len(gerr.Errors[0].Path) != 1 || errors.Is(failing.err, ErrMaybeApplied) {
				t.Errorf("failing caller err = %v", failing.err)
			}
			if got := errors.Is(victim.err, ErrMaybeApplied); got != tt.wantMaybe {
				t.Errorf("victim err = %v, want ErrMaybeApplied %v", victim.err, tt.wantMaybe)
			}
			if !tt.wantMaybe && victim.err != nil {
				t.Errorf("victim err = %v", victim.err)
			}
		})
	}
}

// TestRender prints documents back with every introduced name prefixed.
func TestRender(t *testing.T) {
	tests := []struct {
		name, query string
		want        pieces
	}{
		{
			"values",
			`mutation M($w: HotelWhereUniqueInput!, $n: [Int!] = [1, 2]) {
				upsertHotel(where: $w, upsert: {create: {name: "a\nb", rating: 4.5, tags: [$n, null], kind: LUXURY, open: true}, update: {}}) { id }
			}`,
			pieces{
				varDefs: `$p_w:HotelWhereUniqueInput!,$p_n:[Int!]=[1,2]`,
				fields:  `p_upsertHotel:upsertHotel(where:$p_w,upsert:{create:{name:"a\nb",rating:4.5,tags:[$p_n,null],kind:LUXURY,open:true},update:{}}){id}`,
			},
		},
		{
			"block string and fragments",
			`query ($d: Boolean!) {
				h: hotel(id: """ line "one" """) @include(if: $d) { ... on Hotel { name } ...F }
			}
			fragment F on Hotel @foo { id reviews(first: 2) { ...G } }
			fragment G on Review { stars }`,
			pieces{
				varDefs: `$p_d:Boolean!`,
				fields:  `p_h:hotel(id:" line \"one\" ")@include(if:$p_d){...on Hotel{name} ...p_F}`,
				frags:   `fragment p_F on Hotel@foo{id reviews(first:2){...p_G}} fragment p_G on Review{stars}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := parseDoc(tt.query, "")
			if d == nil {
				t.Fatal("not batchable")
			}
			got := render(d, nil, "p_")
			if got != tt.want {
				t.Errorf("render =\n%+v\nwant\n%+v", got, tt.want)
			}
			// The merged form parses.
			it := &item{doc: d, kind: batchKind{op: d.op.Operation}, prefix: "p_", pieces: got}
			if _, err := parser.ParseQuery(&ast.Source{Input: merge([]*item{it, it}).Query}); err != nil {
				t.Errorf("merged document does not parse: %v", err)
			}
		})
	}
}

// createData is the answer of createMutation.
type createData struct {
	CreateItem *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"createItem"`
}

const createMutation = `mutation Create($name: String!) { createItem(name: $name) { id name } }`

// createCall is a plain (not idempotent) create of an item named name.
func createCall(name string) *call {
	return &call{
		ctx:  context.Background(),
		req:  &graphql.Request{Query: createMutation, Variables: map[string]any{"name": name}, OpName: "Create"},
		resp: &graphql.Response{Data: &createData{}},
	}
}

// applyThenDrop runs the request of the n-th arrival (whose body the fake
// stage kept) and then drops the connection without an answer: the stage
// acted on it and the client cannot know.
func (f *fakeStage) applyThenDrop(t *testing.T, w http.ResponseWriter, r *http.Request, n int64) {
	t.Helper()
	body := f.snapshotBodies()[n-1]
	r.Body = io.NopCloser(strings.NewReader(body))
	f.handler.ServeHTTP(httptest.NewRecorder(), r)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	conn.Close()
}

// countCalls counts the resolver calls starting with prefix.
func countCalls(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// TestBatchCreatesDroppedAfterApply: a merged request of plain creates that
// the stage applied but whose connection dropped before the answer fails
// every caller with ErrMaybeApplied, and none of the creates is sent again.
func TestBatchCreatesDroppedAfterApply(t *testing.T) {
	f := newFakeStage(t)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if n != 2 {
			return false
		}
		f.applyThenDrop(t, w, r, n)
		return true
	}
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())
	var rest []*call
	for i := range 4 {
		rest = append(rest, createCall(fmt.Sprintf("book %d", i)))
	}
	runHeld(t, f, b, upsertCall("first", "first"), rest)
	for _, c := range rest {
		if !errors.Is(c.err, ErrMaybeApplied) {
			t.Errorf("%v: err = %v, want ErrMaybeApplied", c.req.Variables, c.err)
		}
		if d := c.resp.Data.(*createData); d.CreateItem != nil {
			t.Errorf("%v: got data %+v from a dropped answer", c.req.Variables, d.CreateItem)
		}
	}
	if got := countCalls(f.snapshotCalls(), "createItem:"); got != 4 {
		t.Errorf("the stage ran %d creates, want 4 (each once, none re-sent)", got)
	}
	if got := f.requests.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
	if st := b.Stats(); st.Isolated != 0 {
		t.Errorf("stats = %+v: maybe-applied creates were re-sent", st)
	}
}

// TestBatchIdempotentRetriedAfterFault: a merged request of idempotent
// writes that fails with a 5xx, or whose connection drops after the stage
// applied it, is retried as it is, and each caller gets its own answer from
// the retry.
func TestBatchIdempotentRetriedAfterFault(t *testing.T) {
	for _, mode := range []string{"503", "drop after apply"} {
		t.Run(mode, func(t *testing.T) {
			f := newFakeStage(t)
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int64) bool {
				if n != 2 {
					return false
				}
				if mode == "503" {
					w.WriteHeader(http.StatusServiceUnavailable)
					io.WriteString(w, `{"errors":[{"message":"unavailable"}],"data":null}`)
				} else {
					f.applyThenDrop(t, w, r, n)
				}
				return true
			}
			s := f.stage(WithMaxConcurrency(1))
			b := NewBatcher(s.Client())
			var rest []*call
			for i := range 6 {
				rest = append(rest, upsertCall(fmt.Sprintf("id%d", i), fmt.Sprintf("name %d", i)))
			}
			runHeld(t, f, b, upsertCall("first", "first"), rest)
			for _, c := range rest {
				vars := c.req.Variables.(map[string]any)
				if c.err != nil {
					t.Errorf("%v: %v", vars, c.err)
					continue
				}
				if got := c.data.UpsertItem; got == nil || got.ID != vars["id"] || got.Name != vars["name"] {
					t.Errorf("caller %v got %+v", vars, got)
				}
			}
			if got := f.requests.Load(); got != 3 {
				t.Errorf("server saw %d requests, want 3 (first, the failed batch, its retry)", got)
			}
		})
	}
}

// TestBatchRequeuedCreatesGetTheirOwnIDs: plain creates sent back to the
// queue after a 413 (nothing ran) are merged again, with other requests,
// under new aliases: no alias of the refused attempt survives to clash with
// the new ones, each caller gets the entry created from its own variables,
// and each create runs once.
func TestBatchRequeuedCreatesGetTheirOwnIDs(t *testing.T) {
	f := newFakeStage(t)
	f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n != 2 {
			return false
		}
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return true
	}
	big := createCall("big " + strings.Repeat("x", 2000))
	rest := []*call{big}
	for i := range 5 {
		rest = append(rest, createCall(fmt.Sprintf("s%d", i)))
	}
	// The budget takes big and two small creates (three at most); once
	// halved by the 413, big alone: the refused batch [big s0 s1] comes back
	// as [big], then [s0 s1 s2] (s0 and s1 were r1_ and r2_, s2 is new),
	// then [s3 s4].
	piece := func(c *call, prefix string) int {
		doc := parseDoc(c.req.Query, c.req.OpName)
		vars, err := declaredVars(c.req.Variables, doc.op)
		if err != nil {
			t.Fatal(err)
		}
		return render(doc, vars, prefix).size(prefix == "r0_")
	}
	envelope := len(bodyHead) + len(ast.Mutation) + 2 + len(bodyMid) + len(bodyTail)
	halved := envelope + piece(big, "r0_") + piece(rest[1], "r1_") - 1
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client(), WithMaxBytes(2*halved), WithMaxOps(3))
	runHeldInOrder(t, f, b, upsertCall("first", "first"), rest)

	ids := map[string]bool{}
	for _, c := range rest {
		name := c.req.Variables.(map[string]any)["name"]
		got := c.resp.Data.(*createData).CreateItem
		switch {
		case c.err != nil:
			t.Errorf("%.10v: %v", name, c.err)
		case got == nil || got.Name != name || got.ID == "" || ids[got.ID]:
			t.Errorf("caller %.10v got %+.20v", name, got)
		default:
			ids[got.ID] = true
		}
	}
	if got := countCalls(f.snapshotCalls(), "createItem:"); got != len(rest) {
		t.Errorf("the stage ran %d creates, want %d", got, len(rest))
	}
	if got := b.maxBytes[1].Load(); got != int64(halved) {
		t.Errorf("budget = %d, want %d (halved once)", got, halved)
	}
	// first, the refused batch, [big], [s0 s1 s2], [s3 s4]; nothing isolated.
	if st := b.Stats(); f.requests.Load() != 5 || st.Requests != 5 || st.Isolated != 0 {
		t.Errorf("server saw %d requests, stats %+v; want 5 requests, none isolated", f.requests.Load(), st)
	}
}

// TestBatchRequestErrorHalves: one invalid request among 32 merged ones
// fails the whole document; the batch is re-sent in halves, and the
// failing half in halves again, so the invalid one is found in a few
// requests instead of one request per caller, and every valid one runs
// once.
func TestBatchRequestErrorHalves(t *testing.T) {
	f := newFakeStage(t)
	f.intercept = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !bytes.Contains(body, []byte("nope")) {
			return false
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"errors":[{"message":"Cannot query field \"nope\" on type \"Item\"."}],"data":null}`)
		return true
	}
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())
	first := upsertCall("first", "first")
	var rest []*call
	for i := range 32 {
		c := upsertCall(fmt.Sprint("g", i), "good")
		if i == 21 {
			c.req.Query = `mutation Upsert($id: ID!, $name: String!) { upsertItem(id: $id, name: $name) { id nope } }`
		}
		rest = append(rest, c)
	}
	runHeldInOrder(t, f, b, first, rest)
	for i, c := range rest {
		if i == 21 {
			if !strings.Contains(fmt.Sprint(c.err), `"nope"`) {
				t.Errorf("invalid caller err = %v", c.err)
			}
			continue
		}
		if c.err != nil || c.data.UpsertItem == nil {
			t.Errorf("caller %d: %v", i, c.err)
		}
	}
	// first; 32; 16+16; 8+8; 4+4; then the failing 4 alone: 1+1+2+2+2+4.
	if got := f.requests.Load(); got != 12 {
		t.Errorf("server saw %d requests, want 12 (one per caller would be %d)", got, 2+32)
	}
	if calls := f.snapshotCalls(); len(calls) != 32 {
		t.Errorf("%d upserts ran, want the 31 valid ones and first once each", len(calls))
	}
}

// TestBatchMergedNotParsedByStage: the Stage counts the operations of a
// Batcher's merged request from the Batcher, and does not parse (nor
// cache) the merged document again. Each batch size makes a new merged
// document; before, every one of them was parsed and kept in the document
// cache (up to 1,024 parsed documents), which raised the peak RSS of a
// large sync by 15 to 30 MB.
func TestBatchMergedNotParsedByStage(t *testing.T) {
	f := newFakeStage(t)
	s := f.stage(WithMaxConcurrency(1))
	b := NewBatcher(s.Client())
	before := docCacheSize.Load()
	for n := 2; n <= 12; n++ {
		first := upsertCall("first", "first")
		var rest []*call
		for i := range n {
			rest = append(rest, upsertCall(fmt.Sprintf("id%02d", i), "x"))
		}
		runHeld(t, f, b, first, rest)
		for _, c := range append(rest, first) {
			if c.err != nil {
				t.Fatal(c.err)
			}
		}
	}
	if st := b.Stats(); st.Requests != 22 {
		t.Fatalf("%d requests, want 22 (11 held calls and 11 merged batches)", st.Requests)
	}
	// The upsert's own document may be cached; no merged one is.
	if grew := docCacheSize.Load() - before; grew > 1 {
		t.Errorf("the document cache grew by %d documents for 11 merged requests, want at most 1", grew)
	}
}
