package fixturedir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	fixtures := filepath.Join(root, "shared", "fixtures", "hygraph")
	deep := filepath.Join(root, "repo", "pkg", "sub")
	for _, d := range []string{fixtures, deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, start := range []string{root, filepath.Join(root, "repo"), deep} {
		if got, ok := find(start); !ok || got != fixtures {
			t.Errorf("find(%s) = %q, %v; want %s", start, got, ok, fixtures)
		}
	}

	// A file named like the folder does not count; nor does a folder
	// beside the start, not above it.
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, "shared", "fixtures"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "shared", "fixtures", "hygraph"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := find(filepath.Join(other, "shared")); ok && got == filepath.Join(other, "shared", "fixtures", "hygraph") {
		t.Errorf("find took the file %s for the folder", got)
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of stopping.
type recorder struct {
	testing.TB
	skipped, failed []any
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skip(args ...any)                  { r.skipped = args }
func (r *recorder) Fatal(args ...any)                 { r.failed = args }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = append([]any{format}, args...) }

func TestDirMissing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the temp dir has no shared/fixtures/hygraph above it

	if _, ok := find(dir); ok { // (find(".") would never walk above ".")
		t.Skip("a shared/fixtures/hygraph folder is above the temp dir")
	}
	t.Setenv(RequireEnv, "")
	r := &recorder{}
	if got := Dir(r); got != "" || r.skipped == nil || r.failed != nil {
		t.Fatalf("without the folder: Dir = %q, skipped %v, failed %v; want a skip", got, r.skipped, r.failed)
	}
	if r.skipped[0] != missing {
		t.Errorf("skip message %q", r.skipped)
	}

	t.Setenv(RequireEnv, "1")
	r = &recorder{}
	if got := Dir(r); got != "" || r.failed == nil || r.skipped != nil {
		t.Errorf("with %s=1: Dir = %q, skipped %v, failed %v; want a failure", RequireEnv, got, r.skipped, r.failed)
	}
	r = &recorder{}
	if Files(r) != nil || r.failed == nil {
		t.Errorf("Files with %s=1: failed %v", RequireEnv, r.failed)
	}
}

func TestDirFound(t *testing.T) {
	root := t.TempDir()
	fixtures := filepath.Join(root, "shared", "fixtures", "hygraph")
	repo := filepath.Join(root, "repo")
	for _, d := range []string{fixtures, repo} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fixtures, "blog.graphql"), []byte("type Query { a: Int }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	t.Setenv(RequireEnv, "1")
	r := &recorder{}
	if got := Dir(r); got != fixtures || r.failed != nil || r.skipped != nil {
		t.Errorf("Dir = %q (failed %v, skipped %v), want %s", got, r.failed, r.skipped, fixtures)
	}
	if got := Files(r); len(got) != 1 || got[0] != filepath.Join(fixtures, "blog.graphql") {
		t.Errorf("Files = %q", got)
	}
	if got := Path(r, "blog.graphql"); got != filepath.Join(fixtures, "blog.graphql") {
		t.Errorf("Path = %q", got)
	}
	if Path(r, "nope.graphql"); r.failed == nil {
		t.Error("Path of a missing file did not fail")
	}
}
