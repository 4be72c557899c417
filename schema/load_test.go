package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir holds the real Hygraph schemas shared with the project.
const fixtureDir = "../../shared/fixtures/hygraph"

func fixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.graphql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture schemas in %s (err %v)", fixtureDir, err)
	}
	return files
}

func TestLoadFixtures(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
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
