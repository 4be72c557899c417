package stagesync

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReport(t *testing.T) {
	r := newReport()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.add("Hotel", countRead, 1)
			r.add("Hotel", countCreated, 1)
		}()
	}
	wg.Wait()
	r.touch("Tag")
	r.fail(Failure{Model: "Hotel", SourceID: "h2", Op: "transform", Message: "no name"})
	r.fail(Failure{Model: "Hotel", SourceID: "h1", DestID: "d1", Op: "update", Message: "boom", Path: []any{"r0_updateHotel"}})
	if r.OK() {
		t.Error("OK with failures")
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"models": []any{
			map[string]any{"name": "Hotel", "read": 10.0, "created": 10.0, "updated": 0.0, "unchanged": 0.0, "deleted": 0.0, "published": 0.0, "failed": 2.0, "orphaned": 0.0},
			map[string]any{"name": "Tag", "read": 0.0, "created": 0.0, "updated": 0.0, "unchanged": 0.0, "deleted": 0.0, "published": 0.0, "failed": 0.0, "orphaned": 0.0},
		},
		"failures": []any{
			map[string]any{"model": "Hotel", "sourceId": "h1", "destId": "d1", "op": "update", "message": "boom", "path": []any{"r0_updateHotel"}},
			map[string]any{"model": "Hotel", "sourceId": "h2", "destId": "", "op": "transform", "message": "no name", "path": []any{}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report JSON (-want +got):\n%s", diff)
	}
	var sb strings.Builder
	if _, err := r.WriteTo(&sb); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Hotel", "Tag", "2 failed:", "Hotel h1 -> d1: update: boom"} {
		if !strings.Contains(sb.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, sb.String())
		}
	}
}

func TestReportFailureOncePerEntry(t *testing.T) {
	r := newReport()
	r.add("Book", countRead, 2)
	r.fail(Failure{Model: "Book", SourceID: "b1", Op: "relation", Message: "Book.author: Author a1 has no entry in the destination"})
	r.fail(Failure{Model: "Book", SourceID: "b1", DestID: "d1", Op: "update", Message: "boom", Path: []any{"updateBook"}})
	r.fail(Failure{Model: "Book", SourceID: "b1", Op: "relation", Message: "Book.author: Author a1 has no entry in the destination"})
	r.fail(Failure{Model: "Book", SourceID: "b2", Op: "publish", Message: "no"})
	r.fail(Failure{Model: "Book", DestID: "o1", Op: "delete", Message: "gone"})
	r.fail(Failure{Model: "Book", DestID: "o1", Op: "delete", Message: "still gone"})
	if m := r.Models()[0]; m.Failed != 3 || m.Read != 2 {
		t.Errorf("counts %+v, want 3 failed entries", m)
	}
	want := []Failure{
		{Model: "Book", DestID: "o1", Op: "delete", Message: "gone", Path: []any{}, More: []Reason{{Op: "delete", Message: "still gone", Path: []any{}}}},
		{Model: "Book", SourceID: "b1", DestID: "d1", Op: "relation", Message: "Book.author: Author a1 has no entry in the destination", Path: []any{},
			More: []Reason{{Op: "update", Message: "boom", Path: []any{"updateBook"}}}},
		{Model: "Book", SourceID: "b2", Op: "publish", Message: "no", Path: []any{}},
	}
	if diff := cmp.Diff(want, r.Failures()); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"more":[{"op":"update","message":"boom","path":["updateBook"]}]`) {
		t.Errorf("JSON lacks the second reason: %s", b)
	}
	var sb strings.Builder
	if _, err := r.WriteTo(&sb); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"3 failed:", "Book b1 -> d1: relation: Book.author", "and update: boom"} {
		if !strings.Contains(sb.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, sb.String())
		}
	}
	sb.Reset()
	if _, err := r.WriteSummary(&sb, 4, " in the report"); err != nil {
		t.Fatal(err)
	}
	if s := sb.String(); !strings.Contains(s, "Book b1 -> d1") || strings.Contains(s, "Book b2") ||
		!strings.Contains(s, "... and 1 more failed entries in the report") {
		t.Errorf("summary of 4 lines:\n%s", s)
	}
}
