package stagetest

import (
	"net/http/httptest"
	"testing"

	"github.com/stagesync/stagesync/internal/emulator"
)

// ProjectServer is an emulated project listening on a local port, for
// tests: the project counterpart of Server.
type ProjectServer struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:34567.
	URL string
	// ManagementURL is the Management API endpoint (URL + ManagementPath).
	ManagementURL string
	// Project is the emulated project.
	Project *emulator.Project

	srv *httptest.Server
}

// NewProjectServer serves p on a local port and, when the test ends,
// stops the server and closes p's stages.
func NewProjectServer(t testing.TB, p *emulator.Project) *ProjectServer {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		if err := p.Close(); err != nil {
			t.Errorf("stagetest: closing project: %v", err)
		}
	})
	return &ProjectServer{URL: srv.URL, ManagementURL: srv.URL + emulator.ManagementPath, Project: p, srv: srv}
}

// EnvironmentURL is the content-API endpoint of the environment name.
func (s *ProjectServer) EnvironmentURL(name string) string {
	return s.URL + s.Project.ContentPath(name)
}
