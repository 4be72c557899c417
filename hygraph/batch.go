package hygraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"golang.org/x/sync/semaphore"
)

// Defaults of a Batcher; see the options that change them.
const (
	// defaultMaxBytes is the request body budget of a batch of mutations;
	// it fits Hygraph's smallest mutation cap (30 KB).
	defaultMaxBytes = 30_000
	// defaultMaxQueryBytes is the request body budget of a batch of
	// queries; it fits Hygraph's smallest query cap (10 KB).
	defaultMaxQueryBytes = 10_000
	// defaultMaxOps is the most operations merged into one request.
	defaultMaxOps = 50
	// defaultMaxInFlight bounds the batches in flight when the next client
	// is not a Stage's (a Stage's own concurrency bound applies otherwise).
	defaultMaxInFlight = 4
)

// minBytes is the floor of the adaptive byte budget.
const minBytes = 1 << 10

// Batcher is a graphql.Client that coalesces concurrent requests into fewer
// HTTP requests. Generated genqlient functions use it unchanged.
//
// Each request must be a single query or mutation whose root selection set
// holds fields only (what genqlient generates); anything else passes through
// to the next client on its own. Requests of the same kind — queries,
// idempotent mutations (see Idempotent), other mutations — waiting at the
// same time are merged into one document: request i's variables are renamed
// ($where → $r3_where), its root fields aliased (r3_<response key>) and its
// fragments renamed (r3_Frag). The response is split back: each caller gets
// its own root fields under their original keys, and the errors whose path
// starts at one of its fields, with that path rewritten (their locations,
// which point into the merged document, are dropped); errors without a
// path go to every caller. A merged request stays within a byte budget and an
// operation count; a request over the budget is sent alone. Mutations of one
// batch run in document order, like the root fields of any request.
//
// Flush policy: a Batcher adds no latency when the stage is idle. It sends
// as soon as the stage can take a request — for a Stage's client, once a
// concurrency slot and a rate-limit token are free — and whatever accumulated
// while it waited forms the next batch. Under a strict rate limit that makes
// batches as large as the budget allows, which is where batching pays.
//
// Failures: a failed HTTP request fails every caller in it with the same
// typed error, except that a 413 halves the byte budget and re-sends, and a
// 400, or a response with null data and only path-less errors (a request
// error: nothing ran), re-sends the batch in halves, and those in halves, so
// that the faulty request gets its own error in about 2·log₂(n) requests. A caller whose fields are missing from a partial
// response without an error of its own is re-sent alone when that is safe
// (queries, idempotent mutations) and gets an error matching
// ErrMaybeApplied otherwise.
//
// A merged request runs under a context of its own that is cancelled when
// every caller's context is; values of the callers' contexts do not reach the
// next client, except the Idempotent mark, which a batch of idempotent
// mutations carries.
type Batcher struct {
	next  graphql.Client
	gate  gate
	stage string

	maxOps   int
	maxBytes [2]atomic.Int64 // by batchKind.budget()

	// The byte budgets recover after a 413: ceiling is the most they grow
	// back to (3/4 of a budget that got a 413), configured what they
	// started from, fits the merged requests answered since the last change.
	budgetMu   sync.Mutex
	configured [2]int64
	ceiling    [2]int64
	fits       [2]int

	mu      sync.Mutex
	queue   []*item
	running bool

	requests, operations, isolated atomic.Int64
	groups                         atomic.Uint64 // the last group number given
}

// BatchOption configures a Batcher.
type BatchOption func(*batchConfig)

type batchConfig struct {
	maxBytes, maxQueryBytes, maxOps, maxInFlight int
	bytesSet                                     bool // WithMaxBytes was given
}

// WithMaxBytes sets the request body budget of a merged request, for
// mutations and queries alike (defaults: 30,000 bytes for mutations,
// 10,000 for queries).
func WithMaxBytes(n int) BatchOption {
	return func(c *batchConfig) {
		if n > 0 {
			c.maxBytes, c.maxQueryBytes, c.bytesSet = n, n, true
		}
	}
}

// WithMaxOps sets the most requests merged into one (default 50; 1 turns
// batching off).
func WithMaxOps(n int) BatchOption {
	return func(c *batchConfig) {
		if n > 0 {
			c.maxOps = n
		}
	}
}

// WithMaxInFlight bounds the merged requests in flight when next is not a
// Stage's client (default 4). A Stage's client uses the stage's own bound.
func WithMaxInFlight(n int) BatchOption {
	return func(c *batchConfig) {
		if n > 0 {
			c.maxInFlight = n
		}
	}
}

// NewBatcher returns a Batcher sending through next, typically
// Stage.Client(). Over a Stage with plan limits (WithPlanLimits), the
// byte budgets default to the plan's and no merged request holds more
// operations than the stage's scheduler lets be in flight.
func NewBatcher(next graphql.Client, opts ...BatchOption) *Batcher {
	cfg := batchConfig{
		maxBytes:      defaultMaxBytes,
		maxQueryBytes: defaultMaxQueryBytes,
		maxOps:        defaultMaxOps,
		maxInFlight:   defaultMaxInFlight,
	}
	for _, o := range opts {
		o(&cfg)
	}
	b := &Batcher{next: next, maxOps: cfg.maxOps}
	if sc, ok := next.(stageClient); ok {
		b.gate = sc.s
		b.stage = sc.s.name
		if !cfg.bytesSet && sc.s.bodies[0] > 0 && sc.s.bodies[1] > 0 {
			cfg.maxQueryBytes, cfg.maxBytes = sc.s.bodies[0], sc.s.bodies[1]
		}
	} else {
		b.gate = semGate{semaphore.NewWeighted(int64(cfg.maxInFlight))}
	}
	b.configured = [2]int64{int64(cfg.maxQueryBytes), int64(cfg.maxBytes)}
	b.ceiling = b.configured
	b.maxBytes[0].Store(int64(cfg.maxQueryBytes))
	b.maxBytes[1].Store(int64(cfg.maxBytes))
	return b
}

// BatchStats counts a Batcher's traffic.
type BatchStats struct {
	// Requests is the number of requests sent to the next client.
	Requests int64
	// Operations is the number of caller requests answered through them.
	Operations int64
	// Isolated is the number of caller requests re-sent alone after their
	// batch failed as a whole or lost their data.
	Isolated int64
}

// Stats returns the Batcher's counters.
func (b *Batcher) Stats() BatchStats {
	return BatchStats{Requests: b.requests.Load(), Operations: b.operations.Load(), Isolated: b.isolated.Load()}
}

// gate says when the next client can take a request: acquire waits until
// it can take one of want operations of op's kind (at least need, fewer
// than want when it cannot take so many at all) and grants them; shrink
// gives back what the batch does not use.
type gate interface {
	acquire(ctx context.Context, op ast.Operation, need, want int) (*heldSlot, func(), error)
	shrink(h *heldSlot, n int)
	// target is the operations of op's kind a merged request should hold.
	target(op ast.Operation) int
}

// semGate is the gate of a client that is not a Stage's: requests in
// flight are bounded, operations are not.
type semGate struct{ sem *semaphore.Weighted }

func (g semGate) acquire(ctx context.Context, _ ast.Operation, _, want int) (*heldSlot, func(), error) {
	if err := g.sem.Acquire(ctx, 1); err != nil {
		return nil, nil, err
	}
	var once sync.Once
	return &heldSlot{ops: opGrant{n: want}}, func() { once.Do(func() { g.sem.Release(1) }) }, nil
}

func (semGate) shrink(*heldSlot, int) {}

func (semGate) target(ast.Operation) int { return math.MaxInt }

// batchKind is what may share a request.
type batchKind struct {
	op         ast.Operation
	idempotent bool
}

func (k batchKind) budget() int {
	if k.op == ast.Query {
		return 0
	}
	return 1
}

// item is one caller's request waiting for, or in, a batch.
type item struct {
	ctx   context.Context
	req   *graphql.Request
	doc   *parsedDoc
	vars  map[string]json.RawMessage
	kind  batchKind
	done  chan result
	state itemState
	alone bool   // send the original request on its own
	group uint64 // when not 0, merged only with the items of its group
	ops   int    // operations (root fields) it holds
	// throttled counts the merged requests of it answered 429 and
	// re-batched; past maxRebatch it fails with the 429.
	throttled int

	// set when taken into a batch of several
	prefix string
	pieces pieces
}

type itemState int

const (
	queued itemState = iota
	dropped
	taken
)

// result is what a batch hands back to one caller.
type result struct {
	data json.RawMessage
	errs gqlerror.List
	ext  map[string]any
	err  error
}

// MakeRequest implements graphql.Client.
func (b *Batcher) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	doc := parseDoc(req.Query, req.OpName)
	if doc == nil || b.maxOps == 1 {
		return b.next.MakeRequest(ctx, req, resp)
	}
	vars, err := declaredVars(req.Variables, doc.op)
	if err != nil {
		return fmt.Errorf("batch: encoding variables: %w", err)
	}
	it := &item{
		ctx:  ctx,
		req:  req,
		doc:  doc,
		vars: vars,
		kind: batchKind{op: doc.op.Operation, idempotent: doc.op.Operation == ast.Query || isIdempotent(ctx)},
		done: make(chan result, 1),
		ops:  max(1, len(doc.op.SelectionSet)),
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.enqueue(false, it)
	select {
	case r := <-it.done:
		return b.deliver(r, resp)
	case <-ctx.Done():
		if b.withdraw(it) || it.kind.idempotent {
			return ctx.Err()
		}
		return maybeApplied(ctx.Err())
	}
}

// deliver hands a result to the caller's response.
func (b *Batcher) deliver(r result, resp *graphql.Response) error {
	if r.err != nil {
		return r.err
	}
	if resp == nil {
		resp = &graphql.Response{}
	}
	resp.Extensions = r.ext
	resp.Errors = r.errs
	if err := decodeData(r.data, resp); err != nil {
		if b.stage == "" {
			return fmt.Errorf("batch: decoding response data: %w", err)
		}
		return fmt.Errorf("stage %q: decoding response data: %w", b.stage, err)
	}
	if len(r.errs) > 0 {
		return &GraphQLError{Stage: b.stage, Errors: r.errs}
	}
	return nil
}

// enqueue adds items (at the front when front is set) and makes sure a
// dispatcher runs.
func (b *Batcher) enqueue(front bool, items ...*item) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, it := range items {
		it.state = queued
	}
	if front {
		b.queue = append(append(make([]*item, 0, len(items)+len(b.queue)), items...), b.queue...)
	} else {
		b.queue = append(b.queue, items...)
	}
	if !b.running {
		b.running = true
		go b.dispatch()
	}
}

// withdraw removes a cancelled caller's item and reports whether it had not
// been sent.
func (b *Batcher) withdraw(it *item) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch it.state {
	case dropped:
		return true
	case queued:
		for i, q := range b.queue {
			if q == it {
				b.queue = append(b.queue[:i], b.queue[i+1:]...)
				break
			}
		}
		it.state = dropped
		return true
	}
	return false
}

// dispatch sends batches while items wait: it waits until the next client
// can take a request, then takes a batch of whatever is queued.
func (b *Batcher) dispatch() {
	for {
		b.mu.Lock()
		b.prune()
		if len(b.queue) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		head := b.queue[0]
		op := head.kind.op
		// Wait for the operations of a whole batch, the stage's target
		// (without a plan: every free one): sending fewer as soon as some
		// are free would spend a request, and a rate token, on a sliver.
		// What queues while they and the token are awaited joins the
		// batch; shrink gives back what it does not use.
		need, want := head.ops, b.gate.target(op)
		b.mu.Unlock()

		held, release, err := b.gate.acquire(context.Background(), op, need, want)
		if err != nil { // cannot happen with a background context
			b.failAll(err)
			continue
		}
		b.mu.Lock()
		b.prune()
		var batch []*item
		if len(b.queue) > 0 && b.queue[0].kind.op == op && b.queue[0].ops <= held.ops.n {
			batch = b.take(held.ops.n)
		}
		b.mu.Unlock()
		if len(batch) == 0 {
			release()
			continue
		}
		used := 0
		for _, it := range batch {
			used += it.ops
		}
		b.gate.shrink(held, used)
		go b.send(held, release, batch)
	}
}

// failAll fails every queued item.
func (b *Batcher) failAll(err error) {
	b.mu.Lock()
	q := b.queue
	b.queue = nil
	for _, it := range q {
		it.state = taken
	}
	b.mu.Unlock()
	for _, it := range q {
		it.done <- result{err: err}
	}
}

// prune drops the items of callers that gave up. b.mu is held.
func (b *Batcher) prune() {
	q := b.queue[:0]
	for _, it := range b.queue {
		if it.ctx.Err() != nil {
			it.state = dropped
			continue
		}
		q = append(q, it)
	}
	clear(b.queue[len(q):])
	b.queue = q
}

// Envelope of a merged request body, counted at its largest (a client that
// always sends operationName).
const (
	bodyHead = `{"query":"`
	bodyMid  = `","variables":{`
	bodyTail = `},"operationName":""}`
)

// take removes the next batch from the queue: the first item and, unless it
// must go alone, the following items of its kind that fit in the budget.
// b.mu is held.
func (b *Batcher) take(ops int) []*item {
	if len(b.queue) == 0 {
		return nil
	}
	head := b.queue[0]
	if head.alone {
		b.queue = b.queue[1:]
		head.state = taken
		return []*item{head}
	}
	kind, group := head.kind, head.group
	budget := int(b.maxBytes[kind.budget()].Load())
	size := len(bodyHead) + len(kind.op) + 2 + len(bodyMid) + len(bodyTail)
	var batch []*item
	rest := b.queue[:0]
	full := false
	opsTaken := 0
	for _, it := range b.queue {
		if full || it.alone || it.kind != kind || it.group != group {
			rest = append(rest, it)
			continue
		}
		if len(batch) > 0 && opsTaken+it.ops > ops {
			// Over the operations the stage lets be in flight; a later,
			// smaller item may still fit.
			rest = append(rest, it)
			continue
		}
		prefix := "r" + strconv.Itoa(len(batch)) + "_"
		p := render(it.doc, it.vars, prefix)
		n := p.size(len(batch) == 0)
		if len(batch) > 0 && size+n > budget {
			full = true
			rest = append(rest, it)
			continue
		}
		size += n
		opsTaken += it.ops
		it.prefix, it.pieces, it.state = prefix, p, taken
		batch = append(batch, it)
		full = len(batch) == b.maxOps
	}
	clear(b.queue[len(rest):])
	b.queue = rest
	return batch
}

// send sends one batch and hands out the results.
// do sends batch's request (req: the one item's, or the merged one) to the
// next client: to a Stage as a stageCall with the batch's kind, operations and
// held slot; to another client as a plain request.
func (b *Batcher) do(ctx context.Context, req *graphql.Request, resp *graphql.Response, batch []*item, held *heldSlot) error {
	sc, ok := b.next.(stageClient)
	if !ok {
		return b.next.MakeRequest(ctx, req, resp)
	}
	ops := 0
	for _, it := range batch {
		ops += it.ops
	}
	c := stageCall{op: batch[0].kind.op, ops: max(ops, 1), idempotent: batch[0].kind.idempotent, held: held,
		requeue: len(batch) > 1 && b.rebatches(batch)}
	return sc.s.request(ctx, req, resp, c)
}

func (b *Batcher) send(held *heldSlot, release func(), batch []*item) {
	defer release()
	if _, ok := b.gate.(*Stage); !ok {
		held = nil // a semGate's grant is the Batcher's own: nothing for the next client
	}
	ctx, cancel := mergedContext(batch)
	defer cancel()
	do := func(req *graphql.Request, resp *graphql.Response) error { return b.do(ctx, req, resp, batch, held) }
	b.requests.Add(1)

	if len(batch) == 1 {
		it := batch[0]
		var raw json.RawMessage
		resp := &graphql.Response{Data: &raw}
		err := do(it.req, resp)
		var gerr *GraphQLError
		switch {
		case err == nil:
		case (errors.As(err, &gerr) || isErrorList(err)) && !errors.Is(err, ErrMaybeApplied):
			err = nil
		default:
			if ctx.Err() != nil && !it.kind.idempotent && !errors.Is(err, ErrMaybeApplied) {
				err = maybeApplied(err)
			}
		}
		b.operations.Add(1)
		it.done <- result{data: raw, errs: resp.Errors, ext: resp.Extensions, err: err}
		return
	}

	req := merge(batch)
	var raw json.RawMessage
	resp := &graphql.Response{Data: &raw}
	err := do(req, resp)
	var gerr *GraphQLError
	status := statusOf(err)
	switch {
	case err == nil || (errors.As(err, &gerr) || isErrorList(err)) && !errors.Is(err, ErrMaybeApplied):
		b.fitted(batch[0].kind.budget())
		b.split(batch, raw, resp)
		return
	case status == http.StatusRequestEntityTooLarge:
		// The stage's cap is lower than our budget: learn it and re-send.
		if b.tooLarge(batch[0].kind.budget()) {
			b.requeue(false, batch)
		} else {
			b.requeue(true, batch)
		}
		return
	case status == http.StatusTooManyRequests && b.rebatches(batch):
		// Not acted on, and refused as a whole: merge again under the
		// limits the scheduler has just lowered.
		for _, it := range batch {
			it.throttled++
		}
		b.requeue(false, batch)
		return
	case status == http.StatusBadRequest:
		// A request error: nothing ran. Find out whose it is.
		b.halve(batch)
		return
	}
	if ctx.Err() != nil && !batch[0].kind.idempotent && !errors.Is(err, ErrMaybeApplied) {
		err = maybeApplied(err)
	}
	b.operations.Add(int64(len(batch)))
	for _, it := range batch {
		it.done <- result{err: err}
	}
}

// statusOf returns the HTTP status of an error answer from a Stage's or a
// plain genqlient client, or 0.
// maxRebatch is how many times a caller's request is merged again after
// a 429 before it fails with it.
const maxRebatch = defaultRetryMax

// rebatches reports whether a 429 to batch sends its callers back to the
// queue rather than to the stage's retries: when the stage schedules
// operations (a plan; see WithPlanLimits), which the 429 has lowered, and
// no caller has been re-batched maxRebatch times.
func (b *Batcher) rebatches(batch []*item) bool {
	s, ok := b.gate.(*Stage)
	if !ok || !s.ops.on || len(batch) < 2 {
		return false
	}
	for _, it := range batch {
		if it.throttled >= maxRebatch {
			return false
		}
	}
	return true
}

// budgetRecovery is the number of merged requests answered without a 413
// after which a byte budget grows back by a quarter, up to its ceiling.
const budgetRecovery = 16

// tooLarge halves byte budget k after a 413 and lowers its ceiling to 3/4
// of the budget that was too large; it reports false when the budget is
// at its floor already.
func (b *Batcher) tooLarge(k int) bool {
	b.budgetMu.Lock()
	defer b.budgetMu.Unlock()
	cur := b.maxBytes[k].Load()
	if cur <= minBytes {
		return false
	}
	b.ceiling[k] = max(min(b.ceiling[k], cur*3/4), minBytes)
	b.maxBytes[k].Store(max(cur/2, minBytes))
	b.fits[k] = 0
	return true
}

// fitted counts a merged request of budget k answered without a 413, and
// grows the budget back after budgetRecovery of them.
func (b *Batcher) fitted(k int) {
	b.budgetMu.Lock()
	defer b.budgetMu.Unlock()
	cur := b.maxBytes[k].Load()
	if cur >= b.ceiling[k] {
		return
	}
	if b.fits[k]++; b.fits[k] < budgetRecovery {
		return
	}
	b.fits[k] = 0
	b.maxBytes[k].Store(min(b.ceiling[k], cur+max(cur/4, 1)))
}

func statusOf(err error) int {
	if errors.Is(err, ErrMaybeApplied) {
		return 0
	}
	var herr *HTTPError
	if errors.As(err, &herr) {
		return herr.StatusCode
	}
	var gerr *graphql.HTTPError
	if errors.As(err, &gerr) {
		return gerr.StatusCode
	}
	return 0
}

// isErrorList reports whether err is a bare gqlerror.List, as a plain
// genqlient client returns for a response with errors.
func isErrorList(err error) bool {
	var list gqlerror.List
	return errors.As(err, &list) && !errors.Is(err, ErrMaybeApplied)
}

// requeue puts a batch back at the front of the queue, each item alone if
// alone is set.
func (b *Batcher) requeue(alone bool, batch []*item) {
	for _, it := range batch {
		if alone {
			it.alone = true
			b.isolated.Add(1)
		}
		it.prefix, it.pieces = "", pieces{}
	}
	b.enqueue(true, batch...)
}

// halve puts a batch that failed as a whole (a request error: nothing ran)
// back at the front of the queue in two halves, each merged only within
// itself, so that the faulty request is found in about 2·log₂(n) requests
// rather than n (up to 4, each goes alone: no fewer requests either way).
func (b *Batcher) halve(batch []*item) {
	if len(batch) <= 4 {
		b.requeue(true, batch)
		return
	}
	mid := len(batch) / 2
	for _, half := range [][]*item{batch[:mid], batch[mid:]} {
		g := b.groups.Add(1)
		for _, it := range half {
			it.group = g
			if len(half) == 1 {
				it.alone = true
				b.isolated.Add(1)
			}
			it.prefix, it.pieces = "", pieces{}
		}
	}
	b.enqueue(true, batch...)
}

// split hands each caller its part of a merged response.
func (b *Batcher) split(batch []*item, raw json.RawMessage, resp *graphql.Response) {
	var data map[string]json.RawMessage
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &data); err != nil {
			err = fmt.Errorf("stage %q: batch response data is not an object: %w", b.stage, err)
			if !batch[0].kind.idempotent {
				err = maybeApplied(err)
			}
			b.operations.Add(int64(len(batch)))
			for _, it := range batch {
				it.done <- result{err: err}
			}
			return
		}
	}

	own := make([]gqlerror.List, len(batch))
	var shared gqlerror.List
	for _, e := range resp.Errors {
		if e == nil {
			continue
		}
		i, key, ok := ownerOf(e.Path, len(batch))
		if !ok {
			c := *e
			c.Locations = nil
			shared = append(shared, &c)
			continue
		}
		c := *e
		c.Locations = nil
		c.Path = append(ast.Path{ast.PathName(key)}, e.Path[1:]...)
		own[i] = append(own[i], &c)
	}

	if data == nil && len(shared) > 0 && allEmpty(own) {
		// Null data and only path-less errors: a request error, so
		// nothing ran. Re-send it in halves to find whose it is.
		b.halve(batch)
		return
	}

	var again []*item
	for i, it := range batch {
		errs := append(own[i], shared...)
		obj, complete := it.extract(data)
		if !complete && len(own[i]) == 0 {
			if it.kind.idempotent {
				again = append(again, it)
				continue
			}
			b.operations.Add(1)
			it.done <- result{err: maybeApplied(&GraphQLError{Stage: b.stage, Errors: errs})}
			continue
		}
		var ext map[string]any
		if resp.Extensions != nil {
			ext = maps.Clone(resp.Extensions)
		}
		b.operations.Add(1)
		it.done <- result{data: obj, errs: errs, ext: ext}
	}
	if len(again) > 0 {
		b.requeue(true, again)
	}
}

func allEmpty(l []gqlerror.List) bool {
	for _, e := range l {
		if len(e) > 0 {
			return false
		}
	}
	return true
}

// extract builds the caller's data object from the merged data, under the
// caller's own keys, and reports whether every key was there.
func (it *item) extract(data map[string]json.RawMessage) (json.RawMessage, bool) {
	if data == nil {
		return json.RawMessage("null"), false
	}
	var buf []byte
	buf = append(buf, '{')
	complete := true
	for i, key := range it.doc.keys {
		v, ok := data[it.prefix+key]
		if !ok {
			complete = false
			v = json.RawMessage("null")
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendQuote(buf, key) // keys are GraphQL names: no escaping differs
		buf = append(buf, ':')
		buf = append(buf, v...)
	}
	buf = append(buf, '}')
	return buf, complete
}

// ownerOf finds which of n batched requests a response path belongs to and
// the original key of its root field.
func ownerOf(path ast.Path, n int) (int, string, bool) {
	if len(path) == 0 {
		return 0, "", false
	}
	name, ok := path[0].(ast.PathName)
	if !ok {
		return 0, "", false
	}
	s := string(name)
	if len(s) < 3 || s[0] != 'r' {
		return 0, "", false
	}
	us := strings.IndexByte(s, '_')
	if us < 2 {
		return 0, "", false
	}
	i, err := strconv.Atoi(s[1:us])
	if err != nil || i < 0 || i >= n || s[1:us] != strconv.Itoa(i) {
		return 0, "", false
	}
	return i, s[us+1:], true
}

// mergedContext is the context of a request serving several callers: not
// cancelled until all of theirs are; for a batch of idempotent mutations,
// it carries the Idempotent mark to a next client other than a Stage (a
// Stage is told as a stageCall; see Batcher.do).
func mergedContext(batch []*item) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if batch[0].kind.idempotent && batch[0].kind.op == ast.Mutation {
		ctx = Idempotent(ctx)
	}
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, 0, len(batch))
	for _, it := range batch {
		stops = append(stops, context.AfterFunc(it.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// merge builds the request of a batch from its items' rendered pieces.
func merge(batch []*item) *graphql.Request {
	var q strings.Builder
	q.WriteString(string(batch[0].kind.op))
	n := 0
	for _, it := range batch {
		if it.pieces.varDefs == "" {
			continue
		}
		if n == 0 {
			q.WriteByte('(')
		} else {
			q.WriteByte(',')
		}
		q.WriteString(it.pieces.varDefs)
		n++
	}
	if n > 0 {
		q.WriteByte(')')
	}
	q.WriteByte('{')
	for i, it := range batch {
		if i > 0 {
			q.WriteByte(' ')
		}
		q.WriteString(it.pieces.fields)
	}
	q.WriteByte('}')
	for _, it := range batch {
		if it.pieces.frags != "" {
			q.WriteByte(' ')
			q.WriteString(it.pieces.frags)
		}
	}
	var vars map[string]json.RawMessage
	for _, it := range batch {
		for k, v := range it.vars {
			if vars == nil {
				vars = make(map[string]json.RawMessage)
			}
			vars[it.prefix+k] = v
		}
	}
	req := &graphql.Request{Query: q.String()}
	if vars != nil {
		req.Variables = vars
	}
	return req
}

// parsedDoc is a request document that can be batched.
type parsedDoc struct {
	op    *ast.OperationDefinition
	frags ast.FragmentDefinitionList
	keys  []string // response keys of the root fields, in order, unique
}

// docCache keeps parsed documents by query text; generated code sends a
// small, fixed set of documents. A nil entry marks a document that cannot
// be batched.
var (
	docCache     sync.Map
	docCacheSize atomic.Int64
)

// parseDoc parses a request document and returns nil unless it can be
// batched: one query or mutation, named opName if that is set, without
// operation directives, whose root selections are all fields.
func parseDoc(query, opName string) *parsedDoc {
	type key struct{ query, op string }
	k := key{query, opName}
	if d, ok := docCache.Load(k); ok {
		return d.(*parsedDoc)
	}
	d := parseDocUncached(query, opName)
	cacheStore(&docCache, &docCacheSize, query, k, d)
	return d
}

func parseDocUncached(query, opName string) *parsedDoc {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil || len(doc.Operations) != 1 {
		return nil
	}
	op := doc.Operations[0]
	if opName != "" && op.Name != opName {
		return nil
	}
	if op.Operation != ast.Query && op.Operation != ast.Mutation || len(op.Directives) > 0 || len(op.SelectionSet) == 0 {
		return nil
	}
	for _, f := range doc.Fragments {
		if len(f.VariableDefinition) > 0 {
			return nil
		}
	}
	d := &parsedDoc{op: op, frags: doc.Fragments}
	seen := map[string]bool{}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			return nil
		}
		k := responseKey(f)
		if !seen[k] {
			seen[k] = true
			d.keys = append(d.keys, k)
		}
	}
	return d
}

func responseKey(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

// declaredVars encodes a request's variables as JSON values by name, keeping
// only those the operation declares.
func declaredVars(v any, op *ast.OperationDefinition) (map[string]json.RawMessage, error) {
	if v == nil || len(op.VariableDefinitions) == 0 {
		return nil, nil
	}
	var all map[string]json.RawMessage
	switch x := v.(type) {
	case map[string]json.RawMessage:
		all = x
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if string(raw) == "null" {
			return nil, nil
		}
		if err := json.Unmarshal(raw, &all); err != nil {
			return nil, err
		}
	}
	out := make(map[string]json.RawMessage, len(op.VariableDefinitions))
	for _, def := range op.VariableDefinitions {
		if raw, ok := all[def.Variable]; ok {
			out[def.Variable] = raw
		}
	}
	return out, nil
}

// pieces is one request rendered with its prefix, ready to merge.
type pieces struct {
	varDefs string // "$r0_a:ID!,$r0_b:String"
	fields  string // "r0_x:x(a:$r0_a){...} r0_y:y"
	frags   string // "fragment r0_F on T{...} ..."
	vars    int    // bytes of the variables in the body: "r0_a":value, ...
}

// size is the number of body bytes the pieces add to a batch.
func (p pieces) size(first bool) int {
	n := jsonLen(p.varDefs) + jsonLen(p.fields) + jsonLen(p.frags) + p.vars
	if !first {
		n++ // ' ' between root fields
	}
	if p.varDefs != "" {
		n += 2 // '(' or ',' before the definitions, and the ')' (counted for each)
	}
	if p.frags != "" {
		n++
	}
	return n
}

// jsonLen is the length of s escaped inside a JSON string.
func jsonLen(s string) int {
	if s == "" {
		return 0
	}
	b, _ := json.Marshal(s)
	return len(b) - 2
}

// render prints a request with every name it introduces prefixed.
func render(d *parsedDoc, vars map[string]json.RawMessage, prefix string) pieces {
	p := printer{prefix: prefix}
	for i, def := range d.op.VariableDefinitions {
		if i > 0 {
			p.WriteByte(',')
		}
		p.WriteString("$" + prefix + def.Variable + ":" + def.Type.String())
		if def.DefaultValue != nil {
			p.WriteByte('=')
			p.value(def.DefaultValue)
		}
		p.directives(def.Directives)
	}
	var out pieces
	out.varDefs = p.take()
	for i, sel := range d.op.SelectionSet {
		if i > 0 {
			p.WriteByte(' ')
		}
		f := sel.(*ast.Field)
		p.WriteString(prefix + responseKey(f) + ":")
		p.field(f)
	}
	out.fields = p.take()
	for i, f := range d.frags {
		if i > 0 {
			p.WriteByte(' ')
		}
		p.WriteString("fragment " + prefix + f.Name + " on " + f.TypeCondition)
		p.directives(f.Directives)
		p.selectionSet(f.SelectionSet)
	}
	out.frags = p.take()
	for k, v := range vars {
		out.vars += len(prefix) + len(k) + 2 + 1 + len(v) + 1 // "key":value,
	}
	return out
}

// printer prints executable GraphQL compactly, prefixing variable and
// fragment names.
type printer struct {
	strings.Builder
	prefix string
}

func (p *printer) take() string {
	s := p.String()
	p.Reset()
	return s
}

func (p *printer) field(f *ast.Field) {
	p.WriteString(f.Name)
	p.arguments(f.Arguments)
	p.directives(f.Directives)
	p.selectionSet(f.SelectionSet)
}

func (p *printer) selectionSet(set ast.SelectionSet) {
	if len(set) == 0 {
		return
	}
	p.WriteByte('{')
	for i, sel := range set {
		if i > 0 {
			p.WriteByte(' ')
		}
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				p.WriteString(s.Alias + ":")
			}
			p.field(s)
		case *ast.FragmentSpread:
			p.WriteString("..." + p.prefix + s.Name)
			p.directives(s.Directives)
		case *ast.InlineFragment:
			p.WriteString("...")
			if s.TypeCondition != "" {
				p.WriteString("on " + s.TypeCondition)
			}
			p.directives(s.Directives)
			p.selectionSet(s.SelectionSet)
		}
	}
	p.WriteByte('}')
}

func (p *printer) arguments(args ast.ArgumentList) {
	if len(args) == 0 {
		return
	}
	p.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			p.WriteByte(',')
		}
		p.WriteString(a.Name + ":")
		p.value(a.Value)
	}
	p.WriteByte(')')
}

func (p *printer) directives(dirs ast.DirectiveList) {
	for _, d := range dirs {
		p.WriteString("@" + d.Name)
		p.arguments(d.Arguments)
	}
}

func (p *printer) value(v *ast.Value) {
	if v == nil {
		p.WriteString("null")
		return
	}
	switch v.Kind {
	case ast.Variable:
		p.WriteString("$" + p.prefix + v.Raw)
	case ast.StringValue, ast.BlockValue:
		b, _ := json.Marshal(v.Raw) // JSON string escapes are GraphQL string escapes
		p.Write(b)
	case ast.ListValue:
		p.WriteByte('[')
		for i, c := range v.Children {
			if i > 0 {
				p.WriteByte(',')
			}
			p.value(c.Value)
		}
		p.WriteByte(']')
	case ast.ObjectValue:
		p.WriteByte('{')
		for i, c := range v.Children {
			if i > 0 {
				p.WriteByte(',')
			}
			p.WriteString(c.Name + ":")
			p.value(c.Value)
		}
		p.WriteByte('}')
	default: // Int, Float, Boolean, Null, Enum
		p.WriteString(v.Raw)
	}
}
