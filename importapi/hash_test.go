package importapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
)

// TestContentHashesUpToIDs: the same content under other ids and
// timestamps hashes the same; a changed value or relation order does not.
func TestContentHashesUpToIDs(t *testing.T) {
	snapshot := func(d, h1, h2, name string, first, second string) string {
		return writeNDF(t, map[string]string{
			"nodes/000001.json": nodesFile(
				`{"_typeName":"Destination","id":"`+d+`","name":"Lisbon","slug":"lisbon","createdAt":"2020-01-0`+d[len(d)-1:]+`T00:00:00Z"}`,
				`{"_typeName":"Hotel","id":"`+h1+`","name":"`+name+`","slug":"a"}`,
				`{"_typeName":"Hotel","id":"`+h2+`","name":"B","slug":"b"}`),
			"relations/000001.json": relationsFile(
				`[{"_typeName":"Destination","id":"`+d+`","fieldName":"hotels","_position":0},{"_typeName":"Hotel","id":"`+first+`","fieldName":"destination"}]`,
				`[{"_typeName":"Destination","id":"`+d+`","fieldName":"hotels","_position":1},{"_typeName":"Hotel","id":"`+second+`","fieldName":"destination"}]`),
		})
	}
	hashes := func(dir string) map[string]string {
		h, err := importapi.ContentHashes(dir)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hashes(snapshot("d1", "h1", "h2", "A", "h1", "h2"))
	same := hashes(snapshot("x2", "y1", "y2", "A", "y1", "y2"))
	renamed := hashes(snapshot("d1", "h1", "h2", "A2", "h1", "h2"))
	reordered := hashes(snapshot("d1", "h1", "h2", "A", "h2", "h1"))
	if strings.Join(mapLines(base), "\n") != strings.Join(mapLines(same), "\n") {
		t.Errorf("other ids, same content: %v vs %v", base, same)
	}
	if base["Hotel/DRAFT"] == renamed["Hotel/DRAFT"] {
		t.Error("a changed name left Hotel/DRAFT's hash as it was")
	}
	if k := "relations Destination.hotels/DRAFT"; base[k] == reordered[k] {
		t.Error("a changed relation order left the relations' hash as it was")
	}
}

func mapLines(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+" "+v)
	}
	slices.Sort(out)
	return out
}
