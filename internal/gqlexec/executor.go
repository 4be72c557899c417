package gqlexec

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

// Request is a GraphQL request as it travels over HTTP.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
}

// Response is a GraphQL response. Data is the JSON text of the result, with
// fields in selection order; it is "null" when nothing executed.
type Response struct {
	Data       json.RawMessage `json:"data"`
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// DefaultMaxDepth is the default limit on nested selection levels.
const DefaultMaxDepth = 32

// DefaultCacheSize is the default number of parsed and validated documents
// an Executor keeps.
const DefaultCacheSize = 512

// Option configures an Executor.
type Option func(*Executor)

// WithMaxDepth limits how deeply selections may nest (root fields are level
// 1). A deeper operation fails validation. n <= 0 keeps the default.
func WithMaxDepth(n int) Option {
	return func(e *Executor) {
		if n > 0 {
			e.maxDepth = n
		}
	}
}

// WithCacheSize bounds the cache of parsed and validated documents, keyed by
// query text. n < 0 disables the cache; 0 keeps the default.
func WithCacheSize(n int) Option {
	return func(e *Executor) {
		switch {
		case n < 0:
			e.cache = newDocCache(0)
		case n > 0:
			e.cache = newDocCache(n)
		}
	}
}

// Executor executes GraphQL requests against one schema. It is safe for
// concurrent use.
type Executor struct {
	schema   *ast.Schema
	root     RootResolver
	maxDepth int
	cache    *docCache
	intro    *introspection

	maxCost      int64 // WithMaxCost; 0: none
	costListSize int
	maxResponse  int // WithMaxResponseBytes; 0: none
}

// New returns an Executor for s that resolves root fields with root.
// Introspection fields (__schema, __type, __typename) never reach root.
func New(s *ast.Schema, root RootResolver, opts ...Option) *Executor {
	e := &Executor{
		schema:   s,
		root:     root,
		maxDepth: DefaultMaxDepth,
		cache:    newDocCache(DefaultCacheSize),
	}
	for _, o := range opts {
		o(e)
	}
	e.intro = newIntrospection(s)
	return e
}

// Schema returns the schema the executor serves.
func (e *Executor) Schema() *ast.Schema { return e.schema }

// Operation parses and validates req (using the document cache) and reports
// the type of the operation it would execute, without executing it. An HTTP
// layer uses it to refuse mutations to read-only tokens. The error is a
// gqlerror.List.
func (e *Executor) Operation(req Request) (ast.Operation, error) {
	doc := e.document(req.Query)
	if len(doc.errs) > 0 {
		return "", doc.errs
	}
	op, err := selectOperation(doc.doc, req.OperationName)
	if err != nil {
		return "", gqlerror.List{err}
	}
	return op.Operation, nil
}

// Execute runs req and returns its response. Request errors (syntax,
// validation, variable coercion) yield a response with "null" data and the
// errors; field errors yield partial data and errors with paths.
func (e *Executor) Execute(ctx context.Context, req Request) *Response {
	doc := e.document(req.Query)
	if len(doc.errs) > 0 {
		return errorResponse(doc.errs)
	}
	op, gerr := selectOperation(doc.doc, req.OperationName)
	if gerr != nil {
		return errorResponse(gqlerror.List{gerr})
	}
	vars, err := e.coerceVariables(op, req.Variables)
	if err != nil {
		return errorResponse(toList(err))
	}
	if e.maxCost > 0 && op.Operation == ast.Query {
		if cost := e.queryCost(doc.doc, op, vars); cost > float64(e.maxCost) {
			return errorResponse(costError(cost, e.maxCost))
		}
	}
	var rootType *ast.Definition
	switch op.Operation {
	case ast.Query:
		rootType = e.schema.Query
	case ast.Mutation:
		rootType = e.schema.Mutation
	default:
		return errorResponse(gqlerror.List{gqlerror.Errorf("gqlexec: %s operations are not supported", op.Operation)})
	}
	if rootType == nil {
		return errorResponse(gqlerror.List{gqlerror.Errorf("gqlexec: schema has no %s type", op.Operation)})
	}
	x := &execution{
		e:    e,
		ctx:  ctx,
		doc:  doc,
		op:   op,
		vars: vars,
	}
	x.buf.Grow(int(doc.sizeHint.Load()) + 256)
	ok := x.executeRoot(rootType)
	if x.tooLarge {
		return errorResponse(responseTooLarge(e.maxResponse))
	}
	doc.sizeHint.Store(int64(x.buf.Len()))
	resp := &Response{Errors: x.errs}
	if ok {
		resp.Data = json.RawMessage(x.buf.Bytes())
	} else {
		resp.Data = json.RawMessage("null")
	}
	return resp
}

func errorResponse(errs gqlerror.List) *Response {
	return &Response{Data: json.RawMessage("null"), Errors: errs}
}

// toList turns a variable-coercion error into a gqlerror.List.
func toList(err error) gqlerror.List {
	var list gqlerror.List
	if errors.As(err, &list) {
		return list
	}
	var one *gqlerror.Error
	if errors.As(err, &one) {
		return gqlerror.List{one}
	}
	return gqlerror.List{gqlerror.Errorf("%s", err.Error())}
}

// selectOperation picks the operation named name, or the only one.
func selectOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *gqlerror.Error) {
	if name == "" {
		switch len(doc.Operations) {
		case 0:
			return nil, gqlerror.Errorf("Must provide an operation.")
		case 1:
			return doc.Operations[0], nil
		default:
			return nil, gqlerror.Errorf("Must provide operation name if query contains multiple operations.")
		}
	}
	op := doc.Operations.ForName(name)
	if op == nil {
		return nil, gqlerror.Errorf("Unknown operation named %q.", name)
	}
	return op, nil
}

// coerceVariables coerces the request's variables per the spec
// (CoerceVariableValues): defaults applied, Int to int64, Float to float64,
// ID to string, enums and input objects checked, input object field
// defaults applied. It is strict and reflection-free for JSON-decoded
// values; when it rejects a value, the error reported is gqlparser's
// (validator.VariableValues) when that also rejects it, so messages match
// other gqlparser-based servers.
func (e *Executor) coerceVariables(op *ast.OperationDefinition, in map[string]any) (map[string]any, error) {
	if len(op.VariableDefinitions) == 0 {
		return nil, nil
	}
	vars := make(map[string]any, len(op.VariableDefinitions))
	for _, vd := range op.VariableDefinitions {
		v, ok := in[vd.Variable]
		if !ok {
			if vd.DefaultValue != nil {
				dv, _, err := e.coerceLiteral(vd.Type, vd.DefaultValue, nil)
				if err != nil {
					return nil, gqlerror.ErrorPathf(ast.Path{ast.PathName("variable"), ast.PathName(vd.Variable)}, "default: %v", err)
				}
				vars[vd.Variable] = dv
			} else if vd.Type.NonNull {
				return nil, gqlerror.ErrorPathf(ast.Path{ast.PathName("variable"), ast.PathName(vd.Variable)}, "must be defined")
			}
			continue
		}
		nv, ierr := e.normalizeInput(vd.Type, v)
		if ierr != nil {
			if perr := e.parserVariableError(op, in); perr != nil {
				return nil, perr
			}
			return nil, ierr.gqlError(vd.Variable)
		}
		vars[vd.Variable] = nv
	}
	return vars, nil
}

// parserVariableError returns gqlparser's verdict on variables that
// coerceVariables rejected, or nil when gqlparser accepts them.
func (e *Executor) parserVariableError(op *ast.OperationDefinition, in map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = nil
		}
	}()
	// VariableValues may write coerced values into the maps it is given.
	_, err = validator.VariableValues(e.schema, op, deepCopy(in).(map[string]any))
	return err
}

// deepCopy copies JSON-like maps and slices.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// fieldError builds the error of a field at path.
func fieldError(err error, path ast.Path, f *ast.Field) *gqlerror.Error {
	var ge *gqlerror.Error
	out := &gqlerror.Error{}
	if errors.As(err, &ge) {
		out.Message = ge.Message
		out.Extensions = ge.Extensions
		out.Locations = ge.Locations
		out.Rule = ge.Rule
		out.Err = ge.Err
	} else {
		out.Message = err.Error()
		out.Err = err
	}
	out.Path = path
	if len(out.Locations) == 0 && f != nil && f.Position != nil {
		out.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	return out
}
