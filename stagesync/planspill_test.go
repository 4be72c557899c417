package stagesync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPlanSpill: a plan that lists more than planMemory entries of a
// model keeps the rest on disk, and gives every one back, in order, from
// Entries, WriteJSON and MarshalJSON; the counts and the limit hold.
func TestPlanSpill(t *testing.T) {
	p := newPlan(-1)
	var want []EntryPlan
	n := planMemory + 2*spillBatch + 7 // a part of a batch stays buffered
	for i := range n {
		e := EntryPlan{SourceID: fmt.Sprintf("s%05d", i), Op: OpCreate, Changed: []string{"title"}}
		p.add("Note", e)
		want = append(want, e)
		p.add("Tag", EntryPlan{SourceID: fmt.Sprintf("t%d", i), Op: OpUnchanged})
	}
	p.add("Tag", EntryPlan{SourceID: "t-new", Op: OpCreate})
	if p.spill == nil || p.spilled["Note"] != n-planMemory {
		t.Fatalf("spilled %v, want %d Notes on disk", p.spilled, n-planMemory)
	}
	if m := p.Model("Note"); m.Create != n || len(m.Entries) != planMemory || m.Omitted != 0 {
		t.Errorf("Note: %d creates, %d entries in memory, %d omitted; want %d, %d, 0", m.Create, len(m.Entries), m.Omitted, n, planMemory)
	}
	var got []EntryPlan
	for e, err := range p.Entries("Note") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Entries(Note) (-want +got):\n%s", d)
	}

	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Models []ModelPlan }
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON: %v\n%.500s", err, buf.String())
	}
	if len(doc.Models) != 2 {
		t.Fatalf("JSON has %d models, want 2", len(doc.Models))
	}
	if d := cmp.Diff(want, doc.Models[0].Entries); d != "" {
		t.Errorf("JSON Note entries (-want +got):\n%s", d)
	}
	if m := doc.Models[1]; m.Name != "Tag" || m.Unchanged != n || len(m.Entries) != 1 || m.Entries[0].SourceID != "t-new" {
		t.Errorf("JSON Tag %+v, want %d unchanged and t-new listed", m, n)
	}
	b, err := json.Marshal(p)
	if err != nil || !json.Valid(b) {
		t.Fatalf("MarshalJSON: %v", err)
	}

	// A limit counts the entries on disk too.
	q := newPlan(planMemory + 3)
	for i := range planMemory + 10 {
		q.add("Note", EntryPlan{SourceID: fmt.Sprint(i), Op: OpUpdate})
	}
	listed := 0
	for range q.Entries("Note") {
		listed++
	}
	if m := q.Model("Note"); listed != planMemory+3 || m.Omitted != 7 {
		t.Errorf("limited plan: %d listed, %d omitted; want %d, 7", listed, m.Omitted, planMemory+3)
	}
}
