package stagesync

import (
	"fmt"
	"testing"
)

// TestPlannedCreatesOnDisk: the creates a dry run plans go to a file past
// plannedMemory, and every one is still found, in memory or on disk.
func TestPlannedCreatesOnDisk(t *testing.T) {
	e := &engine{scratch: t.TempDir()}
	defer e.close()
	n := 2*plannedMemory + 10
	for i := range n {
		e.notePlanned("Hotel", fmt.Sprintf("h%d", i))
		e.notePlanned("Review", fmt.Sprintf("r%d", i))
	}
	if e.planned.db == nil || e.planned.err != nil {
		t.Fatalf("no file (err %v) after %d planned creates", e.planned.err, 2*n)
	}
	if e.planned.n >= plannedMemory {
		t.Errorf("%d planned creates in memory, want fewer than %d", e.planned.n, plannedMemory)
	}
	e.planned.mu.Lock()
	defer e.planned.mu.Unlock()
	for i := range n {
		for _, m := range []string{"Hotel", "Review"} {
			id := fmt.Sprintf("%s%d", map[string]string{"Hotel": "h", "Review": "r"}[m], i)
			if !e.planned.has(m, id) {
				t.Fatalf("%s %s planned, not found", m, id)
			}
		}
	}
	if e.planned.has("Hotel", "r1") || e.planned.has("Review", fmt.Sprintf("r%d", n)) {
		t.Error("found a create that was not planned")
	}
}
