// Package emulator is the Hygraph content-stage emulator behind package
// stagetest (its front door for tests and programs) and `stagesync serve`:
// the stage (catalog, store, reads, writes, publishing, assets, legacy
// import/export, webhooks), served behind the request gate of package
// gate (tokens, request rate, concurrent operations, body and cost caps,
// faults, plan presets), and projects of several environments with the
// Management API queries `stagesync init` asks. GraphQL requests are
// executed by package gqlexec. It does not import package testing. See
// package stagetest for the behaviour it emulates.
package emulator
