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
	return r
}

// aimd is the adaptive rate as a pure state machine: no clock, no locks.
//
// Each request records the epoch current when it was sent. A 429 to a
// request of the current epoch halves the rate and starts a new epoch; 429s
// to requests sent before that decrease are ignored, so a volley of
// concurrent requests all throttled by one overload halves the rate once,
// not once per request.
type aimd struct {
	cfg   RateLimit
	rate  float64 // current requests per second
	ok    int     // consecutive successes since the last change
	epoch uint64  // bumped on every decrease
}

func newAIMD(cfg RateLimit) aimd {
	cfg = cfg.withDefaults()
	return aimd{cfg: cfg, rate: cfg.Initial}
}

// unlimited reports whether limiting is off.
func (a *aimd) unlimited() bool { return math.IsInf(a.cfg.Initial, 1) }

// success records a successful answer and reports whether the rate changed.
func (a *aimd) success() bool {
	if a.unlimited() {
		return false
	}
	a.ok++
	if a.ok < a.cfg.IncreaseAfter || a.rate >= a.cfg.Max {
		return false
	}
	a.ok = 0
	a.rate = math.Min(a.rate+a.cfg.Step, a.cfg.Max)
	return true
}

// throttled records a 429 to a request sent in epoch and reports whether the
// rate changed.
func (a *aimd) throttled(epoch uint64) bool {
	a.ok = 0
	if a.unlimited() || epoch != a.epoch {
		return false
	}
	a.epoch++
	next := math.Max(a.rate/2, a.cfg.Min)
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
			return 0, ctx.Err()
		case <-t.C:
		}
	}
	if err := l.lim.Wait(ctx); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.epoch, nil
}

// observe feeds an answer to the state machine. retryAfter is the capped
// Retry-After of a 429 answer (0 if none).
func (l *limiter) observe(epoch uint64, throttled bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var changed bool
	if throttled {
		changed = l.state.throttled(epoch)
		if retryAfter > 0 {
			if until := l.now().Add(retryAfter); until.After(l.pause) {
				l.pause = until
			}
		}
	} else {
		changed = l.state.success()
	}
	if changed {
		l.lim.SetLimit(rate.Limit(l.state.rate))
	}
}

// rate returns the current rate in requests per second (+Inf when off).
func (l *limiter) rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.rate
}
