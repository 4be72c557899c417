package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/fixturedir"
	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/stagesync/stagesync/schema"
)

func TestCounters(t *testing.T) {
	st := conformanceStage(t)
	before := st.Counters()
	mustPost(t, st, `{ posts { id } }`, nil)
	mustPost(t, st, `mutation { a: createCategory(data: {name: "X"}) { id } b: updatePost(where: {slug: "alpha"}, data: {author: {connect: {id: "a2"}}}) { id } }`, nil)
	got := st.Counters()
	want := gate.CountersSnapshot{
		Requests:       before.Requests + 2,
		Queries:        before.Queries + 1,
		Mutations:      before.Mutations + 2,
		EntriesWritten: before.EntriesWritten + 4, // the category; p1, a1 and a2 for the relation
		// The operations (root fields) the gate let through.
		QueryOperations:    before.QueryOperations + 1,
		MutationOperations: before.MutationOperations + 2,
	}
	if got != want {
		t.Errorf("counters = %+v, want %+v", got, want)
	}
}

// memBackend is a Backend in memory that records its Apply calls.
type memBackend struct {
	mu      sync.Mutex
	data    map[string][]byte
	applies [][]store.Write
	fail    error
}

func (b *memBackend) Load(fn func(bucket, key string, value []byte) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range b.data {
		bucket, key, _ := strings.Cut(k, "/")
		if err := fn(bucket, key, v); err != nil {
			return err
		}
	}
	return nil
}

func (b *memBackend) Apply(writes []store.Write) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	if b.data == nil {
		b.data = map[string][]byte{}
	}
	b.applies = append(b.applies, writes)
	for _, w := range writes {
		if w.Value == nil {
			delete(b.data, w.Bucket+"/"+w.Key)
		} else {
			b.data[w.Bucket+"/"+w.Key] = w.Value
		}
	}
	return nil
}

func (b *memBackend) Close() error { return nil }

func TestWriteThroughAndReload(t *testing.T) {
	be := &memBackend{}
	st := conformanceStage(t, WithBackend(be))
	seeded := len(be.applies)
	mustPost(t, st, `mutation {
		a: updatePost(where: {slug: "alpha"}, data: {title: "Alpha 2", blocks: {create: [{Quote: {data: {text: "Z", by: {connect: {id: "a2"}}}}}]}, localizations: {update: [{locale: de, data: {title: "Alpha DE 2"}}]}}) { id }
		b: publishPost(where: {slug: "gamma"}) { id }
		c: deletePost(where: {slug: "epsilon"}) { id }
		d: createPost(data: {title: "X", slug: "x", place: {latitude: 1, longitude: 2}, color: {rgba: {r: 1, g: 2, b: 3, a: 0.5}}, meta: {k: [1, 2.5]}}) { id }
	}`, nil)
	if got := len(be.applies) - seeded; got != 4 {
		t.Errorf("%d Apply calls for 4 root mutation fields", got)
	}
	if _, ok := be.data["Post/p5"]; ok {
		t.Error("deleted entry still stored")
	}

	reloaded, err := NewStage(conformanceSchema(t), WithBackend(be))
	if err != nil {
		t.Fatal(err)
	}
	q := `{ d: posts(stage: DRAFT, first: 100, locales: [de, en]) { id title locale views place { latitude } color { hex rgba { a } } meta blocks { ... on Quote { text by { name } } ... on Seo { title } } author { id posts { id } } categories { id } mentions { ... on Author { id } ... on Category { id } } }
		p: posts(first: 100) { id publishedAt title author { id } } a: authors(stage: DRAFT) { id bio localizations(locales: [de]) { bio } } }`
	want := mustPost(t, st, q, nil)
	got := mustPost(t, reloaded, q, nil)
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Errorf("reloaded stage differs:\n got %s\nwant %s", gj, wj)
	}
	// Unique indexes are rebuilt.
	res := post(t, reloaded, `mutation { createPost(data: {title: "D", slug: "alpha"}) { id } }`, nil)
	if len(res.Errors) == 0 {
		t.Error("unique index not rebuilt after reload")
	}
}

func TestBackendFailureRollsBack(t *testing.T) {
	be := &memBackend{}
	st := conformanceStage(t, WithBackend(be))
	be.fail = fmt.Errorf("disk full")
	res := post(t, st, `mutation { updatePost(where: {slug: "alpha"}, data: {views: 1}) { id } }`, nil)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "disk full") {
		t.Fatalf("errors = %v", res.Errors)
	}
	be.fail = nil
	data := mustPost(t, st, `{ post(where: {slug: "alpha"}, stage: DRAFT) { views } }`, nil)
	if v := fmt.Sprint(data["post"].(map[string]any)["views"]); v != "10" {
		t.Errorf("views = %s after a failed write, want 10", v)
	}
}

func TestDeprecatedBatchPayloadMutations(t *testing.T) {
	// Only the real social schema has these deprecated mutations.
	s, err := schema.Load(fixturedir.Path(t, "social.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewStage(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		mustPost(t, st, fmt.Sprintf(`mutation { createComment(data: {content: "c%d"}) { id } }`, i), nil)
	}
	data := mustPost(t, st, `mutation {
		u: updateManyComments(where: {content_in: ["c0", "c1"]}, data: {content: "x"}) { count }
		p: publishManyComments { count }
		un: unpublishManyComments(where: {content: "x"}) { count }
		d: deleteManyComments(where: {content: "c2"}) { count }
	}`, nil)
	got, _ := json.Marshal(data)
	if want := `{"d":{"count":1},"p":{"count":3},"u":{"count":2},"un":{"count":2}}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestConcurrentReadsAndWrites(t *testing.T) {
	st := conformanceStage(t)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				name := fmt.Sprintf("cat-%d-%d", w, i)
				res := post(t, st, `mutation($n: String!) { createCategory(data: {name: $n, posts: {connect: [{id: "p1"}]}}) { id } publishPost(where: {slug: "alpha"}) { id } }`, map[string]any{"n": name})
				if len(res.Errors) > 0 {
					t.Errorf("%s", res.raw)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				res := post(t, st, `{ posts(stage: DRAFT) { id categories(first: 100) { id posts { id } } } postsConnection { aggregate { count } } }`, nil)
				if len(res.Errors) > 0 {
					t.Errorf("%s", res.raw)
					return
				}
			}
		}()
	}
	wg.Wait()
	data := mustPost(t, st, `{ post(where: {slug: "alpha"}, stage: DRAFT) { categories(first: 100) { id } } }`, nil)
	if n := len(data["post"].(map[string]any)["categories"].([]any)); n != 100 {
		t.Errorf("p1 has %d categories, want 100 (limited by first)", n)
	}
}

func TestHTTPErrors(t *testing.T) {
	st := conformanceStage(t)
	for _, tc := range []struct {
		name, method, body string
		status             int
	}{
		{"not JSON", http.MethodPost, `{`, http.StatusBadRequest},
		{"syntax error", http.MethodPost, `{"query": "{ posts {"}`, http.StatusBadRequest},
		{"wrong method", http.MethodPut, `{}`, http.StatusMethodNotAllowed},
		{"GET query", http.MethodGet, "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/"
			if tc.method == http.MethodGet {
				target = "/?query=%7B%20posts%20%7B%20id%20%7D%20%7D"
			}
			rec := httptest.NewRecorder()
			st.ServeHTTP(rec, httptest.NewRequest(tc.method, target, strings.NewReader(tc.body)))
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Errorf("body is not JSON: %s", rec.Body)
			}
		})
	}
}

func TestServer(t *testing.T) {
	srv := NewServer(t, conformanceSchema(t))
	if srv.Token == "" || srv.ReadToken == "" || srv.Token == srv.ReadToken {
		t.Fatalf("tokens %q %q", srv.Token, srv.ReadToken)
	}
	if _, err := srv.Stage.Create(context.Background(), "Category", map[string]any{"name": "Seeded"}); err != nil {
		t.Fatal(err)
	}
	do := func(c *http.Client, token, query string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(fmt.Sprintf(`{"query": %q}`, query)))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	plain := &http.Client{}
	if got := do(srv.Client(), "", `{ categories(stage: DRAFT) { name } }`); got != http.StatusOK {
		t.Errorf("Client(): %d", got)
	}
	if got := do(plain, "", `{ categories { id } }`); got != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", got)
	}
	if got := do(plain, srv.ReadToken, `mutation { createCategory(data: {name: "x"}) { id } }`); got != http.StatusForbidden {
		t.Errorf("read token mutation: %d, want 403", got)
	}
	if got := do(plain, srv.ReadToken, `{ categories { id } }`); got != http.StatusOK {
		t.Errorf("read token query: %d, want 200", got)
	}
	if all := srv.Stage.All("Category", "DRAFT"); len(all) != 1 || all[0]["name"] != "Seeded" {
		t.Errorf("All = %v", all)
	}
}

func TestExecuteDirect(t *testing.T) {
	st := conformanceStage(t)
	resp := st.Execute(context.Background(), gqlexec.Request{Query: `query Q($id: ID!) { post(where: {id: $id}) { slug } }`, OperationName: "Q", Variables: map[string]any{"id": "p2"}})
	if len(resp.Errors) > 0 || string(resp.Data) != `{"post":{"slug":"beta"}}` {
		t.Errorf("%s %v", resp.Data, resp.Errors)
	}
}

func TestInspectionHelpers(t *testing.T) {
	st := conformanceStage(t)
	ctx := context.Background()
	id, err := st.Create(ctx, "Post", map[string]any{"title": "Go", "slug": "go", "views": 3, "author": map[string]any{"connect": map[string]any{"id": "a2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, "Post", id, map[string]any{"views": 4}); err != nil {
		t.Fatal(err)
	}
	if err := st.Publish("Post", id); err != nil {
		t.Fatal(err)
	}
	got, ok := st.Get("Post", id, "PUBLISHED")
	if !ok || got["views"] != int64(4) || got["author"] != "a2" || got["publishedAt"] == nil || got["title"] != "Go" {
		t.Errorf("Get = %v", got)
	}
	if _, ok := st.Get("Post", "p3", "PUBLISHED"); ok {
		t.Error("p3 is not published")
	}
	if _, err := st.Create(ctx, "Nope", nil); err == nil {
		t.Error("Create of an unknown model succeeded")
	}
	if _, err := st.Seed("Post", "DRAFT", map[string]any{"id": "p1", "title": "x", "slug": "zz"}); err == nil {
		t.Error("Seed of an existing id succeeded")
	}
	if err := st.Update(ctx, "Post", "nope", map[string]any{"views": 1}); err == nil {
		t.Error("Update of a missing entry succeeded")
	}
}
