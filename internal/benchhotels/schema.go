package benchhotels

import (
	_ "embed"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
)

// Description is the project description of the data set (see
// schema.SynthesizeDescription).
//
//go:embed hotels.yaml
var Description []byte

// Models are the models of the data set, in write order.
var Models = []string{"Destination", "Hotel", "Review"}

// Schema synthesizes the content-API schema of the data set.
func Schema() (*ast.Schema, error) {
	sdl, err := schema.SynthesizeDescription(Description)
	if err != nil {
		return nil, err
	}
	return schema.LoadString("hotels.graphql", sdl)
}
