package gate

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"golang.org/x/time/rate"
)

// Gate is the HTTP behaviour of a stage in front of GraphQL: it counts
// requests, injects faults and latency, checks bearer tokens, caps the
// request body and rate-limits, answering refusals the way Hygraph does.
//
// A request passes the steps in this order:
//
//  1. count it (Counters.Requests);
//  2. faults: drop the connection (DropRate) or answer 500/502/503 (FailRate);
//  3. latency, cut short if the client goes away;
//  4. 401 without a valid bearer token;
//  5. 413 if the body is larger than MaxBody, or than MaxQueryBody or
//     MaxMutationBody for its kind (at most the largest cap + 1 bytes are read);
//  6. 403 for the read-only token on a mutation (needs the body, hence after 5);
//  7. 429 when the token bucket is empty;
//  8. 429 when the request's operations (root fields) would take the
//     operations in flight of its kind above ConcurrentQueries or
//     ConcurrentMutations;
//  9. ServiceTime per operation (queries side by side, mutations one after
//     another, each leaving the count when done), then the handler.
//
// 429s carry Retry-After only if configured. Every refusal or fault also
// counts in Counters.Rejected, and every 429 in Counters.Throttled.
type Gate struct {
	limits   Limits
	counters *Counters
	shape    func(r *http.Request, body []byte) Shape
	limiter  *rate.Limiter // nil: no rate limit

	opsMu    sync.Mutex
	inFlight [2]int // operations being served: [0] queries, [1] mutations

	// now and newTimer are the clock; tests replace them.
	now      func() time.Time
	newTimer func(d time.Duration) (c <-chan time.Time, stop func() bool)

	mu  sync.Mutex // guards rng
	rng *rand.Rand // nil: no faults configured

	requestSeq atomic.Uint64 // numbers requestIds
}

// Shape is what the gate needs to know of a request's GraphQL
// document: whether it is a mutation and how many operations (root fields)
// it holds.
type Shape struct {
	// Mutation is true for a mutation, false for a query.
	Mutation bool
	// Ops is the number of operations (root fields); the gate counts at
	// least one.
	Ops int
}

// kind indexes Gate.inFlight.
func (r Shape) kind() int {
	if r.Mutation {
		return 1
	}
	return 0
}

// New returns a gate enforcing l and counting into c (nil: counts of its
// own, which nobody reads). shape tells
// whether a request (with its already-read body) is a GraphQL mutation and
// how many root fields it has; nil uses a parser-only look at the JSON body
// (see requestShapeOf).
func New(l Limits, c *Counters, shape func(r *http.Request, body []byte) Shape) *Gate {
	if c == nil {
		c = new(Counters)
	}
	if shape == nil {
		shape = requestShapeOf
	}
	g := &Gate{
		limits:   l,
		counters: c,
		shape:    shape,
		now:      time.Now,
		newTimer: func(d time.Duration) (<-chan time.Time, func() bool) {
			t := time.NewTimer(d)
			return t.C, t.Stop
		},
	}
	if l.Rate > 0 {
		burst := l.Burst
		if burst <= 0 {
			burst = max(1, int(math.Ceil(l.Rate)))
		}
		g.limiter = rate.NewLimiter(rate.Limit(l.Rate), burst)
	}
	if l.FailRate > 0 || l.DropRate > 0 {
		seed := uint64(l.Seed)
		if l.Seed == 0 {
			seed = rand.Uint64()
		}
		g.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	return g
}

// Wrap returns a handler that applies the gate and then calls next with the
// request body, already read, restored for it to read again.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.serve(w, r, next)
	})
}

// gateFault is what the fault injector decided for one request.
type gateFault int

const (
	gateFaultNone gateFault = iota
	gateFaultDrop
	gateFaultFail
)

// gateFailStatuses are the injected server errors, drawn uniformly.
var gateFailStatuses = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// decide draws the fault for the next request. It always draws the same
// number of values, so with a given seed the n-th request to arrive gets the
// same fault whatever the rates and whatever happened to earlier requests.
func (g *Gate) decide() (gateFault, int) {
	if g.rng == nil {
		return gateFaultNone, 0
	}
	g.mu.Lock()
	drop, fail, pick := g.rng.Float64(), g.rng.Float64(), g.rng.IntN(len(gateFailStatuses))
	g.mu.Unlock()
	switch {
	case drop < g.limits.DropRate:
		return gateFaultDrop, 0
	case fail < g.limits.FailRate:
		return gateFaultFail, gateFailStatuses[pick]
	}
	return gateFaultNone, 0
}

func (g *Gate) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	g.counters.Requests.Add(1)

	switch f, status := g.decide(); f {
	case gateFaultDrop:
		g.counters.Rejected.Add(1)
		dropConnection(w)
		return
	case gateFaultFail:
		g.reject(w, status, http.StatusText(status)+" (injected by stagetest)")
		return
	}

	if d := g.limits.Latency; d > 0 {
		c, stop := g.newTimer(d)
		select {
		case <-c:
		case <-r.Context().Done():
			// The client is gone; there is nobody to answer.
			stop()
			return
		}
	}

	role, ok := g.authorize(r)
	if !ok {
		g.reject(w, http.StatusUnauthorized,
			"Unauthorized: send a valid Permanent Auth Token as 'Authorization: Bearer <token>'")
		return
	}

	l := g.limits
	body, tooLarge, err := readBodyCapped(r, max(l.MaxBody, l.MaxQueryBody, l.MaxMutationBody))
	switch {
	case tooLarge:
		g.tooLarge(w, max(l.MaxBody, l.MaxQueryBody, l.MaxMutationBody))
		return
	case err != nil:
		g.reject(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	case l.MaxBody > 0 && int64(len(body)) > l.MaxBody:
		g.tooLarge(w, l.MaxBody)
		return
	}
	restoreRequestBody(r, body)

	shape := g.shape(r, body)
	shape.Ops = max(shape.Ops, 1)
	if limit := g.bodyCap(shape); limit > 0 && int64(len(body)) > limit {
		g.tooLarge(w, limit)
		return
	}

	if role == gateRoleRead && shape.Mutation {
		g.reject(w, http.StatusForbidden,
			"Forbidden: the token used is read-only and cannot run mutations")
		return
	}

	if g.limiter != nil {
		now := g.now()
		if !g.limiter.AllowN(now, 1) {
			g.throttle(w, g.retryAfter(now), "Too many requests")
			return
		}
	}

	release, ok := g.admit(shape)
	if !ok {
		kind, limit := "query", l.ConcurrentQueries
		if shape.Mutation {
			kind, limit = "mutation", l.ConcurrentMutations
		}
		g.throttle(w, 1, fmt.Sprintf("Too many requests: more than %d concurrent %s operations (this request has %d)", limit, kind, shape.Ops))
		return
	}
	defer release(shape.Ops)
	if shape.Mutation {
		g.counters.MutationOperations.Add(int64(shape.Ops))
	} else {
		g.counters.QueryOperations.Add(int64(shape.Ops))
	}
	if !g.serviceTime(r, shape, release) {
		return // the client is gone
	}
	next.ServeHTTP(w, r)
}

// tooLarge answers 413 for a body over limit bytes.
func (g *Gate) tooLarge(w http.ResponseWriter, limit int64) {
	g.counters.TooLarge.Add(1)
	g.reject(w, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("Payload too large: the request body exceeds the limit of %d bytes", limit))
}

// bodyCap is the body cap of a request of that shape (0: none beyond MaxBody).
func (g *Gate) bodyCap(shape Shape) int64 {
	if shape.Mutation {
		return g.limits.MaxMutationBody
	}
	return g.limits.MaxQueryBody
}

// throttle answers 429 with Hygraph's body, and Retry-After (seconds) only
// when configured.
func (g *Gate) throttle(w http.ResponseWriter, retryAfter int, message string) {
	g.counters.Throttled.Add(1)
	if g.limits.RetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	g.reject(w, http.StatusTooManyRequests, message)
}

// admit counts the request's operations in flight, or reports false when
// that would take them above the cap of their kind. release(n) takes n of
// them out again; taking out more than remain is harmless.
func (g *Gate) admit(shape Shape) (release func(n int), ok bool) {
	k := shape.kind()
	limit := g.limits.ConcurrentQueries
	if shape.Mutation {
		limit = g.limits.ConcurrentMutations
	}
	g.opsMu.Lock()
	defer g.opsMu.Unlock()
	if limit > 0 && g.inFlight[k]+shape.Ops > limit {
		return nil, false
	}
	g.inFlight[k] += shape.Ops
	left := shape.Ops
	return func(n int) {
		g.opsMu.Lock()
		defer g.opsMu.Unlock()
		n = min(n, left)
		left -= n
		g.inFlight[k] -= n
	}, true
}

// operationsInFlight returns the queries and mutations being served.
func (g *Gate) operationsInFlight() (queries, mutations int) {
	g.opsMu.Lock()
	defer g.opsMu.Unlock()
	return g.inFlight[0], g.inFlight[1]
}

// serviceTime waits ServiceTime for the request's operations: once for
// queries (they run side by side), once per mutation (they run one after
// another), each done mutation but the last leaving the count. It reports
// false when the client went away meanwhile.
func (g *Gate) serviceTime(r *http.Request, shape Shape, release func(n int)) bool {
	d := g.limits.ServiceTime
	if d <= 0 {
		return true
	}
	steps := 1
	if shape.Mutation {
		steps = shape.Ops
	}
	for i := range steps {
		c, stop := g.newTimer(d)
		select {
		case <-c:
		case <-r.Context().Done():
			stop()
			return false
		}
		if shape.Mutation && i < steps-1 {
			release(1)
		}
	}
	return true
}

// retryAfter is the whole number of seconds (at least 1) until the bucket
// holds a token again.
func (g *Gate) retryAfter(now time.Time) int {
	missing := 1 - g.limiter.TokensAt(now)
	if missing <= 0 || g.limits.Rate <= 0 {
		return 1
	}
	secs := math.Ceil(missing / g.limits.Rate)
	if secs > math.MaxInt32 {
		return math.MaxInt32
	}
	return max(1, int(secs))
}

// gateRole is what a request's token allows.
type gateRole int

const (
	gateRoleFull gateRole = iota
	gateRoleRead
)

// authorize checks the bearer token. Auth is on when either token is set;
// with only a ReadToken, the stage is read-only for everyone.
func (g *Gate) authorize(r *http.Request) (gateRole, bool) {
	if g.limits.Token == "" && g.limits.ReadToken == "" {
		return gateRoleFull, true
	}
	scheme, token, found := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return 0, false
	}
	token = strings.TrimSpace(token)
	switch {
	case bearerTokenEqual(token, g.limits.Token):
		return gateRoleFull, true
	case bearerTokenEqual(token, g.limits.ReadToken):
		return gateRoleRead, true
	}
	return 0, false
}

// bearerTokenEqual compares a presented token with a configured one in constant
// time; an unset (empty) token matches nothing.
func bearerTokenEqual(presented, configured string) bool {
	return configured != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(configured)) == 1
}

// readBodyCapped reads r's body, at most limit+1 bytes when limit > 0, and
// reports whether it is larger than limit.
func readBodyCapped(r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, false, nil
	}
	defer r.Body.Close()
	if limit <= 0 {
		body, err = io.ReadAll(r.Body)
		return body, false, err
	}
	if r.ContentLength > limit {
		return nil, true, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, false, err
	}
	return body, int64(len(body)) > limit, nil
}

// restoreRequestBody puts an already-read body back on r for the next handler.
func restoreRequestBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// dropConnection closes the client's connection without a response. Over
// HTTP/1 the connection is hijacked and reset; where it cannot be hijacked
// (HTTP/2) the handler aborts, which resets the stream.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // RST rather than FIN: "connection reset by peer"
	}
	_ = conn.Close()
}

// reject counts a refused request and answers it with a Hygraph-shaped
// error body. Messages never contain the presented token.
func (g *Gate) reject(w http.ResponseWriter, status int, message string) {
	g.counters.Rejected.Add(1)
	WriteError(w, status, message, g.requestID())
}

// requestID numbers the gate's error responses.
func (g *Gate) requestID() string {
	return fmt.Sprintf("stagetest-%012d", g.requestSeq.Add(1))
}

// gateErrorBody is the body Hygraph sends with a non-200 status.
type gateErrorBody struct {
	Errors     []gateErrorMessage `json:"errors"`
	Data       any                `json:"data"`
	Extensions struct {
		RequestID string `json:"requestId"`
	} `json:"extensions"`
}

type gateErrorMessage struct {
	Message string `json:"message"`
}

// WriteError answers status with the body Hygraph sends with a non-200
// status: {"errors":[{"message":...}],"data":null,
// "extensions":{"requestId":...}}. The gate uses it for its refusals, a
// project's handler for its own.
func WriteError(w http.ResponseWriter, status int, message, requestID string) {
	body := gateErrorBody{Errors: []gateErrorMessage{{Message: message}}}
	body.Extensions.RequestID = requestID
	b, err := json.Marshal(body)
	if err != nil { // cannot happen: the body is strings only
		b = []byte(`{"errors":[{"message":"internal error"}],"data":null}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// requestShapeOf tells from the request alone, without a schema, whether
// it asks for a mutation and how many root fields it has: it parses the
// GraphQL document of a JSON POST body (or of the "query" URL parameter)
// and looks at the operation that operationName selects, or the only one.
// A request that cannot be parsed is one query operation; the executor
// rejects it anyway.
func requestShapeOf(r *http.Request, body []byte) Shape {
	var req struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return Shape{Ops: 1}
		}
	} else {
		q := r.URL.Query()
		req.Query, req.OperationName = q.Get("query"), q.Get("operationName")
	}
	return DocumentShape(req.Query, req.OperationName)
}

// DocumentShape is requestShapeOf for a document and operation name.
func DocumentShape(query, operationName string) Shape {
	if query == "" {
		return Shape{Ops: 1}
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return Shape{Ops: 1}
	}
	var op *ast.OperationDefinition
	switch {
	case operationName != "":
		op = doc.Operations.ForName(operationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	if op == nil {
		return Shape{Ops: 1}
	}
	return Shape{Mutation: op.Operation == ast.Mutation, Ops: max(1, gqlexec.CountRootFields(doc, op.SelectionSet))}
}
