package gqlexec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stagesync/stagesync/internal/fixturedir"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// blogSchema loads the real Hygraph "blog" schema of
// ../shared/fixtures/hygraph, skipping b without it (see package fixturedir).
func blogSchema(b *testing.B) *ast.Schema {
	b.Helper()
	src, err := os.ReadFile(fixturedir.Path(b, "blog.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "blog.graphql", Input: string(src)})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

const benchUpsert = `mutation UpsertPost($where: PostWhereUniqueInput!, $upsert: PostUpsertInput!) {
  upsertPost(where: $where, upsert: $upsert) { id slug title updatedAt stage }
}`

const benchPage = `query Posts($first: Int, $after: String, $stage: Stage!) {
  posts(first: $first, after: $after, stage: $stage, orderBy: id_ASC) {
    __typename id slug title intro content date createdAt updatedAt publishedAt stage
    image { id handle fileName mimeType width height url }
    tags { id slug title }
  }
}`

func benchVariables() map[string]any {
	// As decoded from a JSON body.
	var v map[string]any
	_ = json.Unmarshal([]byte(`{
	  "where": {"slug": "hello-world"},
	  "upsert": {
	    "create": {"title": "Hello", "slug": "hello-world", "intro": "Intro", "content": "Body text", "date": "2024-01-02",
	      "image": {"connect": {"id": "ckabc0000000000000000001"}}, "tags": {"connect": [{"id": "t1"}, {"id": "t2"}]},
	      "createdAt": "2024-01-02T03:04:05Z"},
	    "update": {"title": "Hello", "intro": "Intro", "content": "Body text", "date": "2024-01-02"}
	  }
	}`), &v)
	return v
}

func benchResolver() RootResolver {
	entry := func(i int) map[string]any {
		return map[string]any{
			"__typename": "Post", "id": fmt.Sprintf("ckpost%019d", i), "slug": fmt.Sprintf("post-%d", i),
			"title": "A title with some words", "intro": "An intro paragraph.", "content": "Body text of the post, a few sentences long.",
			"date": "2024-01-02", "createdAt": "2024-01-02T03:04:05.000Z", "updatedAt": "2024-01-02T03:04:05.000Z",
			"publishedAt": nil, "stage": "DRAFT",
			"image": map[string]any{"id": "ckimg", "handle": "h4ndl3", "fileName": "a.jpg", "mimeType": "image/jpeg", "width": 800.0, "height": 600.0, "url": "https://media.example.com/h4ndl3"},
			"tags":  []any{map[string]any{"id": "t1", "slug": "go", "title": "Go"}, map[string]any{"id": "t2", "slug": "graphql", "title": "GraphQL"}},
		}
	}
	page := make([]any, 100)
	for i := range page {
		page[i] = entry(i)
	}
	one := entry(1)
	return RootResolverFunc(func(_ context.Context, _ ast.Operation, f *ast.Field, _ map[string]any) (any, error) {
		switch f.Name {
		case "posts":
			return page, nil
		case "upsertPost":
			return one, nil
		}
		return nil, fmt.Errorf("unexpected %s", f.Name)
	})
}

func BenchmarkExecuteUpsert(b *testing.B) {
	e := New(blogSchema(b), benchResolver())
	vars := benchVariables()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp := e.Execute(ctx, Request{Query: benchUpsert, Variables: vars})
		if len(resp.Errors) > 0 {
			b.Fatal(resp.Errors)
		}
	}
}

func BenchmarkExecutePage100(b *testing.B) {
	e := New(blogSchema(b), benchResolver())
	vars := map[string]any{"first": 100.0, "stage": "DRAFT"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp := e.Execute(ctx, Request{Query: benchPage, Variables: vars})
		if len(resp.Errors) > 0 {
			b.Fatal(resp.Errors)
		}
	}
}

// BenchmarkExecuteHandlerUpsert includes JSON decoding of the request and
// encoding of the response.
func BenchmarkExecuteHandlerUpsert(b *testing.B) {
	h := Handler(New(blogSchema(b), benchResolver()))
	body, _ := json.Marshal(Request{Query: benchUpsert, Variables: benchVariables()})
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if w.Code != http.StatusOK {
			b.Fatal(w.Body.String())
		}
	}
}

func BenchmarkExecuteIntrospection(b *testing.B) {
	e := New(blogSchema(b), benchResolver())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp := e.Execute(ctx, Request{Query: introspectionQuery})
		if len(resp.Errors) > 0 {
			b.Fatal(resp.Errors)
		}
	}
}
