// Package stagetest emulates a Hygraph content stage locally, in the manner
// of net/http/httptest: tests, examples and benchmarks run against the same
// GraphQL API as a real Hygraph project, with no network and no account.
//
// A Stage serves any Hygraph content-API schema (pulled from a project with
// `stagesync schema pull` or synthesized with schema.Synthesize): list,
// single, connection and node queries with where, orderBy and cursor
// pagination; create, update, upsert, delete, publish and unpublish
// mutations and their ...ManyConnection batch forms, with nested relation,
// component and localization inputs; DRAFT and PUBLISHED versions with
// Hygraph's publish semantics. Everything is derived from the SDL by
// Hygraph's naming conventions, so no configuration is needed.
//
// NewServer starts a stage on a local port for a test:
//
//	srv := stagetest.NewServer(t, s)
//	client := srv.Client() // sends the bearer token
//	resp, err := client.Post(srv.URL, "application/json", body)
//
// New does the same for a program (Shutdown stops it). A *Stage is also an
// http.Handler; `stagesync serve` puts one behind its own http.Server, with
// a bbolt Backend to keep the content across restarts.
//
// The emulator itself lives under internal/emulator, so that the stagesync
// binary does not link package testing (cmd/stagesync's
// TestBinaryDoesNotLinkTesting checks it): the stage in internal/emulator,
// its request gate (Limits, Counters, Plan) in internal/emulator/gate, its
// document store and backends (Backend, BoltBackend, Write) in
// internal/emulator/store. The names here are theirs, as type aliases and
// thin wrappers, documented there: go doc
// github.com/stagesync/stagesync/internal/emulator (and /gate, /store).
//
// # Behaviour
//
// Lists default to the PUBLISHED stage and the default locale, like the
// SDL's argument defaults say. Without orderBy, entries come in creation
// order (createdAt, then id, ascending); orderBy ties are broken by id, and
// nulls sort last ascending and first descending. Cursors are entry ids. A
// list returns 10 entries unless first or last says otherwise (see
// WithDefaultPage); first and last above the maximum page size (100, see
// WithMaxPage), negative values, and first+before or last+after are errors.
// Nested relation lists take the same arguments. The Connection forms of
// the ...Many mutations touch at most the maximum page size of entries; the
// deprecated BatchPayload forms touch every match.
//
// Writes go to DRAFT. Publishing copies the draft version (base fields and
// the requested locales) to PUBLISHED and sets publishedAt; localizations
// published before that the draft no longer has stay published (unless
// WithPublishDropsLocales: Hygraph does not document which) until
// unpublished by name (unpublish with locales); reading
// PUBLISHED after a draft edit shows the published version; an entry read
// in PUBLISHED shows only related entries that are published too. Two-way
// relations are kept consistent on both sides in every stage. Each root
// mutation field is applied as a whole or not at all, in order; a failing
// one leaves the others applied and its error carries its path. New ids
// look like Hygraph's (25 characters, "c" and lower-case letters and
// digits); DateTime values are returned as Hygraph prints them
// ("2024-05-01T12:00:00.000000+00:00").
//
// # Assets
//
// With WithAssets a stage has an asset bucket in a Filestack emulator
// (package filestacktest), and the url of an Asset is the emulator's CDN
// URL of its handle, so its file can be downloaded. SeedAsset and
// SeedAssetFrom store a file and seed its Asset entry. On the legacy asset
// system (AssetCreateInput requires handle), createAsset stores the handle,
// fileName, mimeType, size and dimensions it is given. On the new asset
// system (AssetCreateInput has uploadUrl), createAsset and updateAsset with
// an uploadUrl leave the asset ASSET_CREATE_PENDING (ASSET_UPDATE_PENDING)
// while the stage fetches the URL into its bucket; the asset then becomes
// ASSET_UPLOAD_COMPLETE with handle, size and mimeType set, or
// ASSET_ERROR_UPLOAD with upload.error { code message }. When the fetch
// happens is up to WithUploadMode: in the background (the default), before
// the next request (deterministic), or on ProcessUploads. A fetch is
// never retried by the stage; the Filestack emulator's fault hooks decide
// which fail.
//
// Without WithAssets, handle falls back to the id and url points at
// Hygraph's asset CDN.
//
// # Projects
//
// A Project puts several stages together as the environments of one
// project, on one handler: each environment's content API at
// /content/<project>/<environment>, and at ManagementPath the Management
// API query that lists them (viewer → TokenViewer.project → environments
// with name, displayName, endpoint and, on the legacy asset system,
// assetConfig.apiKey), behind its own bearer token. NewProjectServer
// starts one for a test; `stagesync serve --env` serves one.
//
// # Legacy import and export
//
// Every stage also answers POST <endpoint>/import and <endpoint>/export,
// the legacy GraphCMS v1 API of the Normalized Data Format, with its
// failure mode: a relation or list value imported twice is there twice
// (see legacy.go and package importapi). Stage.Import and Stage.Export
// are the same without HTTP.
//
// Not emulated: users (createdBy & co. are null), version history and
// scheduled publishing (empty lists; schedule mutations fail), rich-text
// embeds, asset transformations (url ignores its argument) and pre-signed
// upload forms (upload.requestPostData is null).
package stagetest
