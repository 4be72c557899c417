package hygraph

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// PlanLimits is the starting point and the ceilings of a Stage's scheduler: the
// request rate, the operations in flight at once (Hygraph counts every root
// field of every request being served, so a batch of N mutations is N
// operations) and the request body caps of batches. The scheduler starts
// from the plan's figures and learns from 429 answers (see Stage); it never
// goes above the ceilings.
type PlanLimits struct {
	// Name names the plan in messages.
	Name string
	// Rate is the starting request rate (requests per second); MaxRate its
	// ceiling.
	Rate, MaxRate float64
	// Queries and Mutations are the query and mutation operations in flight
	// to start from; MaxQueries and MaxMutations their ceilings.
	Queries, Mutations, MaxQueries, MaxMutations int
	// QueryBytes and MutationBytes are the request body budgets of merged
	// requests (see Batcher).
	QueryBytes, MutationBytes int
	// Probe lets the rate double, rather than step, until the first 429:
	// for a plan that is not known, starting low.
	Probe bool
}

// planQuiet is how long a scheduler waits after a 429 before it probes
// upward again.
const planQuiet = 2 * time.Second

// planPeakPatience slows a plan's rate increases near the rate of the
// last decrease (see RateLimit.PeakPatience): on a Hobby plan a step of 1
// req/s is a fifth of the rate, and the stage's 429s would come back
// after every two steps.
const planPeakPatience = 4

// planSpacing is the least time between two decreases of a scheduler's
// limits: Hygraph counts requests per second, so the 429s of one overload
// keep coming for about that long after the client slowed down.
const planSpacing = time.Second

// planPresets are the presets of LookupPlanLimits, from Hygraph's "API limits" page:
// requests per second, concurrent query/mutation operations and body caps
// for queries and mutations (10/30, 15/70, 20/80 KB), less a margin for
// the envelope. Enterprise rates are custom (up to 500 req/s): the preset
// starts at 100 and may grow to 500. The operation ceilings are 1.5 times
// the plan's: a client counts an operation from sending to answer, network
// time included, so it can hold more in flight than the stage counts.
var planPresets = map[string]PlanLimits{
	"hobby":      {Name: "hobby", Rate: 5, MaxRate: 5, Queries: 10, Mutations: 5, MaxQueries: 15, MaxMutations: 8, QueryBytes: 10_000, MutationBytes: 30_000},
	"growth":     {Name: "growth", Rate: 25, MaxRate: 25, Queries: 30, Mutations: 10, MaxQueries: 45, MaxMutations: 15, QueryBytes: 15_000, MutationBytes: 70_000},
	"enterprise": {Name: "enterprise", Rate: 100, MaxRate: 500, Queries: 60, Mutations: 20, MaxQueries: 90, MaxMutations: 30, QueryBytes: 20_000, MutationBytes: 80_000},
	// auto: the plan is not known. Start as on hobby, the smallest, and
	// probe up to enterprise's figures; the body budgets stay hobby's.
	"auto": {Name: "auto", Rate: 5, MaxRate: 500, Queries: 10, Mutations: 5, MaxQueries: 90, MaxMutations: 30, QueryBytes: 10_000, MutationBytes: 30_000, Probe: true},
}

// PlanNames are the names LookupPlanLimits knows.
var PlanNames = []string{"hobby", "growth", "enterprise", "auto"}

// LookupPlanLimits returns the preset named name (case-insensitive): hobby,
// growth, enterprise, or auto (the plan is not known: start as on hobby and
// probe upward). An empty name is auto.
func LookupPlanLimits(name string) (PlanLimits, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = "auto"
	}
	p, ok := planPresets[n]
	if !ok {
		return PlanLimits{}, fmt.Errorf("unknown plan %q: want one of %s", name, strings.Join(PlanNames, ", "))
	}
	return p, nil
}

// rateLimit is the adaptive rate of the plan.
func (p PlanLimits) rateLimit() RateLimit {
	return RateLimit{
		Initial:       p.Rate,
		Max:           math.Max(p.MaxRate, p.Rate),
		Min:           math.Min(1, p.Rate),
		IncreaseAfter: 10,
		Step:          math.Max(1, p.Rate/20),
		PeakPatience:  planPeakPatience,
		Decrease:      0.7,
		Quiet:         planQuiet,
		SlowStart:     p.Probe,
		Spacing:       planSpacing,
	}
}

// opLimit is the adaptive limit of the plan on operations in flight.
func opLimit(start, ceiling int, probe bool) RateLimit {
	return RateLimit{
		Initial:       float64(start),
		Max:           float64(max(start, ceiling)),
		Min:           1,
		IncreaseAfter: 10,
		Step:          1,
		Decrease:      0.7,
		Quiet:         planQuiet,
		SlowStart:     probe,
		Spacing:       planSpacing,
	}
}

// WithPlanLimits sets the stage's scheduler from a plan (see LookupPlanLimits): the
// starting rate and its ceiling, the operations in flight for queries and
// mutations, and the body budgets a Batcher over the stage's client takes
// unless given its own. A later WithRateLimit replaces the rate part.
func WithPlanLimits(p PlanLimits) StageOption {
	return func(s *stageConfig) {
		s.rate = p.rateLimit()
		s.ops = [2]RateLimit{opLimit(p.Queries, p.MaxQueries, p.Probe), opLimit(p.Mutations, p.MaxMutations, p.Probe)}
		s.opsOn = p.Queries > 0 && p.Mutations > 0
		s.bodies = [2]int{p.QueryBytes, p.MutationBytes}
		if s.maxConc < defaultPlanConcurrency {
			s.maxConc = defaultPlanConcurrency
		}
	}
}

// defaultPlanConcurrency is the requests a Stage with a plan has in flight
// at most: the operation limits, not the request count, bound it then.
const defaultPlanConcurrency = 16

// opKind indexes operation limits: queries, mutations.
func kindOf(op ast.Operation) int {
	if op == ast.Mutation {
		return 1
	}
	return 0
}

// opGrant is the operations a request holds of its kind's limit.
type opGrant struct {
	kind  int
	n     int
	epoch uint64 // of the limit when granted
	// waited: no operations were free when asked for.
	waited bool
	// others is the operations of its kind in flight when it was granted.
	others int
	// saturated: the request waited for operations, or took the last free
	// ones; a 429 to it blames the operation limit, and only answers to
	// such requests let the limit grow.
	saturated bool
	// sent is the operations of its kind in requests sent and not yet
	// answered when it was sent, its own included (0: not known). The
	// count at grant time is no measure of what the stage serves: the
	// requests granted before may be answered while this one waits for
	// its rate token.
	sent int
}

// opLimits are a stage's adaptive limits on operations in flight, per kind.
// Each is an aimd whose "rate" is the number of operations.
type opLimits struct {
	mu       sync.Mutex
	on       bool
	state    [2]aimd
	inFlight [2]int
	// perRequest is the most operations one request may hold: the ceiling
	// at first, then one less than a request that got a 429 although it
	// was alone in flight (the stage cannot take that many at once).
	perRequest [2]int
	// dur is the mean duration in seconds, from sending to answer, of the
	// requests of each kind answered 200 (a moving average); 0 before the
	// first.
	dur [2]float64
	// maxOK is the most operations of each kind a request answered 200
	// held.
	maxOK [2]int
	// sentOps is the operations of each kind in requests sent and not yet
	// answered.
	sentOps [2]int
	wake    chan struct{} // closed when operations are released or a limit grows
	now     func() time.Time
}

// durationWeight is the weight of the latest answer in opLimits.dur.
const durationWeight = 0.2

// took records that a request holding n operations of kind k was answered
// (200) d after it was sent.
func (o *opLimits) took(k, n int, d time.Duration) {
	if !o.on || d <= 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.maxOK[k] = max(o.maxOK[k], n)
	if o.dur[k] == 0 {
		o.dur[k] = d.Seconds()
		return
	}
	o.dur[k] += durationWeight * (d.Seconds() - o.dur[k])
}

// perBatch is the operations of kind k that one merged request should
// hold at the request rate r, so that the rate, not the operations in
// flight, is what the stage runs into: by Little's law r·D requests of
// duration D are in flight at rate r, plus the next one, which holds its
// operations while it waits for its token; with n operations each, that
// is (r·D + 1)·n, which must stay within the limit. A request of more
// operations takes longer (mutations run one after another), so D follows
// n; the moving average converges to where both fit. Before any answer,
// and when the rate is not limited, it is the limit itself.
func (o *opLimits) perBatch(k int, r float64) int {
	if !o.on {
		return math.MaxInt
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(o.capOf(k), o.perRequest[k])
	if d := o.dur[k]; d > 0 && r > 0 && !math.IsInf(r, 1) {
		n = min(n, int(o.state[k].rate/(r*d+1)))
	}
	return max(1, n)
}

func newOpLimits(on bool, cfg [2]RateLimit) *opLimits {
	o := &opLimits{on: on, wake: make(chan struct{}), now: time.Now}
	if on {
		o.state = [2]aimd{newAIMD(cfg[0]), newAIMD(cfg[1])}
		for k := range o.perRequest {
			o.perRequest[k] = max(1, int(o.state[k].cfg.Max))
		}
	}
	return o
}

// capOf is the whole number of operations of kind k allowed in flight
// (math.MaxInt when off). o.mu is held.
func (o *opLimits) capOf(k int) int {
	if !o.on {
		return math.MaxInt
	}
	return max(1, int(o.state[k].rate))
}

// limit returns the current limit of kind k (+Inf when off).
func (o *opLimits) limit(k int) float64 {
	if !o.on {
		return math.Inf(1)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state[k].rate
}

// acquire waits until want operations of kind k (at least need; at most
// the limit and what one request may hold) fit under the limit, or none
// is in flight, so that a request larger than the limit still goes, alone;
// and takes them.
func (o *opLimits) acquire(ctx context.Context, k, need, want int) (opGrant, error) {
	need = max(need, 1)
	want = max(want, need)
	if !o.on {
		return opGrant{kind: k, n: want}, nil // nothing counted
	}
	waited := false
	for {
		o.mu.Lock()
		c := o.capOf(k)
		free := c - o.inFlight[k]
		// What one request may hold is read now: a 429 answered while
		// this one waited may have lowered it.
		w := max(need, min(want, c, o.perRequest[k]))
		if free >= w || o.inFlight[k] == 0 {
			n := max(need, min(w, free))
			g := opGrant{kind: k, n: n, epoch: o.state[k].epoch, waited: waited, others: o.inFlight[k]}
			o.inFlight[k] += n
			g.saturated = waited || o.inFlight[k] >= c
			o.mu.Unlock()
			return g, nil
		}
		waited = true
		wake := o.wake
		o.mu.Unlock()
		select {
		case <-ctx.Done():
			return opGrant{}, ctx.Err()
		case <-wake:
		}
	}
}

// sending counts g's operations as sent and returns g with its sent
// count; answered takes them out again once its answer (or error) came.
func (o *opLimits) sending(g opGrant) opGrant {
	if !o.on || g.n <= 0 {
		return g
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sentOps[g.kind] += g.n
	g.sent = o.sentOps[g.kind]
	return g
}

// answered: see sending.
func (o *opLimits) answered(g opGrant) {
	if !o.on || g.n <= 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sentOps[g.kind] -= g.n
}

// innocent reports whether a 429 to the request holding g cannot have
// been its kind's operations in flight: with every operation of the kind
// sent and not yet answered counted, no more were in flight than the
// plan's own limit (the limit the scheduler starts from: Hygraph's
// figure for the plan, or Hobby's when the plan is not known), and a
// request as large as g passed before. The stage then serves fewer still
// (a request counts from sending, the stage from receiving). A 429 to a
// request larger than any that passed may say that no request may hold
// that many (see throttle).
func (o *opLimits) innocent(g opGrant) bool {
	if !o.on || g.n <= 0 || g.sent <= 0 {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return g.sent <= int(o.state[g.kind].cfg.Initial) && g.n <= o.maxOK[g.kind]
}

// release gives back n operations of kind k.
func (o *opLimits) release(k, n int) {
	if n <= 0 || !o.on {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight[k] -= n
	o.signal()
}

// signal wakes the waiters. o.mu is held.
func (o *opLimits) signal() {
	close(o.wake)
	o.wake = make(chan struct{})
}

// throttle records a 429 to a request holding g; gentle makes the cut
// half as deep (the 429 may be the rate's).
func (o *opLimits) throttle(g opGrant, gentle bool) {
	if !o.on || g.n == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if g.others == 0 && g.n > 1 && g.n > o.maxOK[g.kind] {
		// Alone in flight and still too many: no request may hold n.
		// Not when a request of n or more passed before: then this 429
		// is the rate's (a stage at its rate answers 429 to a request
		// alone in flight too), and taking it for the operations would
		// shrink every request for good.
		o.perRequest[g.kind] = min(o.perRequest[g.kind], g.n-1)
		return
	}
	o.state[g.kind].throttledBy(g.epoch, o.now(), gentle)
}

// hush restarts the quiet period of both kinds: a 429, whatever it
// blamed, says the stage is at a limit, so nothing probes upward for a
// while.
func (o *opLimits) hush() {
	if !o.on {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	for k := range o.state {
		o.state[k].hush(now)
	}
}

// observe feeds the answer to a request holding g to its kind's limit: a
// 429 decreases it (once per epoch), a success of a saturated request
// counts toward an increase.
func (o *opLimits) observe(g opGrant, throttled bool) {
	if !o.on || g.n == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s := &o.state[g.kind]
	if throttled {
		o.mu.Unlock()
		o.throttle(g, false)
		o.mu.Lock()
		return
	}
	if g.saturated && s.successAt(o.now()) {
		o.signal()
	}
}

// blame decides what a 429 says about a request's limits: the rate when
// the request waited for the token bucket, the operations in flight when it
// was saturated; both when neither or both.
func blame(rateLimited, opsSaturated bool) (rate, ops bool) {
	if rateLimited != opsSaturated {
		return rateLimited, opsSaturated
	}
	return true, true
}
