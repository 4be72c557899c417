package main

// The Management API queries of `stagesync init`: the project of a
// Management token and its environments' endpoints and asset buckets.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// mgmtProject is a project as the Management API describes it.
type mgmtProject struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Environments []mgmtEnv `json:"environments"`
}

// mgmtEnv is an environment of a project.
type mgmtEnv struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Endpoint    string `json:"endpoint"`
	AssetConfig *struct {
		APIKey string `json:"apiKey"`
	} `json:"assetConfig"`
}

// mgmtClient sends Management API queries with a token.
type mgmtClient struct {
	endpoint, token, tokenEnv, project string
	hc                                 *http.Client
}

// discoverProject returns the project f.project and its environments, as
// the Management API at f.mgmtEndpoint lists them for token. A token that
// is missing or refused, or that belongs to another project, is an
// exitUsage error naming what to fix.
func discoverProject(ctx context.Context, f initFlags, token string) (*mgmtProject, error) {
	if token == "" {
		return nil, withCode(exitUsage, fmt.Errorf("--management-token-env %s: the environment variable is empty or unset (and not in .env): set it to a Management API token of project %s (Project settings > Permanent Auth Tokens, with Management API permissions)",
			f.mgmtTokenEnv, f.project))
	}
	c := &mgmtClient{endpoint: f.mgmtEndpoint, token: token, tokenEnv: f.mgmtTokenEnv, project: f.project, hc: &http.Client{Timeout: initTimeout}}

	// Ask only for the Environment fields the API has: the emulator's and
	// Hygraph's Management APIs need not agree on the optional ones.
	var typ struct {
		Type *struct {
			Fields []struct{ Name string } `json:"fields"`
		} `json:"__type"`
	}
	if err := c.query(ctx, `query StagesyncEnvironmentFields { __type(name: "Environment") { fields { name } } }`, &typ); err != nil {
		return nil, err
	}
	if typ.Type == nil {
		return nil, withCode(exitUsage, fmt.Errorf("--management-endpoint %s: the API has no Environment type: is it Hygraph's Management API (default %s)?", c.endpoint, defaultManagementEndpoint))
	}
	var have []string
	for _, fd := range typ.Type.Fields {
		have = append(have, fd.Name)
	}
	for _, need := range []string{"name", "endpoint"} {
		if !slices.Contains(have, need) {
			return nil, fmt.Errorf("--management-endpoint %s: Environment has no %s field; init cannot find the environments' endpoints there", c.endpoint, need)
		}
	}
	sel := "name endpoint"
	if slices.Contains(have, "displayName") {
		sel += " displayName"
	}
	if slices.Contains(have, "assetConfig") {
		sel += " assetConfig { apiKey }"
	}

	var data struct {
		Viewer struct {
			Typename string       `json:"__typename"`
			Project  *mgmtProject `json:"project"`
		} `json:"viewer"`
	}
	q := "query StagesyncEnvironments { viewer { __typename ... on TokenViewer { project { id name environments { " + sel + " } } } } }"
	if err := c.query(ctx, q, &data); err != nil {
		return nil, err
	}
	p := data.Viewer.Project
	switch {
	case p == nil:
		return nil, withCode(exitUsage, fmt.Errorf("--management-token-env %s: the token is not a Management API token of a project (the API sees a %s): create one in project %s's settings (Permanent Auth Tokens, Management API permissions)",
			c.tokenEnv, data.Viewer.Typename, c.project))
	case p.ID != c.project:
		return nil, withCode(exitUsage, fmt.Errorf("--project %s: unknown to the token in %s, which belongs to project %s (%s): pass --project %s, or a Management token of project %s",
			c.project, c.tokenEnv, p.ID, p.Name, p.ID, c.project))
	}
	for _, e := range p.Environments {
		if e.Endpoint == "" {
			return nil, fmt.Errorf("project %s: environment %s has no endpoint in the Management API's answer", p.ID, e.Name)
		}
	}
	return p, nil
}

// query posts a query and decodes its data into out. HTTP 401/403 and 404
// are exitUsage errors (a token or endpoint to fix), GraphQL errors exit 1.
func (c *mgmtClient) query(ctx context.Context, query string, out any) error {
	body, err := json.Marshal(map[string]any{"query": query})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--management-endpoint %s: %w", c.endpoint, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return withCode(exitFailures, fmt.Errorf("Management API %s: %s", c.endpoint, c.redact(err.Error())))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return withCode(exitFailures, fmt.Errorf("Management API %s: %w", c.endpoint, err))
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	jerr := json.Unmarshal(b, &r)
	msg := ""
	for _, e := range r.Errors {
		msg += "; " + e.Message
	}
	msg = c.redact(strings.TrimPrefix(msg, "; "))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return withCode(exitUsage, fmt.Errorf("Management API %s refuses the token in %s (HTTP %d: %s): set %s to a Management API token of project %s (Project settings > Permanent Auth Tokens, with Management API permissions)",
			c.endpoint, c.tokenEnv, resp.StatusCode, msg, c.tokenEnv, c.project))
	case resp.StatusCode == http.StatusNotFound:
		return withCode(exitUsage, fmt.Errorf("--management-endpoint %s: HTTP 404: is it the Management API's URL (default %s)?", c.endpoint, defaultManagementEndpoint))
	case resp.StatusCode != http.StatusOK:
		return withCode(exitFailures, fmt.Errorf("Management API %s: HTTP %d: %s", c.endpoint, resp.StatusCode, msg))
	case jerr != nil:
		return withCode(exitFailures, fmt.Errorf("Management API %s: the answer is not a GraphQL response: %w", c.endpoint, jerr))
	case len(r.Errors) > 0:
		return withCode(exitFailures, fmt.Errorf("Management API %s: %s", c.endpoint, msg))
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		return withCode(exitFailures, fmt.Errorf("Management API %s: %w", c.endpoint, err))
	}
	return nil
}

// redact removes the token from a message.
func (c *mgmtClient) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[token]")
}
