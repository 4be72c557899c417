// Package emulator is the Hygraph content-stage emulator behind package
// stagetest (its front door for tests and programs) and `stagesync serve`.
// It owns the stage: what each root field of the schema does, reads
// (where, orderBy, cursor pages, nested relations), writes (nested
// relation, component and localization inputs), publishing, assets,
// legacy import/export and webhooks, and projects of several environments
// with the Management API queries `stagesync init` asks. It composes
// package gqlexec (the GraphQL executor), package store (the catalog of
// models, the documents, transactions and their Backend) and package gate
// (tokens, request rate, concurrent operations, body and cost caps,
// faults and plan presets, in front of every request). It does not import
// package testing. See package stagetest for the behaviour it emulates.
package emulator
