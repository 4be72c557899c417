// Package listen keeps a destination stage in step with a source stage
// from Hygraph webhooks: an HTTP handler verifies each webhook
// (gcms-signature), enqueues one durable sync-entry job per event on a
// River queue (SQLite by default, PostgreSQL to share the work between
// processes) and answers; workers run a single-entry sync
// (stagesync.SyncConfig.Entries) per job, and a periodic delta-sync job
// catches events that never arrived. It is the engine of `stagesync
// listen` and `stagesync jobs`.
package listen
