package stagetest

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Server is an emulated stage listening on a local port, for tests: the
// stagetest counterpart of httptest.Server.
//
// The `stagesync serve` command does not use Server: it wraps NewStage in
// its own http.Server (a *Stage is an http.Handler).
type Server struct {
	// URL is the content API endpoint, e.g. http://127.0.0.1:34567/content/test/master
	// (any path is served).
	URL string
	// Token is the bearer token with full access.
	Token string
	// ReadToken is a bearer token that may query but not mutate.
	ReadToken string
	// Stage is the emulated stage, for seeding and inspection.
	Stage *Stage

	srv *httptest.Server
}

// NewServer starts an emulated stage serving s and stops it when the test
// ends. Unless WithLimits sets them, Token and ReadToken are random, so
// requests need `Authorization: Bearer <Token>` (Client adds it).
func NewServer(t testing.TB, s *ast.Schema, opts ...Option) *Server {
	t.Helper()
	var probe config
	for _, o := range opts {
		o(&probe)
	}
	l := probe.limits
	if l.Token == "" {
		l.Token = rand.Text()
	}
	if l.ReadToken == "" {
		l.ReadToken = rand.Text()
	}
	opts = append(opts[:len(opts):len(opts)], WithLimits(l))
	st, err := NewStage(s, opts...)
	if err != nil {
		t.Fatalf("stagetest: %v", err)
	}
	srv := httptest.NewServer(st)
	out := &Server{URL: srv.URL + "/content/stagetest/master", Token: l.Token, ReadToken: l.ReadToken, Stage: st, srv: srv}
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("stagetest: closing stage: %v", err)
		}
	})
	return out
}

// NewServerFromSDL is NewServer for SDL text (a Hygraph content-API schema).
func NewServerFromSDL(t testing.TB, sdl string, opts ...Option) *Server {
	t.Helper()
	s, err := schema.LoadString("stagetest.graphql", sdl)
	if err != nil {
		t.Fatalf("stagetest: %v", err)
	}
	return NewServer(t, s, opts...)
}

// Client returns an HTTP client for the server that sends
// `Authorization: Bearer <Token>` on requests that carry no Authorization
// header.
func (s *Server) Client() *http.Client {
	base := s.srv.Client()
	c := *base
	c.Transport = bearer{token: s.Token, next: base.Transport}
	return &c
}

// Close stops the server early (it is also stopped when the test ends).
func (s *Server) Close() { s.srv.Close() }

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
