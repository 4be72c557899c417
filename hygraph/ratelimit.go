package hygraph

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit configures a stage's adaptive request rate: a token bucket
// (golang.org/x/time/rate) whose rate halves on every 429 answer (down to
// Min) and grows by Step after IncreaseAfter consecutive successful answers
// (up to Max). Zero fields take the defaults below.
//
// The defaults suit Hygraph's smallest plans, about 5 requests per second:
// start at 5 req/s with a burst of 1 (evenly spaced requests, no spikes), never
// exceed the starting rate, never fall under 0.5 req/s, and after 20
// successes in a row grow by a tenth of Max. Users on bigger plans set
// Initial (and Max) to their plan's figure; setting Max above Initial lets the
// limiter probe for more. An infinite Initial (math.Inf(1)) turns limiting
// off, which suits local emulators.
type RateLimit struct {
	// Initial is the starting rate in requests per second (default 5).
	Initial float64
	// Max is the highest rate the limiter grows to (default Initial).
	Max float64
	// Min is the floor of the multiplicative decrease (default Max/10, at
	// most 0.5).
	Min float64
	// Burst is the token bucket size (default 1).
	Burst int
	// IncreaseAfter is the number of consecutive successes that earn one
	// additive increase (default 20).
	IncreaseAfter int
	// Step is the additive increase in requests per second (default Max/10).
	Step float64
	// PeakPatience, when above 1, makes the rate approach the peak — the
	// rate before the last full decrease (not a gentle one, whose 429 may
	// have been something else's) — in two ways. Below 90% of the peak
	// it steps by Step as usual but not past 90% of it, and within 10% of
	// the peak an increase waits for PeakPatience times IncreaseAfter
	// successes and is at most 5% of the rate: the limit is near there,
	// and each 429 costs a request and a decrease. A step of Step from
	// under the peak straight over it would come back with a 429 as soon
	// as the stage's burst is spent.
	PeakPatience int
	// Decrease is the factor a 429 multiplies the rate by (default 0.5).
	Decrease float64
	// Quiet is how long after the last 429 increases wait (default 0: an
	// increase is earned by IncreaseAfter successes alone).
	Quiet time.Duration
	// SlowStart doubles the rate, rather than adding Step, on every
	// increase until the first 429: a limiter that starts low finds a high
	// limit in a few steps.
	SlowStart bool
	// Spacing is the least time between two decreases (default 0: every
	// 429 to a request sent since the last decrease makes one). A stage
	// that counts requests per second keeps answering 429 for a while
	// after a client slowed down; without a spacing each of those answers
	// cuts the rate again, down to Min.
	Spacing time.Duration
}

// withDefaults fills zero fields.
func (r RateLimit) withDefaults() RateLimit {
	if r.Initial <= 0 {
		r.Initial = 5
	}
	if r.Max <= 0 {
		r.Max = r.Initial
	}
	if r.Max < r.Initial {
		r.Max = r.Initial
	}
	if r.Min <= 0 {
		r.Min = math.Min(r.Max/10, 0.5)
	}
	if r.Min > r.Initial {
		r.Min = r.Initial
	}
	if r.Burst <= 0 {
		r.Burst = 1
	}
	if r.IncreaseAfter <= 0 {
		r.IncreaseAfter = 20
	}
	if r.Step <= 0 {
		r.Step = r.Max / 10
	}
	if r.Decrease <= 0 || r.Decrease >= 1 {
		r.Decrease = 0.5
	}
	return r
}

// aimd is the adaptive rate as a pure state machine: no clock (the time
// comes in with each event), no locks. The scheduler uses it for the
// request rate and for the operations in flight of each kind.
//
// Each request records the epoch current when it was sent. A 429 to a
// request of the current epoch multiplies the rate by Decrease and starts a
// new epoch; 429s to requests sent before that decrease are ignored, so a
// volley of concurrent requests all throttled by one overload decreases the
// rate once, not once per request. IncreaseAfter successes earn an
// increase — doubling before the first 429 with SlowStart, Step after —
// once Quiet has passed since the last 429.
type aimd struct {
	cfg   RateLimit
	rate  float64 // current requests per second
	ok    int     // consecutive successes since the last change
	epoch uint64  // bumped on every decrease

	throttledOnce bool      // a 429 was seen: slow start is over
	lastThrottle  time.Time // of the last 429
	lastCut       time.Time // of the last decrease
	peak          float64   // the rate before the last full decrease
}

// nearPeak is how close to the rate before the last decrease
// RateLimit.PeakPatience applies: between nearPeak and 1/nearPeak of it.
const nearPeak = 0.9

// peakStep is the largest increase near the peak (see
// RateLimit.PeakPatience), as a share of the rate: Step may be a large
// share of a low rate (1 req/s is a fifth of a Hobby plan's 5), and a
// step that large near the limit overshoots it.
const peakStep = 0.05

func newAIMD(cfg RateLimit) aimd {
	cfg = cfg.withDefaults()
	return aimd{cfg: cfg, rate: cfg.Initial}
}

// unlimited reports whether limiting is off.
func (a *aimd) unlimited() bool { return math.IsInf(a.cfg.Initial, 1) }

// success records a successful answer and reports whether the rate changed.
func (a *aimd) success() bool { return a.successAt(time.Time{}) }

// successAt records a successful answer at now and reports whether the
// rate changed.
func (a *aimd) successAt(now time.Time) bool {
	if a.unlimited() {
		return false
	}
	a.ok++
	need := a.cfg.IncreaseAfter
	next := a.rate + a.cfg.Step
	if a.cfg.PeakPatience > 1 && a.peak > 0 {
		lo, hi := nearPeak*a.peak, a.peak/nearPeak
		switch {
		case a.rate < lo:
			next = math.Min(next, lo) // back to just under the peak, quickly
		case a.rate <= hi:
			need *= a.cfg.PeakPatience // close to where the last 429s came: slowly
			next = a.rate + math.Min(a.cfg.Step, a.rate*peakStep)
		}
	}
	if a.ok < need || a.rate >= a.cfg.Max {
		return false
	}
	if a.cfg.Quiet > 0 && a.throttledOnce && now.Sub(a.lastThrottle) < a.cfg.Quiet {
		return false // still counting: the increase comes once it is quiet
	}
	a.ok = 0
	if a.cfg.SlowStart && !a.throttledOnce {
		a.rate = math.Min(a.rate*2, a.cfg.Max)
	} else {
		a.rate = math.Min(next, a.cfg.Max)
	}
	return true
}

// hush restarts the quiet period at now without a decrease: a 429 blamed
// on something else still says the stage is at a limit.
func (a *aimd) hush(now time.Time) {
	a.ok = 0
	if now.After(a.lastThrottle) {
		a.lastThrottle = now
	}
}

// throttled records a 429 to a request sent in epoch and reports whether the
// rate changed.
func (a *aimd) throttled(epoch uint64) bool { return a.throttledAt(epoch, time.Time{}) }

// throttledAt records a 429 at now to a request sent in epoch and reports
// whether the rate changed.
func (a *aimd) throttledAt(epoch uint64, now time.Time) bool {
	return a.throttledBy(epoch, now, false)
}

// throttledBy is throttledAt, with a cut half as deep when gentle: the
// factor is (1+Decrease)/2.
func (a *aimd) throttledBy(epoch uint64, now time.Time, gentle bool) bool {
	a.ok = 0
	a.throttledOnce = true
	if now.After(a.lastThrottle) {
		a.lastThrottle = now
	}
	if a.unlimited() || epoch != a.epoch {
		return false
	}
	if a.cfg.Spacing > 0 && !a.lastCut.IsZero() && now.Sub(a.lastCut) < a.cfg.Spacing {
		return false
	}
	a.lastCut = now
	if !gentle {
		a.peak = a.rate // blamed alone: the limit is about here
	}
	a.epoch++
	factor := a.cfg.Decrease
	if gentle {
		factor = (1 + factor) / 2
	}
	next := math.Max(a.rate*factor, a.cfg.Min)
	if next == a.rate {
		return false
	}
	a.rate = next
	return true
}

// limiter is a stage's adaptive token bucket plus a stage-wide pause that a
// Retry-After answer imposes on every request of the stage.
type limiter struct {
	mu    sync.Mutex
	state aimd
	lim   *rate.Limiter
	pause time.Time // no request starts before this
	now   func() time.Time
	sends sendRate
}

// sendRate measures the requests actually sent per second, in windows of
// a second one after another, and remembers a rate the stage is known to
// take: the least sent in okWindows windows in a row without a 429, the
// most of such. (One window is not enough: a token bucket with a burst
// takes a little more than its rate for a while.) A 429 that comes while
// no more than that is being sent is not the rate's doing.
type sendRate struct {
	start     time.Time // of the current window
	count     int       // sent in it
	last      int       // sent in the window before
	throttled bool      // the current window got a 429
	run       []int     // the windows without a 429 since the last one that had one
	ok        int       // the rate known to pass
	// recent holds the counts of the last mostWindows whole windows (a
	// ring, next at recentAt; a gap counts as windows of none).
	recent   [mostWindows]int
	recentAt int
}

// mostWindows is how many whole windows back sendRate.most looks: long
// enough to span a rate's recovery from a cut, short enough to forget a
// probe's overshoot (a slow start to twice a Hobby stage's rate).
const mostWindows = 30

// okWindows is the number of windows in a row without a 429 that make
// their smallest count a rate known to pass.
const okWindows = 10

// rateBusy is the share of its rate a stage must have sent in the last
// whole second for a success to raise the rate (see limiter.grow).
const rateBusy = 0.8

// busy reports whether at least rateBusy of rate was sent in the last
// whole second before now.
func (r *sendRate) busy(now time.Time, rate float64) bool {
	r.roll(now)
	return float64(r.last) >= math.Floor(rateBusy*rate)
}

// sent counts a request sent at now.
func (r *sendRate) sent(now time.Time) {
	r.roll(now)
	r.count++
}

// roll closes the current window if now is past it.
func (r *sendRate) roll(now time.Time) {
	if now.Sub(r.start) < time.Second {
		return
	}
	switch {
	case r.start.IsZero():
	case r.throttled || now.Sub(r.start) >= 2*time.Second:
		r.run = r.run[:0] // a 429, or a gap: start over
	default:
		r.run = append(r.run, r.count)
		if len(r.run) > okWindows {
			r.run = r.run[1:]
		}
		if len(r.run) == okWindows {
			r.ok = max(r.ok, slices.Min(r.run))
		}
	}
	r.last = r.count
	if !r.start.IsZero() {
		r.push(r.count)
		for gap := now.Sub(r.start) - 2*time.Second; gap >= 0 && gap < mostWindows*time.Second; gap -= time.Second {
			r.push(0)
		}
		if now.Sub(r.start) >= (mostWindows+1)*time.Second {
			r.recent = [mostWindows]int{}
		}
	}
	if now.Sub(r.start) >= 2*time.Second {
		r.last = 0
	}
	// The next window starts a whole number of seconds after this one:
	// a window started by a request and ended by the first request a
	// second later or more holds one request more than a second's worth
	// (6 at 5.01 req/s).
	next := now
	if !r.start.IsZero() && now.Sub(r.start) < 2*time.Second {
		next = r.start.Add(time.Second)
	}
	r.start, r.count, r.throttled = next, 0, false
}

// push records the count of a whole window.
func (r *sendRate) push(n int) {
	r.recent[r.recentAt] = n
	r.recentAt = (r.recentAt + 1) % mostWindows
}

// most is the most sent in one of the last mostWindows whole windows
// before now.
func (r *sendRate) most(now time.Time) int {
	r.roll(now)
	return slices.Max(r.recent[:])
}

// suspect records a 429 at now and reports whether the rate may be its
// cause: more is being sent than ever went without a 429.
func (r *sendRate) suspect(now time.Time) bool {
	r.roll(now)
	r.throttled = true
	return max(r.last, r.count) > r.ok
}

// sent counts a request leaving now.
func (l *limiter) sent() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sends.sent(l.now())
}

// suspect records a 429 and reports whether the rate may be its cause.
// Whatever the cause, the rate stops probing upward for Quiet.
func (l *limiter) suspect() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.state.hush(now)
	return l.sends.suspect(now)
}

func newLimiter(cfg RateLimit) *limiter {
	l := &limiter{state: newAIMD(cfg), now: time.Now}
	if l.state.unlimited() {
		l.lim = rate.NewLimiter(rate.Inf, 1)
	} else {
		l.lim = rate.NewLimiter(rate.Limit(l.state.rate), l.state.cfg.Burst)
	}
	return l
}

// wait blocks until a request may start, honouring ctx, and returns the
// epoch to report the answer against.
func (l *limiter) wait(ctx context.Context) (uint64, error) {
	epoch, _, err := l.waitLimited(ctx)
	return epoch, err
}

// waitLimited is wait that also reports whether the request had to wait
// for the bucket: whether the rate was what held it back.
func (l *limiter) waitLimited(ctx context.Context) (uint64, bool, error) {
	for {
		l.mu.Lock()
		d := l.pause.Sub(l.now())
		l.mu.Unlock()
		if d <= 0 {
			break
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, false, ctx.Err()
		case <-t.C:
		}
	}
	limited := !l.state.unlimited() && l.lim.TokensAt(l.now()) < 1
	if err := l.lim.Wait(ctx); err != nil {
		return 0, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.epoch, limited, nil
}

// observe feeds an answer to the state machine. retryAfter is the capped
// Retry-After of a 429 answer (0 if none).
func (l *limiter) observe(epoch uint64, throttled bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var changed bool
	now := l.now()
	if throttled {
		changed = l.state.throttledAt(epoch, now)
		l.pauseFor(now, retryAfter)
	} else {
		changed = l.state.successAt(now)
	}
	if changed {
		l.lim.SetLimitAt(now, rate.Limit(l.state.rate))
	}
}

// grow counts a success toward raising the rate, only while the stage
// sends close to its rate: a request that waited for a token was held back
// by the rate, but a rate that is not used is not known to pass. Without
// this a scheduler held back by something else (the operations in flight)
// keeps raising a rate it never sends at, until a burst at that rate meets
// the stage's own limit.
func (l *limiter) grow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.sends.busy(now, l.state.rate) && l.state.successAt(now) {
		l.lim.SetLimitAt(now, rate.Limit(l.state.rate))
	}
}

// pauseFor makes every request of the stage wait d (a Retry-After) from
// now; a shorter pause does not shorten a longer one. l.mu is held.
func (l *limiter) pauseFor(now time.Time, d time.Duration) {
	if d <= 0 {
		return
	}
	if until := now.Add(d); until.After(l.pause) {
		l.pause = until
	}
}

// throttle records a 429 to a request sent in epoch; gentle makes the cut
// half as deep (the 429 may be the operation limit's).
func (l *limiter) throttle(epoch uint64, retryAfter time.Duration, gentle bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.state.throttledBy(epoch, now, gentle) {
		l.lim.SetLimitAt(now, rate.Limit(l.state.rate))
	}
	l.pauseFor(now, retryAfter)
}

// honour applies a Retry-After without counting the 429 against the rate
// (it blamed the operations in flight).
func (l *limiter) honour(retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pauseFor(l.now(), retryAfter)
}

// rate returns the current rate in requests per second (+Inf when off).
func (l *limiter) rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.rate
}

// throughput is the request rate to size batches for: the current rate,
// or the most requests the stage was sent in one second of the last
// mostWindows if that is more (+Inf when limiting is off). A decrease of
// the rate after a 429 that was the operations' doing must not make every
// request hold more operations, which draws more such 429s; but a second
// long past, such as a probe's overshoot at the start of a run, must not
// keep every request smaller for good.
func (l *limiter) throughput() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return math.Max(l.state.rate, float64(l.sends.most(l.now())))
}
