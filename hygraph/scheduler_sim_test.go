package hygraph

import (
	"container/heap"
	"context"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/time/rate"
)

// simStage is an emulated stage for scheduler simulations on virtual
// time: a token bucket of rate requests per second (burst, as the
// emulator's gate: the rate rounded up), a cap on mutation operations
// being served (each mutation of a request served one after another,
// leaving the count when done), a latency before the limits and a
// service time per operation — the emulator's gate, without faults.
type simStage struct {
	rate      float64
	mutations int
	latency   time.Duration
	service   time.Duration
	// batchers is how many Batchers send to the stage at once (at least 1).
	batchers int
}

// simResult is what a simulation counted at the stage.
type simResult struct {
	requests, throttled, ops int
	// secs is the virtual time simulated.
	secs float64
}

func (r simResult) throttledShare() float64 {
	return float64(r.throttled) / float64(max(1, r.requests))
}
func (r simResult) opsPerRequest() float64 {
	return float64(r.ops) / float64(max(1, r.requests-r.throttled))
}
func (r simResult) requestsPerSec() float64 { return float64(r.requests-r.throttled) / r.secs }

// simEvent is one thing that happens at a virtual time.
type simEvent struct {
	at  time.Time
	seq int
	do  func()
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simulate runs s against st for d of virtual time with an endless queue
// of mutations, sent as a Batcher sends them: one dispatcher acquires a
// slot, the stage's target of operations (s.target) and a rate token, in
// that order, then sends a request holding what it was granted. Nothing
// sleeps: the stage's clocks are replaced by the simulation's.
func simulate(s *Stage, st simStage, d time.Duration) simResult {
	now := time.Unix(1_000_000, 0)
	start := now
	clock := func() time.Time { return now }
	s.limiter.now, s.ops.now = clock, clock
	// The client's token bucket on virtual time, from the start.
	s.limiter.lim = rate.NewLimiter(rate.Limit(s.limiter.rate()), s.limiter.state.cfg.Burst)
	s.limiter.lim.SetLimitAt(now, rate.Limit(s.limiter.rate()))
	s.limiter.lim.ReserveN(now, 0)

	bucket := rate.NewLimiter(rate.Limit(st.rate), max(1, int(st.rate+0.999)))
	served := 0 // mutation operations the stage serves now
	var res simResult

	var q simQueue
	seq := 0
	at := func(t time.Time, do func()) {
		seq++
		heap.Push(&q, simEvent{at: t, seq: seq, do: do})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	slots := s.maxConc
	busy := 0 // dispatchers waiting for a token
	var dispatchOne func() bool
	var dispatch func()
	dispatch = func() {
		for busy < max(1, st.batchers) && slots > 0 && dispatchOne() {
		}
	}
	dispatchOne = func() bool {
		want := s.target(ast.Mutation)
		g, err := s.ops.acquire(cancelled, 1, 1, want)
		if err != nil {
			return false // no operations free: a release dispatches again
		}
		slots--
		busy++
		r := s.limiter.lim.ReserveN(now, 1)
		wait := r.DelayFrom(now)
		limited := wait > 0
		at(now.Add(wait), func() {
			busy--
			epoch := s.limiter.state.epoch
			s.limiter.sent()
			g := s.ops.sending(g)
			sentAt := now
			res.requests++
			n := g.n
			answer := func(throttled bool) {
				s.ops.answered(g)
				if !throttled {
					s.ops.took(1, n, now.Sub(sentAt))
				} else {
					res.throttled++
				}
				s.observe(epoch, limited, g, throttled, 0)
				s.ops.release(1, n)
				slots++
				dispatch()
			}
			at(now.Add(st.latency), func() {
				if !bucket.AllowN(now, 1) || served+n > st.mutations {
					answer(true)
					return
				}
				served += n
				res.ops += n
				for i := 1; i <= n; i++ {
					last := i == n
					at(now.Add(time.Duration(i)*st.service), func() {
						served--
						if last {
							answer(false)
						}
					})
				}
			})
			dispatch()
		})
		return true
	}
	dispatch()
	end := start.Add(d)
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		if e.at.After(end) {
			break
		}
		now = e.at
		e.do()
	}
	res.secs = d.Seconds()
	return res
}

// TestSchedulerSimulatedPlans: with the CLI's defaults (the auto plan,
// starting as on Hobby and probing upward), a stage's scheduler sends an
// endless queue of mutations to an emulated stage of each plan (its rate
// and cap on mutation operations, 50 ms latency, 20 ms per operation) for
// ten minutes of virtual time. 429s stay within 2% of the requests, and
// the requests answered 200 come at 97% of the stage's rate or more. (On
// Hobby, the rate used to climb from under the 5 req/s straight over it in
// steps of 1 req/s, and 4.5% of the requests were answered 429.)
func TestSchedulerSimulatedPlans(t *testing.T) {
	for _, tc := range []struct {
		plan      string
		rate      float64
		mutations int
	}{
		{"hobby", 5, 5},
		{"growth", 25, 10},
		{"enterprise", 100, 20},
	} {
		t.Run(tc.plan, func(t *testing.T) {
			auto, err := LookupPlanLimits("auto")
			if err != nil {
				t.Fatal(err)
			}
			s := NewStage("dev", "http://127.0.0.1:1/", "", WithPlanLimits(auto))
			r := simulate(s, simStage{rate: tc.rate, mutations: tc.mutations, latency: 50 * time.Millisecond, service: 20 * time.Millisecond}, 10*time.Minute)
			t.Logf("%d requests, %d answered 429 (%.2f%%), %.2f answered 200 a second, %.2f operations each",
				r.requests, r.throttled, 100*r.throttledShare(), r.requestsPerSec(), r.opsPerRequest())
			if r.throttledShare() > 0.02 {
				t.Errorf("%d of %d requests answered 429 (%.2f%%), want at most 2%%", r.throttled, r.requests, 100*r.throttledShare())
			}
			if got := r.requestsPerSec(); got < 0.97*tc.rate {
				t.Errorf("%.2f requests answered 200 a second, want at least 97%% of the stage's %v", got, tc.rate)
			}
		})
	}
}
