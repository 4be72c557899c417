package emulator

import (
	"net/http"

	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// discover returns the project model of s, or nil when discovery fails.
func discover(s *ast.Schema) *schema.Project {
	p, err := schema.Discover(s)
	if err != nil {
		return nil
	}
	return p
}

// wrapGate puts the HTTP-level limits, auth and faults in front of h.
func (s *Stage) wrapGate(h http.Handler) http.Handler {
	return newGate(s.cfg.limits, &s.counters, s.shape).Wrap(h)
}
