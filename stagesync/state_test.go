package stagesync

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := NewState("src", "dst")
	s.SetDestID("Hotel", "h1", "d1")
	s.SetDestID("Hotel", "h2", "d2")
	s.SetDestID("Review", "r1", "e1")
	s.ForgetID("Hotel", "h2")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.SetHighWater("Hotel", t0)
	s.SetHighWater("Hotel", t0.Add(-time.Hour)) // never moves backwards
	s.SetPending("Review", "r2", "2026-01-02T03:04:05.000Z")
	s.SetPending("Hotel", "h9", "2026-01-02T03:04:06.000Z")
	s.ClearPending("Hotel", "h9")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path, "src", "dst")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"h1": "d1"}, got.IDs("Hotel")); diff != "" {
		t.Errorf("Hotel ids (-want +got):\n%s", diff)
	}
	if id, ok := got.DestID("Review", "r1"); !ok || id != "e1" {
		t.Errorf("Review r1 = %q %v", id, ok)
	}
	if !got.HighWater("Hotel").Equal(t0) {
		t.Errorf("high water %v, want %v", got.HighWater("Hotel"), t0)
	}
	if c, ok := got.Pending("Review", "r2"); !ok || c != "2026-01-02T03:04:05.000Z" {
		t.Errorf("pending Review r2 = %q %v", c, ok)
	}
	if c, ok := got.Pending("Hotel", "h9"); ok {
		t.Errorf("pending Hotel h9 = %q after ClearPending", c)
	}
	if diff := cmp.Diff([]string{"Hotel", "Review"}, got.Models()); diff != "" {
		t.Errorf("models: %s", diff)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the state file", len(entries))
	}
}

func TestLoadStateErrors(t *testing.T) {
	dir := t.TempDir()
	missing, err := LoadState(filepath.Join(dir, "none.json"), "a", "b")
	if err != nil || len(missing.Models()) != 0 {
		t.Fatalf("missing file: %v %v", missing, err)
	}
	cases := []struct{ name, content, want string }{
		{"garbage", "{not json", "not valid JSON"},
		{"version", `{"version":99}`, "version 99"},
		{"other stages", `{"version":1,"source":"x","dest":"y"}`, `from "x" to "y"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadState(p, "a", "b")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := NewState("a", "b")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				id := string(rune('a'+w)) + strings.Repeat("x", i%5)
				s.SetDestID("M", id, id)
				if i%25 == 0 {
					if err := s.Save(path); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.IDs("M")); n != 20 {
		t.Errorf("%d ids, want 20", n)
	}
}
