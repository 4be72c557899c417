package stagesync

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// PreflightError is returned by Sync, before anything is written, when the
// schemas of the two stages differ in ways the sync does not handle. Each
// problem names the model, the field and the fix.
type PreflightError struct {
	Source, Dest string // stage names
	// Problems are the unhandled changes, blocking ones first.
	Problems []schema.Change
}

// Error lists every problem on its own line.
func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stagesync: pre-flight: the schema of %q differs from %q in %d way(s) the sync does not handle:",
		e.Dest, e.Source, len(e.Problems))
	for _, c := range e.Problems {
		name := c.Model
		if c.Field != "" {
			name += "." + c.Field
		}
		fmt.Fprintf(&b, "\n  %s %s [%s]: %s", c.Severity, name, c.Class, c.Message)
		if c.Fix != "" && !strings.Contains(c.Message, c.Fix) {
			fmt.Fprintf(&b, " Fix: %s", c.Fix)
		}
	}
	return b.String()
}

// stageSchema returns the given schema, or introspects the stage, and
// the project discovered from it.
func stageSchema(ctx context.Context, s *Stage, given *ast.Schema) (*schema.Project, *ast.Schema, error) {
	if given == nil {
		var err error
		if given, err = introspect(ctx, s); err != nil {
			return nil, nil, fmt.Errorf("stagesync: %s: %w", s, err)
		}
	}
	p, err := schema.Discover(given)
	if err != nil {
		return nil, nil, fmt.Errorf("stagesync: %s: %w", s, err)
	}
	return p, given, nil
}

// hasInputField reports whether the input type named input of s has field.
func hasInputField(s *ast.Schema, input, field string) bool {
	def := s.Types[input]
	return def != nil && def.Fields.ForName(field) != nil
}

// preflight returns the changes between src and dst that concern the
// synced models (and the components they use) and are not handled: every
// blocking change, and needs-transform changes unless a default is
// declared for the field (required-in-destination) or the field is listed
// in handled ("Model.field", or "Model.*").
func preflight(src, dst *schema.Project, models []string, defaults map[string]any, handled []string) []schema.Change {
	concerned := map[string]bool{}
	for _, m := range models {
		concerned[m] = true
		if sm := src.Model(m); sm != nil {
			collectComponents(src, sm, concerned)
		}
		if dm := dst.Model(m); dm != nil {
			collectComponents(dst, dm, concerned)
		}
	}
	var out []schema.Change
	for _, c := range schema.Diff(src, dst) {
		if !concerned[c.Model] {
			continue
		}
		switch c.Severity {
		case schema.SeverityBlocks:
			out = append(out, c)
		case schema.SeverityNeedsTransform:
			key := c.Model + "." + c.Field
			if slices.Contains(handled, key) || slices.Contains(handled, c.Model+".*") {
				continue
			}
			if _, ok := defaults[key]; ok && c.Class == schema.ClassRequiredInDestination {
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

// collectComponents adds the components m uses, transitively.
func collectComponents(p *schema.Project, m *schema.Model, into map[string]bool) {
	for _, f := range m.Fields {
		if f.Kind != schema.KindComponent && f.Kind != schema.KindUnionComponent {
			continue
		}
		for _, t := range f.Targets {
			if into[t] {
				continue
			}
			into[t] = true
			if c := p.Model(t); c != nil {
				collectComponents(p, c, into)
			}
		}
	}
}

// introspect reads the schema of a stage. The introspection query is sent
// like any other read of the stage: through its HTTP client, rate limit
// and concurrency bound, and retried after 5xx and 429 answers and dropped
// connections.
func introspect(ctx context.Context, s *Stage) (*ast.Schema, error) {
	var data json.RawMessage
	req := &graphql.Request{Query: schema.IntrospectionQuery, OpName: "IntrospectionQuery"}
	if err := s.Client().MakeRequest(ctx, req, &graphql.Response{Data: &data}); err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	sdl, err := schema.IntrospectionSDL(data)
	if err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	return schema.LoadString("introspection of "+s.Endpoint(), sdl)
}
