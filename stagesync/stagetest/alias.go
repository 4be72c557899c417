package stagetest

// The emulator lives in internal/emulator, so that `stagesync serve` does
// not link package testing; stagetest is its front door for tests and
// programs: these are its names, documented there
// (go doc github.com/stagesync/stagesync/internal/emulator).

import (
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/emulator"
	"github.com/stagesync/stagesync/internal/filestackemu"
)

const (
	BoltFile            = emulator.BoltFile
	DefaultMaxPage      = emulator.DefaultMaxPage
	DefaultPageSize     = emulator.DefaultPageSize
	LegacyChunkSize     = emulator.LegacyChunkSize
	LegacyMaxImport     = emulator.LegacyMaxImport
	ManagementPath      = emulator.ManagementPath
	UploadAsync         = emulator.UploadAsync
	UploadComplete      = emulator.UploadComplete
	UploadCreatePending = emulator.UploadCreatePending
	UploadError         = emulator.UploadError
	UploadErrorCode     = emulator.UploadErrorCode
	UploadManual        = emulator.UploadManual
	UploadOnNextRequest = emulator.UploadOnNextRequest
	UploadUpdatePending = emulator.UploadUpdatePending
)

var (
	PlanNames = emulator.PlanNames
)

type (
	Backend          = emulator.Backend
	BoltBackend      = emulator.BoltBackend
	Counters         = emulator.Counters
	CountersSnapshot = emulator.CountersSnapshot
	LegacyCursor     = emulator.LegacyCursor
	LegacyFailure    = emulator.LegacyFailure
	Limits           = emulator.Limits
	Option           = emulator.Option
	Plan             = emulator.Plan
	Project          = emulator.Project
	ProjectConfig    = emulator.ProjectConfig
	Stage            = emulator.Stage
	UploadMode       = emulator.UploadMode
	Webhook          = emulator.Webhook
	WebhookStats     = emulator.WebhookStats
	Write            = emulator.Write
)

// LookupPlan is emulator.LookupPlan.
func LookupPlan(name string) (Plan, error) { return emulator.LookupPlan(name) }

// NewProject is emulator.NewProject.
func NewProject(cfg ProjectConfig) *Project { return emulator.NewProject(cfg) }

// NewStage is emulator.NewStage.
func NewStage(s *ast.Schema, opts ...Option) (*Stage, error) { return emulator.NewStage(s, opts...) }

// OpenBolt is emulator.OpenBolt.
func OpenBolt(dir string) (*BoltBackend, error) { return emulator.OpenBolt(dir) }

// WithAssets is emulator.WithAssets.
func WithAssets(fs *filestackemu.Server, apiKey string) Option {
	return emulator.WithAssets(fs, apiKey)
}

// WithBackend is emulator.WithBackend.
func WithBackend(b Backend) Option { return emulator.WithBackend(b) }

// WithClock is emulator.WithClock.
func WithClock(now func() time.Time) Option { return emulator.WithClock(now) }

// WithDefaultPage is emulator.WithDefaultPage.
func WithDefaultPage(n int) Option { return emulator.WithDefaultPage(n) }

// WithLimits is emulator.WithLimits.
func WithLimits(l Limits) Option { return emulator.WithLimits(l) }

// WithMaxPage is emulator.WithMaxPage.
func WithMaxPage(n int) Option { return emulator.WithMaxPage(n) }

// WithPlan is emulator.WithPlan.
func WithPlan(name string) Option { return emulator.WithPlan(name) }

// WithPublishDropsLocales is emulator.WithPublishDropsLocales.
func WithPublishDropsLocales() Option { return emulator.WithPublishDropsLocales() }

// WithSeed is emulator.WithSeed.
func WithSeed(seed int64) Option { return emulator.WithSeed(seed) }

// WithUploadMode is emulator.WithUploadMode.
func WithUploadMode(m UploadMode) Option { return emulator.WithUploadMode(m) }

// WithWebhook is emulator.WithWebhook.
func WithWebhook(h Webhook) Option { return emulator.WithWebhook(h) }
