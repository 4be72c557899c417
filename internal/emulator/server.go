package emulator

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// Server is an emulated stage listening on a local port: the counterpart
// of httptest.Server. (`stagesync serve` puts a Stage behind its own
// http.Server instead; a *Stage is an http.Handler.)
type Server struct {
	// URL is the content API endpoint, e.g. http://127.0.0.1:34567/content/stagetest/master
	// (any path is served).
	URL string
	// Token is the bearer token with full access.
	Token string
	// ReadToken is a bearer token that may query but not mutate.
	ReadToken string
	// Stage is the emulated stage, for seeding and inspection.
	Stage *Stage

	srv      *httptest.Server
	shutdown sync.Once
	err      error
}

// New starts an emulated stage serving s on a local port. Unless
// WithLimits sets them, Token and ReadToken are random, so requests need
// `Authorization: Bearer <Token>` (Client adds it). Shutdown stops it.
func New(s *ast.Schema, opts ...Option) (*Server, error) {
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
		return nil, err
	}
	srv := httptest.NewServer(st)
	return &Server{URL: srv.URL + "/content/stagetest/master", Token: l.Token, ReadToken: l.ReadToken, Stage: st, srv: srv}, nil
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

// Close stops listening; the stage stays open for inspection until
// Shutdown.
func (s *Server) Close() { s.srv.Close() }

// Shutdown stops listening and closes the stage; later calls return the
// first one's error.
func (s *Server) Shutdown() error {
	s.shutdown.Do(func() {
		s.srv.Close()
		s.err = s.Stage.Close()
	})
	return s.err
}

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
