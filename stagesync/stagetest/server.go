package stagetest

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/emulator"
	"github.com/stagesync/stagesync/schema"
)

// Server is an emulated stage listening on a local port, for tests: the
// stagetest counterpart of httptest.Server. Close stops listening (the
// stage stays open for inspection); Shutdown also closes the stage.
//
// The `stagesync serve` command does not use Server: it wraps NewStage in
// its own http.Server (a *Stage is an http.Handler).
type Server = emulator.Server

// New starts an emulated stage serving s on a local port, for programs
// (NewServer is the same for tests); Shutdown stops it.
func New(s *ast.Schema, opts ...Option) (*Server, error) { return emulator.New(s, opts...) }

// NewServer starts an emulated stage serving s and stops it when the test
// ends. Unless WithLimits sets them, Token and ReadToken are random, so
// requests need `Authorization: Bearer <Token>` (Client adds it).
func NewServer(t testing.TB, s *ast.Schema, opts ...Option) *Server {
	t.Helper()
	srv, err := emulator.New(s, opts...)
	if err != nil {
		t.Fatalf("stagetest: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("stagetest: closing stage: %v", err)
		}
	})
	return srv
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
