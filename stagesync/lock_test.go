package stagesync_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagesync/stagesync/stagesync"
)

// TestStateLock: a state database is held by one LoadState until Close; a
// second one fails at once, naming the holder.
func TestStateLock(t *testing.T) {
	stateLock(t, filepath.Join(t.TempDir(), "state.db"))
}

// TestStateLockPostgres: the same, with the state in PostgreSQL (an
// advisory lock; the holder is named from the state's meta table).
func TestStateLockPostgres(t *testing.T) {
	stateLock(t, stagesync.PostgresStateURL(t))
}

func stateLock(t *testing.T, path string) {
	first, err := stagesync.LoadState(path, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	_, err = stagesync.LoadState(path, "a", "b")
	if !errors.Is(err, stagesync.ErrStateInUse) {
		t.Fatalf("second LoadState: %v, want ErrStateInUse", err)
	}
	// (It fails at once: had it waited for the lock, which first holds
	// until the Close below, the test would never get there.)
	want := fmt.Sprintf("state %s is in use by pid %d on %s since ", stagesync.Redacted(path), os.Getpid(), host)
	if !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), "; wait for it or stop it") {
		t.Errorf("error %q, want it to contain %q and say what to do", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := stagesync.LoadState(path, "a", "b")
	if err != nil {
		t.Fatalf("LoadState after Close: %v", err)
	}
	again.Close()
	// A LoadState that fails for another reason does not keep the lock.
	if _, err := stagesync.LoadState(path, "x", "y"); err == nil || errors.Is(err, stagesync.ErrStateInUse) {
		t.Fatalf("LoadState for other stages: %v", err)
	}
	again, err = stagesync.LoadState(path, "a", "b")
	if err != nil {
		t.Fatalf("LoadState after a failed one: %v", err)
	}
	again.Close()
}

// lockChildEnv names the state the child of TestStateLockKilled locks.
const lockChildEnv = "STAGESYNC_TEST_LOCK_CHILD"

// TestStateLockChild is the child process of TestStateLockKilled: it
// locks the state, says so, and waits to be killed.
func TestStateLockChild(t *testing.T) {
	path := os.Getenv(lockChildEnv)
	if path == "" {
		t.Skip("the child process of TestStateLockKilled")
	}
	if _, err := stagesync.LoadState(path, "a", "b"); err != nil {
		t.Fatal(err)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}

// TestStateLockKilled: a process holding a state is killed with SIGKILL;
// its lock file stays, yet the next LoadState succeeds.
func TestStateLockKilled(t *testing.T) {
	stateLockKilled(t, filepath.Join(t.TempDir(), "state.db"))
}

// TestStateLockKilledPostgres: the same, with the state in PostgreSQL:
// the killed holder's connection ends, and PostgreSQL drops its lock.
func TestStateLockKilledPostgres(t *testing.T) {
	stateLockKilled(t, stagesync.PostgresStateURL(t))
}

func stateLockKilled(t *testing.T, path string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestStateLockChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(out)
	var seen []string
	for lines.Scan() {
		if lines.Text() == "locked" {
			break
		}
		seen = append(seen, lines.Text())
	}
	if lines.Text() != "locked" {
		t.Fatalf("the child did not lock the state (%v):\n%s", lines.Err(), strings.Join(seen, "\n"))
	}
	_, err = stagesync.LoadState(path, "a", "b")
	if want := fmt.Sprintf("in use by pid %d", cmd.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("LoadState while the child holds the state: %v, want %q", err, want)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("child: %v, want killed by a signal", err)
	}
	if !strings.Contains(path, "://") {
		if _, err := os.Stat(path + ".lock"); err != nil {
			t.Fatalf("the killed child's lock file: %v", err)
		}
	}
	// PostgreSQL notices the closed connection at once; the deadline
	// only bounds a test that would otherwise hang.
	deadline := time.Now().Add(time.Minute)
	for {
		s, err := stagesync.LoadState(path, "a", "b")
		if err == nil {
			s.Close()
			break
		}
		if !errors.Is(err, stagesync.ErrStateInUse) || time.Now().After(deadline) {
			t.Fatalf("LoadState after the holder was killed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSyncConcurrentState: a second Sync on a state path that a running
// Sync holds fails at once and writes nothing; the first completes without
// duplicates.
func TestSyncConcurrentState(t *testing.T) {
	syncConcurrentState(t, filepath.Join(t.TempDir(), "state.db"))
}

// TestSyncConcurrentStatePostgres: the same, with the state in
// PostgreSQL; the runs then need share no file (listeners on several
// machines), and the re-sync writes nothing.
func TestSyncConcurrentStatePostgres(t *testing.T) {
	syncConcurrentState(t, stagesync.PostgresStateURL(t))
}

func syncConcurrentState(t *testing.T, path string) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 12)

	var once sync.Once
	var second error
	var secondTook time.Duration
	var secondMutations int64
	cfg := p.fileConfig(path, nil, nil)
	cfg.Progress = func(e stagesync.Event) {
		if e.Phase != stagesync.PhaseWrite {
			return
		}
		// The first run is writing: run another, dry and real.
		once.Do(func() {
			before := p.dst.Stage.Counters().Mutations
			start := time.Now()
			dry := p.fileConfig(path, nil, nil)
			dry.DryRun = true
			if _, _, err := stagesync.Sync(context.Background(), dry); !errors.Is(err, stagesync.ErrStateInUse) {
				t.Errorf("concurrent dry run: %v, want ErrStateInUse", err)
			}
			_, _, second = stagesync.Sync(context.Background(), p.fileConfig(path, nil, nil))
			secondTook = time.Since(start)
			secondMutations = p.dst.Stage.Counters().Mutations - before
		})
	}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	failOnFailures(t, "first sync", report)
	if !errors.Is(second, stagesync.ErrStateInUse) {
		t.Fatalf("second sync: %v, want ErrStateInUse", second)
	}
	t.Logf("second sync: %v (after %s)", second, secondTook)
	if !strings.Contains(second.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("the error does not name the holder: %v", second)
	}
	// (It failed at once: it ran inside the first run's progress callback,
	// so had it waited for the lock the first run, holding it, could never
	// have finished.)
	if secondMutations != 0 {
		t.Errorf("%d mutations while the second sync ran", secondMutations)
	}
	p.loadState(t, path, p.src.URL, p.dst.URL)
	p.noDuplicates(t)
	p.noopSync(t, p.fileConfig(path, nil, nil))
}
