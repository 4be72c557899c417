package schema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/vektah/gqlparser/v2/ast"
)

// introspectionOnly resolves no root field: the executor answers
// introspection itself.
var introspectionOnly = gqlexec.RootResolverFunc(func(_ context.Context, _ ast.Operation, f *ast.Field, _ map[string]any) (any, error) {
	return nil, fmt.Errorf("field %s is not served by this test server", f.Name)
})

// serveSchema starts a GraphQL server for s that requires token (when not
// empty) and answers introspection only.
func serveSchema(t *testing.T, s *ast.Schema, token string) *httptest.Server {
	t.Helper()
	h := gqlexec.Handler(gqlexec.New(s, introspectionOnly))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"errors":[{"message":"token %q is not valid"}]}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestIntrospectFixtures(t *testing.T) {
	eachSchema(t, func(t *testing.T, f string) {
		want, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		srv := serveSchema(t, want, "s3cret")
		got, err := Introspect(context.Background(), srv.URL, IntrospectOptions{Token: "s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		compareSchemas(t, want, got)
	})
}

func TestIntrospectSDLGolden(t *testing.T) {
	want, err := Load(filepath.Join("testdata", "introspect", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveSchema(t, want, "")
	sdl, err := IntrospectSDL(context.Background(), srv.URL, IntrospectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "introspect", "introspected.golden.graphql"), sdl)
	got, err := LoadString("introspected", sdl)
	if err != nil {
		t.Fatal(err)
	}
	compareSchemas(t, want, got)
}

func TestIntrospectErrors(t *testing.T) {
	const token = "tok-9f8e7d6c5b4a"
	blocked := make(chan struct{})
	cases := []struct {
		name    string
		handler http.HandlerFunc
		opts    IntrospectOptions
		want    []string
		status  int
		timeout bool
		check   func(t *testing.T, err error)
	}{
		{
			name: "401",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				// Echoes the token it got, as some servers do.
				fmt.Fprintf(w, `{"message":"invalid token %s"}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			},
			want:   []string{"HTTP 401 Unauthorized: ", `invalid token [REDACTED]`},
			status: 401,
		},
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-blocked:
				}
			},
			opts:    IntrospectOptions{Timeout: 50 * time.Millisecond},
			want:    []string{"timed out after 50ms"},
			timeout: true,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
				}
			},
		},
		{
			name: "not JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>Sign in to continue</body></html>")
			},
			want:   []string{"response is not JSON (text/html): <html><body>Sign in to continue</body></html>"},
			status: 200,
		},
		{
			name: "GraphQL errors",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"data":null,"errors":[{"message":"introspection is disabled"},{"message":"token `+token+` lacks permission"}]}`)
			},
			want:   []string{"GraphQL errors: introspection is disabled; token [REDACTED] lacks permission"},
			status: 200,
		},
		{
			name: "500 with a long body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, strings.Repeat("x", 1000))
			},
			want:   []string{"HTTP 500 Internal Server Error: " + strings.Repeat("x", 200) + "…"},
			status: 500,
		},
		{
			name: "no schema in data",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"data":{}}`)
			},
			want:   []string{"response has no data.__schema"},
			status: 200,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sawAuth := make(chan string, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case sawAuth <- r.Header.Get("Authorization"):
				default:
				}
				_, _ = io.Copy(io.Discard, r.Body)
				tc.handler(w, r)
			}))
			defer srv.Close()
			endpoint := srv.URL + "/content/proj/master?token=" + token // even a token in the URL is redacted
			opts := tc.opts
			opts.Token = token
			_, err := Introspect(context.Background(), endpoint, opts)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, token) {
				t.Errorf("error leaks the token: %s", msg)
			}
			wantPrefix := "schema: introspect " + srv.URL + "/content/proj/master?token=[REDACTED]: "
			if !strings.HasPrefix(msg, wantPrefix) {
				t.Errorf("error %q does not start with %q", msg, wantPrefix)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var ie *IntrospectError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *IntrospectError", err)
			}
			if ie.StatusCode != tc.status || ie.Timeout != tc.timeout {
				t.Errorf("StatusCode %d Timeout %v, want %d %v", ie.StatusCode, ie.Timeout, tc.status, tc.timeout)
			}
			if got := <-sawAuth; got != "Bearer "+token {
				t.Errorf("server saw Authorization %q", got)
			}
			for e := error(ie); e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), token) {
					t.Errorf("wrapped error %T leaks the token: %s", e, e)
				}
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
	close(blocked)
}

func TestIntrospectCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Introspect(ctx, srv.URL, IntrospectOptions{})
	var ie *IntrospectError
	if !errors.As(err, &ie) || ie.Timeout || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("got %v, want a cancellation error", err)
	}
}

func TestIntrospectSendsHeaders(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "introspect", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	h := gqlexec.Handler(gqlexec.New(s, introspectionOnly))
	var got http.Header
	var body struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	hdr := http.Header{}
	hdr.Set("gcms-stage", "DRAFT")
	if _, err := IntrospectSDL(context.Background(), srv.URL, IntrospectOptions{Token: "t", Header: hdr, HTTPClient: srv.Client()}); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Authorization": "Bearer t", "Gcms-Stage": "DRAFT", "Content-Type": "application/json"} {
		if got.Get(k) != want {
			t.Errorf("header %s = %q, want %q", k, got.Get(k), want)
		}
	}
	if body.OperationName != "IntrospectionQuery" || strings.Contains(body.Query, "specifiedByURL") || strings.Contains(body.Query, "isRepeatable") {
		t.Errorf("unexpected introspection request %q / %q", body.OperationName, body.Query)
	}
}

// compareSchemas reports differences between two schemas in everything
// introspection carries: types, kinds, descriptions, fields, field types,
// arguments and defaults, input fields and defaults, enum values, union
// members, interfaces, deprecations and directive declarations.
func compareSchemas(t *testing.T, want, got *ast.Schema) {
	t.Helper()
	var diffs []string
	diff := func(format string, args ...any) {
		diffs = append(diffs, fmt.Sprintf(format, args...))
	}
	names := func(m map[string]*ast.Definition) []string {
		var out []string
		for n := range m {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	if strings.Join(names(want.Types), ",") != strings.Join(names(got.Types), ",") {
		diff("type names differ:\nwant %v\n got %v", names(want.Types), names(got.Types))
	}
	rootName := func(d *ast.Definition) string {
		if d == nil {
			return ""
		}
		return d.Name
	}
	if rootName(want.Query) != rootName(got.Query) || rootName(want.Mutation) != rootName(got.Mutation) || rootName(want.Subscription) != rootName(got.Subscription) {
		diff("root types differ")
	}
	defaultOf := func(v *ast.Value) string {
		if v == nil {
			return "<none>"
		}
		return gqlexec.ValueLiteral(v)
	}
	deprecation := func(dirs ast.DirectiveList) string {
		d := dirs.ForName("deprecated")
		if d == nil {
			return ""
		}
		if a := d.Arguments.ForName("reason"); a != nil {
			return "deprecated: " + a.Value.Raw
		}
		return "deprecated: No longer supported"
	}
	args := func(where string, w, g ast.ArgumentDefinitionList) {
		if len(w) != len(g) {
			diff("%s: %d arguments, want %d", where, len(g), len(w))
			return
		}
		for i := range w {
			if w[i].Name != g[i].Name || w[i].Type.String() != g[i].Type.String() ||
				defaultOf(w[i].DefaultValue) != defaultOf(g[i].DefaultValue) || w[i].Description != g[i].Description {
				diff("%s: argument %s: %s = %s, want %s: %s = %s", where, g[i].Name, g[i].Type, defaultOf(g[i].DefaultValue), w[i].Name, w[i].Type, defaultOf(w[i].DefaultValue))
			}
		}
	}
	for _, name := range names(want.Types) {
		w, g := want.Types[name], got.Types[name]
		if g == nil {
			continue
		}
		if w.Kind != g.Kind {
			diff("%s: kind %s, want %s", name, g.Kind, w.Kind)
			continue
		}
		if w.Description != g.Description {
			diff("%s: description %q, want %q", name, g.Description, w.Description)
		}
		if strings.Join(w.Interfaces, ",") != strings.Join(g.Interfaces, ",") {
			diff("%s: interfaces %v, want %v", name, g.Interfaces, w.Interfaces)
		}
		if strings.Join(w.Types, ",") != strings.Join(g.Types, ",") {
			diff("%s: union members %v, want %v", name, g.Types, w.Types)
		}
		if len(w.EnumValues) != len(g.EnumValues) {
			diff("%s: %d enum values, want %d", name, len(g.EnumValues), len(w.EnumValues))
		} else {
			for i := range w.EnumValues {
				wv, gv := w.EnumValues[i], g.EnumValues[i]
				if wv.Name != gv.Name || wv.Description != gv.Description || deprecation(wv.Directives) != deprecation(gv.Directives) {
					diff("%s: enum value %s, want %s", name, gv.Name, wv.Name)
				}
			}
		}
		if len(w.Fields) != len(g.Fields) {
			diff("%s: %d fields, want %d", name, len(g.Fields), len(w.Fields))
			continue
		}
		for i := range w.Fields {
			wf, gf := w.Fields[i], g.Fields[i]
			where := name + "." + wf.Name
			if wf.Name != gf.Name || wf.Type.String() != gf.Type.String() {
				diff("%s: field %s: %s, want %s: %s", name, gf.Name, gf.Type, wf.Name, wf.Type)
				continue
			}
			if wf.Description != gf.Description {
				diff("%s: description %q, want %q", where, gf.Description, wf.Description)
			}
			if defaultOf(wf.DefaultValue) != defaultOf(gf.DefaultValue) {
				diff("%s: default %s, want %s", where, defaultOf(gf.DefaultValue), defaultOf(wf.DefaultValue))
			}
			if deprecation(wf.Directives) != deprecation(gf.Directives) {
				diff("%s: %q, want %q", where, deprecation(gf.Directives), deprecation(wf.Directives))
			}
			args(where, wf.Arguments, gf.Arguments)
		}
	}
	for name, w := range want.Directives {
		g := got.Directives[name]
		if g == nil {
			diff("directive @%s missing", name)
			continue
		}
		args("@"+name, w.Arguments, g.Arguments)
		if fmt.Sprint(w.Locations) != fmt.Sprint(g.Locations) {
			diff("@%s: locations %v, want %v", name, g.Locations, w.Locations)
		}
	}
	if len(want.Directives) != len(got.Directives) {
		diff("%d directives, want %d", len(got.Directives), len(want.Directives))
	}
	const maxShown = 20
	for i, d := range diffs {
		if i == maxShown {
			t.Errorf("... and %d more differences", len(diffs)-maxShown)
			break
		}
		t.Error(d)
	}
}
