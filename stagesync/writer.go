// The Writer seam of the apply step: every write of a sync to the
// destination is a Change, and a Writer applies it. The default Writer
// sends each Change as a content-API mutation through the destination's
// Batcher; an embedding program can wrap it (SyncConfig.Writer) to record,
// audit or refuse changes, and other ways of writing (the legacy import
// API, a single-entry sync) plug in at the same place.

package stagesync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/Khan/genqlient/graphql"
	"github.com/stagesync/stagesync/hygraph"
)

// The operations of a Change that are not entry operations of a plan: a
// Change's Op is OpCreate, OpUpdate, OpDelete, OpPublish or OpUnpublish.
const (
	OpPublish   Op = "publish"
	OpUnpublish Op = "unpublish"
)

// Change is one write of a sync to the destination.
type Change struct {
	Op Op
	// Model is the destination model (Asset for assets).
	Model string
	// ID is the destination entry of an update or a delete.
	ID string
	// IDs are the destination entries of a publish or unpublish, all of
	// Model; at most a page of the destination.
	IDs []string
	// Locales, of an unpublish, are the localizations to take out of
	// PUBLISHED, leaving the base document and the default locale
	// published; without them the entries are unpublished.
	Locales []string
	// Data is the input of a create or update, as the content API's
	// create and update mutations take it: fields by name, relations as
	// connect/set/disconnect of destination ids (with positions), and
	// "createdAt" on a create that keeps the source's creation time.
	Data map[string]any
}

// Writer applies the changes of a sync to the destination. Write returns
// the id of the entry a create made ("" for other changes). It is called
// from many goroutines at once. An error fails the change; an error that
// wraps a *GraphQLError without ErrMaybeApplied says the change was not
// applied, any other that it may have been.
type Writer interface {
	Write(ctx context.Context, c Change) (id string, err error)
}

// WriterFunc is a Writer as a function.
type WriterFunc func(ctx context.Context, c Change) (string, error)

// Write calls f.
func (f WriterFunc) Write(ctx context.Context, c Change) (string, error) { return f(ctx, c) }

// graphqlWriter is the default Writer: each change is a mutation of the
// destination's content API, sent through its Batcher.
type graphqlWriter struct {
	client graphql.Client
	ops    func(model string) *modelOps
}

// Write sends c's mutation. Changes other than creates are marked
// Idempotent: they may be sent again when their answer is lost.
func (g graphqlWriter) Write(ctx context.Context, c Change) (string, error) {
	ops := g.ops(c.Model)
	if ops == nil {
		return "", fmt.Errorf("stagesync: no model %s in the destination", c.Model)
	}
	var query string
	vars := map[string]any{}
	switch c.Op {
	case OpCreate:
		query, vars["data"] = ops.create, c.Data
	case OpUpdate:
		query, vars["id"], vars["data"] = ops.update, c.ID, c.Data
	case OpDelete:
		query, vars["id"] = ops.del, c.ID
	case OpPublish, OpUnpublish:
		query = ops.publish
		if c.Op == OpUnpublish {
			query = ops.unpublish
			if len(c.Locales) > 0 {
				query = ops.unpublishLocales
				locales := make([]any, len(c.Locales))
				for i, l := range c.Locales {
					locales[i] = l
				}
				vars["locales"] = locales
			}
		}
		vars["ids"], vars["first"] = c.IDs, len(c.IDs)
	default:
		return "", fmt.Errorf("stagesync: unknown change %q", c.Op)
	}
	if query == "" {
		return "", fmt.Errorf("stagesync: the destination's %s cannot %s", c.Model, c.Op)
	}
	if c.Op != OpCreate {
		ctx = hygraph.Idempotent(ctx)
	}
	var raw json.RawMessage
	if err := g.client.MakeRequest(ctx, &graphql.Request{Query: query, Variables: vars, OpName: opName(query)}, &graphql.Response{Data: &raw}); err != nil {
		return "", err
	}
	if c.Op != OpCreate {
		return "", nil
	}
	// The root field is the operation's only one.
	var root map[string]struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &root); err != nil {
		return "", err
	}
	for _, v := range root {
		if v.ID != "" {
			return v.ID, nil
		}
	}
	return "", errors.New("stagesync: the create's answer has no id")
}

// write applies one change through the run's Writer, and watches for a
// destination that refuses every write (see writeFailed).
func (e *engine) write(ctx context.Context, c Change) (string, error) {
	id, err := e.out.Write(ctx, c)
	if err != nil {
		e.writeFailed(string(c.Op)+c.Model, err)
		return "", err
	}
	e.flushFailures() // the stage takes writes
	return id, nil
}
