package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/stagesync/stagesync/schema"
)

const pullSDL = `"""
A blog post.
"""
type Post {
  id: ID!
  title(locale: String = "en"): String
}

type Query {
  posts(first: Int = 10): [Post!]!
}
`

// pullServer serves pullSDL's introspection behind a bearer token.
func pullServer(t *testing.T, token string) *httptest.Server {
	t.Helper()
	s, err := schema.LoadString("pull.graphql", pullSDL)
	if err != nil {
		t.Fatal(err)
	}
	h := gqlexec.Handler(gqlexec.New(s, gqlexec.RootResolverFunc(func(context.Context, ast.Operation, *ast.Field, map[string]any) (any, error) {
		return nil, errors.New("introspection only")
	})))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"errors":[{"message":"unauthorized: `+r.Header.Get("Authorization")+`"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSchemaPull(t *testing.T) {
	const token = "pull-token-1234567890"
	srv := pullServer(t, token)
	dir := t.TempDir()
	t.Setenv("STAGESYNC_TEST_TOKEN", token)
	t.Setenv("STAGESYNC_TEST_WRONG", "wrong-token-0987654321")
	t.Setenv("STAGESYNC_TEST_EMPTY", "")
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
		wantFile   string // file under dir that must hold the SDL
	}{
		{
			name:       "to stdout",
			args:       []string{"--endpoint", srv.URL, "--token-env", "STAGESYNC_TEST_TOKEN"},
			wantStdout: "type Post {",
		},
		{
			name:       "dash is stdout",
			args:       []string{"--endpoint", srv.URL, "--token-env", "STAGESYNC_TEST_TOKEN", "-o", "-"},
			wantStdout: `title(locale: String = "en"): String`,
		},
		{
			name:       "to a file",
			args:       []string{"--endpoint", srv.URL, "--token-env", "STAGESYNC_TEST_TOKEN", "-o", filepath.Join(dir, "stage.graphql")},
			wantStderr: "wrote ",
			wantFile:   "stage.graphql",
		},
		{
			name:       "missing endpoint",
			args:       []string{"--token-env", "STAGESYNC_TEST_TOKEN"},
			wantCode:   exitUsage,
			wantStderr: "--endpoint is required",
		},
		{
			name:       "empty token variable",
			args:       []string{"--endpoint", srv.URL, "--token-env", "STAGESYNC_TEST_EMPTY"},
			wantCode:   exitUsage,
			wantStderr: "environment variable STAGESYNC_TEST_EMPTY (named by --token-env) is empty or unset",
		},
		{
			name:       "unset token variable",
			args:       []string{"--endpoint", srv.URL, "--token-env", "STAGESYNC_TEST_NEVER_SET"},
			wantCode:   exitUsage,
			wantStderr: "STAGESYNC_TEST_NEVER_SET",
		},
		{
			name:       "unauthorized",
			args:       []string{"--endpoint", srv.URL, "--token-env", "STAGESYNC_TEST_WRONG", "-o", filepath.Join(dir, "unauthorized.graphql")},
			wantCode:   exitFailures,
			wantStderr: "HTTP 401 Unauthorized",
		},
		{
			name:       "unreachable",
			args:       []string{"--endpoint", "http://127.0.0.1:1/graphql"},
			wantCode:   exitFailures,
			wantStderr: "schema: introspect http://127.0.0.1:1/graphql: ",
		},
		{
			name:       "stray argument",
			args:       []string{"--endpoint", srv.URL, "extra"},
			wantCode:   exitUsage,
			wantStderr: "unknown command",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"schema", "pull"}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.wantStderr)
			}
			for _, secret := range []string{token, "wrong-token-0987654321"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("output leaks a token: %s%s", stdout, stderr)
				}
			}
			if tc.wantFile != "" {
				b, err := os.ReadFile(filepath.Join(dir, tc.wantFile))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := schema.LoadString(tc.wantFile, string(b)); err != nil {
					t.Errorf("pulled SDL does not load: %v", err)
				}
				if !strings.Contains(string(b), "A blog post.") {
					t.Errorf("pulled SDL lost a description:\n%s", b)
				}
			}
			if tc.wantCode != 0 {
				if _, err := os.Stat(filepath.Join(dir, "unauthorized.graphql")); !os.IsNotExist(err) {
					t.Errorf("a failed pull wrote its output file")
				}
			}
		})
	}
}
