package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blogFixture is the path of the synthesized blog schema, which has the
// content model of the real blog fixture (models Post, Project, Tag).
func blogFixture(t *testing.T) string {
	t.Helper()
	return filepath.Join(synthTestdata, "blog.graphql")
}

func TestSchemaScaffold(t *testing.T) {
	sdl := blogFixture(t)
	out := filepath.Join(t.TempDir(), "ops")

	code, stdout, stderr := runCLI(t, "schema", "scaffold", sdl, "--models", "Post,Tag", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	for _, f := range []string{
		"readPosts.graphql", "upsertPost.graphql", "createPost.graphql", "updatePost.graphql",
		"publishPost.graphql", "publishManyPosts.graphql", "readTags.graphql", "upsertTag.graphql",
	} {
		path := filepath.Join(out, f)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
		if !strings.Contains(stdout, "wrote   "+path) {
			t.Errorf("stdout does not report %s:\n%s", path, stdout)
		}
	}
	if !strings.Contains(stdout, "12 written, 0 skipped") {
		t.Errorf("stdout lacks the summary:\n%s", stdout)
	}
	if strings.Contains(stdout, "Project") || strings.Contains(stdout, "readProjects") {
		t.Errorf("scaffolded a model not asked for:\n%s", stdout)
	}

	// A hand-edited file survives a second run, which says it skipped it.
	edited := filepath.Join(out, "readPosts.graphql")
	if err := os.WriteFile(edited, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "schema", "scaffold", sdl, "--models", "Post,Tag", "--out", out)
	if code != exitOK {
		t.Fatalf("second run: exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "skipped "+edited) || !strings.Contains(stdout, "never overwrites") {
		t.Errorf("second run does not report the skip:\n%s", stdout)
	}
	if !strings.Contains(stdout, "0 written, 12 skipped") {
		t.Errorf("second run summary:\n%s", stdout)
	}
	if b, _ := os.ReadFile(edited); string(b) != "# mine\n" {
		t.Errorf("hand-edited file overwritten: %q", b)
	}
}

func TestSchemaScaffoldKinds(t *testing.T) {
	sdl := blogFixture(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "schema", "scaffold", sdl, "--models", "Tag", "--kinds", "read,publishMany", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "publishManyTags.graphql readTags.graphql" {
		t.Errorf("files %v, stdout %s", names, stdout)
	}
}

func TestSchemaScaffoldErrors(t *testing.T) {
	sdl := blogFixture(t)
	bad := filepath.Join(t.TempDir(), "bad.graphql")
	if err := os.WriteFile(bad, []byte("type {"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown model", []string{sdl, "--models", "Post,Nope"}, []string{`"Nope"`, "writable models: Asset, Post, Project, ScheduledRelease, Tag"}},
		{"read-only model", []string{sdl, "--models", "User"}, []string{"not writable"}},
		{"unknown kind", []string{sdl, "--kinds", "delete"}, []string{`"delete"`}},
		{"bad SDL", []string{bad}, []string{"bad.graphql:1:"}},
		{"no file", nil, []string{"requires at least 1 arg"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"schema", "scaffold", "--out", out}, tc.args...)
			code, _, stderr := runCLI(t, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %s)", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("wrote %d files on error", len(entries))
			}
		})
	}
}
