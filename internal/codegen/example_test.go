package codegen_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/stagesync/stagesync/internal/codegen"
	"github.com/stagesync/stagesync/schema"
)

// Example generates the typed operations and the typed model of a
// one-model project into a package directory, as `stagesync gen` does.
func Example() {
	root, err := os.MkdirTemp("", "codegen-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	// A module around the package, as in a real project.
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/app\n\ngo 1.26\n"), 0o644); err != nil {
		panic(err)
	}
	sdl, err := schema.SynthesizeDescription([]byte("models:\n  Hotel:\n    name: String! unique\n    stars: Int\n"))
	if err != nil {
		panic(err)
	}
	out := filepath.Join(root, "hotels")
	if err := os.MkdirAll(out, 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(out, "schema.graphql"), []byte(sdl), 0o644); err != nil {
		panic(err)
	}

	res, err := codegen.Generate(codegen.Options{
		SchemaPath: filepath.Join(out, "schema.graphql"),
		Models:     []string{"Hotel"},
		OutDir:     out,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(res.Scaffolded), "operations scaffolded")
	for _, m := range res.Models {
		fmt.Printf("%s() reads %s entries with %s (%s)\n", m.Func, m.Type, m.Operation, m.File)
	}
	for _, f := range res.Written {
		rel, _ := filepath.Rel(out, f)
		fmt.Println("wrote", rel)
	}
	// Output:
	// 6 operations scaffolded
	// HotelModel() reads Hotel entries with ReadHotels (queries/readHotels.graphql)
	// wrote genqlient.yaml
	// wrote generated.go
	// wrote zz_stagesync.go
	// wrote doc.go
}
