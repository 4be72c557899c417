package stagesync

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReport(t *testing.T) {
	r := NewReport()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Add("Hotel", CountRead, 1)
			r.Add("Hotel", CountCreated, 1)
		}()
	}
	wg.Wait()
	r.Touch("Tag")
	r.Fail(Failure{Model: "Hotel", SourceID: "h2", Op: "transform", Message: "no name"})
	r.Fail(Failure{Model: "Hotel", SourceID: "h1", DestID: "d1", Op: "update", Message: "boom", Path: []any{"r0_updateHotel"}})
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
