package hygraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestAIMDSlowStartAndQuiet: on virtual time, a plan that is not known
// doubles its rate until the first 429, then steps, and only once Quiet has
// passed since the last 429.
func TestAIMDSlowStartAndQuiet(t *testing.T) {
	auto, err := LookupPlanLimits("")
	if err != nil {
		t.Fatal(err)
	}
	a := newAIMD(auto.rateLimit())
	t0 := time.Unix(1000, 0)
	ok := func(n int, at time.Time) {
		for range n {
			a.successAt(at)
		}
	}
	steps := []struct {
		name string
		do   func()
		want float64
	}{
		{"start as on hobby", func() {}, 5},
		{"9 successes: not yet", func() { ok(9, t0) }, 5},
		{"10th: double", func() { ok(1, t0) }, 10},
		{"double again", func() { ok(10, t0) }, 20},
		{"and again", func() { ok(10, t0) }, 40},
		{"429: × 0.7, slow start over", func() { a.throttledAt(a.epoch, t0) }, 28},
		{"a stale 429 changes nothing", func() { a.throttledAt(a.epoch-1, t0) }, 28},
		{"successes within the quiet period: no increase", func() { ok(30, t0.Add(time.Second)) }, 28},
		{"once quiet: one step", func() { ok(1, t0.Add(3*time.Second)) }, 29},
		{"steps, not doublings", func() { ok(10, t0.Add(4*time.Second)) }, 30},
	}
	for _, s := range steps {
		s.do()
		if math.Abs(a.rate-s.want) > 1e-9 {
			t.Fatalf("%s: rate %v, want %v", s.name, a.rate, s.want)
		}
	}
	// The ceiling holds.
	for i := range 10_000 {
		a.successAt(t0.Add(time.Duration(10+i) * time.Second))
	}
	if a.rate != auto.MaxRate {
		t.Errorf("after many quiet successes: rate %v, want the ceiling %v", a.rate, auto.MaxRate)
	}
}

func TestLookupPlanLimits(t *testing.T) {
	for _, tc := range []struct {
		name               string
		rate               float64
		queries, mutations int
		mutationBytes      int
	}{
		{"hobby", 5, 10, 5, 30_000},
		{"Growth", 25, 30, 10, 70_000},
		{"enterprise", 100, 60, 20, 80_000},
		{"", 5, 10, 5, 30_000},
	} {
		p, err := LookupPlanLimits(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Rate != tc.rate || p.Queries != tc.queries || p.Mutations != tc.mutations || p.MutationBytes != tc.mutationBytes {
			t.Errorf("%q: %+v", tc.name, p)
		}
	}
	if _, err := LookupPlanLimits("scale"); err == nil {
		t.Error("unknown plan: no error")
	}
}

// TestOpLimits: operations in flight stay under the limit of their kind;
// a request larger than the limit goes alone; a 429 to a saturated request
// lowers the limit once per epoch; saturated successes raise it once
// quiet.
func TestOpLimits(t *testing.T) {
	cfg := [2]RateLimit{opLimit(10, 15, false), opLimit(5, 8, false)}
	o := newOpLimits(true, cfg)
	t0 := time.Unix(1000, 0)
	now := t0
	o.now = func() time.Time { return now }
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	g, err := o.acquire(ctx, 1, 1, math.MaxInt)
	if err != nil || g.n != 5 || !g.saturated {
		t.Fatalf("every free mutation: %+v, %v; want 5, saturated", g, err)
	}
	if _, err := o.acquire(cancelled, 1, 1, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("a sixth mutation: %v, want it to wait (and give up with the context)", err)
	}
	if q, err := o.acquire(ctx, 0, 3, 3); err != nil || q.n != 3 || q.saturated {
		t.Fatalf("queries count apart: %+v, %v", q, err)
	}
	o.release(1, 3)
	if g2, err := o.acquire(ctx, 1, 2, 2); err != nil || g2.n != 2 {
		t.Fatalf("after 3 released, 2 more: %+v, %v", g2, err)
	} else {
		o.release(1, 2)
	}
	o.release(1, 2)
	if big, err := o.acquire(ctx, 1, 7, 7); err != nil || big.n != 7 {
		t.Fatalf("7 mutations with none in flight go alone: %+v, %v", big, err)
	} else {
		o.release(1, 7)
	}

	// A 429 to a request that was alone in flight with 5: no request may
	// hold 5; the limit on operations in flight stays.
	o.observe(g, true)
	if got := o.limit(1); got != 5 {
		t.Fatalf("after a 429 to a lone request: limit %v, want 5", got)
	}
	if g, _ = o.acquire(ctx, 1, 1, math.MaxInt); g.n != 4 {
		t.Fatalf("after a 429 to a lone request of 5: granted %d, want 4", g.n)
	}
	o.release(1, g.n)
	// A 429 to a saturated request among others: 5 × 0.7 = 3.5, so 3 in
	// flight.
	g.others = 1
	o.observe(g, true)
	o.observe(g, true) // same epoch: once
	if got := o.limit(1); got != 3.5 {
		t.Fatalf("after a volley of 429s: limit %v, want 3.5", got)
	}
	g, _ = o.acquire(ctx, 1, 1, math.MaxInt)
	if g.n != 3 {
		t.Errorf("after the decrease: granted %d, want 3", g.n)
	}
	o.release(1, g.n)
	// Unsaturated successes never raise it; saturated ones do, once quiet.
	for range 50 {
		o.observe(opGrant{kind: 1, n: 1, epoch: g.epoch}, false)
	}
	if got := o.limit(1); got != 3.5 {
		t.Errorf("after unsaturated successes: limit %v, want 3.5", got)
	}
	for range 10 {
		o.observe(g, false)
	}
	if got := o.limit(1); got != 3.5 {
		t.Errorf("saturated successes within the quiet period: limit %v, want 3.5", got)
	}
	now = t0.Add(planQuiet)
	o.observe(g, false)
	if got := o.limit(1); got != 4.5 {
		t.Errorf("once quiet: limit %v, want 4.5", got)
	}
}

func TestBlame(t *testing.T) {
	for _, tc := range []struct {
		rateLimited, saturated bool
		rate, ops              bool
	}{
		{true, false, true, false},
		{false, true, false, true},
		{true, true, true, true},
		{false, false, true, true},
	} {
		if r, o := blame(tc.rateLimited, tc.saturated); r != tc.rate || o != tc.ops {
			t.Errorf("blame(%v, %v) = %v, %v; want %v, %v", tc.rateLimited, tc.saturated, r, o, tc.rate, tc.ops)
		}
	}
}

// TestBatchMutationOperationLimit: over a stage with a plan's operation
// limits (hobby: 5 mutations in flight), the Batcher never merges more
// mutations into one request than the limit, however many wait.
func TestBatchMutationOperationLimit(t *testing.T) {
	hobby, err := LookupPlanLimits("hobby")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeStage(t)
	s := f.stage(WithPlanLimits(hobby), WithRateLimit(RateLimit{Initial: math.Inf(1)}), WithMaxConcurrency(1))
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
	}
	total := 0
	for i, body := range f.snapshotBodies() {
		var req struct{ Query string }
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatal(err)
		}
		doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
		if err != nil {
			t.Fatal(err)
		}
		n := len(doc.Operations[0].SelectionSet)
		if n > hobby.Mutations {
			t.Errorf("request %d holds %d mutations, over the limit of %d", i, n, hobby.Mutations)
		}
		total += n
	}
	if total != 31 {
		t.Errorf("%d mutations sent, want 31", total)
	}
	if got := f.requests.Load(); got != 7 {
		t.Errorf("server saw %d requests, want 7 (one alone, then 6 of at most 5)", got)
	}
}

// TestStageObserveBlames: a 429 to a request held back by its operations
// lowers the operation limit and leaves the rate; one held back by the
// rate lowers the rate and leaves the operations; a Retry-After pauses the
// stage either way.
func TestStageObserveBlames(t *testing.T) {
	growth, err := LookupPlanLimits("growth")
	if err != nil {
		t.Fatal(err)
	}
	s := NewStage("dev", "http://127.0.0.1:1/", "", WithPlanLimits(growth))
	t0 := time.Unix(1000, 0)
	s.limiter.now = func() time.Time { return t0 }
	s.ops.now = s.limiter.now

	saturated := opGrant{kind: 1, n: 4, others: 6, saturated: true}
	s.observe(0, false, saturated, true, 3*time.Second)
	if st := s.Stats(); st.Rate != 25 || st.MutationOps != 7 {
		t.Errorf("429 to a saturated request: rate %v, mutations %v; want 25 and 7", st.Rate, st.MutationOps)
	}
	if want := t0.Add(3 * time.Second); !s.limiter.pause.Equal(want) {
		t.Errorf("Retry-After: pause until %v, want %v", s.limiter.pause, want)
	}
	for range 3 {
		s.limiter.sent() // more than ever went without a 429: the rate may be the cause
	}
	s.observe(0, true, opGrant{kind: 1, n: 2, epoch: 1, others: 3}, true, 0)
	if st := s.Stats(); st.Rate != 17.5 || st.MutationOps != 7 {
		t.Errorf("429 to a rate-limited request: rate %v, mutations %v; want 17.5 and 7", st.Rate, st.MutationOps)
	}
}

// TestStageObserveInnocentOps: on the CLI's default plan (Hobby's limits
// to start from: 5 mutations in flight), a 429 to a request that holds
// the last free mutation operations but, with every request sent and not
// yet answered, no more than 5, and no more than a request that passed
// before, cannot have been the operations': it lowers the rate (a full
// decrease) and leaves the operation limit. On a Hobby stage such 429s
// were the rate's and, put down to the operations, cut them again and
// again (to 3 and less) while the rate stayed above the stage's.
func TestStageObserveInnocentOps(t *testing.T) {
	auto, err := LookupPlanLimits("auto")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeStage(t)
	f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n != 2 {
			return false
		}
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errors":[{"message":"Too many requests"}],"data":null}`)
		return true
	}
	s := f.stage(WithPlanLimits(auto), WithRetryMax(0))
	now := time.Unix(1000, 0)
	s.limiter.now = func() time.Time { return now } // a token is always there
	s.ops.now = s.limiter.now
	var q strings.Builder
	q.WriteString("mutation {")
	for i := range 5 {
		fmt.Fprintf(&q, " u%d: upsertItem(id: \"id%d\", name: \"n\") { id }", i, i)
	}
	q.WriteString(" }")
	if err := s.Do(context.Background(), q.String(), nil, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	var rl *RateLimitError
	if err := s.Do(context.Background(), q.String(), nil, nil); !errors.As(err, &rl) {
		t.Fatalf("second request: %v, want a 429", err)
	}
	if st := s.Stats(); st.Rate != 3.5 || st.MutationOps != 5 {
		t.Errorf("after the 429: rate %v, mutation operations %v; want 3.5 and 5", st.Rate, st.MutationOps)
	}
}

// TestBatchBudgetRecovers: a 413 halves the byte budget and caps its
// recovery at 3/4 of the budget that was too large; requests answered
// without a 413 grow it back there.
func TestBatchBudgetRecovers(t *testing.T) {
	b := NewBatcher(NewStage("dev", "http://127.0.0.1:1/", "").Client(), WithMaxBytes(8000))
	const k = 1 // mutations
	if !b.tooLarge(k) {
		t.Fatal("tooLarge at 8000: false")
	}
	if got := b.maxBytes[k].Load(); got != 4000 {
		t.Fatalf("after a 413: budget %d, want 4000", got)
	}
	for _, want := range []int64{5000, 6000, 6000} {
		for range budgetRecovery {
			b.fitted(k)
		}
		if got := b.maxBytes[k].Load(); got != want {
			t.Fatalf("budget %d, want %d", got, want)
		}
	}
}

// TestBatchRequeuedAfter429: a merged request answered 429 is not re-sent
// as it was (it could never pass when it alone holds more operations than
// the stage takes at once): its callers are merged again under the
// lowered limits, and none of them fails.
func TestBatchRequeuedAfter429(t *testing.T) {
	hobby, err := LookupPlanLimits("hobby")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeStage(t)
	// The stage takes at most 3 mutations per request; the plan says 5.
	f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		body := f.snapshotBodies()[n-1]
		if strings.Count(body, "upsertItem(") > 3 {
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errors":[{"message":"Too many requests"}],"data":null}`)
			return true
		}
		return false
	}
	s := f.stage(WithPlanLimits(hobby), WithRateLimit(RateLimit{Initial: math.Inf(1)}), WithMaxConcurrency(1))
	b := NewBatcher(s.Client())
	first := upsertCall("id00", "first")
	var rest []*call
	for i := 1; i <= 12; i++ {
		rest = append(rest, upsertCall(fmt.Sprintf("id%02d", i), fmt.Sprintf("name %d", i)))
	}
	runHeld(t, f, b, first, rest)
	for _, c := range append([]*call{first}, rest...) {
		if c.err != nil {
			t.Fatalf("%v: %v", c.req.Variables, c.err)
		}
	}
	if got := len(f.snapshotCalls()); got != 13 {
		t.Errorf("the stage ran %d upserts, want 13", got)
	}
	// Merged requests of 5 (the plan's limit), then 4: each alone in
	// flight, each teaching the scheduler one less; then 3s pass.
	if st := s.Stats(); st.Throttled != 2 {
		t.Errorf("%d answers 429, want 2", st.Throttled)
	}
}

// TestSendRateSuspect: a 429 is put down to the rate only while more
// requests are sent per second than went without one for ten seconds in a
// row.
func TestSendRateSuspect(t *testing.T) {
	var r sendRate
	t0 := time.Unix(1000, 0)
	at := t0
	window := func(n int) {
		for i := range n {
			r.sent(at.Add(time.Duration(i) * time.Millisecond))
		}
		at = at.Add(time.Second)
	}
	window(12) // one window of 12 proves nothing
	if !r.suspect(at.Add(-500 * time.Millisecond)) {
		t.Error("429 after one window of 12: rate not suspected")
	}
	for range okWindows {
		window(10)
	}
	window(9)
	if r.suspect(at.Add(-500 * time.Millisecond)) {
		t.Error("429 while sending 9/s, after ten windows of 10 without one: suspected the rate")
	}
	window(11)
	if !r.suspect(at.Add(-500 * time.Millisecond)) {
		t.Error("429 while sending 11/s, more than known to pass: rate not suspected")
	}
}

// TestSendRateWholeSeconds: windows follow one another a second apart,
// not from the request that happens to come first after the last one
// ended: at 5.3 req/s, evenly spaced, the rate known to pass is 5 (every
// window started by a request held 6), and a 429 while a second of 6 was
// sent is put down to the rate.
func TestSendRateWholeSeconds(t *testing.T) {
	var r sendRate
	t0 := time.Unix(1000, 0)
	gap := time.Second * 10 / 53
	at := t0
	for at.Before(t0.Add(20 * time.Second)) {
		r.sent(at)
		at = at.Add(gap)
	}
	if r.ok != 5 {
		t.Errorf("after 20 s at 5.3 req/s: known to pass %d, want 5", r.ok)
	}
	for r.last != 6 {
		r.sent(at)
		at = at.Add(gap)
	}
	if !r.suspect(at) {
		t.Error("429 after a second of 6: rate not suspected")
	}
}

// TestOpLimitsPerBatch: the operations a merged request holds follow
// Little's law, (rate·duration + 1)·n ≤ the limit, from the measured
// request duration; before any answer, or without a rate limit, they are
// the limit (and never more than one request may hold).
func TestOpLimitsPerBatch(t *testing.T) {
	o := newOpLimits(true, [2]RateLimit{opLimit(30, 45, false), opLimit(15, 15, false)})
	if got := o.perBatch(1, 25); got != 15 {
		t.Errorf("before any answer: %d, want the limit 15", got)
	}
	o.took(1, 4, 130*time.Millisecond)
	// 25 req/s × 0.13 s = 3.25 requests in flight, plus one waiting:
	// 15 / 4.25 = 3.5.
	if got := o.perBatch(1, 25); got != 3 {
		t.Errorf("at 25 req/s, 130 ms: %d, want 3", got)
	}
	if got := o.perBatch(1, 5); got != 9 {
		t.Errorf("at 5 req/s, 130 ms: %d, want 9 (15 / 1.65)", got)
	}
	if got := o.perBatch(1, math.Inf(1)); got != 15 {
		t.Errorf("rate not limited: %d, want the limit 15", got)
	}
	if got := o.perBatch(1, 1000); got != 1 {
		t.Errorf("at 1000 req/s: %d, want at least 1", got)
	}
	// The mean moves a fifth of the way to each new answer.
	o.took(1, 4, 230*time.Millisecond)
	if got := o.dur[1]; math.Abs(got-0.15) > 1e-9 {
		t.Errorf("mean duration %v, want 0.15", got)
	}
	// Queries have their own.
	if got := o.perBatch(0, 25); got != 30 {
		t.Errorf("queries: %d, want their limit 30", got)
	}
	o.perRequest[1] = 2
	if got := o.perBatch(1, 5); got != 2 {
		t.Errorf("one request may hold 2: %d", got)
	}
	if off := newOpLimits(false, [2]RateLimit{}); off.perBatch(1, 25) != math.MaxInt {
		t.Error("without a plan: a target")
	}
}

// TestOpLimitsWaitForWhole: a batch waits until the operations it wants
// are free rather than taking the few that are (a request, and a rate
// token, spent on a sliver); what one request may hold is read when the
// operations are granted, not when they were asked for.
func TestOpLimitsWaitForWhole(t *testing.T) {
	o := newOpLimits(true, [2]RateLimit{opLimit(30, 45, false), opLimit(10, 15, false)})
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	g, err := o.acquire(ctx, 1, 8, 8)
	if err != nil || g.n != 8 {
		t.Fatalf("8 of 10: %+v, %v", g, err)
	}
	if got, err := o.acquire(cancelled, 1, 1, 4); err == nil {
		t.Fatalf("want 4 with 2 free: granted %d at once; want it to wait", got.n)
	}
	o.release(1, 6)
	if got, err := o.acquire(cancelled, 1, 1, 4); err != nil || got.n != 4 {
		t.Fatalf("want 4 with 8 free: %+v, %v", got, err)
	} else {
		o.release(1, got.n)
	}
	o.perRequest[1] = 3
	if got, err := o.acquire(ctx, 1, 1, 4); err != nil || got.n != 3 {
		t.Fatalf("want 4 when a request may hold 3: %+v, %v; want 3", got, err)
	}
}

// TestStageRateGrowsOnlyWhenUsed: successes of requests that waited for a
// token raise a plan's rate only while the stage sends at least 80% of it:
// held back by its operations, a stage that sends 10 req/s does not learn
// that 40 pass.
func TestStageRateGrowsOnlyWhenUsed(t *testing.T) {
	auto, err := LookupPlanLimits("auto")
	if err != nil {
		t.Fatal(err)
	}
	s := NewStage("dev", "http://127.0.0.1:1/", "", WithPlanLimits(auto))
	now := time.Unix(1000, 0)
	s.limiter.now = func() time.Time { return now }
	s.ops.now = s.limiter.now
	second := func(sends int) { // sends evenly spread over one second
		end := now.Add(time.Second)
		for range sends {
			s.limiter.sent()
			now = now.Add(time.Second / time.Duration(sends+1))
		}
		now = end
	}
	g := opGrant{kind: 1, n: 1}
	second(2)
	for range 30 {
		s.observe(0, true, g, false, 0)
	}
	if r := s.Stats().Rate; r != 5 {
		t.Fatalf("sending 2 of 5 req/s: rate %v after 30 successes, want 5", r)
	}
	second(4)
	for range 10 {
		s.observe(0, true, g, false, 0)
	}
	if r := s.Stats().Rate; r != 10 {
		t.Fatalf("sending 4 of 5 req/s: rate %v after 10 successes, want 10 (doubled)", r)
	}
	second(5)
	for range 10 {
		s.observe(0, true, g, false, 0)
	}
	if r := s.Stats().Rate; r != 10 {
		t.Fatalf("sending 5 of 10 req/s: rate %v, want 10", r)
	}
}

// TestAIMDSpacing: a plan's limits decrease at most once a second: the
// 429s one overload keeps drawing after the first decrease (to requests
// sent after it, so of the new epoch) do not cut again and again.
func TestAIMDSpacing(t *testing.T) {
	growth, err := LookupPlanLimits("growth")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  RateLimit
		want []float64
	}{
		{"rate", growth.rateLimit(), []float64{17.5, 17.5, 17.5, 12.25}},
		{"operations", opLimit(10, 15, false), []float64{7, 7, 7, 4.9}},
	} {
		a := newAIMD(tc.cfg)
		t0 := time.Unix(1000, 0)
		for i, at := range []time.Duration{0, 300 * time.Millisecond, 900 * time.Millisecond, 1100 * time.Millisecond} {
			a.throttledAt(a.epoch, t0.Add(at))
			if math.Abs(a.rate-tc.want[i]) > 1e-9 {
				t.Errorf("%s: 429 at +%v: %v, want %v", tc.name, at, a.rate, tc.want[i])
			}
		}
	}
}

// TestOpLimitsLoneThrottle: a 429 to a request alone in flight lowers what
// one request may hold only when no request that large passed before;
// otherwise it was the rate's (a stage at its rate answers 429 to a lone
// request too) and goes to the limit on operations in flight.
func TestOpLimitsLoneThrottle(t *testing.T) {
	o := newOpLimits(true, [2]RateLimit{opLimit(10, 15, false), opLimit(10, 15, false)})
	o.took(1, 5, 100*time.Millisecond) // a request of 5 passed
	o.throttle(opGrant{kind: 1, n: 5}, false)
	if o.perRequest[1] != 15 {
		t.Errorf("429 to a lone request of 5 after one of 5 passed: a request may hold %d, want 15", o.perRequest[1])
	}
	if got := o.limit(1); got != 7 {
		t.Errorf("and the limit: %v, want 7", got)
	}
	o.throttle(opGrant{kind: 1, n: 8, epoch: o.state[1].epoch}, false)
	if o.perRequest[1] != 7 {
		t.Errorf("429 to a lone request of 8, larger than any that passed: a request may hold %d, want 7", o.perRequest[1])
	}
}

// TestStageTargetThroughput: batches are sized for the most requests the
// stage was sent in a second of the last 30 when the rate is lower now: a
// cut of the rate after a 429 does not make requests hold more
// operations, but a second long past (a probe's overshoot at the start of
// a run) does not keep them smaller for good.
func TestStageTargetThroughput(t *testing.T) {
	growth, err := LookupPlanLimits("growth")
	if err != nil {
		t.Fatal(err)
	}
	s := NewStage("dev", "http://127.0.0.1:1/", "", WithPlanLimits(growth))
	now := time.Unix(1000, 0)
	s.limiter.now = func() time.Time { return now }
	s.ops.took(1, 4, 150*time.Millisecond)
	// 10 mutations in flight at 25 req/s and 0.15 s: 10 / 4.75.
	if got := s.target(ast.Mutation); got != 2 {
		t.Fatalf("at 25 req/s: %d, want 2", got)
	}
	for range 25 {
		s.limiter.sent()
		now = now.Add(time.Second / 25)
	}
	s.limiter.sent() // closes the window of 25
	s.limiter.throttle(0, 0, false)
	if r := s.limiter.rate(); r != 17.5 {
		t.Fatalf("rate %v after a 429, want 17.5", r)
	}
	now = now.Add(2 * time.Second)
	s.limiter.throttle(1, 0, false)
	// At 12.25 req/s the target would be 10 / 2.84 = 3.
	if r, got := s.limiter.rate(), s.target(ast.Mutation); r != 12.25 || got != 2 {
		t.Errorf("rate %v, target %d; want 12.25 and the target of 25 req/s, 2", r, got)
	}
	// The second of 25 is forgotten once 30 whole seconds came after it:
	// batches are sized for the 12 req/s sent since.
	for sec := range 31 {
		for range 12 {
			s.limiter.sent()
			now = now.Add(time.Second / 12)
		}
		if got := s.target(ast.Mutation); sec < 25 && got != 2 {
			t.Fatalf("%d s after the second of 25: target %d, want still 2", sec+1, got)
		}
	}
	if got := s.target(ast.Mutation); got != 3 {
		t.Errorf("31 s at 12 req/s: target %d, want 3 (10 / (12.25 × 0.15 + 1))", got)
	}
}

// TestAIMDPeakPatience: after a full decrease, the rate steps back by
// Step up to 90% of the rate before it (the peak), not past it; within
// 10% of the peak an increase takes four times the successes and is at
// most 5% of the rate; above that, steps are Step again. A gentle
// decrease (blamed on two limits at once) sets no peak.
func TestAIMDPeakPatience(t *testing.T) {
	cfg := RateLimit{Initial: 20, Max: 100, Min: 1, IncreaseAfter: 10, Step: 1, Decrease: 0.7, PeakPatience: 4}
	a := newAIMD(cfg)
	t0 := time.Unix(1000, 0)
	a.throttledBy(a.epoch, t0, true) // gentle: 17, no peak
	// increases returns the rates after each of the next n increases and
	// the successes each took.
	increases := func(n int) (rates []float64, took []int) {
		for range n {
			k := 1
			for !a.successAt(t0.Add(time.Minute)) {
				k++
			}
			rates, took = append(rates, a.rate), append(took, k)
		}
		return rates, took
	}
	check := func(name string, n int, wantRates []float64, wantTook []int) {
		t.Helper()
		rates, took := increases(n)
		for i := range rates {
			if math.Abs(rates[i]-wantRates[i]) > 1e-9 || took[i] != wantTook[i] {
				t.Errorf("%s: increases %v after %v successes; want %v after %v", name, rates, took, wantRates, wantTook)
				return
			}
		}
	}
	check("after a gentle decrease, 17 → 20", 3, []float64{18, 19, 20}, []int{10, 10, 10})
	a.throttledBy(a.epoch, t0, false) // 20 → 14, peak 20
	check("14 → 18: Step, the last one cut at 90% of 20", 4, []float64{15, 16, 17, 18}, []int{10, 10, 10, 10})
	check("within 10% of 20: 5% of the rate (at most Step), four times the successes", 5,
		[]float64{18.9, 19.845, 20.83725, 21.83725, 22.83725}, []int{40, 40, 40, 40, 40})
	check("above 20 / 0.9: Step again", 1, []float64{23.83725}, []int{10})
}

// TestAIMDPeakNotOvershot: on the CLI's default (auto) plan at a Hobby
// stage's rate, a rate cut at 5.5 req/s (to 3.85) climbs back with its
// step of 1 req/s to 4.95, 90% of 5.5, and from there by 5% at a time:
// not to 5.85 in two steps, past the stage's 5, which drew a 429 every
// few seconds.
func TestAIMDPeakNotOvershot(t *testing.T) {
	auto, err := LookupPlanLimits("auto")
	if err != nil {
		t.Fatal(err)
	}
	a := newAIMD(auto.rateLimit())
	t0 := time.Unix(1000, 0)
	a.throttledAt(a.epoch, t0) // slow start over: 3.5, peak 5
	a.rate = 5.5
	a.throttledAt(a.epoch, t0.Add(10*time.Second)) // peak 5.5
	if math.Abs(a.rate-3.85) > 1e-9 {
		t.Fatalf("after a 429 at 5.5: %v, want 3.85", a.rate)
	}
	later := t0.Add(time.Minute)
	for range 20 {
		a.successAt(later)
	}
	if math.Abs(a.rate-4.95) > 1e-9 {
		t.Errorf("after 20 successes: %v, want 4.95 (90%% of 5.5)", a.rate)
	}
	for range 40 {
		a.successAt(later)
	}
	if want := 4.95 * 1.05; math.Abs(a.rate-want) > 1e-9 {
		t.Errorf("after 40 more: %v, want %v", a.rate, want)
	}
}
