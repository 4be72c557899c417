package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// checkGolden compares got with the golden file, rewriting it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if updateGolden() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update and review the diff):\n%s", path, got)
	}
}

func TestPrintSDLGolden(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "introspect", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sdl := SDL(s)
	checkGolden(t, filepath.Join("testdata", "introspect", "printed.golden.graphql"), sdl)
	back, err := LoadString("printed", sdl)
	if err != nil {
		t.Fatal(err)
	}
	compareSchemas(t, s, back)
	if again := SDL(back); again != sdl {
		t.Errorf("printing is not stable:\n%s", again)
	}
}

func TestPrintSDLFixtures(t *testing.T) {
	eachSchema(t, func(t *testing.T, f string) {
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		sdl := SDL(s)
		for _, banned := range []string{"scalar String", "scalar Boolean", "type __", "directive @skip", "directive @deprecated", "__schema", "__type("} {
			if strings.Contains(sdl, banned) {
				t.Errorf("SDL contains built-in %q", banned)
			}
		}
		back, err := LoadString("printed", sdl)
		if err != nil {
			t.Fatal(err)
		}
		compareSchemas(t, s, back)
		if again := SDL(back); again != sdl {
			t.Error("printing is not stable")
		}
		// genqlient loads schemas with plain gqlparser.LoadSchema.
		if _, err := gqlparser.LoadSchema(&ast.Source{Name: "printed.graphql", Input: sdl}); err != nil {
			t.Errorf("gqlparser.LoadSchema: %v", err)
		}
	})
}

func TestPrintSDLDescriptions(t *testing.T) {
	cases := []struct {
		name, desc, want string
	}{
		{"one line", "Hello", "\"\"\"\nHello\n\"\"\"\nscalar S\n"},
		{"triple quotes", `say """hi"""`, "\"\"\"\nsay \\\"\"\"hi\\\"\"\"\n\"\"\"\nscalar S\n"},
		{"leading spaces", "  indented\nnext", "\"  indented\\nnext\"\nscalar S\n"},
		{"trailing blank line", "text\n", "\"text\\n\"\nscalar S\n"},
		{"carriage return", "a\r\nb", "\"a\\r\\nb\"\nscalar S\n"},
		{"paragraphs", "a\n\nb", "\"\"\"\na\n\nb\n\"\"\"\nscalar S\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadString("d", "scalar S\ntype Query { s: S }")
			if err != nil {
				t.Fatal(err)
			}
			s.Types["S"].Description = tc.desc
			sdl := SDL(s)
			i := strings.Index(sdl, "type Query")
			if got := sdl[:i-1]; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			back, err := LoadString("printed", sdl)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.Types["S"].Description; got != tc.desc {
				t.Errorf("description read back as %q, want %q", got, tc.desc)
			}
		})
	}
}
