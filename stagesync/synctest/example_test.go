package synctest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stagesync/stagesync/stagesync/synctest"
)

// Tag is a Tag entry as a read operation reads it (genqlient's types look
// the same: nullable fields are pointers).
type Tag struct {
	ID   string  `json:"id"`
	Name *string `json:"name"`
}

// normalizeTag is a transform: tag names are trimmed and lower-cased, and
// a tag without a name fails.
func normalizeTag(_ context.Context, t *Tag) error {
	if t.Name == nil {
		return errors.New("tag has no name")
	}
	name := strings.ToLower(strings.TrimSpace(*t.Name))
	t.Name = &name
	return nil
}

// A transform applied to recorded fixtures, as a table test does it (in a
// test, LoadFixtures, ApplyTransform and Golden take the *testing.T).
func Example() {
	tags, err := synctest.ReadFixtures[Tag]("testdata/tags.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	results, err := synctest.Transform(context.Background(), tags, normalizeTag)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, r := range results {
		if r.Err != nil {
			fmt.Printf("%s: %v\n", tags[i].ID, r.Err)
			continue
		}
		fmt.Printf("%s: %q -> %q\n", tags[i].ID, *tags[i].Name, *r.Entry.Name)
	}
	// Output:
	// tag-1: "  Go " -> "go"
	// tag-2: tag has no name
	// tag-3: "CMS" -> "cms"
}
