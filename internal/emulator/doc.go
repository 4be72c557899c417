// Package emulator is the Hygraph content-stage emulator behind package
// stagetest (its front door for tests and programs) and `stagesync serve`:
// the stage (catalog, store, reads, writes, publishing, assets, legacy
// import/export, webhooks), its gate (tokens, request rate, concurrent
// operations, body and cost caps, faults) and projects of several
// environments with the Management API queries `stagesync init` asks. It
// does not import package testing. See package stagetest for the
// behaviour it emulates.
package emulator
