package importapi_test

import (
	"fmt"
	"os"

	"github.com/stagesync/stagesync/importapi"
)

// Write NDF nodes into numbered files and read them back, one value at a
// time.
func Example() {
	dir, err := os.MkdirTemp("", "ndf")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	w := importapi.NewWriter(dir, importapi.Nodes, 0)
	_ = w.Write(importapi.Node{TypeName: "Hotel", ID: "h1", Fields: map[string]any{"name": "Tivoli"}})
	_ = w.Write(importapi.Node{TypeName: "Hotel", ID: "h1", Locale: "de", Fields: map[string]any{"tagline": "Willkommen"}})
	if err := w.Close(); err != nil {
		panic(err)
	}
	for v, err := range importapi.ReadDir(dir, importapi.Nodes) {
		if err != nil {
			panic(err)
		}
		n, _ := importapi.ParseNode(v.Raw)
		fmt.Printf("line %d: %s %s %s locale=%q %v\n", v.Line, n.TypeName, n.ID, n.Stage, n.Locale, n.Fields)
	}
	// Output:
	// line 2: Hotel h1 DRAFT locale="" map[name:Tivoli]
	// line 3: Hotel h1 DRAFT locale="de" map[tagline:Willkommen]
}
