package gqlexec

import (
	"container/list"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// document is a parsed and validated query with the execution plans
// computed for it so far.
type document struct {
	doc  *ast.QueryDocument
	errs gqlerror.List
	// dynamic is set when @skip/@include depend on variables, in which
	// case collected fields cannot be cached.
	dynamic bool
	plans   sync.Map // planKey -> []*fieldGroup
	// sizeHint is the size of the last response, to size the next buffer.
	sizeHint atomic.Int64
}

// planKey names one collected selection: the fields merged under parent
// (nil at the root of op) completed as an object of type typ.
type planKey struct {
	parent *fieldGroup
	op     *ast.OperationDefinition
	typ    *ast.Definition
}

// document returns the parsed and validated document for query, from the
// cache when possible.
func (e *Executor) document(query string) *document {
	if d := e.cache.get(query); d != nil {
		return d
	}
	d := e.prepare(query)
	e.cache.put(query, d)
	return d
}

func (e *Executor) prepare(query string) *document {
	d := &document{}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		var ge *gqlerror.Error
		var gl gqlerror.List
		switch {
		case errors.As(err, &gl):
			d.errs = gl
		case errors.As(err, &ge):
			d.errs = gqlerror.List{ge}
		default:
			d.errs = gqlerror.List{gqlerror.Errorf("%s", err.Error())}
		}
		setCode(d.errs, "GRAPHQL_PARSE_FAILED")
		return d
	}
	d.doc = doc
	for _, op := range doc.Operations {
		if depthExceeds(doc, op.SelectionSet, 1, e.maxDepth, map[string]bool{}) {
			ge := gqlerror.Errorf("Operation exceeds the maximum selection depth of %d.", e.maxDepth)
			if op.Position != nil {
				ge.Locations = []gqlerror.Location{{Line: op.Position.Line, Column: op.Position.Column}}
			}
			ge.Rule = "MaxDepth"
			d.errs = append(d.errs, ge)
			setCode(d.errs, "GRAPHQL_VALIDATION_FAILED")
		}
	}
	if len(d.errs) > 0 {
		return d
	}
	//nolint:staticcheck // Validate is the stable entry point with the default rules.
	if errs := validator.Validate(e.schema, doc); len(errs) > 0 {
		d.errs = errs
		setCode(d.errs, "GRAPHQL_VALIDATION_FAILED")
		return d
	}
	d.dynamic = usesVariableConditions(doc)
	return d
}

// setCode drops gqlparser's "file" extension and sets extensions.code, as
// Apollo-style servers (and Hygraph) do for request errors.
func setCode(errs gqlerror.List, code string) {
	for _, e := range errs {
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		delete(e.Extensions, "file")
		e.Extensions["code"] = code
	}
}

// depthExceeds reports whether set, at nesting level depth, nests deeper
// than limit. Fragment cycles (rejected later by validation) are cut.
func depthExceeds(doc *ast.QueryDocument, set ast.SelectionSet, depth, limit int, visiting map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if depth > limit {
				return true
			}
			if len(s.SelectionSet) > 0 && depthExceeds(doc, s.SelectionSet, depth+1, limit, visiting) {
				return true
			}
		case *ast.InlineFragment:
			if depthExceeds(doc, s.SelectionSet, depth, limit, visiting) {
				return true
			}
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue
			}
			frag := doc.Fragments.ForName(s.Name)
			if frag == nil {
				continue
			}
			visiting[s.Name] = true
			exceeds := depthExceeds(doc, frag.SelectionSet, depth, limit, visiting)
			delete(visiting, s.Name)
			if exceeds {
				return true
			}
		}
	}
	return false
}

// usesVariableConditions reports whether any @skip or @include in doc takes
// its condition from a variable.
func usesVariableConditions(doc *ast.QueryDocument) bool {
	var walk func(ast.SelectionSet) bool
	check := func(dirs ast.DirectiveList) bool {
		for _, d := range dirs {
			if d.Name != "skip" && d.Name != "include" {
				continue
			}
			for _, a := range d.Arguments {
				if a.Value != nil && a.Value.Kind == ast.Variable {
					return true
				}
			}
		}
		return false
	}
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if check(s.Directives) || walk(s.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if check(s.Directives) || walk(s.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if check(s.Directives) {
					return true
				}
			}
		}
		return false
	}
	for _, op := range doc.Operations {
		if walk(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if walk(f.SelectionSet) {
			return true
		}
	}
	return false
}

// docCache is a bounded LRU cache of documents keyed by query text.
type docCache struct {
	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	query string
	doc   *document
}

func newDocCache(size int) *docCache {
	return &docCache{size: size, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *docCache) get(query string) *document {
	if c.size <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[query]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry).doc
}

func (c *docCache) put(query string, d *document) {
	if c.size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[query]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.items[query] = c.ll.PushFront(&cacheEntry{query: query, doc: d})
	for c.ll.Len() > c.size {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).query)
	}
}

// len reports how many documents are cached.
func (c *docCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
