package stagesync

import (
	"context"
	"math"
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
	// Decrease is the factor a 429 multiplies the rate by (default 0.5).
	Decrease float64
	// Quiet is how long after the last 429 increases wait (default 0: an
	// increase is earned by IncreaseAfter successes alone).
	Quiet time.Duration
	// SlowStart doubles the rate, rather than adding Step, on every
	// increase until the first 429: a limiter that starts low finds a high
	// limit in a few steps.
	SlowStart bool
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
}

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
	if a.ok < a.cfg.IncreaseAfter || a.rate >= a.cfg.Max {
		return false
	}
	if a.cfg.Quiet > 0 && a.throttledOnce && now.Sub(a.lastThrottle) < a.cfg.Quiet {
		return false // still counting: the increase comes once it is quiet
	}
	a.ok = 0
	if a.cfg.SlowStart && !a.throttledOnce {
		a.rate = math.Min(a.rate*2, a.cfg.Max)
	} else {
		a.rate = math.Min(a.rate+a.cfg.Step, a.cfg.Max)
	}
	return true
}

// throttled records a 429 to a request sent in epoch and reports whether the
// rate changed.
func (a *aimd) throttled(epoch uint64) bool { return a.throttledAt(epoch, time.Time{}) }

// throttledAt records a 429 at now to a request sent in epoch and reports
// whether the rate changed.
func (a *aimd) throttledAt(epoch uint64, now time.Time) bool {
	a.ok = 0
	a.throttledOnce = true
	if now.After(a.lastThrottle) {
		a.lastThrottle = now
	}
	if a.unlimited() || epoch != a.epoch {
		return false
	}
	a.epoch++
	next := math.Max(a.rate*a.cfg.Decrease, a.cfg.Min)
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
	limited := !l.state.unlimited() && l.lim.Tokens() < 1
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
		l.lim.SetLimit(rate.Limit(l.state.rate))
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
