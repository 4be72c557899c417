package hygraph

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// retryConfig is the retry policy of a Stage's calls.
type retryConfig struct {
	waitMin, waitMax time.Duration
	max              int
}

// client returns the HTTP client of one call: the stage's, whose attempts
// go through the call's transport (rate token and scheduler accounting),
// with retries (go-retryablehttp) by the call's policy.
func (s *Stage) client(st *callState) *retryablehttp.Client {
	hc := s.hc
	hc.Transport = &transport{stage: s, base: s.hc.Transport, st: st}
	rc := &retryablehttp.Client{
		HTTPClient:   &hc,
		RetryWaitMin: s.retry.waitMin,
		RetryWaitMax: s.retry.waitMax,
		RetryMax:     s.retry.max,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return s.checkRetry(ctx, st, resp, err)
		},
		Backoff: s.backoff,
		// Keep the last answer and error: Stage turns them into typed errors.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	if s.log != nil {
		rc.Logger = slogAdapter{s}
	}
	return rc
}

// checkRetry is the retry policy; see Stage.
func (s *Stage) checkRetry(ctx context.Context, st *callState, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	idempotent := st.idempotent
	if err != nil {
		var ns *notSentError
		if errors.As(err, &ns) {
			retry, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
			return retry, nil
		}
		if !idempotent {
			return false, nil
		}
		retry, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		return retry, nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// A throttled request was not acted on. A merged one goes back
		// to its Batcher, to be merged again within the limits the 429
		// taught the scheduler: the same request could never pass.
		return !st.requeue, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return idempotent, nil
	}
	return false, nil
}

// backoff is the wait before retry attempt (counting from 0): the
// Retry-After of a 429 or 503 answer, capped, or else exponential backoff
// with jitter.
func (s *Stage) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	return backoff(min, max, s.retryAfterCap, attempt, resp, s.jitter, time.Now())
}

// backoff computes a retry wait; see Stage.backoff. jitter returns a number
// in [0, 1).
func backoff(min, max, retryAfterCap time.Duration, attempt int, resp *http.Response, jitter func() float64, now time.Time) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return capRetryAfter(ra, retryAfterCap)
		}
	}
	d := float64(min) * math.Pow(2, float64(attempt))
	if d > float64(max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(max)
	}
	// "Equal jitter": at least half the exponential wait, so waits still
	// grow, and a random rest so clients that failed together spread out.
	return time.Duration(d/2 + jitter()*d/2)
}

// capRetryAfter bounds a Retry-After wait (a non-positive cap means no cap).
func capRetryAfter(d, limit time.Duration) time.Duration {
	if limit > 0 && d > limit {
		return limit
	}
	return d
}

// parseRetryAfter parses a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || secs > math.MaxInt64/float64(time.Second) {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
