// Package store is the document store of an emulated Hygraph stage: the
// Catalog of models and fields it derives from a content-API schema by
// Hygraph's naming conventions, the documents (one Version per stage,
// localizations, relations as Refs, components as Comps) held in memory and
// indexed by id, default order, id order and unique fields, the ids it
// makes, and transactions (Tx) that change documents copy-on-write, check
// unique values and roll back or commit as a whole. A committed Tx is
// written through to the store's Backend, if any, before Commit returns:
// BoltBackend keeps the documents in a bbolt file across restarts.
//
// It knows nothing of GraphQL or HTTP: package emulator reads and writes
// the documents to answer queries and mutations, and serializes the
// transactions.
package store
