// Package codegen is the generator behind `stagesync gen`: it turns a
// Hygraph schema and a list of models into a Go package of typed operations
// and ready-to-sync typed models.
//
// Generate runs three steps, each from what is on disk, so that running it
// twice writes the same bytes and hand-edited operations win:
//
//  1. scaffold the read, upsert, create, update, publish and publishMany
//     operations of the models that are missing under OutDir/queries
//     (schema.Scaffold; an existing file is never overwritten);
//  2. run genqlient with a genqlient.yaml (OutDir/genqlient.yaml unless
//     Options.ConfigPath names another), which binds Hygraph's custom
//     scalars as schema.DefaultGenqlientBindings says;
//  3. parse the operations as they are on disk, and for every read query —
//     a query whose only root field is a model's list field, paged with
//     $first and $after variables — generate glue (zz_stagesync.go): a
//     <Model>Model function returning the stagesync.TypedModel that reads
//     with it, and Models returning them all, for stagesync.SyncConfig.Typed.
//
// The glue follows the read query: a field removed from it by hand is a
// field the sync leaves alone, documentInStages is what syncs the publish
// state, localizations the other locales. A doc.go with a //go:generate line
// that reruns the same command is written when the package has none.
//
// genqlient runs as a child process, so that the programs importing this
// package (the stagesync binary) link neither genqlient's generator nor
// golang.org/x/tools, which links package testing: always genqlient
// GenqlientVersion, the version go.mod requires, built with the go command
// in a scratch module that pins the dependency versions go.mod selects
// (genqlient.mod, genqlient.sum), then run in OutDir, in this process's
// environment (GOFLAGS, GOPROXY, ... pass through). A genqlient the user's
// module declares as a tool is not used: the glue is written against the
// code this version generates. Generate therefore needs the go command on
// PATH, and the modules in the module cache or from GOPROXY.
package codegen
