// Package stagesync copies Hygraph (GraphCMS) content between stages:
// Sync reads both stages, matches entries through an identity map kept in
// a state database (SQLite, or PostgreSQL), plans what changed, checks it
// and writes it (creates, updates, relations, publish state, deletes),
// repairing in further passes what a pass left failed in a way that may
// pass (SyncConfig.MaxRounds). Compare and Verify compare the stages.
//
// The transport (Stage, its scheduler and retries, Batcher, Paginate) is
// package hygraph; the names a sync's configuration needs (Stage,
// NewStage and its options, the typed errors) are aliased here.
package stagesync
