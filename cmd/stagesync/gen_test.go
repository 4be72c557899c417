package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genDir returns a package directory inside a module of its own (so that
// genqlient's package lookup succeeds), holding a copy of the synthesized blog
// schema as schema.graphql.
func genDir(t *testing.T) (dir, sdl string) {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/gen\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(root, "blog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(blogFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	sdl = filepath.Join(dir, "schema.graphql")
	if err := os.WriteFile(sdl, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, sdl
}

func TestGen(t *testing.T) {
	dir, sdl := genDir(t)
	code, stdout, stderr := runCLI(t, "gen", "--schema", sdl, "--models", "Post,Tag", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	for _, want := range []string{
		"scaffolded " + filepath.Join(dir, "queries", "readPosts.graphql"),
		"wrote      " + filepath.Join(dir, "generated.go"),
		"wrote      " + filepath.Join(dir, "zz_stagesync.go"),
		"wrote      " + filepath.Join(dir, "doc.go"),
		"model      Post: PostModel reads with ReadPosts (queries/readPosts.graphql) into Post",
		"model      Tag: TagModel reads with ReadTags (queries/readTags.graphql) into Tag",
		"12 operations scaffolded, 0 kept; 4 files written, 0 unchanged; 2 typed models",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	doc, err := os.ReadFile(filepath.Join(dir, "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "//go:generate go run github.com/stagesync/stagesync/cmd/stagesync gen --schema schema.graphql --models Post,Tag --out .\n") {
		t.Errorf("doc.go:\n%s", doc)
	}

	// A second run, as go generate runs it: nothing changes.
	code, stdout, stderr = runCLI(t, "gen", "--schema", sdl, "--models", "Post,Tag", "--out", dir)
	if code != exitOK {
		t.Fatalf("second run: exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "0 operations scaffolded, 12 kept; 0 files written, 3 unchanged; 2 typed models") {
		t.Errorf("second run:\n%s", stdout)
	}
}

func TestGenWarnings(t *testing.T) {
	dir, sdl := genDir(t)
	read := filepath.Join(dir, "queries", "readTags.graphql")
	if err := os.MkdirAll(filepath.Dir(read), 0o755); err != nil {
		t.Fatal(err)
	}
	// A hand-written read query that reads the default stage.
	if err := os.WriteFile(read, []byte("query ReadTags($first: Int!, $after: String) {\n  tags(first: $first, after: $after, orderBy: id_ASC) { id title }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "gen", "--schema", sdl, "--models", "Tag", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: queries/readTags.graphql: ReadTags sets no stage") {
		t.Errorf("stderr lacks the warning:\n%s", stderr)
	}
}

func TestGenErrors(t *testing.T) {
	dir, sdl := genDir(t)
	bad := filepath.Join(dir, "bad.graphqls")
	if err := os.WriteFile(bad, []byte("type {"), 0o644); err != nil {
		t.Fatal(err)
	}
	dup := filepath.Join(dir, "queries", "allTags.graphql")
	cases := []struct {
		name  string
		args  []string
		setup func(t *testing.T)
		want  []string
	}{
		{"no schema", []string{"gen", "--out", dir}, nil, []string{"--schema is required"}},
		{"no out", []string{"gen", "--schema", sdl}, nil, []string{"--out is required"}},
		{"arguments", []string{"gen", "--schema", sdl, "--out", dir, "extra"}, nil, []string{"unknown command"}},
		{"unknown model", []string{"gen", "--schema", sdl, "--models", "Nope", "--out", dir}, nil, []string{`"Nope"`, "writable models"}},
		{"bad schema", []string{"gen", "--schema", bad, "--out", dir}, nil, []string{"bad.graphqls"}},
		{"no go command", []string{"gen", "--schema", sdl, "--models", "Post", "--out", dir}, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
		}, []string{"gen needs the Go toolchain", "no go command on PATH", "https://go.dev/doc/install"}},
		{"two read queries", []string{"gen", "--schema", sdl, "--models", "Tag", "--out", dir}, func(t *testing.T) {
			if err := os.MkdirAll(filepath.Dir(dup), 0o755); err != nil {
				t.Fatal(err)
			}
			q := "query AllTags($first: Int!, $after: String) {\n  tags(first: $first, after: $after, stage: DRAFT, orderBy: id_ASC) { id }\n}\n"
			if err := os.WriteFile(dup, []byte(q), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"model Tag has two read queries", "queries/allTags.graphql", "queries/readTags.graphql"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			code, _, stderr := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %s)", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
