package stagesync

import (
	"context"
	"fmt"
	"iter"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/schema"
)

// Entry is one entry of a stage as ReadEntries reads it: its DRAFT version
// and, when it is published, its PUBLISHED version, both in the shape a
// Transform sees (see Transform). The draft carries "createdAt" and
// "updatedAt", the published version "publishedAt" and "updatedAt".
type Entry struct {
	Model     string
	Draft     map[string]any
	Published map[string]any // nil for an entry that is not published
}

// ReadEntries reads every entry of model from stage s with the read the
// sync uses (cursor pages in id order, to-many relations read on to their
// end, the non-default localizations and the published version), one page
// in memory at a time. sdl is the stage's schema (introspected when nil);
// pageSize 0 means DefaultPageSize. An entry whose versions cannot be read
// ends the sequence with an error naming it.
func ReadEntries(ctx context.Context, s *Stage, sdl *ast.Schema, model string, pageSize int) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		p, _, err := stageSchema(ctx, s, sdl)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		m := p.Model(model)
		if m == nil || m.Component {
			yield(Entry{}, fmt.Errorf("stagesync: %s: the schema has no model %q", s, model))
			return
		}
		if pageSize <= 0 {
			pageSize = DefaultPageSize
		}
		ops, err := buildOps(p, m, pageSize)
		if err != nil {
			yield(Entry{}, fmt.Errorf("stagesync: %s: %w", s, err))
			return
		}
		for raw, err := range hygraph.Paginate(ctx, fetcher(s, ops), hygraph.WithPageSize(pageSize)) {
			if err != nil {
				yield(Entry{}, fmt.Errorf("stagesync: %s: %w", s, err))
				return
			}
			id, _ := raw["id"].(string)
			if e, ok := raw[readErrorKey]; ok {
				yield(Entry{}, fmt.Errorf("stagesync: %s: %s %q cannot be read: %v", s, model, id, e))
				return
			}
			if e, ok := raw[pubReadErrorKey]; ok {
				yield(Entry{}, fmt.Errorf("stagesync: %s: the published version of %s %q cannot be read: %v", s, model, id, e))
				return
			}
			pub := entryform.Published(raw)
			if !yield(Entry{Model: model, Draft: raw, Published: pub}, nil) {
				return
			}
		}
	}
}

// StageProject returns the content model of stage s: discovered from sdl,
// or from the stage's introspected schema when sdl is nil, which it
// returns too.
func StageProject(ctx context.Context, s *Stage, sdl *ast.Schema) (*schema.Project, *ast.Schema, error) {
	return stageSchema(ctx, s, sdl)
}
