package stagesync

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLockStateWriteFails: a lock file that cannot be written (here
// /dev/full, where every write fails) fails the lock, naming the state,
// rather than leaving a lock that names no holder. Before, the error of
// writing the holder was dropped and the lock was taken.
func TestLockStateWriteFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.Symlink("/dev/full", path+".lock"); err != nil {
		t.Skipf("symlink: %v", err)
	}
	l, err := lockState(path)
	if err == nil {
		l.release()
		t.Fatal("lockState took a lock whose holder could not be written")
	}
	t.Logf("lockState: %v", err)
}
