package stagetest

// The emulator lives under internal/emulator, so that `stagesync serve`
// does not link package testing (checked by cmd/stagesync's
// TestBinaryDoesNotLinkTesting); stagetest is its front door for tests and
// programs: these are the names of its packages, documented there (go doc
// github.com/stagesync/stagesync/internal/emulator, and its gate and store).

import (
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/emulator"
	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/filestackemu"
)

const (
	// BoltFile is the name of the database file OpenBolt keeps in its directory.
	BoltFile = store.BoltFile
	// DefaultMaxPage is the largest `first`/`last` a query may ask for unless
	// WithMaxPage says otherwise, as on Hygraph projects created after mid-2022.
	DefaultMaxPage = emulator.DefaultMaxPage
	// DefaultPageSize is how many entries a list returns when neither `first` nor
	// `last` is given, as on Hygraph projects created after mid-2022.
	DefaultPageSize = emulator.DefaultPageSize
	// LegacyChunkSize is the most bytes of elements one /export answer holds.
	LegacyChunkSize = emulator.LegacyChunkSize
	// LegacyMaxImport is the legacy import's hard cap on a request body (its soft
	// cap, which clients keep to, is 1 MB); larger bodies get 413.
	LegacyMaxImport = emulator.LegacyMaxImport
	// ManagementPath is the path at which a Project serves its Management API.
	ManagementPath = emulator.ManagementPath
	// The upload modes (UploadMode) and the upload states of an asset on the
	// new asset system.
	UploadAsync         = emulator.UploadAsync
	UploadComplete      = emulator.UploadComplete
	UploadCreatePending = emulator.UploadCreatePending
	UploadError         = emulator.UploadError
	// UploadErrorCode is the error code of an asset whose uploadUrl could not be
	// fetched.
	UploadErrorCode     = emulator.UploadErrorCode
	UploadManual        = emulator.UploadManual
	UploadOnNextRequest = emulator.UploadOnNextRequest
	UploadUpdatePending = emulator.UploadUpdatePending
)

var (
	// PlanNames lists the plans WithPlan knows.
	PlanNames = gate.PlanNames
)

type (
	// Backend is where an emulated stage keeps its documents between restarts.
	Backend = store.Backend
	// BoltBackend is a Backend that keeps a stage's documents in an embedded bbolt
	// database, one bbolt bucket per Write.Bucket.
	BoltBackend = store.BoltBackend
	// Counters count what a stage has served.
	Counters = gate.Counters
	// CountersSnapshot is a copy of Counters at one moment.
	CountersSnapshot = gate.CountersSnapshot
	// LegacyCursor is the position of a legacy export.
	LegacyCursor = emulator.LegacyCursor
	// LegacyFailure is one failed value of a legacy import.
	LegacyFailure = emulator.LegacyFailure
	// Limits configures how an emulated stage behaves at the HTTP level, in front
	// of GraphQL: authentication, request caps, rate limiting, latency and
	// injected faults.
	Limits = gate.Limits
	// Option configures a Stage or Server.
	Option = emulator.Option
	// Plan is the set of limits of one Hygraph plan, as WithPlan applies them.
	Plan = gate.Plan
	// Project is an emulated Hygraph project: environments, each an emulated
	// Stage, and the Management API queries that list them.
	Project = emulator.Project
	// ProjectConfig configures an emulated project (see NewProject).
	ProjectConfig = emulator.ProjectConfig
	// Stage is one emulated Hygraph content stage (an environment's content API):
	// documents in DRAFT and PUBLISHED, served over GraphQL.
	Stage = emulator.Stage
	// UploadMode says when a stage on the new asset system fetches the uploadUrl
	// of an asset created or updated with one.
	UploadMode = emulator.UploadMode
	// Webhook is a webhook of an emulated stage: after every committed change the
	// stage posts a Hygraph-shaped event to URL, as Hygraph does: the body is
	// {"operation": "create"|"update"|"delete"|"publish"|"unpublish", "data":
	// {"__typename", "id", "stage", system fields, non-localized fields, relations
	// as {"__typename", "id"}}}; create, update and delete carry the DRAFT
	// version, publish and unpublish the PUBLISHED one.
	Webhook = emulator.Webhook
	// WebhookStats counts a stage's webhook deliveries.
	WebhookStats = emulator.WebhookStats
	// Write is one record to store; a nil Value deletes the record.
	Write = store.Write
)

// LookupPlan returns the preset of the plan named name (case-insensitive).
func LookupPlan(name string) (Plan, error) { return gate.LookupPlan(name) }

// NewProject returns an emulated project with no environments yet (see
// AddEnvironment).
func NewProject(cfg ProjectConfig) *Project { return emulator.NewProject(cfg) }

// NewStage returns an emulated stage serving s, a Hygraph content-API
// schema (pulled from a project or synthesized). With a Backend (see
// WithBackend), every stored document is loaded first and every mutation
// is written through before it is answered.
func NewStage(s *ast.Schema, opts ...Option) (*Stage, error) { return emulator.NewStage(s, opts...) }

// OpenBolt opens, or creates, the database file stage.db in dir, creating
// dir if needed. It fails after a short wait, rather than hanging, when
// another process holds the file, and with an error rather than a panic when
// the file is not a valid database.
func OpenBolt(dir string) (*BoltBackend, error) { return store.OpenBolt(dir) }

// WithAssets gives the stage an asset bucket: the bucket of apiKey in the
// Filestack emulator fs. The url of an Asset is then the emulator's CDN
// URL of its handle, so the asset's file can be downloaded; on the new
// asset system (AssetCreateInput has uploadUrl), createAsset and
// updateAsset with an uploadUrl fetch it into the bucket (see
// WithUploadMode). With a nil fs the stage starts a Filestack emulator of
// its own, closed with the stage, and an empty apiKey is made up.
func WithAssets(fs *filestackemu.Server, apiKey string) Option {
	return emulator.WithAssets(fs, apiKey)
}

// WithBackend persists the stage's documents in b (default: memory only).
func WithBackend(b Backend) Option { return emulator.WithBackend(b) }

// WithClock sets the clock used for createdAt/updatedAt/publishedAt.
func WithClock(now func() time.Time) Option { return emulator.WithClock(now) }

// WithDefaultPage sets how many entries a list returns when a query gives
// neither `first` nor `last` (default 10, as on Hygraph projects created
// after mid-2022; older projects use 100).
func WithDefaultPage(n int) Option { return emulator.WithDefaultPage(n) }

// WithLimits sets the HTTP-level limits, auth and faults.
func WithLimits(l Limits) Option { return emulator.WithLimits(l) }

// WithMaxPage sets the largest page a query may ask for (default 100).
func WithMaxPage(n int) Option { return emulator.WithMaxPage(n) }

// WithPlan applies the limits of a Hygraph plan (hobby, growth or
// enterprise; see Plan) to every limit left at zero by WithLimits,
// WithMaxPage and WithDefaultPage, whatever the order of the options: each
// value can still be set on its own. NewStage fails on an unknown name.
func WithPlan(name string) Option { return emulator.WithPlan(name) }

// WithPublishDropsLocales makes a publish remove, from the stage published
// to, the localizations of the locales it names (every locale when it
// names none) that the DRAFT version no longer has. By default a publish
// copies the DRAFT localizations of those locales and keeps the other
// localizations published before, a deleted one included. Which of the
// two Hygraph does is not documented; a client that unpublishes the
// locales it wants gone works with both.
func WithPublishDropsLocales() Option { return emulator.WithPublishDropsLocales() }

// WithSeed makes generated ids deterministic.
func WithSeed(seed int64) Option { return emulator.WithSeed(seed) }

// WithUploadMode sets when uploadUrls are fetched (default UploadAsync).
func WithUploadMode(m UploadMode) Option { return emulator.WithUploadMode(m) }

// WithWebhook makes the stage send webhooks (see Webhook); it may be given
// more than once.
func WithWebhook(h Webhook) Option { return emulator.WithWebhook(h) }
