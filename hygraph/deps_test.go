package hygraph

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDepsWithoutEngine: a program that reads pages or batches requests
// with this package alone does not link the sync engine, SQLite or
// package testing.
func TestDepsWithoutEngine(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the package's dependencies")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, bad := range []string{"modernc.org/sqlite", "github.com/stagesync/stagesync/stagesync", "testing"} {
		if slices.Contains(deps, bad) {
			t.Errorf("package hygraph depends on %s", bad)
		}
	}
}
