package hygraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"golang.org/x/sync/semaphore"
)

// Defaults of a Stage; see the options that change them.
const (
	// defaultMaxConcurrency is the number of requests a Stage has in flight
	// at most.
	defaultMaxConcurrency = 4
	// defaultRetryMax is the number of retries after a first failed attempt.
	defaultRetryMax = 6
	// defaultRetryWaitMin is the first backoff between retries.
	defaultRetryWaitMin = 500 * time.Millisecond
	// defaultRetryWaitMax is the longest backoff between retries.
	defaultRetryWaitMax = 30 * time.Second
	// defaultRetryAfterCap is the longest wait a Retry-After header imposes.
	defaultRetryAfterCap = 30 * time.Second
	// DefaultTimeout bounds each HTTP attempt of the default HTTP client.
	DefaultTimeout = 2 * time.Minute
)

// maxResponseBytes bounds the response bodies a Stage reads.
const maxResponseBytes = 256 << 20

// Stage is one Hygraph content-API endpoint (a project environment) and the
// token to talk to it. It sends GraphQL requests over HTTP with retries, an
// adaptive rate limit and bounded concurrency; one Stage is meant to be shared
// by everything that talks to that endpoint. It is safe for concurrent use.
//
// Retries (hashicorp/go-retryablehttp) cover transport errors, 429 and 5xx
// answers, with exponential backoff and jitter, honouring Retry-After up to a
// cap. Queries are always retried. Mutations are retried only when their
// context is marked with Idempotent (upserts, updates, publishes and deletes
// by id); other mutations are retried only when the stage certainly did not
// act on them (a 429, or a connection that failed before the request was
// written), and fail with an error matching ErrMaybeApplied when it might
// have.
//
// Every HTTP attempt, retries included, waits for the stage's token bucket
// (see RateLimit); at most MaxConcurrency requests are in flight at once.
// With plan limits (WithPlanLimits) the stage also schedules operations:
// a request waits until its root fields fit under the limit of query or
// mutation operations in flight, as Hygraph counts them. The rate and both
// operation limits start from the plan and learn from 429 answers (which
// carry no Retry-After on Hygraph): a 429 lowers what held the request
// back, and successes of requests so held back raise it again once no 429
// came for a while.
type Stage struct {
	name     string
	endpoint string
	token    secret
	header   http.Header
	log      *slog.Logger

	hc      http.Client // the HTTP client; each call sends through a copy (see send)
	retry   retryConfig
	limiter *limiter
	ops     *opLimits // operations in flight per kind (off without a plan)
	bodies  [2]int    // body budgets of a plan for Batchers: queries, mutations (0: none)
	sem     *semaphore.Weighted
	maxConc int

	retryAfterCap time.Duration
	jitter        func() float64

	requests, retries, throttled atomic.Int64
	inFlight                     atomic.Int64
}

// StageOption configures a Stage.
type StageOption func(*stageConfig)

type stageConfig struct {
	httpClient    *http.Client
	logger        *slog.Logger
	retryMax      int
	waitMin       time.Duration
	waitMax       time.Duration
	retryAfterCap time.Duration
	rate          RateLimit
	ops           [2]RateLimit // operation limits: queries, mutations
	opsOn         bool
	bodies        [2]int
	maxConc       int
	header        http.Header
}

// WithHTTPClient sets the HTTP client whose transport carries the requests
// (default: a pooled transport with a 2-minute timeout per attempt). The
// client is copied; its Transport is wrapped, not replaced.
func WithHTTPClient(c *http.Client) StageOption {
	return func(s *stageConfig) { s.httpClient = c }
}

// WithLogger routes the stage's retry and error logs to l (default: no
// logs). The token never appears in them.
func WithLogger(l *slog.Logger) StageOption {
	return func(s *stageConfig) { s.logger = l }
}

// WithRetryMax sets how many times a failed request is retried (default 6;
// 0 disables retries).
func WithRetryMax(n int) StageOption {
	return func(s *stageConfig) { s.retryMax = max(n, 0) }
}

// WithRetryWait sets the exponential backoff bounds between retries
// (default 500ms to 30s). Each wait is drawn between half and all of
// min·2^attempt, capped at max.
func WithRetryWait(min, max time.Duration) StageOption {
	return func(s *stageConfig) { s.waitMin, s.waitMax = min, max }
}

// WithRetryAfterCap caps how long a Retry-After header can make the stage
// wait (default 30s).
func WithRetryAfterCap(d time.Duration) StageOption {
	return func(s *stageConfig) { s.retryAfterCap = d }
}

// WithRateLimit configures the adaptive rate limit (default: RateLimit{},
// that is 5 requests per second).
func WithRateLimit(r RateLimit) StageOption {
	return func(s *stageConfig) { s.rate = r }
}

// WithMaxConcurrency bounds the requests in flight at once (default 4).
func WithMaxConcurrency(n int) StageOption {
	return func(s *stageConfig) {
		if n > 0 {
			s.maxConc = n
		}
	}
}

// WithHeader adds a header to every request, such as Hygraph's gcms-stage or
// gcms-locales.
func WithHeader(key, value string) StageOption {
	return func(s *stageConfig) { s.header.Add(key, value) }
}

// NewStage returns a Stage named name (used in errors, logs and reports)
// that sends requests to the content-API endpoint with token as its bearer
// token (empty for public endpoints).
func NewStage(name, endpoint, token string, opts ...StageOption) *Stage {
	cfg := stageConfig{
		retryMax:      defaultRetryMax,
		waitMin:       defaultRetryWaitMin,
		waitMax:       defaultRetryWaitMax,
		retryAfterCap: defaultRetryAfterCap,
		maxConc:       defaultMaxConcurrency,
		header:        http.Header{},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.waitMax < cfg.waitMin {
		cfg.waitMax = cfg.waitMin
	}
	s := &Stage{
		name:          name,
		endpoint:      endpoint,
		token:         secret(token),
		header:        cfg.header,
		log:           cfg.logger,
		limiter:       newLimiter(cfg.rate),
		ops:           newOpLimits(cfg.opsOn, cfg.ops),
		bodies:        cfg.bodies,
		sem:           semaphore.NewWeighted(int64(cfg.maxConc)),
		maxConc:       cfg.maxConc,
		retryAfterCap: cfg.retryAfterCap,
		jitter:        rand.Float64,
	}

	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.maxConc
		hc = http.Client{Transport: t, Timeout: DefaultTimeout}
	}
	if hc.Transport == nil {
		hc.Transport = http.DefaultTransport
	}
	s.hc = hc
	s.retry = retryConfig{waitMin: cfg.waitMin, waitMax: cfg.waitMax, max: cfg.retryMax}
	return s
}

// Name returns the stage's name.
func (s *Stage) Name() string { return s.name }

// Endpoint returns the stage's content-API endpoint.
func (s *Stage) Endpoint() string { return s.endpoint }

// String returns the stage's name and endpoint, never its token.
func (s *Stage) String() string { return fmt.Sprintf("stage %q (%s)", s.name, s.endpoint) }

// GoString is String, so that %#v does not print the token either.
func (s *Stage) GoString() string { return s.String() }

// LogValue logs the stage as its name and endpoint.
func (s *Stage) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", s.name), slog.String("endpoint", s.endpoint))
}

// StageStats is a snapshot of a stage's traffic, for progress and reports.
type StageStats struct {
	// Requests is the number of HTTP attempts made, retries included.
	Requests int64
	// Retries is the number of those attempts that were retries.
	Retries int64
	// Throttled is the number of 429 answers received.
	Throttled int64
	// InFlight is the number of requests being sent right now.
	InFlight int64
	// Rate is the current adaptive rate limit in requests per second
	// (+Inf when limiting is off).
	Rate float64
	// QueryOps and MutationOps are the current adaptive limits on query and
	// mutation operations in flight (+Inf without a plan; see
	// WithPlanLimits).
	QueryOps, MutationOps float64
}

// Stats returns a snapshot of the stage's traffic and its current rate.
func (s *Stage) Stats() StageStats {
	return StageStats{
		Requests:    s.requests.Load(),
		Retries:     s.retries.Load(),
		Throttled:   s.throttled.Load(),
		InFlight:    s.inFlight.Load(),
		Rate:        s.limiter.rate(),
		QueryOps:    s.ops.limit(0),
		MutationOps: s.ops.limit(1),
	}
}

// Client returns a graphql.Client that sends each request on its own; use it
// with genqlient-generated functions. For writes at volume, wrap it in
// NewBatcher.
//
// A request whose response carries GraphQL errors decodes the (partial) data
// into the response and returns a *GraphQLError.
func (s *Stage) Client() graphql.Client { return stageClient{s} }

// Do sends one GraphQL operation with variables and decodes the response's
// data into out (a pointer, or nil to discard it). It returns a *GraphQLError
// when the response carries errors, with out holding whatever data came
// back.
func (s *Stage) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	var v any
	if vars != nil {
		v = vars
	}
	return stageClient{s}.MakeRequest(ctx, &graphql.Request{Query: query, Variables: v}, &graphql.Response{Data: out})
}

// stageClient is the graphql.Client of a Stage.
type stageClient struct{ s *Stage }

// wireRequest is a GraphQL request as it goes over HTTP.
type wireRequest struct {
	Query         string `json:"query"`
	Variables     any    `json:"variables,omitempty"`
	OperationName string `json:"operationName,omitempty"`
}

// wireResponse is a GraphQL response as it comes over HTTP. Data is empty
// when the key is absent and "null" when it is null.
type wireResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// MakeRequest implements graphql.Client.
func (c stageClient) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	op := operationOf(req.Query, req.OpName)
	return c.s.request(ctx, req, resp, stageCall{op: op, ops: operationsOf(req.Query, req.OpName), idempotent: op == ast.Query || isIdempotent(ctx)})
}

// stageCall is what the layers of a Stage's transport know of one request
// besides its body: its kind, its operations as Hygraph counts them (a
// Batcher's merged request is counted by its Batcher: parsing it here
// again would cost as much as building it), whether it may be sent again
// after an answer that leaves its effect unknown, whether a 429 goes back
// to its Batcher rather than being retried here (requeue), and the slot a
// Batcher acquired for it before building it (held; nil to acquire one).
type stageCall struct {
	op         ast.Operation
	ops        int
	idempotent bool
	requeue    bool
	held       *heldSlot
}

// request sends req as c and decodes the answer into resp.
func (s *Stage) request(ctx context.Context, req *graphql.Request, resp *graphql.Response, c stageCall) error {
	body, err := json.Marshal(wireRequest{Query: req.Query, Variables: req.Variables, OperationName: req.OpName})
	if err != nil {
		return fmt.Errorf("stage %q: encoding request: %w", s.name, err)
	}
	wr, err := s.send(ctx, body, c)
	if err != nil {
		return err
	}
	if resp == nil {
		resp = &graphql.Response{}
	}
	resp.Extensions = wr.Extensions
	resp.Errors = wr.Errors
	if err := decodeData(wr.Data, resp); err != nil {
		return fmt.Errorf("stage %q: decoding response data: %w", s.name, err)
	}
	if len(wr.Errors) > 0 {
		return &GraphQLError{Stage: s.name, Errors: wr.Errors}
	}
	return nil
}

// decodeData decodes data into resp.Data. A *json.RawMessage receives the
// data as it is ("null" included); other targets are left alone by null or
// absent data.
func decodeData(data json.RawMessage, resp *graphql.Response) error {
	if raw, ok := resp.Data.(*json.RawMessage); ok && raw != nil {
		*raw = append((*raw)[:0], data...)
		return nil
	}
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	if resp.Data == nil {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		resp.Data = v
		return nil
	}
	return json.Unmarshal(data, resp.Data)
}

// operationOf reports the type of the operation that query would run. A
// query that does not parse counts as a mutation (the strictest retry
// policy); the stage will reject it anyway.
func operationOf(query, opName string) ast.Operation {
	if op, ok := opCache.Load(query); ok {
		return op.(ast.Operation)
	}
	op := ast.Mutation
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err == nil {
		for _, o := range doc.Operations {
			if o.Name == opName || len(doc.Operations) == 1 {
				op = o.Operation
				break
			}
		}
	}
	cacheStore(&opCache, &opCacheSize, query, query, op)
	return op
}

// operationsOf is the number of operations (root fields) a request holds
// in Hygraph's count; 1 when it cannot tell.
func operationsOf(query, opName string) int {
	if d := parseDoc(query, opName); d != nil {
		return max(1, len(d.op.SelectionSet))
	}
	return 1
}

// opCache remembers operation types by query text; generated code sends a
// small, fixed set of documents.
var (
	opCache     sync.Map
	opCacheSize atomic.Int64
)

// Bounds of the document caches: at most maxCached entries (the cache
// starts over when full), of queries up to maxCachedQuery bytes.
const (
	maxCached      = 1024
	maxCachedQuery = 8 << 10
)

// cacheStore stores key → v in cache unless query is too long to keep,
// clearing the cache when it is full.
func cacheStore(cache *sync.Map, size *atomic.Int64, query string, key, v any) {
	if len(query) > maxCachedQuery {
		return
	}
	if size.Add(1) > maxCached {
		cache.Clear()
		size.Store(1)
	}
	cache.Store(key, v)
}

// idempotentKey is the context key of the Idempotent mark: the caller's,
// since genqlient's generated functions pass a request nothing else. The
// layers of a Stage's transport pass what they know of a request as a stageCall.
type idempotentKey struct{}

// Idempotent marks ctx: mutations sent with it are safe to repeat (upserts,
// updates, deletes and publishes by id; never creates), so the Stage retries
// them after any retryable failure and never reports ErrMaybeApplied for
// them. Queries need no mark.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// isIdempotent reports whether ctx is marked with Idempotent.
func isIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

// callState follows one logical request through its HTTP attempts.
type callState struct {
	idempotent bool
	requeue    bool                     // see stageCall
	held       atomic.Pointer[heldSlot] // a slot and token acquired ahead (batching)
	ops        opGrant                  // the operations it holds
	attempts   atomic.Int64
	sent       atomic.Bool // an attempt failed after writing its request
}

// heldSlot is a concurrency slot, operations and a rate token acquired
// before the request was built, by a Batcher that waits for the stage
// before draining its queue.
type heldSlot struct {
	epoch   uint64
	limited bool // the rate token had to be waited for
	ops     opGrant
}

// acquire waits for a concurrency slot, at least need (up to want)
// operations of op's kind and a rate token, in that order, honouring ctx.
// withHeld passes them to the next request; shrink gives back operations
// the request will not use; release frees the rest once that request is
// done.
func (s *Stage) acquire(ctx context.Context, op ast.Operation, need, want int) (*heldSlot, func(), error) {
	if err := s.sem.Acquire(ctx, 1); err != nil {
		return nil, nil, err
	}
	g, err := s.ops.acquire(ctx, kindOf(op), need, want)
	if err != nil {
		s.sem.Release(1)
		return nil, nil, err
	}
	epoch, limited, err := s.limiter.waitLimited(ctx)
	if err != nil {
		s.ops.release(g.kind, g.n)
		s.sem.Release(1)
		return nil, nil, err
	}
	h := &heldSlot{epoch: epoch, limited: limited, ops: g}
	var once sync.Once
	release := func() {
		once.Do(func() {
			s.ops.release(h.ops.kind, h.ops.n)
			s.sem.Release(1)
		})
	}
	return h, release, nil
}

// target is the operations of op's kind a merged request should hold: see
// opLimits.perBatch.
func (s *Stage) target(op ast.Operation) int {
	return s.ops.perBatch(kindOf(op), s.limiter.throughput())
}

// shrink gives back the operations of h beyond n, before its request is
// sent. A batch that uses every operation granted stays saturated: it took
// the last free ones.
func (s *Stage) shrink(h *heldSlot, n int) {
	if h == nil || n >= h.ops.n {
		return
	}
	s.ops.release(h.ops.kind, h.ops.n-n)
	h.ops.n = n
	// It did not need every free operation: saturated only if it waited.
	h.ops.saturated = h.ops.waited
}

// send posts one GraphQL request body as c and returns the decoded answer
// of a 200 response, or a typed error. Its layers: the scheduler's slot
// and operations (held by c, or acquired here), the retries
// (go-retryablehttp, with this call's policy), and per HTTP attempt the
// rate token and the scheduler's accounting (transport).
func (s *Stage) send(ctx context.Context, body []byte, c stageCall) (*wireResponse, error) {
	op, ops := c.op, c.ops
	st := &callState{idempotent: op == ast.Query || c.idempotent, requeue: c.requeue}
	if h := c.held; h != nil {
		// The slot is the caller's to release; this request uses it once.
		st.held.Store(h)
		st.ops = h.ops
	} else {
		if err := s.sem.Acquire(ctx, 1); err != nil {
			return nil, err
		}
		defer s.sem.Release(1)
		g, err := s.ops.acquire(ctx, kindOf(op), ops, ops)
		if err != nil {
			return nil, err
		}
		defer s.ops.release(g.kind, g.n)
		st.ops = g
	}
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)

	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("stage %q: %w", s.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, vs := range s.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+string(s.token))
	}

	resp, err := s.client(st).Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		err = s.redactErr(err)
		if !st.idempotent && st.sent.Load() {
			return nil, maybeApplied(fmt.Errorf("stage %q: %w", s.name, err))
		}
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, err
		}
		return nil, fmt.Errorf("stage %q: %w", s.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		err = fmt.Errorf("stage %q: reading response: %w", s.name, s.redactErr(err))
		if !st.idempotent {
			return nil, maybeApplied(err)
		}
		return nil, err
	}

	if resp.StatusCode != http.StatusOK {
		herr := &HTTPError{Stage: s.name, StatusCode: resp.StatusCode, Body: s.redact(truncate(data, maxErrorBody))}
		var wr wireResponse
		if json.Unmarshal(data, &wr) == nil {
			herr.Errors = s.redactList(wr.Errors)
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			ra, _ := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			return nil, &RateLimitError{Stage: s.name, RetryAfter: ra, Err: herr}
		case resp.StatusCode >= 500 && !st.idempotent:
			return nil, maybeApplied(herr)
		}
		return nil, herr
	}

	var wr wireResponse
	if err := json.Unmarshal(data, &wr); err != nil {
		err = fmt.Errorf("stage %q: response is not a GraphQL response: %w", s.name, err)
		if !st.idempotent {
			return nil, maybeApplied(err)
		}
		return nil, err
	}
	wr.Errors = s.redactList(wr.Errors)
	if len(wr.Data) == 0 && len(wr.Errors) == 0 {
		return nil, fmt.Errorf("stage %q: response has neither data nor errors", s.name)
	}
	return &wr, nil
}

// transport applies the stage's rate limit to every HTTP attempt, feeds the
// answers to the adaptive limiter, and marks transport errors that happened
// before the request was written.
type transport struct {
	stage *Stage
	base  http.RoundTripper
	st    *callState // the call whose attempts it sends
}

// notSentError is a transport error that happened before any of the request
// was written, so the stage cannot have acted on it.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.stage
	ctx := req.Context()
	st := t.st
	var epoch uint64
	var limited bool
	if h := heldOf(st); h != nil {
		epoch, limited = h.epoch, h.limited
	} else {
		var err error
		if epoch, limited, err = s.limiter.waitLimited(ctx); err != nil {
			return nil, &notSentError{err}
		}
	}
	if st != nil && st.attempts.Add(1) > 1 {
		s.retries.Add(1)
	}
	s.requests.Add(1)
	s.limiter.sent()

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	}
	var g opGrant
	if st != nil {
		g = s.ops.sending(st.ops)
	}
	sentAt := time.Now()
	resp, err := t.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	s.ops.answered(g)
	if err != nil {
		if !wrote.Load() {
			return nil, &notSentError{err}
		}
		if st != nil {
			st.sent.Store(true)
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusOK && st != nil {
		s.ops.took(st.ops.kind, st.ops.n, time.Since(sentAt))
	}
	throttled := resp.StatusCode == http.StatusTooManyRequests
	var ra time.Duration
	if throttled {
		s.throttled.Add(1)
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			ra = capRetryAfter(d, s.retryAfterCap)
		}
	}
	if throttled || resp.StatusCode < 500 {
		s.observe(epoch, limited, g, throttled, ra)
	}
	return resp, nil
}

// observe feeds an answer to the scheduler. A 429 decreases what blame
// names (the rate, the operations in flight of g's kind, or both), and a
// Retry-After pauses the stage either way; a success counts toward an
// increase of what held the request back: the rate when it waited for a
// token, the operations when it was saturated.
func (s *Stage) observe(epoch uint64, rateLimited bool, g opGrant, throttled bool, retryAfter time.Duration) {
	opsSaturated := g.saturated && g.n > 0
	if throttled {
		// A rate the stage took before is not to blame.
		rateSuspect := s.limiter.suspect()
		s.ops.hush()
		blameRate, blameOps := blame(rateLimited && rateSuspect, opsSaturated)
		if !s.ops.on || s.ops.innocent(g) {
			// Only the rate is left to blame. (A Hobby stage at its rate
			// answers 429 to requests held back by operations too; put
			// down to them, the 429s cut the operations again and again
			// and never the rate.)
			blameRate, blameOps = true, false
		}
		// Blamed together, each takes half the cut: one of them was wrong.
		both := blameRate && blameOps
		if blameRate {
			s.limiter.throttle(epoch, retryAfter, both)
		} else {
			s.limiter.honour(retryAfter)
		}
		if blameOps {
			s.ops.throttle(g, both)
		}
		return
	}
	switch {
	case !s.ops.on:
		s.limiter.observe(epoch, false, 0)
	case rateLimited:
		s.limiter.grow()
	}
	if opsSaturated {
		s.ops.observe(g, false)
	}
}

// heldOf takes the pre-acquired slot of st, if any, for the first attempt.
func heldOf(st *callState) *heldSlot {
	if st == nil {
		return nil
	}
	return st.held.Swap(nil)
}

// truncate returns at most n bytes of b as a string.
func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n])
	}
	return string(b)
}

// secret is a token that never prints.
type secret string

func (secret) String() string               { return "[REDACTED]" }
func (secret) GoString() string             { return "[REDACTED]" }
func (secret) LogValue() slog.Value         { return slog.StringValue("[REDACTED]") }
func (secret) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

// redact removes the token from s.
func (s *Stage) redact(text string) string {
	if s.token == "" || len(s.token) < 4 {
		return text
	}
	return strings.ReplaceAll(text, string(s.token), "[REDACTED]")
}

// redactList removes the token from error messages, should a server echo it.
func (s *Stage) redactList(errs gqlerror.List) gqlerror.List {
	for _, e := range errs {
		if e != nil {
			e.Message = s.redact(e.Message)
		}
	}
	return errs
}

// redactErr returns err, or an error with the same chain and a redacted
// message if the message contains the token.
func (s *Stage) redactErr(err error) error {
	if err == nil || s.token == "" || !strings.Contains(err.Error(), string(s.token)) {
		return err
	}
	return &redactedError{msg: s.redact(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// slogAdapter routes go-retryablehttp's logs to the stage's slog.Logger,
// with the stage named and the token redacted.
type slogAdapter struct{ s *Stage }

func (a slogAdapter) log(level slog.Level, msg string, kv []any) {
	args := make([]any, 0, len(kv)+2)
	args = append(args, slog.String("stage", a.s.name))
	for _, v := range kv {
		switch x := v.(type) {
		case string:
			v = a.s.redact(x)
		case error:
			v = a.s.redact(x.Error())
		}
		args = append(args, v)
	}
	a.s.log.Log(context.Background(), level, a.s.redact(msg), args...)
}

func (a slogAdapter) Error(msg string, kv ...any) { a.log(slog.LevelError, msg, kv) }
func (a slogAdapter) Info(msg string, kv ...any)  { a.log(slog.LevelInfo, msg, kv) }
func (a slogAdapter) Debug(msg string, kv ...any) { a.log(slog.LevelDebug, msg, kv) }
func (a slogAdapter) Warn(msg string, kv ...any)  { a.log(slog.LevelWarn, msg, kv) }
