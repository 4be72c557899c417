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

// shopDescription is a project with a two-way many-to-many relation
// (Product.categories <-> Category.products), a union list (Page.blocks)
// whose member Hero has a list of the pages back (Hero.pages: the only
// relation between Hero and Page, which Hygraph and the emulator pair
// with Page.blocks as a two-way union relation), one-way to-many lists
// (Product.tags, Page.tags) and a required to-many list (Shelf.items).
const shopDescription = `
models:
  Product:
    name: String! unique
    categories: "[Category] -> products"
    tags: "[Tag]"
  Category:
    name: String! unique
    products: "[Product] <- categories"
  Tag:
    name: String! unique
  Page:
    title: String! unique
    blocks: "[PageBlock: Hero | Text | Gallery]"
    tags: "[Tag]"
  Hero:
    title: String! unique
    pages: "[Page]"
  Text:
    body: String! unique
  Gallery:
    name: String! unique
  Shelf:
    name: String! unique
    items: "[Tag]!"
`

// orderedLists are the to-many relation lists of the shop whose order a
// sync keeps, "Model.field".
var orderedLists = []string{"Product.categories", "Product.tags", "Category.products", "Page.blocks", "Page.tags", "Shelf.items", "Hero.pages"}

// reorder puts the entries of a to-many list of a source entry in the
// given order, by connecting each at its position (a move: the other side
// of a two-way relation keeps its order).
func reorder(t *testing.T, p *pair, model, id, field string, union map[string]string, ids ...string) {
	t.Helper()
	var connect []any
	for i, x := range ids {
		pos := map[string]any{"start": true}
		if i > 0 {
			pos = map[string]any{"after": ids[i-1]}
		}
		c := map[string]any{"where": map[string]any{"id": x}, "position": pos}
		if typ := union[x]; typ != "" {
			c = map[string]any{typ: c}
		}
		connect = append(connect, c)
	}
	if err := p.src.Stage.Update(context.Background(), model, id, map[string]any{field: map[string]any{"connect": connect}}); err != nil {
		t.Fatalf("reorder %s %s.%s: %v", model, id, field, err)
	}
}

// checkOrder fails the test for every ordered list of the destination
// (draft and published) that does not hold the mapped targets of the
// source's list in the source's order.
func checkOrder(t *testing.T, p *pair) {
	t.Helper()
	destOf := func(id string) string {
		for _, m := range []string{"Product", "Category", "Tag", "Hero", "Text", "Gallery", "Page", "Shelf"} {
			if d, ok := p.state.DestID(m, id); ok {
				return d
			}
		}
		return "?" + id
	}
	for _, stage := range []string{"DRAFT", "PUBLISHED"} {
		for _, mf := range orderedLists {
			model, field, _ := strings.Cut(mf, ".")
			for _, s := range p.src.Stage.All(model, stage) {
				src, _ := s["id"].(string)
				did, ok := p.state.DestID(model, src)
				if !ok {
					t.Errorf("%s %s: not synced", model, src)
					continue
				}
				d, ok := p.dst.Stage.Get(model, did, stage)
				if !ok {
					t.Errorf("%s: %s %s: missing in the destination", stage, model, src)
					continue
				}
				var want []string
				sl, _ := s[field].([]any)
				for _, x := range sl {
					want = append(want, destOf(x.(string)))
				}
				var got []string
				dl, _ := d[field].([]any)
				for _, x := range dl {
					got = append(got, x.(string))
				}
				if !slices.Equal(want, got) {
					t.Errorf("%s: %s.%s of %s: got %v, want %v", stage, model, field, src, got, want)
				}
			}
		}
	}
}

// TestSyncRelationOrderFaults: under injected 5xx and dropped connections
// the shop syncs (with repair runs), in order on every side, and then a
// re-sync writes nothing.
func TestSyncRelationOrderFaults(t *testing.T) {
	s := describedSchema(t, "shop.graphql", shopDescription)
	p := newPair(t, s, s, stagetest.WithLimits(stagetest.Limits{FailRate: 0.1, DropRate: 0.05, Seed: 11}))
	seedShop(t, p)
	cfg := p.config()
	cfg.Match = map[string]string{"Product": "name", "Category": "name", "Tag": "name", "Page": "title",
		"Hero": "title", "Text": "body", "Gallery": "name", "Shelf": "name"}
	var report *stagesync.Report
	for range 12 {
		var err error
		if report, _, err = stagesync.Sync(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		if report.OK() {
			break
		}
	}
	for _, f := range report.Failures() {
		t.Errorf("failure after 12 runs: %+v", f)
	}
	checkOrder(t, p)
	p.compare(t)
	before := p.dst.Stage.Counters()
	if _, _, err := stagesync.Sync(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if n := p.dst.Stage.Counters().Mutations - before.Mutations; n != 0 {
		t.Errorf("re-sync ran %d mutations, want 0", n)
	}
}

// syncNoWrites syncs and fails the test if the sync writes anything.
func syncNoWrites(t *testing.T, p *pair, what string) {
	t.Helper()
	before := p.dst.Stage.Counters()
	report, plan := mustSync(t, p.config())
	if n := p.dst.Stage.Counters().Mutations - before.Mutations; n != 0 {
		t.Errorf("%s: %d mutations, want 0; plan: %s", what, n, mustJSON(t, plan))
	}
	for _, m := range report.Models() {
		if m.Created != 0 || m.Updated != 0 || m.Published != 0 || m.Unchanged != m.Read {
			t.Errorf("%s: %s: %+v", what, m.Name, m)
		}
	}
}

// TestSyncRelationOrder: both sides of a two-way many-to-many relation, a
// union list and one-way lists keep their order, each in its own, in the
// draft and the published stage; a re-sync writes nothing; a reorder in
// the source is copied, and then a re-sync writes nothing again; so is a
// reorder of drafts only (published versions that differ). With the
// destination index in memory and in its database.
func TestSyncRelationOrder(t *testing.T) {
	for _, spill := range []int64{5000, 1} {
		t.Run(fmt.Sprintf("spillAt=%d", spill), func(t *testing.T) {
			old := stagesync.DestSpillAt.Swap(spill)
			t.Cleanup(func() { stagesync.DestSpillAt.Store(old) })
			testSyncRelationOrder(t)
		})
	}
}

// shop holds the ids of a seeded shop.
type shop struct {
	tags, cats, products, pages, texts []string
	hero, gal                          string
}

// seedShop fills the source with the shop: lists in orders that are
// neither by id nor by creation, each side of the two-way relations in an
// order of its own, everything published.
func seedShop(t *testing.T, p *pair) shop {
	t.Helper()
	tags := p.seed(t, "Tag", "PUBLISHED", map[string]any{"name": "t0"}, map[string]any{"name": "t1"}, map[string]any{"name": "t2"}, map[string]any{"name": "t3"})
	var cats []string
	for i := range 4 {
		cats = append(cats, p.seed(t, "Category", "PUBLISHED", map[string]any{"name": fmt.Sprintf("c%d", i)})[0])
	}
	// Products list their categories in an order that is neither by id
	// nor by creation.
	catOrders := [][]int{{2, 0, 3}, {3, 1}, {1, 2, 0, 3}, {0, 3, 2}, {2, 1}}
	var products []string
	for i, co := range catOrders {
		var cs []any
		for _, c := range co {
			cs = append(cs, cats[c])
		}
		products = append(products, p.seed(t, "Product", "DRAFT", map[string]any{
			"name": fmt.Sprintf("p%d", i), "categories": cs, "tags": []any{tags[(i+2)%4], tags[i%4], tags[(i+3)%4]},
		})[0])
	}
	// Each category lists its products in an order of its own.
	for _, c := range cats {
		d, _ := p.src.Stage.Get("Category", c, "DRAFT")
		list := toStrings(d["products"].([]any))
		slices.Reverse(list)
		if len(list) > 2 {
			list[0], list[1] = list[1], list[0]
		}
		reorder(t, p, "Category", c, "products", nil, list...)
	}
	hero := p.seed(t, "Hero", "PUBLISHED", map[string]any{"title": "h"})[0]
	texts := p.seed(t, "Text", "PUBLISHED", map[string]any{"body": "x"}, map[string]any{"body": "y"})
	gal := p.seed(t, "Gallery", "PUBLISHED", map[string]any{"name": "g"})[0]
	pages := p.seed(t, "Page", "DRAFT", map[string]any{"title": "home", "blocks": []any{texts[1], gal, hero, texts[0]}, "tags": []any{tags[3], tags[0]}},
		map[string]any{"title": "about", "blocks": []any{hero, texts[0]}},
		map[string]any{"title": "contact", "blocks": []any{texts[1], hero}})
	// The hero lists its pages in an order of its own.
	reorder(t, p, "Hero", hero, "pages", nil, pages[2], pages[0], pages[1])
	p.seed(t, "Shelf", "DRAFT", map[string]any{"name": "full", "items": []any{tags[2], tags[0], tags[1]}})
	p.seed(t, "Shelf", "DRAFT", map[string]any{"name": "empty"})
	publishAll(t, p, "Product", "Category", "Page", "Shelf")
	return shop{tags: tags, cats: cats, products: products, pages: pages, texts: texts, hero: hero, gal: gal}
}

func testSyncRelationOrder(t *testing.T) {
	s := describedSchema(t, "shop.graphql", shopDescription)
	p := newPair(t, s, s)
	sh := seedShop(t, p)
	tags, cats, products, pages, texts, hero, gal := sh.tags, sh.cats, sh.products, sh.pages, sh.texts, sh.hero, sh.gal
	mustSync(t, p.config())
	checkOrder(t, p)
	p.compare(t)
	syncNoWrites(t, p, "second sync")

	// Reorder both sides of the two-way relation, the union list and a
	// one-way list in the source, and move a product to other categories.
	ctx := context.Background()
	reorder(t, p, "Product", products[2], "categories", nil, cats[3], cats[0], cats[2], cats[1])
	reorder(t, p, "Category", cats[0], "products", nil, products[3], products[2], products[0])
	page := pages[0]
	union := map[string]string{hero: "Hero", texts[0]: "Text", texts[1]: "Text", gal: "Gallery"}
	reorder(t, p, "Page", page, "blocks", union, hero, texts[0], gal, texts[1])
	reorder(t, p, "Product", products[0], "tags", nil, tags[3], tags[0], tags[2])
	reorder(t, p, "Hero", hero, "pages", nil, pages[1], pages[2], pages[0])
	if err := p.src.Stage.Update(ctx, "Product", products[4], map[string]any{"categories": map[string]any{
		"disconnect": []any{map[string]any{"id": cats[1]}},
		"connect":    []any{map[string]any{"where": map[string]any{"id": cats[0]}, "position": map[string]any{"start": true}}},
	}}); err != nil {
		t.Fatal(err)
	}
	publishAll(t, p, "Product", "Category", "Page")
	report, _ := mustSync(t, p.config())
	if got := report.Models(); !hasCount(got, "Product", func(m stagesync.ModelReport) bool { return m.Updated >= 3 }) {
		t.Errorf("reorder sync: %+v", got)
	}
	checkOrder(t, p)
	p.compare(t)
	syncNoWrites(t, p, "sync after reorder")

	// Reorder drafts only: their published versions keep the old order.
	reversed := func(model, id, field string) []string {
		d, _ := p.src.Stage.Get(model, id, "DRAFT")
		list := toStrings(d[field].([]any))
		slices.Reverse(list)
		return list
	}
	reorder(t, p, "Product", products[1], "categories", nil, reversed("Product", products[1], "categories")...)
	reorder(t, p, "Category", cats[2], "products", nil, reversed("Category", cats[2], "products")...)
	reorder(t, p, "Page", page, "blocks", union, reversed("Page", page, "blocks")...)
	reorder(t, p, "Hero", hero, "pages", nil, reversed("Hero", hero, "pages")...)
	mustSync(t, p.config())
	checkOrder(t, p)
	p.compare(t)
	syncNoWrites(t, p, "sync after draft reorder")
}

// TestCompareNoticesReorder: Compare reports a list whose order differs,
// on either side of a two-way relation.
func TestCompareNoticesReorder(t *testing.T) {
	s := describedSchema(t, "shop.graphql", shopDescription)
	p := newPair(t, s, s)
	cats := p.seed(t, "Category", "DRAFT", map[string]any{"name": "c0"}, map[string]any{"name": "c1"})
	products := p.seed(t, "Product", "DRAFT",
		map[string]any{"name": "p0", "categories": []any{cats[0], cats[1]}},
		map[string]any{"name": "p1", "categories": []any{cats[0]}})
	p.seed(t, "Shelf", "DRAFT", map[string]any{"name": "s"})
	mustSync(t, p.config())
	p.compare(t)
	for _, side := range []struct{ model, id, field string }{
		{"Category", cats[0], "products"}, {"Product", products[0], "categories"},
	} {
		did, _ := p.state.DestID(side.model, side.id)
		d, _ := p.dst.Stage.Get(side.model, did, "DRAFT")
		list := toStrings(d[side.field].([]any))
		slices.Reverse(list)
		var connect []any
		for i, x := range list {
			pos := map[string]any{"start": true}
			if i > 0 {
				pos = map[string]any{"after": list[i-1]}
			}
			connect = append(connect, map[string]any{"where": map[string]any{"id": x}, "position": pos})
		}
		if err := p.dst.Stage.Update(context.Background(), side.model, did, map[string]any{side.field: map[string]any{"connect": connect}}); err != nil {
			t.Fatal(err)
		}
		diffs, err := stagesync.Compare(context.Background(), stagesync.CompareConfig{Source: p.source, Dest: p.dest,
			SourceSchema: p.srcSchema, DestSchema: p.dstSchema, State: p.state})
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) != 1 || diffs[0].Model != side.model || diffs[0].Field != side.field {
			t.Errorf("reversed %s.%s: differences %v, want one in that field", side.model, side.field, diffs)
		}
		mustSync(t, p.config())
		p.compare(t)
	}
}

// TestSyncEmptyRequiredList: an entry whose required to-many relation is
// empty is created (the create carries the empty list), and so is one
// whose required to-many relation is written in the relation pass (a self
// relation).
func TestSyncEmptyRequiredList(t *testing.T) {
	t.Run("self", func(t *testing.T) {
		s := describedSchema(t, "shelves.graphql", `
models:
  Shelf:
    name: String! unique
    next: "[Shelf]!"
`)
		p := newPair(t, s, s)
		ids := p.seed(t, "Shelf", "DRAFT", map[string]any{"name": "a"}, map[string]any{"name": "b"}, map[string]any{"name": "c"})
		reorder(t, p, "Shelf", ids[0], "next", nil, ids[2], ids[1])
		reorder(t, p, "Shelf", ids[1], "next", nil, ids[0])
		report, _ := mustSync(t, p.config())
		if !hasCount(report.Models(), "Shelf", func(m stagesync.ModelReport) bool { return m.Created == 3 }) {
			t.Errorf("report %+v", report.Models())
		}
		p.compare(t)
		syncNoWrites(t, p, "second sync")
	})

	s := describedSchema(t, "shop.graphql", shopDescription)
	p := newPair(t, s, s)
	tag := p.seed(t, "Tag", "DRAFT", map[string]any{"name": "t"})[0]
	p.seed(t, "Shelf", "DRAFT", map[string]any{"name": "empty"}, map[string]any{"name": "one", "items": []any{tag}})
	report, _ := mustSync(t, p.config())
	if !hasCount(report.Models(), "Shelf", func(m stagesync.ModelReport) bool { return m.Created == 2 }) {
		t.Errorf("report %+v", report.Models())
	}
	p.compare(t)
	syncNoWrites(t, p, "second sync")
}

func publishAll(t *testing.T, p *pair, models ...string) {
	t.Helper()
	for _, m := range models {
		for _, e := range p.src.Stage.All(m, "DRAFT") {
			if err := p.src.Stage.Publish(m, e["id"].(string)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func toStrings(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.(string)
	}
	return out
}
