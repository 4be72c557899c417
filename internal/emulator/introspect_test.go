package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/schema"
)

// TestIntrospectRoundTrip: what schema.Introspect reads from a running
// emulator is the schema it serves — every type, field, argument and default.
// The schemas of this repository always, the real fixtures in subtest
// hygraph.
func TestIntrospectRoundTrip(t *testing.T) {
	schemas := lifecycleSchemas(t)
	introspectRoundTrip(t, schemas)
	if len(schemas) < 4 {
		t.Errorf("only %d schemas checked", len(schemas))
	}
	t.Run("hygraph", func(t *testing.T) {
		introspectRoundTrip(t, fixtureSchemas(t))
	})
}

func introspectRoundTrip(t *testing.T, schemas map[string]*ast.Schema) {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range schemas {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		served := schemas[name]
		t.Run(name, func(t *testing.T) {
			srv := NewServer(t, served)
			got, err := schema.Introspect(context.Background(), srv.URL, schema.IntrospectOptions{Token: srv.Token})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(shape(served)); n < 500 {
				t.Fatalf("served schema has only %d shape lines", n)
			}
			if diff := cmp.Diff(shape(served), shape(got)); diff != "" {
				t.Errorf("introspected schema differs from the served one (-served +introspected):\n%s", diff)
			}
		})
	}
}

// shape flattens the user-defined types of s into comparable lines: kinds,
// fields with their types, arguments with defaults, input fields, enum
// values, union members and interfaces.
func shape(s *ast.Schema) []string {
	var out []string
	for name, def := range s.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") || name == "_StagesyncAny" {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s implements %v", def.Kind, name, def.Interfaces))
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			out = append(out, fmt.Sprintf("%s.%s: %s = %s", name, f.Name, f.Type, literal(f.DefaultValue)))
			for _, a := range f.Arguments {
				out = append(out, fmt.Sprintf("%s.%s(%s: %s = %s)", name, f.Name, a.Name, a.Type, literal(a.DefaultValue)))
			}
		}
		for _, v := range def.EnumValues {
			out = append(out, fmt.Sprintf("%s.%s", name, v.Name))
		}
		for _, m := range def.Types {
			out = append(out, fmt.Sprintf("%s | %s", name, m))
		}
	}
	slices.Sort(out)
	return out
}

func literal(v *ast.Value) string {
	if v == nil {
		return "-"
	}
	return v.String()
}

// TestBadInputIsHarmless: malformed requests get a GraphQL error body, never
// crash the stage or change what it stores, and the stage keeps serving.
func TestBadInputIsHarmless(t *testing.T) {
	srv := NewServer(t, conformanceSchema(t), WithLimits(gate.Limits{MaxBody: 64 << 10}))
	if _, err := srv.Stage.Create(context.Background(), "Category", map[string]any{"name": "Kept"}); err != nil {
		t.Fatal(err)
	}
	deep := "{ categories " + strings.Repeat("{ posts ", 60) + "{ id }" + strings.Repeat(" }", 60) + " }"
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"malformed JSON", `{"query": `, 400, ""},
		{"not an object", `[1,2,3]`, 400, ""},
		{"invalid query", `{"query": "{ categories { "}`, 400, ""},
		{"unknown field", `{"query": "{ categories { nope } }"}`, 400, "nope"},
		{"unknown root mutation", `{"query": "mutation { dropEverything }"}`, 400, "dropEverything"},
		{"wrong variable type", `{"query": "query($n: Int) { categories(first: $n) { id } }", "variables": {"n": "ten"}}`, 400, ""},
		{"missing required variable", `{"query": "query($w: CategoryWhereUniqueInput!) { category(where: $w) { id } }"}`, 400, ""},
		{"deep nesting", fmt.Sprintf(`{"query": %q}`, deep), 400, "depth"},
		{"oversized body", `{"query": "` + strings.Repeat("x", 70<<10) + `"}`, 413, ""},
		{"required input field missing", `{"query": "mutation { createCategory(data: {}) { id } }"}`, 400, "name"},
	}
	plain := srv.Client()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := plain.Post(srv.URL, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Errors []struct{ Message string } `json:"errors"`
			}
			if err := jsonDecode(resp.Body, &body); err != nil {
				t.Fatalf("status %d, body is not JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%v)", resp.StatusCode, tc.status, body.Errors)
			}
			if len(body.Errors) == 0 {
				t.Fatal("no errors in the body")
			}
			if tc.want != "" && !strings.Contains(strings.ToLower(body.Errors[0].Message), strings.ToLower(tc.want)) {
				t.Errorf("error %q does not mention %q", body.Errors[0].Message, tc.want)
			}
		})
	}
	all := srv.Stage.All("Category", "DRAFT")
	if len(all) != 1 || all[0]["name"] != "Kept" {
		t.Errorf("store changed by bad input: %v", all)
	}
	// Still serving.
	resp, err := plain.Post(srv.URL, "application/json", strings.NewReader(`{"query": "{ categories(stage: DRAFT) { name } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after bad input: status %d", resp.StatusCode)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
