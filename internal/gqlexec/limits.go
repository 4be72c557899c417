package gqlexec

import (
	"fmt"
	"math"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// WithMaxCost refuses, before executing it, a query whose estimated cost is
// above limit (limit <= 0: no limit). The cost is the number of objects the
// response can hold at most: every field of an object type counts once per
// parent object, and a list of objects counts its `first` or `last`
// argument, or listSize when it has neither, for each parent object. A
// query of ten nested lists is refused at once instead of building a
// response of hundreds of megabytes.
func WithMaxCost(limit int64, listSize int) Option {
	return func(e *Executor) {
		if limit > 0 {
			e.maxCost = limit
			e.costListSize = max(1, listSize)
		}
	}
}

// WithMaxResponseBytes stops a query whose response grows beyond n bytes
// (n <= 0: no limit); the response is then a request error with no data.
// Mutations are not cut short: they have run by the time their response is
// written.
func WithMaxResponseBytes(n int) Option {
	return func(e *Executor) {
		if n > 0 {
			e.maxResponse = n
		}
	}
}

// RootFields parses and validates req (using the document cache) and
// reports the type of the operation it would execute and its number of root
// fields, counted through fragments: each is one operation in Hygraph's
// count of concurrent operations. The error is a gqlerror.List.
func (e *Executor) RootFields(req Request) (ast.Operation, int, error) {
	doc := e.document(req.Query)
	if len(doc.errs) > 0 {
		return "", 0, doc.errs
	}
	op, err := selectOperation(doc.doc, req.OperationName)
	if err != nil {
		return "", 0, gqlerror.List{err}
	}
	return op.Operation, CountRootFields(doc.doc, op.SelectionSet), nil
}

// CountRootFields counts the fields of set, looking into inline fragments
// and fragment spreads (each fragment once per path; cycles are cut).
func CountRootFields(doc *ast.QueryDocument, set ast.SelectionSet) int {
	return countFields(doc, set, map[string]bool{})
}

func countFields(doc *ast.QueryDocument, set ast.SelectionSet, visiting map[string]bool) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n++
		case *ast.InlineFragment:
			n += countFields(doc, s.SelectionSet, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] || doc == nil {
				continue
			}
			if f := doc.Fragments.ForName(s.Name); f != nil {
				visiting[s.Name] = true
				n += countFields(doc, f.SelectionSet, visiting)
				delete(visiting, s.Name)
			}
		}
	}
	return n
}

// queryCost estimates the cost of op (see WithMaxCost); it saturates at
// math.MaxFloat64 rather than overflowing.
func (e *Executor) queryCost(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) float64 {
	return e.setCost(doc, op.SelectionSet, 1, vars, map[string]bool{})
}

func (e *Executor) setCost(doc *ast.QueryDocument, set ast.SelectionSet, parents float64, vars map[string]any, visiting map[string]bool) float64 {
	var cost float64
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition == nil || len(s.SelectionSet) == 0 {
				continue // a scalar or enum: no objects
			}
			n := parents
			if s.Definition.Type.Elem != nil {
				n *= float64(e.listSize(s, vars))
			}
			cost += n + e.setCost(doc, s.SelectionSet, n, vars, visiting)
		case *ast.InlineFragment:
			cost += e.setCost(doc, s.SelectionSet, parents, vars, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue
			}
			if f := doc.Fragments.ForName(s.Name); f != nil {
				visiting[s.Name] = true
				cost += e.setCost(doc, f.SelectionSet, parents, vars, visiting)
				delete(visiting, s.Name)
			}
		}
		if math.IsInf(cost, 1) {
			return math.MaxFloat64
		}
	}
	return cost
}

// listSize is the number of objects a list field asks for: its first or
// last argument, else the default list size.
func (e *Executor) listSize(f *ast.Field, vars map[string]any) int64 {
	for _, name := range []string{"first", "last"} {
		a := f.Arguments.ForName(name)
		if a == nil || a.Value == nil {
			continue
		}
		v, err := a.Value.Value(vars)
		if err != nil {
			continue
		}
		switch n := v.(type) {
		case int64:
			return max(n, 0)
		case int:
			return int64(max(n, 0))
		case float64:
			return int64(max(n, 0))
		}
	}
	return int64(e.costListSize)
}

// costError is the request error of a query over the cost limit.
func costError(cost float64, limit int64) gqlerror.List {
	errs := gqlerror.List{gqlerror.Errorf("Query cost %s exceeds the maximum of %d: ask for smaller pages (first/last) or fewer nested lists.", costString(cost), limit)}
	setCode(errs, "GRAPHQL_VALIDATION_FAILED")
	return errs
}

func costString(c float64) string {
	if c >= 1e15 {
		return fmt.Sprintf("%.3g", c)
	}
	return fmt.Sprintf("%.0f", c)
}

// responseTooLarge is the request error of a query whose response grew
// beyond the limit.
func responseTooLarge(limit int) gqlerror.List {
	return gqlerror.List{gqlerror.Errorf("Response too large: the response exceeds the limit of %d bytes; ask for smaller pages (first/last) or fewer fields.", limit)}
}

// over reports, and remembers, whether the response has grown beyond the
// limit.
func (x *execution) over() bool {
	if x.tooLarge {
		return true
	}
	if x.e.maxResponse > 0 && x.op.Operation == ast.Query && x.buf.Len() > x.e.maxResponse {
		x.tooLarge = true
	}
	return x.tooLarge
}
