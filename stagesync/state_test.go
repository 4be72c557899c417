package stagesync

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fillState makes the same changes to a state in every test of a mode.
func fillState(t *testing.T, s *State) time.Time {
	t.Helper()
	s.setDestID("Hotel", "h1", "d1")
	s.setDestID("Hotel", "h2", "d2")
	s.setDestID("Review", "r1", "e1")
	s.forgetID("Hotel", "h2")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.setHighWater("Hotel", t0)
	s.setHighWater("Hotel", t0.Add(-time.Hour)) // never moves backwards
	s.setPending("Review", "r2", pendingCreate{created: "2026-01-02T03:04:05.000Z", sent: "abc"})
	s.setPending("Hotel", "h9", pendingCreate{created: "2026-01-02T03:04:06.000Z"})
	s.clearPending("Hotel", "h9")
	return t0
}

// checkState checks what fillState left.
func checkState(t *testing.T, got *State, t0 time.Time) {
	t.Helper()
	if diff := cmp.Diff(map[string]string{"h1": "d1"}, got.IDs("Hotel")); diff != "" {
		t.Errorf("Hotel ids (-want +got):\n%s", diff)
	}
	if id, ok := got.DestID("Review", "r1"); !ok || id != "e1" {
		t.Errorf("Review r1 = %q %v", id, ok)
	}
	if id, ok := got.DestID("Hotel", "h2"); ok {
		t.Errorf("forgotten Hotel h2 = %q", id)
	}
	if src, ok := got.SourceID("Hotel", "d1"); !ok || src != "h1" {
		t.Errorf("source of Hotel d1 = %q %v", src, ok)
	}
	if src, ok := got.SourceID("Hotel", "d2"); ok {
		t.Errorf("source of forgotten Hotel d2 = %q", src)
	}
	if !got.HighWater("Hotel").Equal(t0) {
		t.Errorf("high water %v, want %v", got.HighWater("Hotel"), t0)
	}
	if c, ok := got.pendingOf("Review", "r2"); !ok || c != (pendingCreate{created: "2026-01-02T03:04:05.000Z", sent: "abc"}) {
		t.Errorf("pending Review r2 = %+v %v", c, ok)
	}
	if c, ok := got.pendingOf("Hotel", "h9"); ok {
		t.Errorf("pending Hotel h9 = %+v after clearPending", c)
	}
	if n := got.countIDs("Hotel"); n != 1 {
		t.Errorf("countIDs(Hotel) = %d, want 1", n)
	}
	if diff := cmp.Diff([]string{"Hotel", "Review"}, got.Models()); diff != "" {
		t.Errorf("models: %s", diff)
	}
}

func TestStateMemory(t *testing.T) {
	s := NewState("src", "dst")
	t0 := fillState(t, s)
	checkState(t, s, t0)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	stateRoundTrip(t, filepath.Join(t.TempDir(), "state.db"))
}

// TestStateRoundTripPostgres: the same, with the state in PostgreSQL.
func TestStateRoundTripPostgres(t *testing.T) {
	stateRoundTrip(t, PostgresStateURL(t))
}

func stateRoundTrip(t *testing.T, path string) {
	s, err := LoadState(path, "src", "dst")
	if err != nil {
		t.Fatal(err)
	}
	t0 := fillState(t, s)
	checkState(t, s, t0) // before saving: from the buffer
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	checkState(t, s, t0) // after saving: from the database
	// Changes after the last Save are lost when the state is closed.
	s.setDestID("Tag", "t1", "u1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path, "src", "dst")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	checkState(t, got, t0)
	// A remapped source id moves its reverse entry.
	got.setDestID("Hotel", "h1", "d9")
	if err := got.Save(); err != nil {
		t.Fatal(err)
	}
	if src, ok := got.SourceID("Hotel", "d1"); ok {
		t.Errorf("source of Hotel d1 after remapping = %q", src)
	}
	if src, ok := got.SourceID("Hotel", "d9"); !ok || src != "h1" {
		t.Errorf("source of Hotel d9 = %q %v", src, ok)
	}
}

func TestStateOverlay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	base, err := LoadState(path, "src", "dst")
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	t0 := fillState(t, base)
	if err := base.Save(); err != nil {
		t.Fatal(err)
	}
	o := base.overlay()
	checkState(t, o, t0)
	o.setDestID("Hotel", "h3", "d3")
	o.forgetID("Review", "r1")
	o.setHighWater("Hotel", t0.Add(time.Hour))
	if err := o.Save(); err != nil {
		t.Fatal(err)
	}
	if _, ok := o.DestID("Review", "r1"); ok {
		t.Error("overlay still maps a forgotten id")
	}
	if d, ok := o.DestID("Hotel", "h3"); !ok || d != "d3" {
		t.Errorf("overlay Hotel h3 = %q %v", d, ok)
	}
	// The base is untouched.
	checkState(t, base, t0)
	if _, ok := base.DestID("Hotel", "h3"); ok {
		t.Error("the overlay wrote to its base")
	}
}

func TestLoadStateErrors(t *testing.T) {
	dir := t.TempDir()
	fresh, err := LoadState(filepath.Join(dir, "none.db"), "a", "b")
	if err != nil || len(fresh.Models()) != 0 {
		t.Fatalf("missing file: %v %v", fresh, err)
	}
	fresh.Close()
	other := filepath.Join(dir, "other.db")
	s, err := LoadState(other, "x", "y")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(`{"version":1,"ids":{}}`+strings.Repeat("\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{garbage, "not a stagesync state database"},
		{other, `from "x" to "y"`},
	} {
		_, err := LoadState(tc.path, "a", "b")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}

func TestStateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := LoadState(path, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				id := fmt.Sprintf("%c%d", 'a'+w, i%20)
				s.setDestID("M", id, id)
				if d, ok := s.DestID("M", id); !ok || d != id {
					t.Errorf("DestID(%s) = %q %v right after setDestID", id, d, ok)
				}
				if i%25 == 0 {
					if err := s.Save(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	got, err := LoadState(path, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if n := len(got.IDs("M")); n != 80 {
		t.Errorf("%d ids, want 80", n)
	}
}
