package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanApply: plan -o then apply writes what sync would (the
// destination ends equal, a second apply of a fresh plan writes nothing),
// and apply of a plan made before the source changed refuses, naming the
// entry, and writes nothing.
func TestPlanApply(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	dir := t.TempDir()
	args := cliArgs(t, src, dst, dir)
	planPath := filepath.Join(dir, "plan.db")
	if code, stdout, stderr := runCLI(t, args("plan", "-o", planPath)...); code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := dst.Stage.Counters().Mutations; n != 0 {
		t.Fatalf("plan ran %d mutations", n)
	}
	code, stdout, stderr := runCLI(t, "apply", "-q", planPath)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, m := range []string{"Tag", "Author", "Book"} {
		if s, d := len(src.Stage.All(m, "DRAFT")), len(dst.Stage.All(m, "DRAFT")); s != d {
			t.Errorf("%s: %d in the source, %d in the destination after apply", m, s, d)
		}
	}
	// A plan made now plans nothing, and applying it writes nothing.
	if code, stdout, stderr := runCLI(t, args("plan", "-o", planPath)...); code != exitOK {
		t.Fatalf("second plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	before := dst.Stage.Counters().Mutations
	if code, stdout, stderr := runCLI(t, "apply", "-q", planPath); code != exitOK {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("applying an empty plan ran %d mutations", n)
	}

	// The source changes after the plan: apply refuses.
	if _, err := src.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "new"}); err != nil {
		t.Fatal(err)
	}
	book := src.Stage.All("Book", "DRAFT")[0]["id"].(string)
	if err := src.Stage.Update(context.Background(), "Book", book, map[string]any{"pages": 999}); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, args("plan", "-o", planPath)...); code != exitOK {
		t.Fatalf("third plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := src.Stage.Update(context.Background(), "Book", book, map[string]any{"pages": 1000, "title": "Changed"}); err != nil {
		t.Fatal(err)
	}
	before = dst.Stage.Counters().Mutations
	code, stdout, stderr = runCLI(t, "apply", "-q", planPath)
	if code != exitBlocked || !strings.Contains(stderr, "stale") || !strings.Contains(stderr, book) {
		t.Errorf("stale apply: exit %d, want %d naming book %s\n%s\n%s", code, exitBlocked, book, stdout, stderr)
	}
	if n := dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("stale apply ran %d mutations", n)
	}
	// Another run made the plan's changes since: apply refuses too, naming
	// the entries the plan changes and a plan made now would not.
	if code, stdout, stderr := runCLI(t, args("plan", "-o", planPath)...); code != exitOK {
		t.Fatalf("fourth plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, args("sync", "--yes", "-q")...); code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "apply", "-q", planPath)
	if code != exitBlocked || !strings.Contains(stderr, "now unchanged") || !strings.Contains(stderr, book) {
		t.Errorf("apply of a plan made by another run: exit %d, want %d naming book %s as now unchanged\n%s\n%s", code, exitBlocked, book, stdout, stderr)
	}
	// Not a plan file.
	if code, _, _ := runCLI(t, "apply", filepath.Join(dir, "state.db")); code != exitUsage {
		t.Errorf("apply of a state file: exit %d, want %d", code, exitUsage)
	}
}
