// Package entryform converts entries to the form the engine works on — a
// JSON object, numbers kept as json.Number — and splits an entry as read
// into its draft and published versions. Package stagesync and its test
// helpers (stagesync/synctest) share it, so that fixtures are treated
// exactly as a sync treats what it reads.
package entryform

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Decode returns v (a genqlient type, or any value whose JSON form is an
// entry) as a JSON object, with numbers as json.Number.
func Decode(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("entry is null")
	}
	return out, nil
}

// Published splits the PUBLISHED version off an entry as read: it removes
// "documentInStages" from entry and returns its first element (nil when
// the entry is not published or the read does not select it).
func Published(entry map[string]any) map[string]any {
	pub := PublishedOf(entry)
	delete(entry, "documentInStages")
	return pub
}

// PublishedOf returns the PUBLISHED version of an entry as read, leaving
// the entry as it is (nil when there is none).
func PublishedOf(entry map[string]any) map[string]any {
	dis, _ := entry["documentInStages"].([]any)
	if len(dis) == 0 {
		return nil
	}
	pub, _ := dis[0].(map[string]any)
	return pub
}

// Versions returns an entry as read (see Decode) as its draft, without
// documentInStages, and its published version (see Published).
func Versions(entry any) (draft, pub map[string]any, err error) {
	if draft, err = Decode(entry); err != nil {
		return nil, nil, err
	}
	return draft, Published(draft), nil
}

// List returns a field's value (or a mutation input) as a list: nil for
// nil, a list as it is, one value as a list of one.
func List(x any) []any {
	switch v := x.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{x}
}
