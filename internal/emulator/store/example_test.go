package store_test

import (
	"fmt"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/emulator/store"
)

// A store of one model: a tx creates a draft document and commits it.
func Example() {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: `
		enum Stage { DRAFT PUBLISHED }
		interface Node { id: ID! stage: Stage! }
		type Post implements Node { id: ID! stage: Stage! title: String }
		type Query { posts: [Post!]! }`})
	c, err := store.NewCatalog(s)
	if err != nil {
		panic(err)
	}
	clock := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	st := store.New(c, nil, 1, clock)

	t := st.Begin(store.FormatTime(clock()))
	d := t.NewDoc(c.Models["Post"])
	t.Set(d, c.Draft, &store.Version{CreatedAt: t.Now, UpdatedAt: t.Now, Vals: map[string]any{"title": "Hello"}})
	if err := t.Commit(); err != nil {
		panic(err)
	}
	got := st.ByID[d.ID].Versions[c.Draft]
	fmt.Println(len(st.ByModel["Post"].Sorted), got.Vals["title"], got.CreatedAt)
	// Output:
	// 1 Hello 2024-05-01T12:00:00.000000+00:00
}
