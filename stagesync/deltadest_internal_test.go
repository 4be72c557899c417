package stagesync

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestDestWheres checks how a delta's targeted destination reads split
// their ids and match field values: every value asked once, at most
// destWhereValues values and about destWhereBytes bytes per read, ids and
// values of one read joined by OR.
func TestDestWheres(t *testing.T) {
	id := func(i int) string { return fmt.Sprintf("cm%023d", i) } // 25 characters, as Hygraph's
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id(i)
		}
		return out
	}
	keys := func(n, size int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = fmt.Sprintf("%0*d", size, i)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		ids   []string
		keys  []any
		reads int
	}{
		{"none", nil, nil, 0},
		{"one id", ids(1), nil, 1},
		{"a page of ids and their mapped ids", ids(200), nil, 2},
		{"ids and keys", ids(50), keys(50, 10), 1},
		{"long keys", nil, keys(10, 1000), 4}, // 3 of 1,003 bytes fit in 4,000
		{"a key longer than the budget", nil, keys(2, 5000), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wheres := destWheres(tc.ids, tc.keys, "slug")
			if len(wheres) != tc.reads {
				t.Errorf("%d reads, want %d", len(wheres), tc.reads)
			}
			var gotIDs []string
			var gotKeys []any
			for _, w := range wheres {
				n := 0
				var parts []any
				if or, ok := w["OR"].([]any); ok {
					parts = or
				} else {
					parts = []any{w}
				}
				for _, p := range parts {
					p := p.(map[string]any)
					if v, ok := p["id_in"].([]string); ok {
						gotIDs = append(gotIDs, v...)
						n += len(v)
					}
					if v, ok := p["slug_in"].([]any); ok {
						gotKeys = append(gotKeys, v...)
						n += len(v)
					}
				}
				b, _ := json.Marshal(w)
				if n > destWhereValues || (n > 1 && len(b) > destWhereBytes+200) {
					t.Errorf("a read asks for %d values in %d bytes: more than %d values or about %d bytes", n, len(b), destWhereValues, destWhereBytes)
				}
			}
			if strings.Join(gotIDs, ",") != strings.Join(tc.ids, ",") || fmt.Sprint(gotKeys) != fmt.Sprint(tc.keys) && len(tc.keys) > 0 {
				t.Errorf("the reads ask for %d ids and %d keys, not the %d ids and %d keys given, each once and in order", len(gotIDs), len(gotKeys), len(tc.ids), len(tc.keys))
			}
		})
	}
}
