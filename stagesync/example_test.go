package stagesync_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/stagesync/stagesync/stagesync"
)

// Example writes hotels to a stage through a Batcher, concurrently, then
// reads them back page by page. The stage here is a tiny in-process GraphQL
// server; against Hygraph, pass the environment's content-API endpoint and
// a Permanent Auth Token.
func Example() {
	srv := httptest.NewServer(hotelServer())
	defer srv.Close()
	ctx := context.Background()

	dev := stagesync.NewStage("dev", srv.URL, "token",
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: 25})) // a growth plan
	writes := hygraph.NewBatcher(dev.Client())

	// Upserts by a unique key are safe to retry: mark them idempotent.
	wctx := hygraph.Idempotent(ctx)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ UpsertHotel struct{ ID string } }
			err := writes.MakeRequest(wctx, &graphql.Request{
				OpName:    "UpsertHotel",
				Query:     `mutation UpsertHotel($id: ID!, $name: String!) { upsertHotel(id: $id, name: $name) { id } }`,
				Variables: map[string]any{"id": fmt.Sprintf("h%02d", i), "name": fmt.Sprintf("Hotel %d", i)},
			}, &graphql.Response{Data: &out})
			if err != nil {
				fmt.Println(err)
			}
		}()
	}
	wg.Wait()

	// Read them back, 5 per page, ordered by id, after the last id seen.
	type hotel struct{ ID, Name string }
	fetch := func(ctx context.Context, after string, first int) ([]hotel, string, bool, error) {
		var out struct{ Hotels []hotel }
		err := dev.Do(ctx, `query($after: String, $first: Int) { hotels(after: $after, first: $first) { id name } }`,
			map[string]any{"after": after, "first": first}, &out)
		if err != nil || len(out.Hotels) == 0 {
			return nil, "", false, err
		}
		return out.Hotels, out.Hotels[len(out.Hotels)-1].ID, len(out.Hotels) == first, nil
	}
	n := 0
	for h, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(5),
		hygraph.OnPage(func(cursor string, n int) { fmt.Printf("checkpoint after %s (%d hotels)\n", cursor, n) })) {
		if err != nil {
			fmt.Println(err)
			break
		}
		if n++; n == 1 {
			fmt.Println("first:", h.Name)
		}
	}
	fmt.Println("hotels:", n)
	// Output:
	// first: Hotel 0
	// checkpoint after h04 (5 hotels)
	// checkpoint after h09 (5 hotels)
	// checkpoint after h11 (2 hotels)
	// hotels: 12
}

// hotelServer serves a one-model GraphQL API from memory.
func hotelServer() http.Handler {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Hotel { id: ID! name: String! }
		type Query { hotels(after: String, first: Int): [Hotel!]! }
		type Mutation { upsertHotel(id: ID!, name: String!): Hotel }`})
	var mu sync.Mutex
	hotels := map[string]string{}
	root := gqlexec.RootResolverFunc(func(_ context.Context, _ ast.Operation, f *ast.Field, args map[string]any) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if f.Name == "upsertHotel" {
			hotels[args["id"].(string)] = args["name"].(string)
			return map[string]any{"id": args["id"], "name": args["name"]}, nil
		}
		after, _ := args["after"].(string)
		first, _ := args["first"].(int64)
		var ids []string
		for id := range hotels {
			if id > after {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		var out []any
		for _, id := range ids[:min(int(first), len(ids))] {
			out = append(out, map[string]any{"id": id, "name": hotels[id]})
		}
		return out, nil
	})
	return gqlexec.Handler(gqlexec.New(schema, root))
}
