package synctest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/stagesync"
)

// Result is what a transform made of one fixture, as Sync would see it.
type Result[T any] struct {
	// Entry is the draft version after the transform: a copy of the
	// fixture without its documentInStages (Sync splits the published
	// version off before transforming), changed by the transform.
	Entry T
	// Err is the transform's error for the draft: nil, stagesync.ErrDrop
	// when it drops the entry, or the error that fails the entry.
	Err error
	// Published is the published version after the transform, for a
	// fixture whose read selected documentInStages and that is published
	// (nil otherwise). Sync transforms it separately, as a T too.
	Published *T
	// PublishedErr is the transform's error for the published version.
	PublishedErr error
}

// resultJSON is the JSON form of a Result, for golden files.
type resultJSON struct {
	Entry          json.RawMessage `json:"entry"`
	Error          string          `json:"error,omitempty"`
	Dropped        bool            `json:"dropped,omitempty"`
	Published      json.RawMessage `json:"published,omitempty"`
	PublishedError string          `json:"publishedError,omitempty"`
}

// MarshalJSON writes {"entry": ..., "error": "..."}, with "dropped": true
// instead of an error for stagesync.ErrDrop, and "published" and
// "publishedError" when there is a published version.
func (r Result[T]) MarshalJSON() ([]byte, error) {
	var j resultJSON
	var err error
	if j.Entry, err = json.Marshal(r.Entry); err != nil {
		return nil, err
	}
	j.Error, j.Dropped = errorText(r.Err)
	if r.Published != nil {
		if j.Published, err = json.Marshal(r.Published); err != nil {
			return nil, err
		}
		var dropped bool
		if j.PublishedError, dropped = errorText(r.PublishedErr); dropped {
			j.PublishedError = "dropped"
		}
	}
	return json.Marshal(j)
}

func errorText(err error) (msg string, dropped bool) {
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, stagesync.ErrDrop):
		return "", true
	default:
		return err.Error(), false
	}
}

// Transform applies fn to each fixture the way Sync applies a typed
// model's transform: to the draft version (the fixture without its
// documentInStages) and, separately, to the published version
// (documentInStages[0] as a T), each a copy. The fixtures are not changed.
// The error is for a fixture that cannot be copied through JSON; what fn
// returns is in the results.
func Transform[T any](ctx context.Context, fixtures []T, fn func(context.Context, *T) error) ([]Result[T], error) {
	out := make([]Result[T], len(fixtures))
	for i := range fixtures {
		draft, pub, err := versions(&fixtures[i])
		if err != nil {
			return nil, fmt.Errorf("synctest: fixture %d: %w", i, err)
		}
		var r Result[T]
		if err := convert(draft, &r.Entry); err != nil {
			return nil, fmt.Errorf("synctest: fixture %d: %w", i, err)
		}
		r.Err = fn(ctx, &r.Entry)
		if pub != nil {
			r.Published = new(T)
			if err := convert(pub, r.Published); err != nil {
				return nil, fmt.Errorf("synctest: fixture %d: published version: %w", i, err)
			}
			r.PublishedErr = fn(ctx, r.Published)
		}
		out[i] = r
	}
	return out, nil
}

// ApplyTransform is Transform for a test, with the test's context.
func ApplyTransform[T any](t testing.TB, fixtures []T, fn func(context.Context, *T) error) []Result[T] {
	t.Helper()
	out, err := Transform(t.Context(), fixtures, fn)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// versions splits an entry as read into its draft (without
// documentInStages) and its published version (nil when there is none), as
// JSON objects, as Sync does.
func versions(v any) (draft, pub map[string]any, err error) {
	return entryform.Versions(v)
}

// convert decodes a JSON object into a T.
func convert(m map[string]any, v any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
