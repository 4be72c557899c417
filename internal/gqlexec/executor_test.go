package gqlexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func loadTestSchema(t testing.TB) *ast.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(b)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// post is an Object; the other test values are maps.
type post struct {
	id, title string
	author    map[string]any
}

func (p *post) TypeName() string { return "Post" }

func (p *post) ResolveField(_ context.Context, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "id":
		return p.id, nil
	case "title":
		return p.title, nil
	case "rating":
		return 4.5, nil
	case "tags":
		return []string{"a", "b"}, nil
	case "author":
		return p.author, nil
	case "status":
		return "PUBLISHED", nil
	case "legacy":
		return "old", nil
	}
	return nil, fmt.Errorf("no field %s", f.Name)
}

var ada = map[string]any{"__typename": "Author", "id": "a1", "name": "Ada"}

// recorder is the test RootResolver; it records the root fields called.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) ResolveRoot(_ context.Context, op ast.Operation, f *ast.Field, args map[string]any) (any, error) {
	r.mu.Lock()
	r.calls = append(r.calls, string(op)+":"+f.Name)
	r.mu.Unlock()
	switch f.Name {
	case "node":
		switch args["id"] {
		case "a1":
			return ada, nil
		case "p1":
			return &post{id: "p1", title: "Hello", author: ada}, nil
		}
		return nil, nil
	case "posts":
		n := args["first"].(int64)
		out := make([]any, n)
		for i := range out {
			out[i] = &post{id: fmt.Sprintf("p%d", i+1), title: fmt.Sprintf("T%d", i+1), author: ada}
		}
		return out, nil
	case "search":
		return []any{ada, &post{id: "p1", title: "Hello"}}, nil
	case "echo":
		return args, nil
	case "fail", "failNonNull":
		return nil, errors.New("boom")
	case "failCustom":
		return nil, fmt.Errorf("wrapped: %w", &gqlerror.Error{Message: "custom", Extensions: map[string]any{"code": "NOT_FOUND"}})
	case "nested":
		return map[string]any{"ok": "yes", "inner": map[string]any{"ok": "in"}, "innerNonNull": map[string]any{"ok": "in"}}, nil
	case "wrappers":
		return []map[string]any{{"ok": "1"}, nil}, nil
	case "badEnum":
		return "NOPE", nil
	case "badInt":
		return "12", nil
	case "createPost":
		d := args["data"].(map[string]any)
		return &post{id: "new", title: d["title"].(string)}, nil
	case "deletePost", "mustPost":
		if args["id"] == "missing" {
			return nil, errors.New("not found")
		}
		return &post{id: args["id"].(string)}, nil
	}
	return nil, fmt.Errorf("unexpected root field %s", f.Name)
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return b.String()
}

func encode(t *testing.T, resp *Response) string {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeResponse(&b, resp); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestExecute(t *testing.T) {
	s := loadTestSchema(t)
	cases := []struct {
		name  string
		query string
		op    string
		vars  map[string]any
		want  string
		calls []string // root fields called, when checked
	}{
		{
			name:  "aliases and field order",
			query: `{ b: posts(first: 1) { t: title id } a: node(id: "a1") { id ... on Author { name } } }`,
			want:  `{"data":{"b":[{"t":"T1","id":"p1"}],"a":{"id":"a1","name":"Ada"}}}`,
		},
		{
			name: "fragments merge by response key",
			query: `query { node(id: "p1") { ...A ... on Post { author { name } } id } }
				fragment A on Post { title author { id } }`,
			want: `{"data":{"node":{"title":"Hello","author":{"id":"a1","name":"Ada"},"id":"p1"}}}`,
		},
		{
			name:  "interface type conditions",
			query: `{ node(id: "a1") { __typename ... on Node { id } ... on Post { title } } }`,
			want:  `{"data":{"node":{"__typename":"Author","id":"a1"}}}`,
		},
		{
			name:  "union type conditions",
			query: `{ search(q: "x") { __typename ... on Author { name } ... on Post { title } } }`,
			want:  `{"data":{"search":[{"__typename":"Author","name":"Ada"},{"__typename":"Post","title":"Hello"}]}}`,
		},
		{
			name:  "skip and include literals",
			query: `{ node(id: "p1") { id @skip(if: true) ... on Post { title @include(if: false) } ... on Post @include(if: true) { rating } } }`,
			want:  `{"data":{"node":{"rating":4.5}}}`,
		},
		{
			name:  "skip and include variables",
			query: `query($s: Boolean!, $i: Boolean = true) { node(id: "p1") { id @skip(if: $s) ...F @include(if: $i) } } fragment F on Post { title }`,
			vars:  map[string]any{"s": false},
			want:  `{"data":{"node":{"id":"p1","title":"Hello"}}}`,
		},
		{
			name:  "__typename on root",
			query: `{ __typename }`,
			want:  `{"data":{"__typename":"Query"}}`,
		},
		{
			name:  "argument defaults and coercion",
			query: `{ echo(n: 3, f: 2, list: 7, id: 12, s: DRAFT, where: {tags: "x"}) }`,
			want:  `{"data":{"echo":{"f":2,"id":"12","list":[7],"n":3,"s":"DRAFT","where":{"status":"PUBLISHED","tags":["x"]}}}}`,
		},
		{
			name:  "input object defaults nested",
			query: `{ echo(data: {title: "t"}) }`,
			want:  `{"data":{"echo":{"data":{"rating":1.5,"status":"DRAFT","title":"t","where":{"id":"p0","status":"PUBLISHED","tags":["a","b"]}}}}}`,
		},
		{
			name:  "variables coerced",
			query: `query($w: PostWhere, $n: Int, $f: Float, $id: ID, $l: [Int!]) { echo(where: $w, n: $n, f: $f, id: $id, list: $l) }`,
			vars:  map[string]any{"w": map[string]any{"id": "p1"}, "n": float64(5), "f": float64(1), "id": float64(7), "l": float64(3)},
			want:  `{"data":{"echo":{"f":1,"id":"7","list":[3],"n":5,"where":{"id":"p1","status":"PUBLISHED"}}}}`,
		},
		{
			name:  "variable in list and object literals",
			query: `query($t: String!, $s: Status) { echo(where: {tags: [$t, "z"], status: $s}) }`,
			vars:  map[string]any{"t": "y"},
			want:  `{"data":{"echo":{"where":{"status":"PUBLISHED","tags":["y","z"]}}}}`,
		},
		{
			name:  "variable of wrong type",
			query: `query($n: Int) { echo(n: $n) }`,
			vars:  map[string]any{"n": "five"},
			want:  `{"data":null,"errors":[{"message":"cannot use string as Int","path":["variable","n"]}]}`,
			calls: []string{},
		},
		{
			name:  "fractional Int variable",
			query: `query($n: Int) { echo(n: $n) }`,
			vars:  map[string]any{"n": 1.5},
			want:  `{"data":null,"errors":[{"message":"cannot use float64 as Int","path":["variable","n"]}]}`,
			calls: []string{},
		},
		{
			name:  "missing required variable",
			query: `query($id: ID!) { node(id: $id) { id } }`,
			want:  `{"data":null,"errors":[{"message":"must be defined","path":["variable","id"]}]}`,
			calls: []string{},
		},
		{
			name:  "unknown enum in variable",
			query: `query($w: PostWhere) { echo(where: $w) }`,
			vars:  map[string]any{"w": map[string]any{"status": "GONE"}},
			want:  `{"data":null,"errors":[{"message":"GONE is not a valid Status","path":["variable","w","status"]}]}`,
		},
		{
			name:  "validation error",
			query: `{ nope }`,
			want:  `{"data":null,"errors":[{"message":"Cannot query field \"nope\" on type \"Query\". Did you mean \"node\"?","locations":[{"line":1,"column":3}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`,
			calls: []string{},
		},
		{
			name:  "syntax error",
			query: `{ node( }`,
			want:  `{"data":null,"errors":[{"message":"Expected Name, found }","locations":[{"line":1,"column":9}],"extensions":{"code":"GRAPHQL_PARSE_FAILED"}}]}`,
		},
		{
			name:  "operation name selects",
			query: `query A { __typename } query B { b: __typename }`,
			op:    "B",
			want:  `{"data":{"b":"Query"}}`,
		},
		{
			name:  "ambiguous operation",
			query: `query A { __typename } query B { b: __typename }`,
			want:  `{"data":null,"errors":[{"message":"Must provide operation name if query contains multiple operations."}]}`,
		},
		{
			name:  "unknown operation",
			query: `query A { __typename }`,
			op:    "C",
			want:  `{"data":null,"errors":[{"message":"Unknown operation named \"C\"."}]}`,
		},
		{
			name:  "nullable field error",
			query: `{ fail posts(first: 1) { id } }`,
			want:  `{"data":{"fail":null,"posts":[{"id":"p1"}]},"errors":[{"message":"boom","path":["fail"],"locations":[{"line":1,"column":3}]}]}`,
		},
		{
			name:  "non-null root error nulls data",
			query: `{ fail failNonNull }`,
			want:  `{"data":null,"errors":[{"message":"boom","path":["fail"],"locations":[{"line":1,"column":3}]},{"message":"boom","path":["failNonNull"],"locations":[{"line":1,"column":8}]}]}`,
		},
		{
			name:  "gqlerror keeps message and extensions",
			query: `{ x: failCustom }`,
			want:  `{"data":{"x":null},"errors":[{"message":"custom","path":["x"],"locations":[{"line":1,"column":3}],"extensions":{"code":"NOT_FOUND"}}]}`,
		},
		{
			name:  "null bubbles to nearest nullable parent",
			query: `{ nested { ok inner { ok bad } } }`,
			want:  `{"data":{"nested":{"ok":"yes","inner":null}},"errors":[{"message":"Cannot return null for non-nullable field Inner.bad.","path":["nested","inner","bad"],"locations":[{"line":1,"column":26}]}]}`,
		},
		{
			name:  "null bubbles through non-null parents",
			query: `{ nested { ok innerNonNull { bad } } }`,
			want:  `{"data":{"nested":null},"errors":[{"message":"Cannot return null for non-nullable field Inner.bad.","path":["nested","innerNonNull","bad"],"locations":[{"line":1,"column":30}]}]}`,
		},
		{
			name:  "null in non-null list item nulls the list",
			query: `{ wrappers { ok } }`,
			want:  `{"data":{"wrappers":null},"errors":[{"message":"Cannot return null for non-nullable field Query.wrappers.","path":["wrappers",1],"locations":[{"line":1,"column":3}]}]}`,
		},
		{
			name:  "list completion with index paths",
			query: `{ posts(first: 2) { id tags author { name } } }`,
			want:  `{"data":{"posts":[{"id":"p1","tags":["a","b"],"author":{"name":"Ada"}},{"id":"p2","tags":["a","b"],"author":{"name":"Ada"}}]}}`,
		},
		{
			name:  "enum result not a member",
			query: `{ badEnum }`,
			want:  `{"data":{"badEnum":null},"errors":[{"message":"badEnum: NOPE is not a value of enum Status","path":["badEnum"],"locations":[{"line":1,"column":3}]}]}`,
		},
		{
			name:  "scalar result of wrong type",
			query: `{ badInt }`,
			want:  `{"data":{"badInt":null},"errors":[{"message":"badInt: cannot serialize 12 (string) as Int","path":["badInt"],"locations":[{"line":1,"column":3}]}]}`,
		},
		{
			name: "mutation fields run in order; failures are independent",
			query: `mutation {
				first: createPost(data: {title: "one"}) { id title }
				gone: deletePost(id: "missing") { id }
				second: deletePost(id: "p2") { id }
			}`,
			want:  `{"data":{"first":{"id":"new","title":"one"},"gone":null,"second":{"id":"p2"}},"errors":[{"message":"not found","path":["gone"],"locations":[{"line":3,"column":5}]}]}`,
			calls: []string{"mutation:createPost", "mutation:deletePost", "mutation:deletePost"},
		},
		{
			name: "failing non-null mutation field does not stop later fields",
			query: `mutation {
				m: mustPost(id: "missing") { id }
				d: deletePost(id: "p3") { id }
			}`,
			want:  `{"data":null,"errors":[{"message":"not found","path":["m"],"locations":[{"line":2,"column":5}]}]}`,
			calls: []string{"mutation:mustPost", "mutation:deletePost"},
		},
		{
			name:  "__type",
			query: `{ __type(name: "Status") { kind name enumValues { name } all: enumValues(includeDeprecated: true) { name isDeprecated deprecationReason } } }`,
			want:  `{"data":{"__type":{"kind":"ENUM","name":"Status","enumValues":[{"name":"DRAFT"},{"name":"PUBLISHED"}],"all":[{"name":"DRAFT","isDeprecated":false,"deprecationReason":null},{"name":"PUBLISHED","isDeprecated":false,"deprecationReason":null},{"name":"ARCHIVED","isDeprecated":true,"deprecationReason":"No longer supported"}]}}}`,
			calls: []string{},
		},
		{
			name:  "__type of unknown type",
			query: `{ __type(name: "Nope") { name } }`,
			want:  `{"data":{"__type":null}}`,
		},
		{
			name:  "__type input defaults and ofType chain",
			query: `{ __type(name: "CreatePost") { inputFields { name defaultValue type { kind name ofType { kind name } } } } }`,
			want:  `{"data":{"__type":{"inputFields":[{"name":"title","defaultValue":null,"type":{"kind":"NON_NULL","name":null,"ofType":{"kind":"SCALAR","name":"String"}}},{"name":"rating","defaultValue":"1.5","type":{"kind":"SCALAR","name":"Float","ofType":null}},{"name":"status","defaultValue":"DRAFT","type":{"kind":"ENUM","name":"Status","ofType":null}},{"name":"where","defaultValue":"{id: \"p0\", tags: [\"a\", \"b\"]}","type":{"kind":"INPUT_OBJECT","name":"PostWhere","ofType":null}}]}}}`,
		},
		{
			name:  "__type interfaces, possibleTypes, deprecated fields",
			query: `{ n: __type(name: "Node") { possibleTypes { name } } p: __type(name: "Post") { interfaces { name } fields { name } f: fields(includeDeprecated: true) { name isDeprecated deprecationReason } } u: __type(name: "SearchResult") { possibleTypes { name } } }`,
			want:  `{"data":{"n":{"possibleTypes":[{"name":"Author"},{"name":"Post"}]},"p":{"interfaces":[{"name":"Node"}],"fields":[{"name":"id"},{"name":"title"},{"name":"rating"},{"name":"tags"},{"name":"author"},{"name":"status"}],"f":[{"name":"id","isDeprecated":false,"deprecationReason":null},{"name":"title","isDeprecated":false,"deprecationReason":null},{"name":"rating","isDeprecated":false,"deprecationReason":null},{"name":"tags","isDeprecated":false,"deprecationReason":null},{"name":"author","isDeprecated":false,"deprecationReason":null},{"name":"status","isDeprecated":false,"deprecationReason":null},{"name":"legacy","isDeprecated":true,"deprecationReason":"use title"}]},"u":{"possibleTypes":[{"name":"Author"},{"name":"Post"}]}}}`,
		},
		{
			name:  "__type scalar specifiedByURL and description",
			query: `{ __type(name: "Json") { kind description specifiedByURL } }`,
			want:  `{"data":{"__type":{"kind":"SCALAR","description":"Arbitrary JSON.","specifiedByURL":"https://example.com/json"}}}`,
		},
		{
			name:  "__schema roots and directives",
			query: `{ __schema { queryType { name } mutationType { name } subscriptionType { name } directives { name isRepeatable locations args { name defaultValue } } } }`,
			want:  `{"data":{"__schema":{"queryType":{"name":"Query"},"mutationType":{"name":"Mutation"},"subscriptionType":null,"directives":[{"name":"defer","isRepeatable":false,"locations":["FRAGMENT_SPREAD","INLINE_FRAGMENT"],"args":[{"name":"if","defaultValue":"true"},{"name":"label","defaultValue":null}]},{"name":"include","isRepeatable":false,"locations":["FIELD","FRAGMENT_SPREAD","INLINE_FRAGMENT"],"args":[{"name":"if","defaultValue":null}]},{"name":"skip","isRepeatable":false,"locations":["FIELD","FRAGMENT_SPREAD","INLINE_FRAGMENT"],"args":[{"name":"if","defaultValue":null}]},{"name":"deprecated","isRepeatable":false,"locations":["FIELD_DEFINITION","ARGUMENT_DEFINITION","INPUT_FIELD_DEFINITION","ENUM_VALUE","DIRECTIVE_DEFINITION"],"args":[{"name":"reason","defaultValue":"\"No longer supported\""}]},{"name":"specifiedBy","isRepeatable":false,"locations":["SCALAR"],"args":[{"name":"url","defaultValue":null}]},{"name":"oneOf","isRepeatable":false,"locations":["INPUT_OBJECT"],"args":[]},{"name":"cache","isRepeatable":true,"locations":["FIELD_DEFINITION","OBJECT"],"args":[{"name":"ttl","defaultValue":"60"}]}]}}}`,
		},
		{
			name:  "introspection fields not listed on Query",
			query: `{ __type(name: "Query") { fields { name } } }`,
			want:  `{"data":{"__type":{"fields":[{"name":"node"},{"name":"posts"},{"name":"search"},{"name":"echo"},{"name":"fail"},{"name":"failNonNull"},{"name":"failCustom"},{"name":"nested"},{"name":"wrappers"},{"name":"badEnum"},{"name":"badInt"}]}}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			e := New(s, rec)
			resp := e.Execute(context.Background(), Request{Query: tc.query, OperationName: tc.op, Variables: tc.vars})
			if got, want := encode(t, resp), compact(t, tc.want); got != want {
				t.Errorf("response\n got %s\nwant %s", got, want)
			}
			if tc.calls != nil {
				if got, want := strings.Join(rec.calls, ","), strings.Join(tc.calls, ","); got != want {
					t.Errorf("root calls %q, want %q", got, want)
				}
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	s := loadTestSchema(t)
	nest := func(levels int) string {
		// node(1) author(2) posts(3) author(4) ... id(levels)
		var b strings.Builder
		b.WriteString(`{ node(id: "p1") { ... on Post { `)
		for i := 2; i < levels; i++ {
			if i%2 == 0 {
				b.WriteString("author { ")
			} else {
				b.WriteString("posts { ")
			}
		}
		b.WriteString("id")
		b.WriteString(strings.Repeat(" }", levels))
		b.WriteString(" }")
		return b.String()
	}
	cases := []struct {
		name    string
		max     int
		levels  int
		wantErr bool
	}{
		{"at the default limit", 0, DefaultMaxDepth, false},
		{"over the default limit", 0, DefaultMaxDepth + 1, true},
		{"custom limit", 3, 4, true},
		{"far over the limit", 0, 400, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := New(s, &recorder{}, WithMaxDepth(tc.max))
			q := nest(tc.levels)
			if _, err := e.Operation(Request{Query: q}); (err != nil) != tc.wantErr {
				t.Fatalf("Operation error %v, want error %v", err, tc.wantErr)
			}
			resp := e.Execute(context.Background(), Request{Query: q})
			gotErr := len(resp.Errors) > 0 && strings.Contains(resp.Errors[0].Message, "maximum selection depth")
			if gotErr != tc.wantErr {
				t.Fatalf("errors %v, want depth error %v", resp.Errors, tc.wantErr)
			}
			if tc.wantErr && string(resp.Data) != "null" {
				t.Errorf("data %s, want null", resp.Data)
			}
		})
	}
}

func TestFragmentCycleIsAValidationError(t *testing.T) {
	e := New(loadTestSchema(t), &recorder{})
	resp := e.Execute(context.Background(), Request{Query: `{ node(id: "a1") { ...A } } fragment A on Node { ...B } fragment B on Node { ...A }`})
	if len(resp.Errors) == 0 || string(resp.Data) != "null" {
		t.Fatalf("want a validation error, got %s", encode(t, resp))
	}
}

func TestOperation(t *testing.T) {
	e := New(loadTestSchema(t), &recorder{})
	cases := []struct {
		name, query, op string
		want            ast.Operation
		wantErr         string
	}{
		{"query", `{ __typename }`, "", ast.Query, ""},
		{"mutation", `mutation M { deletePost(id: "1") { id } }`, "", ast.Mutation, ""},
		{"named among several", `query A { __typename } mutation B { deletePost(id: "1") { id } }`, "B", ast.Mutation, ""},
		{"invalid", `mutation { nope }`, "", "", "Cannot query field"},
		{"unknown name", `query A { __typename }`, "Z", "", "Unknown operation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Operation(Request{Query: tc.query, OperationName: tc.op})
			if tc.wantErr != "" {
				var list gqlerror.List
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &list) {
					t.Fatalf("error %v, want gqlerror.List with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDocumentCacheIsBounded(t *testing.T) {
	e := New(loadTestSchema(t), &recorder{}, WithCacheSize(2))
	for i := range 5 {
		e.Execute(context.Background(), Request{Query: fmt.Sprintf(`{ a%d: __typename }`, i)})
	}
	if n := e.cache.len(); n != 2 {
		t.Fatalf("cache holds %d documents, want 2", n)
	}
	off := New(loadTestSchema(t), &recorder{}, WithCacheSize(-1))
	off.Execute(context.Background(), Request{Query: `{ __typename }`})
	if n := off.cache.len(); n != 0 {
		t.Fatalf("disabled cache holds %d documents", n)
	}
}

func TestConcurrentExecute(t *testing.T) {
	e := New(loadTestSchema(t), &recorder{})
	const want = `{"data":{"posts":[{"id":"p1","author":{"name":"Ada"}},{"id":"p2","author":{"name":"Ada"}}]}}`
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				resp := e.Execute(context.Background(), Request{Query: `query($n: Int) { posts(first: $n) { id author { name } } }`, Variables: map[string]any{"n": 2}})
				var b bytes.Buffer
				_ = EncodeResponse(&b, resp)
				if b.String() != want {
					errs <- b.String()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("got %s", e)
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler(New(loadTestSchema(t), &recorder{})))
	defer srv.Close()
	cases := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		want       string
	}{
		{"query", http.MethodPost, `{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":"a1"}}`, 200, `{"data":{"node":{"id":"a1"}}}`},
		{"operation name", http.MethodPost, `{"query":"query A { a: __typename } query B { b: __typename }","operationName":"B"}`, 200, `{"data":{"b":"Query"}}`},
		{"malformed JSON", http.MethodPost, `{"query": "{ __typename }"`, 400, `{"data":null,"errors":[{"message":"body is not a JSON GraphQL request: unexpected EOF"}]}`},
		{"not an object", http.MethodPost, `[1]`, 400, `{"data":null,"errors":[{"message":"body is not a JSON GraphQL request: json: cannot unmarshal array into Go value of type gqlexec.Request"}]}`},
		{"no query", http.MethodPost, `{}`, 400, `{"data":null,"errors":[{"message":"request has no query"}]}`},
		{"GET", http.MethodGet, ``, 405, `{"data":null,"errors":[{"message":"only POST is supported"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(res.Body)
			if res.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if got := b.String(); got != tc.want {
				t.Errorf("body\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// introspectionQuery is the full query of graphql-js getIntrospectionQuery
// with every option on.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func TestIntrospectionGolden(t *testing.T) {
	e := New(loadTestSchema(t), &recorder{})
	resp := e.Execute(context.Background(), Request{Query: introspectionQuery})
	if len(resp.Errors) > 0 {
		t.Fatalf("errors: %v", resp.Errors)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, resp.Data, "", "  "); err != nil {
		t.Fatalf("data is not JSON: %v", err)
	}
	pretty.WriteByte('\n')
	golden := filepath.Join("testdata", "introspection.golden.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("introspection differs from %s (run with -update and review the diff)", golden)
	}
	var check struct {
		Schema struct {
			Types []struct{ Name string } `json:"types"`
		} `json:"__schema"`
	}
	if err := json.Unmarshal(resp.Data, &check); err != nil {
		t.Fatal(err)
	}
	if n := len(check.Schema.Types); n != len(e.schema.Types) {
		t.Errorf("%d types, want %d", n, len(e.schema.Types))
	}
}
