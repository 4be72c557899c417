package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/stagesync/stagesync/internal/gqlexec"
)

const benchUpsert = `mutation($w: CategoryWhereUniqueInput!, $u: CategoryUpsertInput!) { upsertCategory(where: $w, upsert: $u) { id name } }`

// BenchmarkUpsertHTTP measures single-entry upserts through the HTTP
// handler (httptest.NewRecorder, no network), from parallel clients.
func BenchmarkUpsertHTTP(b *testing.B) {
	st, err := NewStage(conformanceSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			name := fmt.Sprintf("cat-%d", i%5000) // creates first, then updates
			body, _ := json.Marshal(map[string]any{"query": benchUpsert, "variables": map[string]any{
				"w": map[string]any{"name": name},
				"u": map[string]any{"create": map[string]any{"name": name}, "update": map[string]any{"name": name}},
			}})
			rec := httptest.NewRecorder()
			st.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
			if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upserts/s")
}

// BenchmarkUpsertExecute measures single-entry upserts through
// Stage.Execute (no HTTP, no JSON decoding of the request).
func BenchmarkUpsertExecute(b *testing.B) {
	st, err := NewStage(conformanceSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("cat-%d", i%5000)
		resp := st.Execute(ctx, gqlexec.Request{Query: benchUpsert, Variables: map[string]any{
			"w": map[string]any{"name": name},
			"u": map[string]any{"create": map[string]any{"name": name}, "update": map[string]any{"name": name}},
		}})
		if len(resp.Errors) > 0 {
			b.Fatal(resp.Errors)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upserts/s")
}

const benchPage = `query($after: String) { posts(stage: DRAFT, first: 100, after: $after, orderBy: id_ASC) { id title slug views rating featured status tags author { id } categories { id } } }`

// BenchmarkPageRead100 measures reading pages of 100 entries (with two
// relations each) through the HTTP handler, from parallel clients.
func BenchmarkPageRead100(b *testing.B) {
	st := benchStageWithPosts(b, 1000)
	ids := make([]string, 0, 10)
	for i, d := range st.All("Post", "DRAFT") {
		if i%100 == 99 {
			ids = append(ids, d["id"].(string))
		}
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			vars := map[string]any{}
			if k := int(i % 10); k > 0 {
				vars["after"] = ids[k-1]
			}
			body, _ := json.Marshal(map[string]any{"query": benchPage, "variables": vars})
			rec := httptest.NewRecorder()
			st.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
			if rec.Code != http.StatusOK || rec.Body.Len() < 10000 {
				b.Fatalf("%d %.300s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

// benchStageWithPosts is a conformance stage with n more posts, each with
// an author and two categories.
func benchStageWithPosts(b testing.TB, n int) *Stage {
	st, err := NewStage(conformanceSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Seed("Author", "DRAFT", map[string]any{"id": "a1", "name": "Ada"}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Seed("Category", "DRAFT", map[string]any{"id": "c1", "name": "One"}, map[string]any{"id": "c2", "name": "Two"}); err != nil {
		b.Fatal(err)
	}
	docs := make([]map[string]any, n)
	for i := range docs {
		docs[i] = benchPost(i)
	}
	if _, err := st.Seed("Post", "DRAFT", docs...); err != nil {
		b.Fatal(err)
	}
	return st
}

func benchPost(i int) map[string]any {
	return map[string]any{
		"title": fmt.Sprintf("Post number %d", i), "slug": fmt.Sprintf("post-%d", i), "views": i, "rating": 4.5,
		"featured": i%2 == 0, "status": "LIVE", "tags": []any{"go", "graphql"},
		"author": "a1", "categories": []any{"c1", "c2"},
	}
}

// BenchmarkMemoryPerEntry reports the heap an entry takes in the store
// beyond the size of its JSON.
func BenchmarkMemoryPerEntry(b *testing.B) {
	const n = 20000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st := benchStageWithPosts(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		var jsonSize int
		for i := 0; i < n; i++ {
			j, _ := json.Marshal(st.plainOf(i))
			jsonSize += len(j)
		}
		perEntry := float64(after.HeapAlloc-before.HeapAlloc) / n
		b.ReportMetric(perEntry, "heapB/entry")
		b.ReportMetric(float64(jsonSize)/n, "jsonB/entry")
		b.ReportMetric(perEntry-float64(jsonSize)/n, "overheadB/entry")
		runtime.KeepAlive(st)
	}
}

// plainOf returns the i-th post's stored form as JSON-able values.
func (s *Stage) plainOf(i int) map[string]any {
	md := s.st.ByModel["Post"]
	return s.plain(md.Sorted[i], s.cat.Draft)
}

// cursorStages caches the big stages of BenchmarkCursorPage across runs.
var cursorStages = map[int]*Stage{}

// BenchmarkCursorPage measures reading the last page of 100 entries of a
// model of n entries by cursor (first/after), in id order, in default
// order, with a per-entry where filter, and as a connection. The cost
// should not grow with n.
func BenchmarkCursorPage(b *testing.B) {
	const (
		byID      = `query($after: String) { posts(stage: DRAFT, first: 100, after: $after, orderBy: id_ASC) { id title views } }`
		byDefault = `query($after: String) { posts(stage: DRAFT, first: 100, after: $after) { id title views } }`
		since     = `query($after: String, $since: DateTime!) { posts(stage: DRAFT, first: 100, after: $after, orderBy: id_ASC, where: {updatedAt_gt: $since}) { id title views } }`
		conn      = `query($after: String) { postsConnection(stage: DRAFT, first: 100, after: $after, orderBy: id_ASC) { edges { cursor node { id title views } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`
	)
	for _, n := range []int{10_000, 200_000} {
		st := cursorStages[n]
		if st == nil {
			// Posts without relations: seeding links each post to its
			// author, which takes time quadratic in n.
			var err error
			if st, err = NewStage(conformanceSchema(b)); err != nil {
				b.Fatal(err)
			}
			docs := make([]map[string]any, n)
			for i := range docs {
				docs[i] = benchPost(i)
				delete(docs[i], "author")
				delete(docs[i], "categories")
			}
			if _, err := st.Seed("Post", "DRAFT", docs...); err != nil {
				b.Fatal(err)
			}
			cursorStages[n] = st
		}
		all := st.All("Post", "DRAFT") // default order
		ids := make([]string, len(all))
		for i, d := range all {
			ids[i] = d["id"].(string)
		}
		defaultAfter := ids[len(ids)-101]
		sort.Strings(ids)
		idAfter := ids[len(ids)-101]
		for _, c := range []struct {
			name, query string
			vars        map[string]any
		}{
			{"id", byID, map[string]any{"after": idAfter}},
			{"default", byDefault, map[string]any{"after": defaultAfter}},
			{"where", since, map[string]any{"after": idAfter, "since": "2000-01-01T00:00:00Z"}},
			{"connection", conn, map[string]any{"after": idAfter}},
		} {
			b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					resp := st.Execute(ctx, gqlexec.Request{Query: c.query, Variables: c.vars})
					if len(resp.Errors) > 0 {
						b.Fatal(resp.Errors)
					}
					if bytes.Count(resp.Data, []byte(`"title"`)) != 100 {
						b.Fatalf("want 100 entries: %.300s", resp.Data)
					}
				}
			})
		}
	}
}
