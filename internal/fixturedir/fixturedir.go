// Package fixturedir finds the real Hygraph schemas that tests read from
// ../shared/fixtures/hygraph, a folder beside the repository that a fresh
// clone does not have.
//
// Tests that need those schemas call Dir (or Path, Files): without the
// folder they are skipped, so `go test ./...` passes in a clone of the
// repository alone; with STAGESYNC_REQUIRE_FIXTURES=1 (set by .ci/run, which
// has the folder) they fail instead, so that a missing fixture cannot turn
// into silently skipped tests. Tests that need only "some Hygraph schema"
// use the synthesized schemas under schema/testdata/synth instead.
package fixturedir

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv names the environment variable that turns a missing fixture
// folder from a skip into a failure: set it to 1.
const RequireEnv = "STAGESYNC_REQUIRE_FIXTURES"

// Rel is the fixture folder, looked for in the working directory and every
// directory above it.
var Rel = filepath.Join("shared", "fixtures", "hygraph")

// missing is the message of the skip or failure when the folder is not found.
const missing = "needs ../shared/fixtures/hygraph (real Hygraph schemas); not in this checkout"

// Dir returns the absolute path of the shared/fixtures/hygraph folder
// nearest above the working directory. Without one it skips tb, or fails it
// when STAGESYNC_REQUIRE_FIXTURES=1.
func Dir(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
		return ""
	}
	if dir, ok := find(wd); ok {
		return dir
	}
	if required() {
		tb.Fatal(missing)
	} else {
		tb.Skip(missing)
	}
	return ""
}

// Path returns the path of the fixture file name (such as "blog.graphql"),
// skipping or failing tb as Dir does when the folder is missing, and
// failing it when the folder lacks the file.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	dir := Dir(tb)
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatal(err)
		return ""
	}
	return p
}

// Files returns the fixture schemas (*.graphql), sorted, skipping or
// failing tb as Dir does when the folder is missing, and failing it when
// the folder holds none.
func Files(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb)
	if dir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.graphql"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixture schemas in %s (err %v)", dir, err)
		return nil
	}
	return files
}

// required reports whether STAGESYNC_REQUIRE_FIXTURES asks for the fixtures:
// any value but "", "0" and "false".
func required() bool {
	switch os.Getenv(RequireEnv) {
	case "", "0", "false":
		return false
	}
	return true
}

// find looks for Rel in start and each of its parents, up to the root of
// the file system.
func find(start string) (string, bool) {
	dir := filepath.Clean(start)
	for {
		p := filepath.Join(dir, Rel)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
