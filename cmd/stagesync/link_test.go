package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryDoesNotLinkTesting fails when the stagesync binary (which runs
// `stagesync serve`) links package testing, or genqlient's generator and
// golang.org/x/tools, through which it did: gen runs genqlient as a child
// process (see internal/codegen), and the emulators live in internal
// packages, with stagetest and filestacktest only their front doors.
func TestBinaryDoesNotLinkTesting(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: cannot list the binary's packages")
	}
	cmd := exec.CommandContext(t.Context(), goTool, "list", "-deps", ".")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps .: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps . listed %q", deps)
	}
	for _, dep := range deps {
		switch {
		case dep == "testing",
			dep == "github.com/Khan/genqlient/generate",
			dep == "golang.org/x/tools" || strings.HasPrefix(dep, "golang.org/x/tools/"):
			t.Errorf("the stagesync binary links %s (its importer: go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/stagesync)", dep)
		}
	}
}
