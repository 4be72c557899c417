package hygraph

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// DefaultPageSize is the page size of Paginate: the largest page Hygraph
// serves on projects created since mid-2022.
const DefaultPageSize = 100

// FetchFunc fetches one page for Paginate: at most first items that follow
// the cursor after ("" for the start), in a stable order. It returns them
// with the cursor of the last one (to pass as after next time) and whether
// more may follow.
//
// Two shapes fit Hygraph: a list query ordered by id_ASC with
// after: <last id>, where next is the last item's id and hasNext is
// len(items) == first; or a ...Connection query, where next is
// pageInfo.endCursor and hasNext is pageInfo.hasNextPage. Avoid skip: it
// skips or repeats entries when the content changes during the read.
type FetchFunc[T any] func(ctx context.Context, after string, first int) (items []T, next string, hasNext bool, err error)

// PageOption configures Paginate.
type PageOption func(*pageConfig)

type pageConfig struct {
	size   int
	start  string
	onPage func(cursor string, n int)
}

// WithPageSize sets the page size (default DefaultPageSize).
func WithPageSize(n int) PageOption {
	return func(c *pageConfig) {
		if n > 0 {
			c.size = n
		}
	}
}

// StartAfter resumes a read after cursor, as reported by OnPage.
func StartAfter(cursor string) PageOption {
	return func(c *pageConfig) { c.start = cursor }
}

// OnPage calls fn after the consumer has taken every item of a page, with
// the page's end cursor and its number of items. Everything up to cursor has
// then been handled, so it is the place to save a checkpoint; StartAfter
// resumes from it.
func OnPage(fn func(cursor string, n int)) PageOption {
	return func(c *pageConfig) { c.onPage = fn }
}

// errStuck reports a FetchFunc whose cursor does not advance.
var errStuck = errors.New("cursor did not advance")

// Paginate reads a cursor-paginated list as an iterator. Each page is
// fetched when the consumer reaches it; breaking out of the loop stops the
// fetching. An error (from fetch, or ctx ending) is yielded once, with a zero
// item, and ends the iteration.
//
// Because every page starts after the last item seen, an entry created or
// deleted during the read never makes the read skip or repeat another
// entry; an entry created ahead of the cursor is read, one created behind it
// is left for the next (delta) sync.
func Paginate[T any](ctx context.Context, fetch FetchFunc[T], opts ...PageOption) iter.Seq2[T, error] {
	cfg := pageConfig{size: DefaultPageSize}
	for _, o := range opts {
		o(&cfg)
	}
	return func(yield func(T, error) bool) {
		var zero T
		after := cfg.start
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			items, next, hasNext, err := fetch(ctx, after, cfg.size)
			if err != nil {
				yield(zero, fmt.Errorf("paginate: page after %q: %w", after, err))
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if len(items) == 0 {
				return
			}
			if next == "" || next == after {
				if !hasNext {
					return
				}
				yield(zero, fmt.Errorf("paginate: page after %q: %w (next %q)", after, errStuck, next))
				return
			}
			if cfg.onPage != nil {
				cfg.onPage(next, len(items))
			}
			if !hasNext {
				return
			}
			after = next
		}
	}
}
