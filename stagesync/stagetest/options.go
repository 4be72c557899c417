package stagetest

import (
	"sync/atomic"
	"time"

	"github.com/stagesync/stagesync/filestack/filestacktest"
)

// Limits configures how an emulated stage behaves at the HTTP level, in front
// of GraphQL: authentication, request caps, rate limiting, latency and
// injected faults. The zero value means no limits, no faults and no auth.
type Limits struct {
	// Token is the bearer token with full access. Auth is on when Token or
	// ReadToken is set; with both empty every request is accepted.
	Token string
	// ReadToken is a bearer token that may query but gets 403 on mutations.
	ReadToken string
	// MaxBody caps the request body in bytes (413 above it); 0 means no cap.
	MaxBody int64
	// Rate is the sustained requests per second (token bucket); 0 means no limit.
	Rate float64
	// Burst is the bucket size; 0 means max(1, Rate).
	Burst int
	// RetryAfter adds a Retry-After header to 429 responses.
	RetryAfter bool
	// Latency is added to every request before it is handled.
	Latency time.Duration
	// FailRate is the probability (0..1) that a request fails with a 5xx
	// before it is handled.
	FailRate float64
	// DropRate is the probability (0..1) that the connection is closed
	// without a response before the request is handled.
	DropRate float64
	// Seed makes the injected faults deterministic.
	Seed int64
}

// Counters count what a stage has served. Safe for concurrent use.
type Counters struct {
	Requests       atomic.Int64 // HTTP requests received
	Rejected       atomic.Int64 // requests answered 401/403/413/429 or failed by injected faults
	Queries        atomic.Int64 // GraphQL query operations executed
	Mutations      atomic.Int64 // root mutation fields executed
	EntriesWritten atomic.Int64 // documents created, updated, deleted, published or unpublished
}

// CountersSnapshot is a copy of Counters at one moment.
type CountersSnapshot struct {
	Requests, Rejected, Queries, Mutations, EntriesWritten int64
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() CountersSnapshot {
	return CountersSnapshot{
		Requests:       c.Requests.Load(),
		Rejected:       c.Rejected.Load(),
		Queries:        c.Queries.Load(),
		Mutations:      c.Mutations.Load(),
		EntriesWritten: c.EntriesWritten.Load(),
	}
}

// config collects what the options set.
type config struct {
	limits      Limits
	backend     Backend
	maxPage     int              // maximum `first`/`last`; default 100
	defaultPage int              // entries when neither `first` nor `last` is given; default 10
	clock       func() time.Time // default time.Now
	seed        int64            // seeds generated ids; 0 = random
	assets      bool             // the stage has an asset bucket (WithAssets)
	assetFS     *filestacktest.Server
	assetKey    string
	uploadMode  UploadMode
	// publishDropsLocales: a publish removes from the target stage the
	// named locales the DRAFT version lacks (WithPublishDropsLocales).
	publishDropsLocales bool
	webhooks            []Webhook // WithWebhook
}

// Option configures a Stage or Server.
type Option func(*config)

// WithLimits sets the HTTP-level limits, auth and faults.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithBackend persists the stage's documents in b (default: memory only).
func WithBackend(b Backend) Option { return func(c *config) { c.backend = b } }

// WithMaxPage sets the largest page a query may ask for (default 100).
func WithMaxPage(n int) Option { return func(c *config) { c.maxPage = n } }

// WithClock sets the clock used for createdAt/updatedAt/publishedAt.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithSeed makes generated ids deterministic.
func WithSeed(seed int64) Option { return func(c *config) { c.seed = seed } }

// WithDefaultPage sets how many entries a list returns when a query gives
// neither `first` nor `last` (default 10, as on Hygraph projects created
// after mid-2022; older projects use 100).
func WithDefaultPage(n int) Option { return func(c *config) { c.defaultPage = n } }

// WithPublishDropsLocales makes a publish remove, from the stage published
// to, the localizations of the locales it names (every locale when it
// names none) that the DRAFT version no longer has. By default a publish
// copies the DRAFT localizations of those locales and keeps the other
// localizations published before, a deleted one included. Which of the
// two Hygraph does is not documented; a client that unpublishes the
// locales it wants gone works with both.
func WithPublishDropsLocales() Option { return func(c *config) { c.publishDropsLocales = true } }
