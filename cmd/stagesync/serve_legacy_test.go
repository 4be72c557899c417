package main

import (
	"encoding/json"
	"iter"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
)

// TestServeLegacyEndpoints: `stagesync serve` answers the legacy /import
// and /export on its stage, and what /import wrote survives a restart.
func TestServeLegacyEndpoints(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--schema", serveFixture, "--addr", "127.0.0.1:0", "--token", "t", "--data", dir}
	s := startServe(t, args...)
	c := importapi.NewClient(s.endpoint, "t", nil)
	values := func(yield func(importapi.Value, error) bool) {
		yield(importapi.Value{File: "inline", Line: 1, Raw: json.RawMessage(`{"_typeName":"Tag","id":"tag1","slug":"ndf","title":"NDF"}`)}, nil)
	}
	res, err := c.Import(t.Context(), importapi.Nodes, iter.Seq2[importapi.Value, error](values))
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("import: %v %+v", err, res.Failures)
	}
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s = startServe(t, args...)
	c = importapi.NewClient(s.endpoint, "t", nil)
	var got []string
	for raw, err := range c.Export(t.Context(), importapi.Nodes) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(raw))
	}
	if len(got) != 1 || !strings.Contains(got[0], `"id":"tag1"`) || !strings.Contains(got[0], `"slug":"ndf"`) {
		t.Errorf("export after restart = %v, want the imported tag", got)
	}
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}
}
