package stagetest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// managementQuery is the query `stagesync init` sends.
const managementQuery = `query { viewer { __typename ... on TokenViewer { project { id name
  environments { name displayName endpoint assetConfig { apiKey } } } } } }`

// postJSON posts a GraphQL request with the bearer token and decodes the answer.
func postJSON(t *testing.T, url, token, query string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode, out
}

// newTwoEnvProject serves a project with master (legacy assets, a bucket)
// and dev (no bucket).
func newTwoEnvProject(t *testing.T) *stagetest.ProjectServer {
	t.Helper()
	s := photosSchema(t)
	p := stagetest.NewProject(stagetest.ProjectConfig{ID: "hotels", ManagementToken: "mgmt"})
	lim := stagetest.WithLimits(stagetest.Limits{Token: "content"})
	master, err := stagetest.NewStage(s, lim, stagetest.WithAssets(nil, "master-key"))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := stagetest.NewStage(s, lim)
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]*stagetest.Stage{"master": master, "dev": dev} {
		if err := p.AddEnvironment(name, st); err != nil {
			t.Fatal(err)
		}
	}
	return stagetest.NewProjectServer(t, p)
}

// photosSchema is a Hygraph schema of hotels with photos.
func photosSchema(t *testing.T) *ast.Schema {
	t.Helper()
	sdl, err := schema.SynthesizeDescription([]byte("locales: [en]\nmodels:\n  Hotel:\n    name: String! unique\n    photos: \"[Asset]\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("hotels.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestProjectManagementAPI(t *testing.T) {
	srv := newTwoEnvProject(t)
	code, out := postJSON(t, srv.ManagementURL, "mgmt", managementQuery)
	if code != http.StatusOK || out["errors"] != nil {
		t.Fatalf("status %d: %v", code, out)
	}
	project := out["data"].(map[string]any)["viewer"].(map[string]any)["project"].(map[string]any)
	if project["id"] != "hotels" {
		t.Errorf("project id %v, want hotels", project["id"])
	}
	envs := project["environments"].([]any)
	if len(envs) != 2 {
		t.Fatalf("%d environments, want 2: %v", len(envs), envs)
	}
	byName := map[string]map[string]any{}
	for _, e := range envs {
		m := e.(map[string]any)
		byName[m["name"].(string)] = m
	}
	for name, key := range map[string]any{"master": map[string]any{"apiKey": "master-key"}, "dev": nil} {
		e := byName[name]
		if e["endpoint"] != srv.EnvironmentURL(name) {
			t.Errorf("%s endpoint %v, want %s", name, e["endpoint"], srv.EnvironmentURL(name))
		}
		if got, _ := json.Marshal(e["assetConfig"]); string(got) != mustJSON(t, key) {
			t.Errorf("%s assetConfig %s, want %s", name, got, mustJSON(t, key))
		}
	}

	// The endpoint it names serves the environment's content API.
	code, out = postJSON(t, srv.EnvironmentURL("dev"), "content", `{ hotels { id } }`)
	if code != http.StatusOK || out["errors"] != nil {
		t.Errorf("dev content API: status %d: %v", code, out)
	}
	// environment(name) names what the project has when asked for another.
	_, out = postJSON(t, srv.ManagementURL, "mgmt", `{ viewer { ... on TokenViewer { project { environment(name: "staging") { endpoint } } } } }`)
	if errs, _ := json.Marshal(out["errors"]); !strings.Contains(string(errs), `has no environment \"staging\" (it has master, dev)`) &&
		!strings.Contains(string(errs), `has no environment \"staging\" (it has dev, master)`) {
		t.Errorf("unknown environment: errors %s", errs)
	}
}

func TestProjectManagementAuth(t *testing.T) {
	srv := newTwoEnvProject(t)
	for _, tok := range []string{"", "content", "wrong"} {
		code, out := postJSON(t, srv.ManagementURL, tok, managementQuery)
		if code != http.StatusUnauthorized || !strings.Contains(mustJSON(t, out["errors"]), "Management API token") {
			t.Errorf("token %q: status %d %v, want 401", tok, code, out)
		}
	}
	// A content token is not a Management token, and the other way round.
	if code, _ := postJSON(t, srv.EnvironmentURL("master"), "mgmt", `{ hotels { id } }`); code != http.StatusUnauthorized {
		t.Errorf("content API with the Management token: status %d, want 401", code)
	}
	if code, _ := postJSON(t, srv.URL+"/content/other/master", "content", `{ hotels { id } }`); code != http.StatusNotFound {
		t.Errorf("another project's path: status %d, want 404", code)
	}
}

func TestProjectAddEnvironment(t *testing.T) {
	p := stagetest.NewProject(stagetest.ProjectConfig{})
	if p.ID() != "local" {
		t.Errorf("default id %q, want local", p.ID())
	}
	st, err := stagetest.NewStage(photosSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, bad := range []string{"", "Master", "a b", "-x"} {
		if err := p.AddEnvironment(bad, st); err == nil {
			t.Errorf("AddEnvironment(%q) accepted", bad)
		}
	}
	if err := p.AddEnvironment("master", st); err != nil {
		t.Fatal(err)
	}
	if err := p.AddEnvironment("master", st); err == nil || !strings.Contains(err.Error(), "added twice") {
		t.Errorf("second master: %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
