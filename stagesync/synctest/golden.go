package synctest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stagesync/stagesync/internal/atomicfile"
)

// updateFlag is the name of the flag that makes Golden rewrite its files.
const updateFlag = "update"

func init() {
	// Another package of the test binary may have defined -update first;
	// Updating reads whichever is there.
	if flag.Lookup(updateFlag) == nil {
		flag.Bool(updateFlag, false, "rewrite the golden files (synctest.Golden) instead of comparing with them")
	}
}

// Updating reports whether the test binary runs with -update, which makes
// Golden rewrite its files. A test package that imports synctest reads the
// flag with Updating rather than defining its own -update (which would
// panic: the flag is defined once).
func Updating() bool {
	f := flag.Lookup(updateFlag)
	return f != nil && f.Value.String() == "true"
}

// Golden compares got, as indented JSON, with the golden file at path and
// fails the test with a line diff when they differ. With -update (see
// Updating) it writes the file instead, creating its directory. got may be
// anything encoding/json marshals, e.g. the results of ApplyTransform; a
// []byte or json.RawMessage is taken as JSON already.
func Golden(t testing.TB, path string, got any) {
	t.Helper()
	b, err := goldenJSON(got)
	if err != nil {
		t.Fatalf("synctest: golden %s: %v", path, err)
	}
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("synctest: golden: %v", err)
		}
		if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
			t.Fatalf("synctest: golden: %v", err)
		}
		t.Logf("synctest: wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("synctest: golden file %s does not exist; run the test with -update to write it", path)
	}
	if err != nil {
		t.Fatalf("synctest: golden: %v", err)
	}
	if !bytes.Equal(want, b) {
		t.Errorf("synctest: %s differs from what the test got (-want +got; run with -update to accept):\n%s",
			path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(b), "\n")))
	}
}

// goldenJSON renders v as indented JSON with a final newline.
func goldenJSON(v any) ([]byte, error) {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		raw = buf.Bytes()
	}
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(raw), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
