package stagesync_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// TestSyncSmallMaxPage syncs between stages whose largest page is 5 (a
// query asking for more is refused), with PageSize 5: to-many relation
// lists longer than a page (Book.tags, Tag.books, Author.books and the
// union list Book.related), in DRAFT and, different, in PUBLISHED, are
// read with nested pages no larger than the stage's and read on to their
// ends, so the destination equals the source and one more run writes
// nothing.
func TestSyncSmallMaxPage(t *testing.T) {
	const maxPage = 5
	s := librarySchema(t, nil)
	p := newPair(t, s, s, stagetest.WithMaxPage(maxPage))
	ctx := context.Background()
	var tagDocs []map[string]any
	for i := range 12 {
		tagDocs = append(tagDocs, map[string]any{"name": fmt.Sprintf("tag %02d", i)})
	}
	tags := p.seed(t, "Tag", "PUBLISHED", tagDocs...)
	author := p.seed(t, "Author", "PUBLISHED", map[string]any{"name": "Prolific"})[0]
	other := p.seed(t, "Author", "PUBLISHED", map[string]any{"name": "Other"})[0]
	var books []string
	for i := range 13 {
		order := slices.Clone(tags)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		var related []any
		for j := range 8 {
			if j%3 == 0 {
				related = append(related, []string{author, other}[j%2])
			} else {
				related = append(related, tags[(i+j)%len(tags)])
			}
		}
		stage := "PUBLISHED"
		if i%3 == 2 {
			stage = "DRAFT"
		}
		books = append(books, p.seed(t, "Book", stage, map[string]any{
			"title": fmt.Sprintf("Book %02d", i), "author": author,
			"tags": toAny(order), "related": related,
		})...)
	}
	// Published books whose drafts moved on: lists of another length and
	// order.
	for _, b := range []string{books[0], books[4], books[7]} {
		var set []any
		for _, tg := range tags[3:10] {
			set = append([]any{map[string]any{"id": tg}}, set...)
		}
		if err := p.src.Stage.Update(ctx, "Book", b, map[string]any{"tags": map[string]any{"set": set}}); err != nil {
			t.Fatal(err)
		}
	}

	cfg := p.config()
	cfg.PageSize = maxPage
	mustSync(t, cfg)
	compareSmall := func(what string) {
		t.Helper()
		diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
			Source: p.source, Dest: p.dest, SourceSchema: p.srcSchema, DestSchema: p.dstSchema,
			State: p.state, PageSize: maxPage,
		})
		if err != nil {
			t.Fatalf("%s: compare: %v", what, err)
		}
		for i, d := range diffs {
			if i == 20 {
				t.Errorf("%s: ... and %d more differences", what, len(diffs)-i)
				break
			}
			t.Errorf("%s: %s", what, d)
		}
	}
	compareSmall("after the sync")

	// The lists are whole in the destination, in both stages (Compare
	// reads them the same way the sync does; count them here too).
	dstID := func(model, id string) string {
		d, ok := p.state.DestID(model, id)
		if !ok {
			t.Fatalf("%s %s has no destination entry", model, id)
		}
		return d
	}
	for _, stage := range []string{"DRAFT", "PUBLISHED"} {
		for _, b := range books {
			src, ok := p.src.Stage.Get("Book", b, stage)
			if !ok {
				continue
			}
			dst, ok := p.dst.Stage.Get("Book", dstID("Book", b), stage)
			if !ok {
				t.Errorf("%s: book %s is missing from the destination", stage, b)
				continue
			}
			for _, f := range []string{"tags", "related"} {
				sl, _ := src[f].([]any)
				dl, _ := dst[f].([]any)
				if len(sl) <= maxPage || len(dl) != len(sl) {
					t.Errorf("%s: book %s.%s has %d entries in the source, %d in the destination", stage, b, f, len(sl), len(dl))
				}
			}
		}
		// The other sides of two-way relations, as the API shows them:
		// the books in that stage.
		inStage := func(st *stagetest.Stage, list []any) int {
			n := 0
			for _, x := range list {
				if id, _ := x.(string); id != "" {
					if _, ok := st.Get("Book", id, stage); ok {
						n++
					}
				}
			}
			return n
		}
		for model, id := range map[string]string{"Tag": tags[0], "Author": author} {
			src, _ := p.src.Stage.Get(model, id, stage)
			dst, _ := p.dst.Stage.Get(model, dstID(model, id), stage)
			sb, _ := src["books"].([]any)
			db, _ := dst["books"].([]any)
			sl, dl := inStage(p.src.Stage, sb), inStage(p.dst.Stage, db)
			if sl <= maxPage || dl != sl {
				t.Errorf("%s: %s %s.books has %d entries in the source, %d in the destination", stage, model, id, sl, dl)
			}
		}
	}

	// A second run finds nothing to write: the destination's lists were
	// read whole too.
	before := p.dst.Stage.Counters().Mutations
	mustSync(t, cfg)
	if n := p.dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("one more sync ran %d mutations, want 0", n)
	}
	compareSmall("after a second sync")
}

func toAny(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// TestSyncComponentListCut: a to-many relation inside a component cannot
// be read on like a model's own lists. One that holds as many entries as
// a nested read returns (the page size) may have been cut: its entry fails
// with op "read", naming the list and the page size, instead of being
// synced without some of its relations. Shorter lists sync; with a larger
// page size the long one syncs too.
func TestSyncComponentListCut(t *testing.T) {
	const maxPage = 5
	s := describedSchema(t, "shelves.graphql", `
components:
  Box:
    label: String
    tags: "[Tag]"
models:
  Tag:
    name: String! unique
  Shelf:
    name: String! unique
    box: Box
`)
	tagDocs := make([]map[string]any, 7)
	for i := range tagDocs {
		tagDocs[i] = map[string]any{"name": fmt.Sprintf("tag %d", i)}
	}
	box := func(tags []string) map[string]any {
		var connect []any
		for _, id := range tags {
			connect = append(connect, map[string]any{"id": id})
		}
		return map[string]any{"create": map[string]any{"label": "box", "tags": map[string]any{"connect": connect}}}
	}
	for _, pageSize := range []int{maxPage, 100} {
		t.Run(fmt.Sprintf("PageSize=%d", pageSize), func(t *testing.T) {
			opts := []stagetest.Option{}
			if pageSize == maxPage {
				opts = append(opts, stagetest.WithMaxPage(maxPage))
			}
			p := newPair(t, s, s, opts...)
			tags := p.seed(t, "Tag", "PUBLISHED", tagDocs...)
			short := p.seed(t, "Shelf", "PUBLISHED", map[string]any{"name": "short", "box": box(tags[:3])})[0]
			long := p.seed(t, "Shelf", "PUBLISHED", map[string]any{"name": "long", "box": box(tags)})[0]
			cfg := p.config()
			cfg.PageSize = pageSize
			// The tags first: the engine does not order models by the
			// relations inside their components.
			cfg.Models = []string{"Tag"}
			mustSync(t, cfg)
			cfg.Models = nil
			report, _, err := stagesync.Sync(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := p.state.DestID("Shelf", short); !ok {
				t.Errorf("the shelf with a short list was not synced")
			}
			fs := report.Failures()
			if pageSize == maxPage {
				if len(fs) != 1 || fs[0].SourceID != long || fs[0].Op != "read" || !strings.Contains(fs[0].Message, "Shelf.box.tags has 5 entries") ||
					!strings.Contains(fs[0].Message, "larger page size") {
					t.Fatalf("failures %+v, want one read failure of shelf %s naming Shelf.box.tags", fs, long)
				}
				if _, ok := p.state.DestID("Shelf", long); ok {
					t.Errorf("the shelf with a cut list was synced")
				}
				return
			}
			failOnFailures(t, "sync", report)
			p.compare(t)
		})
	}
}
