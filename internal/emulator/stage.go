package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Stage is one emulated Hygraph content stage (an environment's content
// API): documents in DRAFT and PUBLISHED, served over GraphQL.
//
// A Stage is an http.Handler that answers POST requests carrying a JSON
// GraphQL request ({"query", "variables", "operationName"}) at any path,
// behind the HTTP-level Limits it was configured with. It is safe for
// concurrent use: queries run under a shared lock, mutations one at a time.
type Stage struct {
	cfg      config
	cat      *catalog
	exec     *gqlexec.Executor
	project  *schema.Project
	counters gate.Counters
	handler  http.Handler

	assets *assetFiles // nil without WithAssets

	// scanPages turns off the quick path of cursor pages (cursorSelect),
	// so that tests can compare it with the general one.
	scanPages atomic.Bool

	hooks []*hook // see WithWebhook

	mu     sync.RWMutex
	st     *store.Store
	closed bool
}

// DefaultMaxPage is the largest `first`/`last` a query may ask for unless
// WithMaxPage says otherwise, as on Hygraph projects created after mid-2022.
const DefaultMaxPage = 100

// DefaultPageSize is how many entries a list returns when neither `first`
// nor `last` is given, as on Hygraph projects created after mid-2022.
const DefaultPageSize = 10

// NewStage returns an emulated stage serving s, a Hygraph content-API
// schema (pulled from a project or synthesized). With a Backend (see
// WithBackend), every stored document is loaded first and every mutation
// is written through before it is answered.
func NewStage(s *ast.Schema, opts ...Option) (*Stage, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.applyPlan(); err != nil {
		return nil, err
	}
	if cfg.maxPage <= 0 {
		cfg.maxPage = DefaultMaxPage
	}
	if cfg.clock == nil {
		cfg.clock = time.Now
	}
	cat, err := newCatalog(s)
	if err != nil {
		return nil, err
	}
	st := &Stage{cfg: cfg, cat: cat, st: store.New(cat.Catalog, cfg.backend, cfg.seed, cfg.clock)}
	st.project = discover(s)
	cat.UseReverses(st.project)
	listSize := cfg.defaultPage
	if listSize <= 0 {
		listSize = DefaultPageSize
	}
	st.exec = gqlexec.New(s, gqlexec.RootResolverFunc(st.resolveRoot),
		gqlexec.WithMaxCost(cfg.limits.MaxQueryCost, listSize),
		gqlexec.WithMaxResponseBytes(cfg.limits.MaxResponseBytes))
	if cfg.backend != nil {
		if err := st.st.Load(); err != nil {
			return nil, err
		}
	}
	if cfg.assets {
		st.assets = newAssetFiles(cfg, cat)
	}
	st.handler = gate.New(cfg.limits, &st.counters, st.shape).Wrap(http.HandlerFunc(st.serveHTTP)) // serveHTTP: legacy.go
	st.startHooks()
	return st, nil
}

// Project returns the content model the stage serves, as schema.Discover
// finds it (nil if discovery failed).
func (s *Stage) Project() *schema.Project { return s.project }

// Counters returns what the stage has served so far.
func (s *Stage) Counters() gate.CountersSnapshot { return s.counters.Snapshot() }

// Close releases the stage's backend, if any, stops the uploads in flight
// and the Filestack emulator the stage started (see WithAssets). Requests
// after Close fail.
func (s *Stage) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.stopHooks()
	if s.assets != nil {
		s.assets.close() // an upload finishing meanwhile still writes through
	}
	if s.cfg.backend != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.cfg.backend.Close()
	}
	return nil
}

// ServeHTTP answers a GraphQL request.
func (s *Stage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Execute runs one GraphQL request against the stage without HTTP (and
// without the HTTP-level limits).
func (s *Stage) Execute(ctx context.Context, req gqlexec.Request) (resp *gqlexec.Response) {
	op, err := s.exec.Operation(req)
	if err != nil {
		// Parse and validation errors: the executor reports them.
		return s.exec.Execute(ctx, req)
	}
	s.beforeRequest(ctx)
	if op == ast.Mutation {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
		s.counters.Queries.Add(1)
	}
	if s.closed {
		return &gqlexec.Response{Data: json.RawMessage("null"), Errors: gqlerror.List{gqlerror.Errorf("stage is closed")}}
	}
	return s.exec.Execute(ctx, req)
}

// shape tells the gate whether an HTTP request carries a mutation and how
// many operations (root fields) it holds, to refuse mutations to read-only
// tokens and count operations in flight. A request that does not validate
// is looked at by the parser alone (see gate.DocumentShape); one that does not
// decode is one query operation. The executor rejects both. A legacy
// /import is one mutation, /export one query (legacy.go).
func (s *Stage) shape(r *http.Request, body []byte) gate.Shape {
	if kind, ok := isLegacyPath(r); ok {
		return gate.Shape{Mutation: kind == "import", Ops: 1}
	}
	req, err := decodeRequest(r, body)
	if err != nil {
		return gate.Shape{Ops: 1}
	}
	op, n, err := s.exec.RootFields(req)
	if err != nil {
		return gate.DocumentShape(req.Query, req.OperationName)
	}
	return gate.Shape{Mutation: op == ast.Mutation, Ops: max(n, 1)}
}

// decodeRequest reads a GraphQL request from a POST body or GET query.
func decodeRequest(r *http.Request, body []byte) (gqlexec.Request, error) {
	var req gqlexec.Request
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		req.Query = q.Get("query")
		req.OperationName = q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				return req, fmt.Errorf("variables are not a JSON object: %w", err)
			}
		}
		return req, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("body is not a GraphQL request: %w", err)
	}
	req.Variables = store.PlainNumbers(req.Variables).(map[string]any)
	return req, nil
}

// serveGraphQL is the stage's GraphQL endpoint behind the gate.
func (s *Stage) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			writeJSON(w, http.StatusInternalServerError, &gqlexec.Response{
				Data:   json.RawMessage("null"),
				Errors: gqlerror.List{gqlerror.Errorf("internal error: %v", p)},
			})
			if debugPanics {
				fmt.Printf("stagetest: panic: %v\n%s", p, debug.Stack())
			}
		}
	}()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, &gqlexec.Response{Data: json.RawMessage("null"),
			Errors: gqlerror.List{gqlerror.Errorf("method %s not allowed; POST a GraphQL request", r.Method)}})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &gqlexec.Response{Data: json.RawMessage("null"),
			Errors: gqlerror.List{gqlerror.Errorf("reading request body: %v", err)}})
		return
	}
	req, err := decodeRequest(r, body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &gqlexec.Response{Data: json.RawMessage("null"),
			Errors: gqlerror.List{gqlerror.Errorf("%v", err)}})
		return
	}
	resp := s.Execute(r.Context(), req)
	status := http.StatusOK
	if isRequestError(resp) {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, resp)
}

// debugPanics prints the stack of recovered panics (tests flip it).
var debugPanics = false

// isRequestError reports whether resp failed before execution (syntax,
// validation, variables): no data and no error with a path.
func isRequestError(resp *gqlexec.Response) bool {
	if len(resp.Errors) == 0 || string(resp.Data) != "null" {
		return false
	}
	for _, e := range resp.Errors {
		if len(e.Path) > 0 && e.Path[0] != ast.PathName("variable") {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, resp *gqlexec.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"data":null,"errors":[{"message":"encoding the response failed"}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// resolveRoot answers one root field.
func (s *Stage) resolveRoot(ctx context.Context, op ast.Operation, field *ast.Field, args map[string]any) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if debugPanics {
				fmt.Printf("stagetest: panic in %s: %v\n%s", field.Name, p, debug.Stack())
			}
			res, err = nil, fmt.Errorf("internal error in %s: %v", field.Name, p)
		}
	}()
	if op == ast.Mutation {
		rf := s.cat.mutation[field.Name]
		s.counters.Mutations.Add(1)
		if rf == nil {
			return nil, fmt.Errorf("%s is not supported by the stage emulator", field.Name)
		}
		return s.mutate(ctx, rf, field, args)
	}
	rf := s.cat.query[field.Name]
	if rf == nil {
		return nil, nil // e.g. <model>Version: no history is kept
	}
	return s.query(rf, field, args)
}

// errNotFound is wrapped by errors about entries that do not exist.
var errNotFound = errors.New("not found")
