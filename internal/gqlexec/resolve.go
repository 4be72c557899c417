package gqlexec

import (
	"context"

	"github.com/vektah/gqlparser/v2/ast"
)

// RootResolver resolves one root field of a query or mutation. args are the
// field's arguments with variables substituted and defaults applied, coerced
// to Go values (map[string]any, []any, string, int64, float64, bool, nil;
// enum values as string; ID as string; input objects with their field
// defaults filled in). args is nil when the field declares no arguments.
// When several fields are merged under one response key, field is a copy
// of the first whose SelectionSet joins all of theirs. The returned value is
// completed against the field's type as described on Object. A returned
// error (or one wrapping a *gqlerror.Error, whose message and extensions
// are kept) becomes a field error with the field's path and location; a
// panic is recovered as a field error.
type RootResolver interface {
	ResolveRoot(ctx context.Context, op ast.Operation, field *ast.Field, args map[string]any) (any, error)
}

// RootResolverFunc adapts a function to RootResolver.
type RootResolverFunc func(ctx context.Context, op ast.Operation, field *ast.Field, args map[string]any) (any, error)

// ResolveRoot calls f.
func (f RootResolverFunc) ResolveRoot(ctx context.Context, op ast.Operation, field *ast.Field, args map[string]any) (any, error) {
	return f(ctx, op, field, args)
}

// Object is a value of an object type whose fields are computed on demand.
//
// Completing a value of an object (or interface/union) type, the executor
// accepts:
//   - an Object: each selected field is asked of ResolveField;
//   - a map[string]any: each selected field is looked up by field name
//     (not alias); arguments are ignored;
//   - nil: the field is null (an error if the type is non-null).
//
// For abstract types (interfaces, unions) the concrete type is
// Object.TypeName(), or the "__typename" key of a map.
// Lists are []any (or any slice); scalars and enums are Go values that
// encoding/json can marshal and are returned as they are.
type Object interface {
	// TypeName is the concrete GraphQL object type of the value.
	TypeName() string
	// ResolveField returns the value of one selected field (never
	// "__typename", which the executor answers).
	ResolveField(ctx context.Context, field *ast.Field, args map[string]any) (any, error)
}
