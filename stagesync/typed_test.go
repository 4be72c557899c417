package stagesync_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"

	"github.com/stagesync/stagesync/stagesync"
)

// tagEntry is a typed Tag as a hand-written read operation returns it.
type tagEntry struct {
	ID               string  `json:"id"`
	Name             *string `json:"name"`
	DocumentInStages []struct {
		ID   string  `json:"id"`
		Name *string `json:"name"`
	} `json:"documentInStages"`
}

// tagNameOnly is a read trimmed to the name: no published version.
type tagNameOnly struct {
	ID   string  `json:"id"`
	Name *string `json:"name"`
}

func readTags[T any](query string) func(ctx context.Context, c graphql.Client, first int, after *string) ([]T, error) {
	return func(ctx context.Context, c graphql.Client, first int, after *string) ([]T, error) {
		var out struct{ Tags []T }
		err := c.MakeRequest(ctx, &graphql.Request{Query: query, OpName: "ReadTags",
			Variables: map[string]any{"first": first, "after": after}}, &graphql.Response{Data: &out})
		return out.Tags, err
	}
}

const readTagsQuery = `query ReadTags($first: Int!, $after: String) {
  tags(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) {
    id name documentInStages(stages: [PUBLISHED]) { id name }
  }
}`

const readTagNamesQuery = `query ReadTags($first: Int!, $after: String) {
  tags(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) { id name }
}`

func TestSyncTyped(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seed(t, "Tag", "PUBLISHED", map[string]any{"name": "classic"}, map[string]any{"name": "space"}, map[string]any{"name": "drop me"})
	p.seed(t, "Tag", "DRAFT", map[string]any{"name": "draft"}, map[string]any{"name": "bad"})

	cfg := p.config()
	cfg.Typed = []stagesync.Model{stagesync.TypedModel[tagEntry]{
		Name: "Tag",
		Read: readTags[tagEntry](readTagsQuery),
		Transform: func(_ context.Context, e *tagEntry) error {
			switch *e.Name {
			case "drop me":
				return stagesync.ErrDrop
			case "bad":
				return errors.New("bad tag")
			}
			up := strings.ToUpper(*e.Name)
			e.Name = &up
			return nil
		},
	}}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f := report.Failures(); len(f) != 1 || f[0].Message != "bad tag" || f[0].Op != "transform" {
		t.Errorf("failures = %+v, want the bad tag's transform", f)
	}
	got := map[string]string{}
	for _, e := range p.dst.Stage.All("Tag", "DRAFT") {
		got[e["name"].(string)] = "draft"
	}
	for _, e := range p.dst.Stage.All("Tag", "PUBLISHED") {
		got[e["name"].(string)] = "published"
	}
	want := map[string]string{"CLASSIC": "published", "SPACE": "published", "DRAFT": "draft"}
	if len(got) != len(want) {
		t.Errorf("destination tags = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("destination tag %s is %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	// A read without the published version leaves the publish state alone;
	// only the fields it reads are compared and written.
	cfg.Typed = []stagesync.Model{stagesync.TypedModel[tagNameOnly]{Name: "Tag", Read: readTags[tagNameOnly](readTagNamesQuery)}}
	before := p.dst.Stage.Counters()
	report, _, err = stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.dst.Stage.All("Tag", "PUBLISHED")); n != 2 {
		t.Errorf("after a read without documentInStages, %d tags are published, want 2", n)
	}
	// The lower-case names are written back (the transform is gone); the
	// dropped and failed tags are created now.
	for _, m := range report.Models() {
		if m.Name == "Tag" && (m.Updated != 3 || m.Created != 2) {
			t.Errorf("Tag: %+v, want 3 updated and 2 created", m)
		}
	}
	if after := p.dst.Stage.Counters(); after.Mutations == before.Mutations {
		t.Error("no mutations")
	}
}
