package stagesync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
)

// SystemicError is returned by Sync when a failure is not one entry's own
// but would fail every entry the same way, so that the run stops rather
// than report each entry: a stage that refuses the token (HTTP 401, 403 —
// a read-only token — or 402, the project's API operations used up), a
// destination whose schema has no Mutation type, or systemicRun writes in
// a row failing with the same error (with no write succeeding between
// them; a publish of many entries is one write). The entries the run did not get to
// are not reported as failed; running the sync again resumes it.
type SystemicError struct {
	// Stage is the name of the stage concerned.
	Stage string
	// Op is what failed: a root mutation field (e.g. "createBook"), an
	// entry operation (create, update, publish, ...), "write" for a
	// destination that cannot be written or "discover" for a source whose
	// models cannot be discovered.
	Op string
	// Count is the number of writes that failed this way before the run
	// stopped (at least 1), or 0 when it stopped before writing.
	Count int
	// Err is the cause.
	Err error
}

// Error names the stage, the operation and the cause, once.
func (e *SystemicError) Error() string {
	cause := "<nil>"
	if e.Err != nil {
		cause = strings.TrimPrefix(e.Err.Error(), fmt.Sprintf("stage %q: ", e.Stage))
	}
	switch {
	case e.Count > 1:
		return fmt.Sprintf("stagesync: stage %q: stopped after %d writes (%s) failed the same way: %s", e.Stage, e.Count, e.Op, cause)
	case e.Count == 1:
		return fmt.Sprintf("stagesync: stage %q: stopped: %s: %s", e.Stage, e.Op, cause)
	}
	return fmt.Sprintf("stagesync: stage %q: %s", e.Stage, cause)
}

// Unwrap returns the cause.
func (e *SystemicError) Unwrap() error { return e.Err }

// systemicRun is the number of writes in a row failing the same way (with
// no write succeeding between them) that stops a run: a batch's worth.
const systemicRun = 10

// errNoMutation is the cause of a SystemicError for a stage whose schema
// has no Mutation type.
var errNoMutation = errors.New("cannot write: its schema has no Mutation type (is it a read-only endpoint or schema file?)")

// errNoModels is the cause of a SystemicError for a source whose schema
// has no Mutation type: its models are discovered by their mutations.
var errNoModels = errors.New("its schema has no Mutation type, so its models cannot be discovered (the schema of each stage must be its full content-API schema)")

// control stops a run from within: it cancels the run's context with a
// *SystemicError, keeps per-entry failures caused by the stop out of the
// report, and serializes progress events.
type control struct {
	ctx    context.Context
	cancel context.CancelCauseFunc

	emitMu sync.Mutex // one event at a time, in order

	mu      sync.Mutex
	streak  string    // the way the writes in a row failed
	writes  int       // how many writes failed that way
	last    error     // the last of them (one write may fail several entries)
	held    []Failure // their failures, reported unless the run stops for them
	stopped string    // the way that stopped the run
}

// start makes ctx the run's context; stop cancels it.
func (c *control) start(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	return c.ctx, c.cancel
}

// stop ends the run with err (the first stop wins).
func (c *control) stop(err *SystemicError) {
	c.cancel(err)
}

// systemic returns the *SystemicError that stopped the run, or nil.
func (c *control) systemic() *SystemicError {
	if c.ctx == nil {
		return nil
	}
	var se *SystemicError
	if errors.As(context.Cause(c.ctx), &se) {
		return se
	}
	return nil
}

// refused reports whether err is a stage refusing the token: every write
// would fail the same way.
func refused(err error) bool {
	var he *HTTPError
	if !errors.As(err, &he) {
		return false
	}
	switch he.StatusCode {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden:
		return true
	}
	return false
}

// way returns how a write failed, for comparing failures, when the stage
// answered it (the write was not applied): the messages of its errors,
// without their paths. ok is false for other errors (transport errors,
// 5xx, 429, cancellations), which may pass.
func way(err error) (string, bool) {
	if errors.Is(err, ErrMaybeApplied) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "", false
	}
	var he *HTTPError
	var ge *GraphQLError
	var msgs []string
	switch {
	case errors.As(err, &ge):
		for _, x := range ge.Errors {
			if x != nil {
				msgs = append(msgs, x.Message)
			}
		}
	case errors.As(err, &he) && he.StatusCode >= 400 && he.StatusCode < 500 && he.StatusCode != http.StatusTooManyRequests:
		msgs = append(msgs, fmt.Sprintf("HTTP %d", he.StatusCode))
		for _, x := range he.Errors {
			if x != nil {
				msgs = append(msgs, x.Message)
			}
		}
	default:
		return "", false
	}
	return strings.Join(msgs, "; "), true
}

// writeFailed looks at a failed write (op, e.g. "createHotel") on the
// destination: a stage refusing the token stops the run.
func (e *engine) writeFailed(op string, err error) {
	if refused(err) && e.ctl.systemic() == nil {
		e.ctl.stop(&SystemicError{Stage: e.cfg.Dest.Name(), Op: op, Count: 1, Err: err})
	}
}

// failWrite reports an entry whose write failed with err; f's Message and
// Path are err's unless f has a message. While the run stops (interrupted,
// or for a systemic failure) a failure the stop caused is left out: the
// entry was not synced, and the next run tries it again. systemicRun
// failures in a row the same way stop the run and are left out too.
func (e *engine) failWrite(f Failure, err error) {
	if f.Message == "" {
		f.Message = err.Error()
	}
	if f.Path == nil {
		f.Path = errorPath(err)
	}
	if refused(err) {
		if e.ctl.systemic() == nil {
			e.ctl.stop(&SystemicError{Stage: e.cfg.Dest.Name(), Op: f.Op, Count: 1, Err: err})
		}
		return // the run stops for it
	}
	w, ok := way(err)
	key := f.Op + "\x00" + w
	if e.ctl.ctx != nil && e.ctl.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return
	}
	if mayPass(err) {
		e.transient.Add(1)
	}
	if !ok {
		e.report.fail(f)
		return
	}
	e.ctl.mu.Lock()
	// A write failing the way that stopped the run is left out, whether
	// the run's context is cancelled yet or not: the stop is decided
	// under this lock and the context cancelled after it, and a write
	// answered in between would have started a streak of its own and
	// been reported.
	if key == e.ctl.stopped {
		e.ctl.mu.Unlock()
		return
	}
	var flush []Failure
	if key != e.ctl.streak {
		flush, e.ctl.held = e.ctl.held, nil
		e.ctl.streak, e.ctl.writes, e.ctl.last = key, 0, nil
	}
	e.ctl.held = append(e.ctl.held, f)
	if !sameError(err, e.ctl.last) {
		e.ctl.writes++
		e.ctl.last = err
	}
	var stop *SystemicError
	if e.ctl.writes >= systemicRun {
		stop = &SystemicError{Stage: e.cfg.Dest.Name(), Op: f.Op, Count: e.ctl.writes, Err: err}
		e.ctl.held, e.ctl.stopped = nil, key
		e.ctl.streak, e.ctl.writes, e.ctl.last = "", 0, nil
	}
	e.ctl.mu.Unlock()
	for _, f := range flush {
		e.report.fail(f)
	}
	if stop != nil && e.ctl.systemic() == nil {
		e.ctl.stop(stop)
	}
}

// sameError reports whether a and b are the same error value: the answer
// to one write that failed several entries (a publish of many).
func sameError(a, b error) bool {
	return a != nil && b != nil && reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.TypeOf(a).Comparable() && a == b
}

// flushFailures reports the failures held back (see failWrite): once a
// write succeeds, and at the end of the run.
func (e *engine) flushFailures() {
	e.ctl.mu.Lock()
	held := e.ctl.held
	e.ctl.streak, e.ctl.writes, e.ctl.last, e.ctl.held = "", 0, nil, nil
	e.ctl.mu.Unlock()
	for _, f := range held {
		e.report.fail(f)
	}
}

// stopped returns what ends a run that returned err (nil when it ran to
// its end): the *SystemicError that stopped it, or err. A run stopped or
// interrupted saves its state, so that the next run resumes from what was
// written.
func (e *engine) stopped(parent context.Context, err error) error {
	e.flushFailures()
	if se := e.ctl.systemic(); se != nil {
		err = se
	}
	if err == nil {
		return nil
	}
	// What the run learned (the ids of the creates answered) is kept for
	// the next run, whatever stopped this one.
	if e.state != nil {
		if serr := e.save(); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if cerr := parent.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// mayPass reports whether a write that failed with err may succeed when
// tried again later (see SyncConfig.MaxRounds): a create whose answer was
// lost (it may have been applied: the next pass adopts it or creates it),
// a 5xx or a 429 left after the stage's retries, or a connection that
// failed. A GraphQL error or another 4xx would fail the same way again.
func mayPass(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, ErrMaybeApplied) {
		return true
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500 || he.StatusCode == http.StatusTooManyRequests
	}
	if _, ok := errors.AsType[*RateLimitError](err); ok {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
