package stagetest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

func Example() {
	sdl, err := schema.SynthesizeDescription([]byte(`
models:
  Hotel:
    name: String! unique
    stars: Int
`))
	if err != nil {
		log.Fatal(err)
	}
	s, err := schema.LoadString("hotels.graphql", sdl)
	if err != nil {
		log.Fatal(err)
	}
	st, err := stagetest.NewStage(s)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	ctx := context.Background()
	run := func(query string) {
		resp := st.Execute(ctx, gqlexec.Request{Query: query})
		if len(resp.Errors) > 0 {
			log.Fatal(resp.Errors)
		}
		fmt.Println(string(resp.Data))
	}
	run(`mutation { createHotel(data: {name: "Adlon", stars: 5}) { name stage } }`)
	run(`{ hotels { name } }`) // PUBLISHED is the default stage: nothing yet
	run(`mutation { publishHotel(where: {name: "Adlon"}) { stage } }`)
	run(`{ hotels { name stars } }`)
	// Output:
	// {"createHotel":{"name":"Adlon","stage":"DRAFT"}}
	// {"hotels":[]}
	// {"publishHotel":{"stage":"PUBLISHED"}}
	// {"hotels":[{"name":"Adlon","stars":5}]}
}
