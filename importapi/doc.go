// Package importapi reads and writes content snapshots in the Normalized
// Data Format (NDF) of GraphCMS v1 / Prisma 1, and talks to a stage's
// legacy /import and /export endpoints.
//
// # The format
//
// A snapshot is a directory:
//
//	manifest.json          schema SDL, counts per model/stage/locale, SHA-256 per file
//	nodes/000001.json      {"valueType":"nodes","values":[ ... ]}
//	lists/000001.json      {"valueType":"lists","values":[ ... ]}
//	relations/000001.json  {"valueType":"relations","values":[ ... ]}
//
// Each file is one JSON object as the legacy export wrote it, of at most
// 1 MB by default (DefaultMaxFileSize, the legacy import's soft cap per
// request), numbered in the order it was cut, one value per line. Reader
// and Writer stream: only one value (reading) or the current file's buffer
// (writing) is in memory, never the stage.
//
// The legacy values are kept as they were:
//
//   - a node holds one entry's scalar fields: {"_typeName": "Hotel", "id":
//     "...", "name": "...", "createdAt": "...", ...};
//   - a list object holds one list-of-scalars field of one entry:
//     {"_typeName": "Hotel", "id": "...", "tags": ["a", "b"]};
//   - a relation is a pair [{"_typeName", "id", "fieldName"}, {"_typeName",
//     "id", "fieldName"}] that links both sides (a one-way relation has
//     an empty fieldName on the side that lacks the field).
//
// # Extensions
//
// Today's Hygraph content needs a few more things; each is an extra key, so
// a plain legacy file is a valid snapshot file and reads as DRAFT content in
// the default locale:
//
//   - "_stage": "PUBLISHED" on a node or list object holds the published
//     version of the entry (without it, the DRAFT version). A published
//     entry has a node for each stage, so a draft on top of a published
//     version keeps both.
//   - "_locale": "de" on a node or list object holds the localized fields
//     of that locale; the node without "_locale" holds the default
//     locale's localized fields and every field that is not localized.
//   - Components are values inside nodes: an object (or a list of them)
//     with "__typename" (the member of a modular component field), "id"
//     and the component's fields; a relation inside a component is
//     {"_typeName", "id"} or a list of them.
//   - Union relations need nothing new: each side names its _typeName.
//   - Relation order: a pair whose first side carries "_position" (and,
//     for the published version, "_stage") is one-sided: it puts the second
//     side's node at that place of the first side's field, and the other
//     side of a two-way relation has its own pair with its own position, so
//     that both sides keep their order. A snapshot writes its relations
//     this way; a legacy pair without "_position" links both sides.
//   - Rich text is stored as its AST (the "raw" value); locations as
//     {"latitude", "longitude"}; colors as {"hex"}.
//
// # Snapshots and the sync engine
//
// Export reads a stage with the sync's own reader and writes a snapshot.
// Check validates a snapshot against a schema before anything is written,
// naming the file, line, index and entry of every problem. OpenSource
// checks a snapshot and, in the same streaming pass, indexes it into a
// scratch SQLite file; the Source it returns answers the content API's
// read queries from that file in this process, so that it can be the
// source of stagesync.Sync, Plan and Compare without the snapshot ever
// being in memory (the index takes about as much disk as the NDF files
// and is removed by Close). Import does that and syncs into a destination
// stage, so that importing a snapshot gets the identity map, relation
// order, publish state, locales and schema pre-flight of a sync, and a
// second import writes nothing. The legacy /import has no stages:
// CheckLegacy finds the entries whose PUBLISHED version it would lose.
//
// # The legacy endpoints
//
// Client sends POST <stage>/export with the four-part cursor until it comes
// back as -1 everywhere, and POST <stage>/import with a valueType and its
// values in requests under the 1 MB soft cap, collecting the failures
// ([{index, message}]) by file, line and index. Imports are not idempotent
// on the server: a relation or list value imported twice is there twice.
// ImportSnapshot therefore reads what the stage holds first and never sends
// a relation or list value again. The system token comes from the
// environment (TokenFromEnv) and never appears in errors or logs.
package importapi
