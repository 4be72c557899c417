package emulator

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stagesync/stagesync/schema"
)

var update = flag.Bool("update", false, "regenerate testdata/conformance.graphql from testdata/conformance.yaml")

// TestConformanceSchema keeps testdata/conformance.graphql, the schema of
// the conformance cases, synthesized from testdata/conformance.yaml.
func TestConformanceSchema(t *testing.T) {
	desc, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(desc)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/conformance.graphql", []byte(sdl), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile("testdata/conformance.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != sdl {
		t.Logf("testdata/conformance.graphql differs from what Synthesize makes of conformance.yaml today; run with -update to refresh it")
	}
}

// confCase is one request against the conformance fixture and the response
// it must get. before runs first (each must succeed); want is the whole
// response as JSON: errors are compared by message and path only; "<id>"
// matches any generated id and "<time>" any timestamp.
type confCase struct {
	name   string
	before []string
	query  string
	vars   map[string]any
	want   string
	status int // HTTP status; 0 means 200
	opts   []Option
	setup  func(t *testing.T, st *Stage)
}

// conformanceStage returns a stage of the conformance schema holding the
// fixture: authors a1 (published, localized bio) and a2; categories c1
// (published) and c2; posts p1..p5 (p1 and p2 published), created in that
// order (p4 and p5 at the same time).
func conformanceStage(t *testing.T, opts ...Option) *Stage {
	t.Helper()
	opts = append([]Option{WithSeed(1), WithClock(fakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Second))}, opts...)
	st, err := NewStage(conformanceSchema(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	seed := func(model, stage string, docs ...map[string]any) {
		t.Helper()
		if _, err := st.Seed(model, stage, docs...); err != nil {
			t.Fatal(err)
		}
	}
	seed("Author", "PUBLISHED", map[string]any{"id": "a1", "name": "Ada", "bio": "Mathematician", "createdAt": "2024-01-01T00:00:00Z",
		"localizations": map[string]any{"de": map[string]any{"bio": "Mathematikerin"}}})
	seed("Author", "DRAFT", map[string]any{"id": "a2", "name": "Bob", "createdAt": "2024-01-02T00:00:00Z"})
	seed("Category", "PUBLISHED", map[string]any{"id": "c1", "name": "Science", "createdAt": "2024-01-01T00:00:00Z"})
	seed("Category", "DRAFT", map[string]any{"id": "c2", "name": "Art", "createdAt": "2024-01-02T00:00:00Z"})
	seed("Post", "PUBLISHED", map[string]any{
		"id": "p1", "title": "Alpha", "slug": "alpha", "views": 10, "rating": 4.5, "featured": true,
		"day": "2024-01-01", "releasedAt": "2024-01-01T08:00:00Z", "status": "LIVE", "tags": []any{"go", "db"},
		"author": "a1", "categories": []any{"c1", "c2"}, "createdAt": "2024-02-01T00:00:00Z",
		"body":  map[string]any{"children": []any{map[string]any{"type": "paragraph", "children": []any{map[string]any{"text": "Hello "}, map[string]any{"text": "world", "bold": true}}}}},
		"meta":  map[string]any{"a": map[string]any{"b": []any{1, 2}}},
		"place": map[string]any{"latitude": 52.52, "longitude": 13.405},
		"color": map[string]any{"hex": "#336699"},
		"seo":   map[string]any{"create": map[string]any{"title": "SEO A", "keywords": []any{"k1"}}},
		"blocks": map[string]any{"create": []any{
			map[string]any{"Seo": map[string]any{"id": "s1", "title": "S"}},
			map[string]any{"Quote": map[string]any{"id": "q1", "text": "Q"}},
		}},
		"localizations": map[string]any{"de": map[string]any{"title": "Alpha DE"}},
	}, map[string]any{
		"id": "p2", "title": "Beta", "slug": "beta", "views": 20, "rating": 3, "featured": false,
		"day": "2024-02-01", "status": "DRAFTED", "tags": []any{"go"}, "author": "a1", "categories": []any{"c1"},
		"related": []any{"p1"}, "mentions": []any{"a1", "c2"}, "createdAt": "2024-02-02T00:00:00Z",
	})
	seed("Post", "DRAFT",
		map[string]any{"id": "p3", "title": "Gamma", "slug": "gamma", "views": 20, "status": "ARCHIVED", "author": "a2", "createdAt": "2024-02-03T00:00:00Z"},
		map[string]any{"id": "p4", "title": "Delta", "slug": "delta", "views": 5, "createdAt": "2024-02-04T00:00:00Z"},
		map[string]any{"id": "p5", "title": "Epsilon", "slug": "epsilon", "createdAt": "2024-02-04T00:00:00Z"},
	)
	return st
}

func TestConformance(t *testing.T) {
	if len(conformanceCases) < 60 {
		t.Errorf("only %d conformance cases", len(conformanceCases))
	}
	names := map[string]bool{}
	for _, tc := range conformanceCases {
		if names[tc.name] {
			t.Errorf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			st := conformanceStage(t, tc.opts...)
			if tc.setup != nil {
				tc.setup(t, st)
			}
			for _, q := range tc.before {
				mustPost(t, st, q, nil)
			}
			res := post(t, st, tc.query, tc.vars)
			want := tc.status
			if want == 0 {
				want = http.StatusOK
			}
			if res.status != want {
				t.Errorf("status %d, want %d", res.status, want)
			}
			var got, exp any
			if err := json.Unmarshal([]byte(res.raw), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.want), &exp); err != nil {
				t.Fatalf("bad want JSON: %v", err)
			}
			got = normalizeResponse(got)
			if diff := cmp.Diff(exp, got, placeholders); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s\ngot: %s", diff, res.raw)
			}
		})
	}
}

// normalizeResponse drops what the cases do not compare: error locations
// and extensions.
func normalizeResponse(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if errs, ok := m["errors"].([]any); ok {
		for _, e := range errs {
			if em, ok := e.(map[string]any); ok {
				delete(em, "locations")
				delete(em, "extensions")
			}
		}
	}
	return m
}

var (
	idPattern   = regexp.MustCompile(`^c[0-9a-z]{24}$`)
	timePattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`)
	// placeholders lets "<id>" and "<time>" in a want match generated ids
	// and timestamps.
	placeholders = cmp.FilterValues(func(a, b string) bool {
		return a == "<id>" || b == "<id>" || a == "<time>" || b == "<time>"
	}, cmp.Comparer(func(a, b string) bool {
		if b == "<id>" || b == "<time>" {
			a, b = b, a
		}
		if a == "<id>" {
			return idPattern.MatchString(b)
		}
		return timePattern.MatchString(b)
	}))
)
