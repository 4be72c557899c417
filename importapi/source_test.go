package importapi_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/stagesync"
)

// liveHeap returns the bytes of live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSourceDoesNotHoldSnapshot: an open snapshot source does not hold the
// snapshot in memory (issue #14: "never the whole stage in memory"). A
// snapshot of 24 MB of NDF (6,000 destinations of 4 KB) is opened; the
// live heap may grow by a fraction of it only, and the source still reads
// every entry back. The code before the snapshot index loaded the whole
// snapshot into an emulated stage in this process: its live heap grew by
// more than the snapshot.
func TestSourceDoesNotHoldSnapshot(t *testing.T) {
	const n, size = 6000, 4 << 10
	s := benchHotelsSchema(t)
	dir := t.TempDir()
	w := importapi.NewWriter(dir, importapi.Nodes, 0)
	var ndf int64
	for i := range n {
		desc := fmt.Sprintf("%06d ", i) + strings.Repeat("x", size)
		node := importapi.Node{TypeName: "Destination", ID: fmt.Sprintf("cd%023d", i), Fields: map[string]any{
			"name": fmt.Sprintf("Destination %d", i), "description": desc, "createdAt": "2026-01-02T03:04:05.000Z", "updatedAt": "2026-01-02T03:04:05.000Z",
		}}
		if err := w.Write(node); err != nil {
			t.Fatal(err)
		}
		ndf += int64(len(desc))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := liveHeap()
	src, err := importapi.OpenSourceWithSchema(t.Context(), dir, s)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	grown := int64(liveHeap()) - int64(before)
	t.Logf("snapshot of %d MB of text: live heap grew by %.1f MB with the source open", ndf>>20, float64(grown)/(1<<20))
	if grown > ndf/4 {
		t.Errorf("the open source holds %.1f MB of live heap for a snapshot of %.1f MB: it keeps the snapshot in memory", float64(grown)/(1<<20), float64(ndf)/(1<<20))
	}
	read := 0
	for e, err := range stagesync.ReadEntries(t.Context(), src.Stage, src.Schema, "Destination", 100) {
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%06d ", read)
		if d, _ := e.Draft["description"].(string); !strings.HasPrefix(d, want) || len(d) != len(want)+size {
			t.Fatalf("entry %d: description %.20q…, want %q…", read, d, want)
		}
		read++
	}
	if read != n {
		t.Errorf("read %d entries from the source, want %d", read, n)
	}
}
