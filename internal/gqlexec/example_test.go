package gqlexec_test

import (
	"context"
	"fmt"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/gqlexec"
)

func Example() {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Hotel { id: ID! name: String! stars: Int }
		type Query { hotels(first: Int = 10): [Hotel!]! }`})
	root := gqlexec.RootResolverFunc(func(_ context.Context, _ ast.Operation, f *ast.Field, args map[string]any) (any, error) {
		// args["first"] is int64(2); map values are completed field by field.
		return []any{
			map[string]any{"id": "h1", "name": "Alpenhof", "stars": 4},
			map[string]any{"id": "h2", "name": "Seeblick"},
		}[:args["first"].(int64)], nil
	})
	e := gqlexec.New(s, root)
	resp := e.Execute(context.Background(), gqlexec.Request{
		Query:     `query($n: Int) { hotels(first: $n) { name rating: stars } }`,
		Variables: map[string]any{"n": 2},
	})
	fmt.Println(string(resp.Data))
	// Output: {"hotels":[{"name":"Alpenhof","rating":4},{"name":"Seeblick","rating":null}]}
}
