package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSONOutput: plan --json prints the plan and sync --json the report
// as JSON on stdout, and nothing else there; the progress stays on stderr.
func TestJSONOutput(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	dir := t.TempDir()
	args := cliArgs(t, src, dst, dir)

	code, stdout, stderr := runCLI(t, args("plan", "--json")...)
	if code != exitOK {
		t.Fatalf("plan --json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var plan struct {
		Models []struct {
			Name    string
			Create  int
			Entries []struct{ SourceID, Op string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("plan --json stdout is not JSON: %v\n%s", err, stdout)
	}
	books := 0
	for _, m := range plan.Models {
		if m.Name == "Book" {
			books = m.Create
			if len(m.Entries) != 3 || m.Entries[0].Op != "create" {
				t.Errorf("Book entries %+v", m.Entries)
			}
		}
	}
	if books != 3 {
		t.Errorf("plan --json: %d books to create, want 3\n%s", books, stdout)
	}
	if !strings.Contains(stderr, "read/plan Book") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}

	code, stdout, stderr = runCLI(t, args("sync", "--json", "--report", filepath.Join(dir, "report.json"))...)
	if code != exitOK {
		t.Fatalf("sync --json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var report reportFile
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("sync --json stdout is not JSON: %v\n%s", err, stdout)
	}
	if got := report.total(func(c, _, _ int) int { return c }); got != 6 {
		t.Errorf("sync --json: created %d, want 6\n%s", got, stdout)
	}
	if file := readReport(t, filepath.Join(dir, "report.json")); len(file.Models) != len(report.Models) {
		t.Errorf("the report file and stdout differ:\n%+v\n%+v", file, report)
	}
	if !strings.Contains(stderr, "write     Book") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
}
