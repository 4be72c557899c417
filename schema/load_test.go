package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/internal/fixturedir"
)

// eachSchema runs test in a subtest for each synthesized schema of
// testdata/synth (subtests synth/NAME.graphql), then for each real Hygraph
// schema of ../shared/fixtures/hygraph (subtests hygraph/NAME.graphql,
// skipped without that folder, see package fixturedir).
func eachSchema(t *testing.T, test func(t *testing.T, path string)) {
	t.Helper()
	synth, err := filepath.Glob(filepath.Join("testdata", "synth", "*.graphql"))
	if err != nil || len(synth) < 4 {
		t.Fatalf("synthesized schemas %q (err %v), want 4 or more", synth, err)
	}
	t.Run("synth", func(t *testing.T) {
		for _, f := range synth {
			t.Run(filepath.Base(f), func(t *testing.T) { test(t, f) })
		}
	})
	t.Run("hygraph", func(t *testing.T) {
		for _, f := range fixturedir.Files(t) {
			t.Run(filepath.Base(f), func(t *testing.T) { test(t, f) })
		}
	})
}

func TestLoadFixtures(t *testing.T) {
	eachSchema(t, func(t *testing.T, f string) {
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Query", "Mutation", "Node", "Asset", "Stage", "Locale"} {
			if s.Types[name] == nil {
				t.Errorf("type %s missing", name)
			}
		}
	})
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, sdl, want string
	}{
		{"syntax", "type Query {\n  a: String\n  b: \n}\n", "bad.graphql:4:1: Expected Name, found }"},
		{"unknown type", "type Query {\n  a: Nope\n}\n", "bad.graphql:2:6: Undefined type Nope."},
		{"undeclared directive is declared", "type Query {\n  a: String @psql(x: 1)\n}\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.graphql")
			if err := os.WriteFile(p, []byte(tc.sdl), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.graphql")); err == nil {
		t.Fatal("missing file loaded")
	}
}
