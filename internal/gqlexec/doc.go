// Package gqlexec executes GraphQL requests against a gqlparser schema.
//
// It parses and validates a query with gqlparser, coerces variables per the
// spec, and walks the selection set, asking resolvers for values. Introspection
// (__schema, __type, __typename) is answered from the *ast.Schema itself.
// Mutations' root fields run serially, in document order; queries' root fields
// too (the emulator's store is in-process, so there is nothing to gain).
//
// The executor knows nothing about Hygraph; the stage emulator
// (stagesync/stagetest) supplies the resolvers.
package gqlexec
