package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/gqlexec"
)

// cursorRead is a paginated read whose pages TestCursorPagesMatchScan
// compares between the quick path (cursorSelect) and the general one.
type cursorRead struct {
	query string // takes $after: String (and $since: DateTime when since)
	since bool
	conn  bool
	// args and stage, when set, are the root field's arguments and stage,
	// for comparing selections directly.
	args  func(after any, since string) map[string]any
	stage string
	locs  []string
	// quick: the quick path must answer (when the cursor is in the list).
	quick bool
}

var cursorReads = []cursorRead{
	{query: `query($after: String) { posts(stage: DRAFT, first: 3, after: $after, orderBy: id_ASC) { id title } }`,
		args: func(after any, _ string) map[string]any {
			return map[string]any{"first": int64(3), "after": after, "orderBy": "id_ASC"}
		},
		stage: "DRAFT", quick: true},
	{query: `query($after: String) { posts(stage: DRAFT, first: 2, after: $after) { id createdAt } }`,
		args:  func(after any, _ string) map[string]any { return map[string]any{"first": int64(2), "after": after} },
		stage: "DRAFT", quick: true},
	{query: `query($after: String) { posts(first: 3, after: $after, orderBy: id_ASC) { id stage } }`,
		args: func(after any, _ string) map[string]any {
			return map[string]any{"first": int64(3), "after": after, "orderBy": "id_ASC"}
		},
		stage: "PUBLISHED", quick: true},
	{query: `query($after: String) { posts(stage: PUBLISHED, locales: [de], first: 2, after: $after) { id title locale } }`,
		args:  func(after any, _ string) map[string]any { return map[string]any{"first": int64(2), "after": after} },
		stage: "PUBLISHED", locs: []string{"de"}, quick: true},
	{query: `query($after: String) { posts(stage: DRAFT, locales: [de, en], after: $after, orderBy: id_ASC) { id title locale } }`,
		args:  func(after any, _ string) map[string]any { return map[string]any{"after": after, "orderBy": "id_ASC"} },
		stage: "DRAFT", locs: []string{"de", "en"}, quick: true},
	{query: `query($after: String, $since: DateTime!) { posts(stage: DRAFT, first: 3, after: $after, orderBy: id_ASC, where: {updatedAt_gt: $since}) { id updatedAt } }`,
		since: true,
		args: func(after any, since string) map[string]any {
			return map[string]any{"first": int64(3), "after": after, "orderBy": "id_ASC", "where": map[string]any{"updatedAt_gt": since}}
		},
		stage: "DRAFT", quick: true},
	{query: `query($after: String) { posts(stage: DRAFT, first: 2, after: $after, where: {OR: [{views_gt: 50}, {title_contains: "7"}], NOT: [{featured: true}]}) { id views featured } }`,
		args: func(after any, _ string) map[string]any {
			return map[string]any{"first": int64(2), "after": after, "where": map[string]any{
				"OR": []any{map[string]any{"views_gt": int64(50)}, map[string]any{"title_contains": "7"}}, "NOT": []any{map[string]any{"featured": true}}}}
		},
		stage: "DRAFT", quick: true},
	{query: `query($after: String) { posts(stage: DRAFT, first: 3, after: $after, orderBy: id_ASC, where: {documentInStages_some: {stage: PUBLISHED}}) { id } }`,
		args: func(after any, _ string) map[string]any {
			return map[string]any{"first": int64(3), "after": after, "orderBy": "id_ASC", "where": map[string]any{"documentInStages_some": map[string]any{"stage": "PUBLISHED"}}}
		},
		stage: "DRAFT", quick: true},
	{conn: true, query: `query($after: String) { postsConnection(stage: DRAFT, first: 3, after: $after, orderBy: id_ASC) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor pageSize } aggregate { count } } }`},
	{conn: true, query: `query($after: String) { postsConnection(stage: PUBLISHED, first: 1, after: $after, where: {views_lt: 60}) { edges { node { id views } } pageInfo { hasNextPage hasPreviousPage endCursor } aggregate { n: count m: count __typename } } }`},
	{conn: true, query: `query($after: String) { postsConnection(stage: DRAFT, first: 0, after: $after, orderBy: id_ASC) { pageInfo { hasNextPage hasPreviousPage endCursor pageSize } } }`},
	// Reads the quick path leaves to the general one.
	{query: `query($after: String) { posts(stage: DRAFT, first: 3, after: $after, orderBy: id_DESC) { id } }`},
	{query: `query($after: String) { posts(stage: DRAFT, first: 3, after: $after, orderBy: createdAt_ASC) { id } }`},
	{query: `query($after: String) { posts(stage: DRAFT, first: 3, skip: 1, after: $after, orderBy: id_ASC) { id } }`},
	{query: `query($after: String) { posts(stage: DRAFT, first: 3, after: $after, orderBy: id_ASC, where: {author: {name: "Ada"}}) { id } }`},
}

// TestCursorPagesMatchScan interleaves random creates, deletes, publishes,
// unpublishes and updates with paginated reads, and checks that every page
// is the same (byte for byte) with the quick path as with the general one,
// that the quick path answers the reads it should, that the ordered lists
// stay consistent, and that they are rebuilt when the stage is reloaded.
func TestCursorPagesMatchScan(t *testing.T) {
	be := &memBackend{}
	clock := fakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Millisecond)
	st, err := NewStage(conformanceSchema(t), WithBackend(be), WithSeed(3), WithClock(clock), WithDefaultPage(4))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Seed("Author", "DRAFT", map[string]any{"id": "a1", "name": "Ada"}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	exec := func(st *Stage, query string, vars map[string]any) []byte {
		b, err := json.Marshal(st.Execute(ctx, gqlexec.Request{Query: query, Variables: vars}))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var known []string // every id ever seen, deleted ones too
	n := 0
	newPost := func() map[string]any {
		n++
		p := map[string]any{"title": fmt.Sprintf("Post %d", n), "slug": fmt.Sprintf("p-%d", n), "views": int64(rng.IntN(100)), "featured": rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			p["author"] = "a1"
		}
		return p
	}
	mutate := func() {
		switch op := rng.IntN(12); {
		case op < 3: // seed a batch, with given ids and creation times
			docs := make([]map[string]any, 1+rng.IntN(4))
			for i := range docs {
				p := newPost()
				if rng.IntN(2) == 0 {
					p["id"] = fmt.Sprintf("x%06d", rng.IntN(1_000_000))
				}
				if rng.IntN(2) == 0 {
					p["createdAt"] = fmt.Sprintf("2024-01-0%dT00:00:00Z", 1+rng.IntN(3))
				}
				if rng.IntN(2) == 0 {
					p["localizations"] = map[string]any{"de": map[string]any{"title": fmt.Sprintf("Beitrag %d", n)}}
				}
				docs[i] = p
			}
			stage := "DRAFT"
			if rng.IntN(3) == 0 {
				stage = "PUBLISHED"
			}
			ids, err := st.Seed("Post", stage, docs...)
			if err == nil {
				known = append(known, ids...)
			}
		case op < 5: // create through the API
			p := newPost()
			delete(p, "author")
			if rng.IntN(2) == 0 {
				p["localizations"] = map[string]any{"create": []any{map[string]any{"locale": "de", "data": map[string]any{"title": "Beitrag"}}}}
			}
			var res struct {
				Data struct{ CreatePost struct{ ID string } } `json:"data"`
			}
			if err := json.Unmarshal(exec(st, `mutation($d: PostCreateInput!) { createPost(data: $d) { id } }`, map[string]any{"d": p}), &res); err != nil {
				t.Fatal(err)
			}
			if id := res.Data.CreatePost.ID; id != "" {
				known = append(known, id)
			}
		case len(known) == 0:
		case op < 9: // delete
			exec(st, `mutation($id: ID!) { deletePost(where: {id: $id}) { id } }`, map[string]any{"id": known[rng.IntN(len(known))]})
		case op < 10: // publish, in all locales or in some
			vars := map[string]any{"id": known[rng.IntN(len(known))]}
			q := `mutation($id: ID!) { publishPost(where: {id: $id}, to: [PUBLISHED]) { id } }`
			if rng.IntN(2) == 0 {
				q = `mutation($id: ID!) { publishPost(where: {id: $id}, to: [PUBLISHED], locales: [de], publishBase: false) { id } }`
			}
			exec(st, q, vars)
		case op < 11: // unpublish, in all locales or in some
			vars := map[string]any{"id": known[rng.IntN(len(known))]}
			q := `mutation($id: ID!) { unpublishPost(where: {id: $id}, from: [PUBLISHED]) { id } }`
			if rng.IntN(2) == 0 {
				q = `mutation($id: ID!) { unpublishPost(where: {id: $id}, from: [PUBLISHED], locales: [de], unpublishBase: false) { id } }`
			}
			exec(st, q, vars)
		default: // update
			exec(st, `mutation($id: ID!, $v: Int) { updatePost(where: {id: $id}, data: {views: $v}) { id } }`,
				map[string]any{"id": known[rng.IntN(len(known))], "v": int64(rng.IntN(100))})
		}
	}

	type reader struct {
		after any // nil or a cursor
		since string
	}
	readers := make([]reader, len(cursorReads))
	quick := make([]int, len(cursorReads))
	pageOf := func(r cursorRead, body []byte) (ids []string) {
		var res struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if r.conn {
			var c struct {
				PageInfo struct{ EndCursor *string } `json:"pageInfo"`
			}
			_ = json.Unmarshal(res.Data["postsConnection"], &c)
			if c.PageInfo.EndCursor != nil {
				ids = append(ids, *c.PageInfo.EndCursor)
			}
			return ids
		}
		var l []struct{ ID string }
		_ = json.Unmarshal(res.Data["posts"], &l)
		for _, e := range l {
			ids = append(ids, e.ID)
		}
		return ids
	}
	// read reads the next page of reader i, from st by both paths and
	// from other (a reloaded stage) by the quick path.
	read := func(i int, other *Stage) {
		r, rd := cursorReads[i], &readers[i]
		vars := map[string]any{"after": rd.after}
		if r.since {
			if rd.since == "" {
				rd.since = "2025-01-01T00:00:00.500Z"
				if len(known) > 0 {
					if d, ok := st.Get("Post", known[rng.IntN(len(known))], "DRAFT"); ok {
						rd.since = d["updatedAt"].(string)
					}
				}
			}
			vars["since"] = rd.since
		}
		fast := exec(st, r.query, vars)
		st.scanPages.Store(true)
		scan := exec(st, r.query, vars)
		st.scanPages.Store(false)
		if string(fast) != string(scan) {
			t.Fatalf("read %d after %v: the quick path answers\n%s\nthe general one\n%s", i, rd.after, fast, scan)
		}
		if strings.Contains(string(fast), `"errors"`) {
			t.Fatalf("read %d: %s", i, fast)
		}
		if other != nil {
			if got := exec(other, r.query, vars); string(got) != string(scan) {
				t.Fatalf("read %d after %v: the reloaded stage answers\n%s\nthe live one\n%s", i, rd.after, got, scan)
			}
		}
		if r.args != nil {
			if compareSelect(t, st, r, rd.after, rd.since) {
				quick[i]++
			}
		}
		if ids := pageOf(r, fast); len(ids) > 0 && !strings.Contains(r.query, "first: 0") {
			rd.after = ids[len(ids)-1]
		} else {
			rd.after, rd.since = nil, "" // at the end: start over
		}
		switch p := rng.IntN(20); {
		case p == 0 && len(known) > 0: // jump to any entry, perhaps a deleted one
			rd.after = known[rng.IntN(len(known))]
		case p == 1:
			rd.after = "nope"
		case p == 2:
			rd.after = nil
		}
	}

	for step := range 1500 {
		for range 1 + rng.IntN(2) {
			mutate()
		}
		if step%7 == 0 {
			// Delete the entry a reader is at.
			if a, ok := readers[rng.IntN(len(readers))].after.(string); ok {
				exec(st, `mutation($id: ID!) { deletePost(where: {id: $id}) { id } }`, map[string]any{"id": a})
			}
		}
		var other *Stage
		if step%300 == 299 {
			checkOrderedLists(t, st)
			other, err = NewStage(conformanceSchema(t), WithBackend(be), WithDefaultPage(4))
			if err != nil {
				t.Fatal(err)
			}
			checkOrderedLists(t, other)
		}
		for range 3 {
			read(rng.IntN(len(readers)), other)
		}
		if other != nil {
			for i := range readers {
				read(i, other)
			}
		}
	}
	checkOrderedLists(t, st)
	for i, r := range cursorReads {
		if r.quick && quick[i] < 20 {
			t.Errorf("read %d: the quick path answered only %d times", i, quick[i])
		}
	}
	t.Logf("%d posts; quick path answers by read: %v", len(st.st.ByModel["Post"].ByID), quick)
}

// compareSelect compares the selection of read r at cursor after by the
// quick path with the general one (including the total), and reports
// whether the quick path answered.
func compareSelect(t *testing.T, st *Stage, r cursorRead, after any, since string) bool {
	t.Helper()
	st.mu.RLock()
	defer st.mu.RUnlock()
	m := st.cat.Models["Post"]
	args := r.args(after, since)
	if after == nil {
		delete(args, "after")
	}
	locs := r.locs
	if locs == nil {
		locs = st.cat.Locales[:1]
	}
	ci := ctxInfo{stage: st.cat.StageIdx[r.stage], locales: locs}
	want, err := st.selectViews(m, st.allViews(m, ci), args, ci, true)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := st.cursorSelect(m, args, ci)
	if !ok {
		if r.quick && after != nil {
			// The cursor must be missing from the selection.
			if slices.ContainsFunc(st.allViews(m, ci), func(vw view) bool {
				ok, _ := st.matchEntry(vw, store.AsMap(args["where"]), ci)
				return vw.d.ID == after && (args["where"] == nil || ok)
			}) {
				t.Fatalf("the quick path did not answer %v although the cursor is in the selection", args)
			}
		} else if r.quick {
			t.Fatalf("the quick path did not answer %v", args)
		}
		return false
	}
	ids := func(vs []view) []string {
		out := make([]string, len(vs))
		for i, vw := range vs {
			out[i] = vw.d.ID + "/" + vw.loc
		}
		return out
	}
	if !slices.Equal(ids(got.page), ids(want.page)) || got.hasNext != want.hasNext || got.hasPrev != want.hasPrev || got.count() != want.total {
		t.Fatalf("%v in %s %v: quick %v next %v prev %v total %d; general %v next %v prev %v total %d", args, r.stage, locs,
			ids(got.page), got.hasNext, got.hasPrev, got.count(), ids(want.page), want.hasNext, want.hasPrev, want.total)
	}
	return true
}

// checkOrderedLists checks that the ordered lists of every model hold the
// model's documents, in default order and in id order.
func checkOrderedLists(t *testing.T, st *Stage) {
	t.Helper()
	st.mu.RLock()
	defer st.mu.RUnlock()
	for name, md := range st.st.ByModel {
		if len(md.ByID) != len(md.Sorted) {
			t.Fatalf("%s: %d documents by id, %d in default order", name, len(md.ByID), len(md.Sorted))
		}
		in := map[*store.Document]bool{}
		for i, d := range md.Sorted {
			if i > 0 && !store.LessDoc(md.Sorted[i-1], d) {
				t.Fatalf("%s: %s before %s in default order", name, md.Sorted[i-1].ID, d.ID)
			}
			in[d] = true
		}
		for i, d := range md.ByID {
			if i > 0 && md.ByID[i-1].ID >= d.ID {
				t.Fatalf("%s: %s before %s in id order", name, md.ByID[i-1].ID, d.ID)
			}
			if !in[d] || st.st.ByID[d.ID] != d || d.Model.Name != name {
				t.Fatalf("%s: %s is in the id order but not in the model", name, d.ID)
			}
		}
	}
}
