package store

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// testSDL is a small Hygraph-convention schema: Post has a unique slug, a
// Float rating and a relation to Author.
const testSDL = `
enum Stage { DRAFT PUBLISHED }
enum Locale { en }
interface Node { id: ID! stage: Stage! }
type Author implements Node { id: ID! stage: Stage! name: String }
type Post implements Node { id: ID! stage: Stage! slug: String rating: Float author: Author }
input PostWhereUniqueInput { id: ID slug: String }
type Query { posts: [Post!]! authors: [Author!]! }
`

func newTestStore(t *testing.T, b Backend) (*Store, *Catalog) {
	t.Helper()
	c, err := NewCatalog(gqlparser.MustLoadSchema(&ast.Source{Input: testSDL}))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	return New(c, b, 1, clock), c
}

// create commits one draft document of model with vals.
func create(t *testing.T, s *Store, c *Catalog, model string, vals map[string]any) *Document {
	t.Helper()
	tx := s.Begin("2024-05-01T12:00:00.000000+00:00")
	d := tx.NewDoc(c.Models[model])
	tx.Set(d, c.Draft, &Version{CreatedAt: tx.Now, UpdatedAt: tx.Now, Vals: vals})
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestTx: a rolled back change leaves the committed version as it was, a
// committed one replaces it, and a unique value held by another document,
// committed or in the same tx, fails the commit and changes nothing.
func TestTx(t *testing.T) {
	s, c := newTestStore(t, nil)
	a := create(t, s, c, "Post", map[string]any{"slug": "a"})
	cases := []struct {
		name     string
		change   func(tx *Tx)
		rollback bool
		err      string // substring of the commit's error; "" for none
		want     string // a's slug afterwards
		docs     int    // Post documents afterwards
	}{
		{"rolled back", func(tx *Tx) { tx.Mut(a, c.Draft).Vals["slug"] = "b" }, true, "", "a", 1},
		{"unique against a committed document", func(tx *Tx) {
			d := tx.NewDoc(c.Models["Post"])
			tx.Set(d, c.Draft, &Version{Vals: map[string]any{"slug": "a"}})
		}, false, `value is not unique for the field "slug"`, "a", 1},
		{"unique inside the tx", func(tx *Tx) {
			tx.Mut(a, c.Draft).Vals["slug"] = "c"
			d := tx.NewDoc(c.Models["Post"])
			tx.Set(d, c.Draft, &Version{Vals: map[string]any{"slug": "c"}})
		}, false, `value is not unique for the field "slug"`, "a", 1},
		{"committed", func(tx *Tx) { tx.Mut(a, c.Draft).Vals["slug"] = "d" }, false, "", "d", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx := s.Begin("2024-05-01T12:00:01.000000+00:00")
			tc.change(tx)
			var err error
			if tc.rollback {
				tx.Rollback()
			} else {
				err = tx.Commit()
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("commit: %v, want %q", err, tc.err)
			}
			if got := s.ByID[a.ID].Versions[c.Draft].Vals["slug"]; got != tc.want {
				t.Errorf("slug %v, want %s", got, tc.want)
			}
			if n := len(s.ByModel["Post"].Sorted); n != tc.docs || len(s.ByID) != tc.docs {
				t.Errorf("%d posts (%d by id), want %d", n, len(s.ByID), tc.docs)
			}
		})
	}
}

// TestLoad: what a store wrote through to its Backend, a new store loads
// as it was: relations as Refs, Float values as float64 even when integral,
// unique values indexed.
func TestLoad(t *testing.T) {
	b, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, c := newTestStore(t, b)
	au := create(t, s, c, "Author", map[string]any{"name": "Ann"})
	p := create(t, s, c, "Post", map[string]any{"slug": "a", "rating": float64(4), "author": []Ref{{Type: "Author", ID: au.ID}}})

	s2, _ := newTestStore(t, b)
	if err := s2.Load(); err != nil {
		t.Fatal(err)
	}
	if len(s2.ByID) != 2 {
		t.Errorf("%d documents loaded, want 2", len(s2.ByID))
	}
	for _, d := range []*Document{au, p} {
		got := s2.ByID[d.ID]
		if got == nil {
			t.Fatalf("%s %s not loaded", d.Model.Name, d.ID)
		}
		want, have := d.Versions[c.Draft], got.Versions[c.Draft]
		if !maps.EqualFunc(want.Vals, have.Vals, func(a, b any) bool { return reflect.DeepEqual(a, b) }) || want.CreatedAt != have.CreatedAt {
			t.Errorf("%s loaded as %+v, want %+v", d.Model.Name, *have, *want)
		}
	}
	if d := s2.ByModel["Post"].Unique[c.Draft]["slug"]["sa"]; d == nil || d.ID != p.ID {
		t.Errorf("unique index after load: %v, want the post", d)
	}
}
