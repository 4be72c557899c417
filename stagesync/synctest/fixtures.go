package synctest

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// ReadFixtures reads a JSON array of entries of type T from path: the file
// `stagesync fixtures record` writes, one element per entry as the model's
// read operation returned it.
func ReadFixtures[T any](path string) ([]T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("synctest: fixtures: %w", err)
	}
	var out []T
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("synctest: fixtures %s: %w", path, err)
	}
	return out, nil
}

// LoadFixtures is ReadFixtures for a test: it stops the test when the file
// cannot be read, does not hold a JSON array of T, or holds no entry (a
// table test over no fixtures would pass without testing anything).
func LoadFixtures[T any](t testing.TB, path string) []T {
	t.Helper()
	out, err := ReadFixtures[T](path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("synctest: fixtures %s hold no entry", path)
	}
	return out
}
