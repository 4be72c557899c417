package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

func TestStateAdopt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := stagesync.LoadState(path, "src", "dst")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Adopt("Note", "s1", "d1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	if code, _, stderr := runCLI(t, "state", "adopt", "--state", path, "Note", "s2", "d2"); code != exitOK {
		t.Fatalf("adopt: exit %d: %s", code, stderr)
	}
	code, _, stderr := runCLI(t, "state", "adopt", "--state", path, "Note", "s3", "d1")
	if code != exitUsage || !strings.Contains(stderr, "s1") {
		t.Errorf("adopting d1, the copy of s1, for s3: exit %d, want %d naming s1: %s", code, exitUsage, stderr)
	}
	if code, _, _ := runCLI(t, "state", "adopt", "--state", filepath.Join(t.TempDir(), "none.db"), "Note", "s2", "d2"); code != exitUsage {
		t.Errorf("adopt in a missing state: exit %d, want %d", code, exitUsage)
	}

	st, err = stagesync.LoadState(path, "src", "dst")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if d, ok := st.DestID("Note", "s2"); !ok || d != "d2" {
		t.Errorf("s2 maps to %q %v, want d2", d, ok)
	}
	if _, ok := st.DestID("Note", "s3"); ok {
		t.Error("s3 was mapped although refused")
	}
}
