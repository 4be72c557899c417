package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/filestackemu"
	"github.com/vektah/gqlparser/v2/ast"
)

// gqlResult is a decoded GraphQL response.
type gqlResult struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message string `json:"message"`
		Path    []any  `json:"path"`
	} `json:"errors"`
	status int
	raw    string
}

// post runs a GraphQL request through the stage's HTTP handler.
func post(t testing.TB, h http.Handler, query string, vars map[string]any) gqlResult {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/content/p/master", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	var res gqlResult
	res.status = rec.Code
	res.raw = rec.Body.String()
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("response is not JSON (%d): %v\n%s", rec.Code, err, rec.Body.String())
	}
	return res
}

// mustPost is post that fails the test on GraphQL errors.
func mustPost(t testing.TB, h http.Handler, query string, vars map[string]any) map[string]any {
	t.Helper()
	res := post(t, h, query, vars)
	if len(res.Errors) > 0 || res.status != http.StatusOK {
		t.Fatalf("request failed (%d): %s\nquery: %s\nvariables: %v", res.status, res.raw, query, vars)
	}
	return res.Data
}

// fakeClock returns a clock that starts at start and advances by step on
// every reading, so timestamps are deterministic and strictly increasing.
func fakeClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(step)
		return t
	}
}

// NewServer starts a Server for a test (stagetest.NewServer, which this
// package's tests cannot import).
func NewServer(t testing.TB, s *ast.Schema, opts ...Option) *Server {
	t.Helper()
	srv, err := New(s, opts...)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("emulator: closing stage: %v", err)
		}
	})
	return srv
}

// newFilestack starts a Filestack emulator for a test
// (filestacktest.NewServer, which this package's tests cannot import).
func newFilestack(t testing.TB, opts ...filestackemu.Option) *filestackemu.Server {
	t.Helper()
	s := filestackemu.New(opts...)
	t.Cleanup(s.Close)
	return s
}
