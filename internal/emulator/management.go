package emulator

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/internal/gqlexec"
)

// ManagementPath is the path at which a Project serves its Management API.
// Hygraph's is https://management-next.graphcms.com/graphql, on a host of
// its own; the emulator serves it beside the environments' content APIs.
const ManagementPath = "/management/graphql"

// managementSDL is the part of Hygraph's Management API the emulator
// answers: the viewer of a Management token and the environments of its
// project, with their content-API endpoints and, on the legacy asset
// system, the Filestack API key of their asset bucket.
const managementSDL = `
type Query {
  "The viewer of the request's token."
  viewer: Viewer!
}

interface Viewer {
  id: ID!
}

"The viewer of a Management (permanent) token: the project it belongs to."
type TokenViewer implements Viewer {
  id: ID!
  project: Project!
}

type Project {
  id: ID!
  name: String!
  environments: [Environment!]!
  environment(name: String!): Environment!
}

type Environment {
  id: ID!
  name: String!
  displayName: String!
  "The environment's content API endpoint."
  endpoint: String!
  "The environment's asset bucket on the legacy (Filestack) asset system; null on the new one."
  assetConfig: AssetConfig
}

type AssetConfig {
  "The Filestack API key of the environment's asset bucket."
  apiKey: String!
}
`

// environmentName is what an environment may be called.
var environmentName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ProjectConfig configures an emulated project (see NewProject).
type ProjectConfig struct {
	// ID is the project's id, part of each environment's content-API path
	// (/content/<ID>/<environment>); default "local".
	ID string
	// Name is the project's display name (default: the ID).
	Name string
	// ManagementToken is the bearer token the Management API requires;
	// empty turns its auth off. The environments' content APIs check
	// their own tokens (see WithLimits).
	ManagementToken string
}

// Project is an emulated Hygraph project: environments, each an emulated
// Stage serving its content API at /content/<project>/<environment>, and
// the Management API queries that list them, at ManagementPath:
//
//	viewer { ... on TokenViewer { project { id name
//	  environments { name displayName endpoint assetConfig { apiKey } } } } }
//
// The endpoints it answers are built from the request's Host, so they are
// right for whatever address the project is served on. A Project is an
// http.Handler; it is safe for concurrent use.
type Project struct {
	cfg  ProjectConfig
	exec *gqlexec.Executor

	mu   sync.RWMutex
	envs []*projectEnv
}

// projectEnv is one environment of a project.
type projectEnv struct {
	name  string
	stage *Stage
}

// managementSchema is the parsed managementSDL.
var managementSchema = sync.OnceValue(func() *ast.Schema {
	return gqlparser.MustLoadSchema(&ast.Source{Name: "management.graphql", Input: managementSDL})
})

// NewProject returns an emulated project with no environments yet (see
// AddEnvironment).
func NewProject(cfg ProjectConfig) *Project {
	if cfg.ID == "" {
		cfg.ID = "local"
	}
	if cfg.Name == "" {
		cfg.Name = cfg.ID
	}
	p := &Project{cfg: cfg}
	p.exec = gqlexec.New(managementSchema(), gqlexec.RootResolverFunc(p.resolveRoot))
	return p
}

// ID returns the project's id.
func (p *Project) ID() string { return p.cfg.ID }

// AddEnvironment adds the environment name (lower-case letters, digits, -
// and _, e.g. "master" or "dev"), served by s. The project closes s when
// it is closed.
func (p *Project) AddEnvironment(name string, s *Stage) error {
	if !environmentName.MatchString(name) {
		return fmt.Errorf("stagetest: environment %q: a name is lower-case letters, digits, - and _", name)
	}
	if s == nil {
		return fmt.Errorf("stagetest: environment %q: no stage", name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.envs {
		if e.name == name {
			return fmt.Errorf("stagetest: environment %q added twice", name)
		}
	}
	p.envs = append(p.envs, &projectEnv{name: name, stage: s})
	return nil
}

// Environment returns the stage of the environment name, or nil.
func (p *Project) Environment(name string) *Stage {
	if e := p.env(name); e != nil {
		return e.stage
	}
	return nil
}

// Environments returns the environments' names, in the order they were added.
func (p *Project) Environments() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]string, len(p.envs))
	for i, e := range p.envs {
		out[i] = e.name
	}
	return out
}

func (p *Project) env(name string) *projectEnv {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, e := range p.envs {
		if e.name == name {
			return e
		}
	}
	return nil
}

// ContentPath is the path of the content API of the environment name.
func (p *Project) ContentPath(name string) string {
	return "/content/" + p.cfg.ID + "/" + name
}

// Close closes every environment's stage.
func (p *Project) Close() error {
	p.mu.RLock()
	envs := p.envs
	p.mu.RUnlock()
	var errs []error
	for _, e := range envs {
		if err := e.stage.Close(); err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %w", e.name, err))
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP serves the Management API at ManagementPath and each
// environment's content API at its ContentPath; other paths get 404.
func (p *Project) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == ManagementPath {
		p.serveManagement(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(path, "/content/"+p.cfg.ID+"/"); ok {
		if e := p.env(rest); e != nil {
			e.stage.ServeHTTP(w, r)
			return
		}
	}
	gate.WriteError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s: project %s serves %s and %s",
		r.URL.Path, p.cfg.ID, ManagementPath, p.ContentPath("<environment>")), "")
}

// baseKey carries the request's base URL to the resolvers.
type baseKey struct{}

// serveManagement answers a Management API request.
func (p *Project) serveManagement(w http.ResponseWriter, r *http.Request) {
	if tok := p.cfg.ManagementToken; tok != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			gate.WriteError(w, http.StatusUnauthorized,
				"Unauthorized: send a valid Management API token as 'Authorization: Bearer <token>'", "")
			return
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ctx := context.WithValue(r.Context(), baseKey{}, scheme+"://"+r.Host)
	gqlexec.Handler(p.exec).ServeHTTP(w, r.WithContext(ctx))
}

// resolveRoot answers viewer.
func (p *Project) resolveRoot(ctx context.Context, _ ast.Operation, f *ast.Field, _ map[string]any) (any, error) {
	if f.Name != "viewer" {
		return nil, fmt.Errorf("stagetest: the Management API emulator does not answer %s", f.Name)
	}
	base, _ := ctx.Value(baseKey{}).(string)
	return map[string]any{
		"__typename": "TokenViewer",
		"id":         "viewer-" + p.cfg.ID,
		"project":    managementProject{p: p, base: base},
	}, nil
}

// managementProject is the Project object of the Management API.
type managementProject struct {
	p    *Project
	base string
}

func (managementProject) TypeName() string { return "Project" }

func (m managementProject) ResolveField(_ context.Context, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "id":
		return m.p.cfg.ID, nil
	case "name":
		return m.p.cfg.Name, nil
	case "environments":
		m.p.mu.RLock()
		envs := m.p.envs
		m.p.mu.RUnlock()
		out := make([]any, len(envs))
		for i, e := range envs {
			out[i] = m.environment(e)
		}
		return out, nil
	case "environment":
		name, _ := args["name"].(string)
		e := m.p.env(name)
		if e == nil {
			return nil, fmt.Errorf("project %s has no environment %q (it has %s)", m.p.cfg.ID, name, strings.Join(m.p.Environments(), ", "))
		}
		return m.environment(e), nil
	}
	return nil, fmt.Errorf("no field %s on Project", f.Name)
}

// environment is the Environment object of e.
func (m managementProject) environment(e *projectEnv) map[string]any {
	var assets any
	if a := e.stage.assets; a != nil && !a.upload {
		assets = map[string]any{"apiKey": a.key}
	}
	display := e.name
	if display != "" {
		display = strings.ToUpper(display[:1]) + display[1:]
	}
	return map[string]any{
		"id":          m.p.cfg.ID + ":" + e.name,
		"name":        e.name,
		"displayName": display,
		"endpoint":    m.base + m.p.ContentPath(e.name),
		"assetConfig": assets,
	}
}
