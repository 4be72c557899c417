package emulator

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stagesync/stagesync/internal/filestackemu"
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
	// MaxQueryBody and MaxMutationBody cap the body of a query and of a
	// mutation request (413 above it), as Hygraph's plans do (Growth: 15 KB
	// and 70 KB); 0 means only MaxBody applies.
	MaxQueryBody, MaxMutationBody int64
	// ConcurrentQueries and ConcurrentMutations cap the operations in flight
	// at once: every root field of every request being served counts, so a
	// request of 40 aliased mutations is 40 operations. A request that
	// would take the count above the cap is answered 429 "Too many
	// requests", as Hygraph does. 0 means no cap.
	ConcurrentQueries, ConcurrentMutations int
	// ServiceTime is how long one operation takes once admitted: the query
	// fields of a request run side by side (one ServiceTime), its mutation
	// fields one after another (one ServiceTime each, each leaving the
	// count of operations in flight when it is done). 0 means no wait.
	ServiceTime time.Duration
	// MaxQueryCost refuses a query whose estimated number of objects is
	// larger (every list of objects counts its first/last, or the default
	// page, per parent object), with a request error and HTTP 400, before
	// anything is read; 0 means no cap.
	MaxQueryCost int64
	// MaxResponseBytes stops building a query's response once it is larger
	// and answers a request error with HTTP 400; 0 means no cap.
	MaxResponseBytes int
	// Rate is the sustained requests per second (token bucket); 0 means no limit.
	Rate float64
	// Burst is the bucket size; 0 means max(1, Rate).
	Burst int
	// RetryAfter adds a Retry-After header to 429 responses. Hygraph
	// documents none, so it is off by default.
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
	Requests  atomic.Int64 // HTTP requests received
	Rejected  atomic.Int64 // requests answered 401/403/413/429 or failed by injected faults
	Throttled atomic.Int64 // requests answered 429 (rate or concurrent operations), also in Rejected
	TooLarge  atomic.Int64 // requests answered 413, also in Rejected
	// QueryOperations and MutationOperations count the operations (root
	// fields) of the requests the gate let through to GraphQL.
	QueryOperations, MutationOperations atomic.Int64
	Queries                             atomic.Int64 // GraphQL query operations executed
	Mutations                           atomic.Int64 // root mutation fields executed
	EntriesWritten                      atomic.Int64 // documents created, updated, deleted, published or unpublished
}

// CountersSnapshot is a copy of Counters at one moment.
type CountersSnapshot struct {
	Requests, Rejected, Throttled, TooLarge, Queries, Mutations, EntriesWritten int64
	QueryOperations, MutationOperations                                         int64
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() CountersSnapshot {
	return CountersSnapshot{
		Requests:           c.Requests.Load(),
		Rejected:           c.Rejected.Load(),
		Throttled:          c.Throttled.Load(),
		TooLarge:           c.TooLarge.Load(),
		QueryOperations:    c.QueryOperations.Load(),
		MutationOperations: c.MutationOperations.Load(),
		Queries:            c.Queries.Load(),
		Mutations:          c.Mutations.Load(),
		EntriesWritten:     c.EntriesWritten.Load(),
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
	assetFS     *filestackemu.Server
	assetKey    string
	uploadMode  UploadMode
	// publishDropsLocales: a publish removes from the target stage the
	// named locales the DRAFT version lacks (WithPublishDropsLocales).
	publishDropsLocales bool
	webhooks            []Webhook // WithWebhook
	plan                string    // WithPlan; "" for none
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

// Plan is the set of limits of one Hygraph plan, as WithPlan applies them.
type Plan struct {
	// Name is the plan's name: hobby, growth or enterprise.
	Name string
	// Rate is the requests per second (Limits.Rate).
	Rate float64
	// ConcurrentQueries and ConcurrentMutations are the operations in
	// flight at once (Limits.ConcurrentQueries, ConcurrentMutations).
	ConcurrentQueries, ConcurrentMutations int
	// MaxQueryBody and MaxMutationBody are the request body caps in bytes.
	MaxQueryBody, MaxMutationBody int64
	// DefaultPage and MaxPage are the page sizes (WithDefaultPage, WithMaxPage).
	DefaultPage, MaxPage int
	// MaxQueryCost is the emulator's query cost cap (Limits.MaxQueryCost).
	// Hygraph publishes no figure; the presets refuse what no page-by-page
	// reader asks for (ten nested lists) and let every such reader through.
	MaxQueryCost int64
}

// presetQueryCost is the query cost cap of the plan presets.
const presetQueryCost = 1_000_000

// plans are the presets of WithPlan, from Hygraph's "API limits" page:
// requests per second, concurrent query/mutation operations, and query and
// mutation body caps (10/30, 15/70, 20/80 KB). Enterprise rates are custom
// (up to 500 req/s); the preset takes 100.
var plans = map[string]Plan{
	"hobby":      {Name: "hobby", Rate: 5, ConcurrentQueries: 10, ConcurrentMutations: 5, MaxQueryBody: 10_000, MaxMutationBody: 30_000, DefaultPage: DefaultPageSize, MaxPage: DefaultMaxPage, MaxQueryCost: presetQueryCost},
	"growth":     {Name: "growth", Rate: 25, ConcurrentQueries: 30, ConcurrentMutations: 10, MaxQueryBody: 15_000, MaxMutationBody: 70_000, DefaultPage: DefaultPageSize, MaxPage: DefaultMaxPage, MaxQueryCost: presetQueryCost},
	"enterprise": {Name: "enterprise", Rate: 100, ConcurrentQueries: 60, ConcurrentMutations: 20, MaxQueryBody: 20_000, MaxMutationBody: 80_000, DefaultPage: DefaultPageSize, MaxPage: DefaultMaxPage, MaxQueryCost: presetQueryCost},
}

// PlanNames lists the plans WithPlan knows.
var PlanNames = []string{"hobby", "growth", "enterprise"}

// LookupPlan returns the preset of the plan named name (case-insensitive).
func LookupPlan(name string) (Plan, error) {
	p, ok := plans[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Plan{}, fmt.Errorf("unknown plan %q: want one of %s", name, strings.Join(PlanNames, ", "))
	}
	return p, nil
}

// WithPlan applies the limits of a Hygraph plan (hobby, growth or
// enterprise; see Plan) to every limit left at zero by WithLimits,
// WithMaxPage and WithDefaultPage, whatever the order of the options: each
// value can still be set on its own. NewStage fails on an unknown name.
func WithPlan(name string) Option { return func(c *config) { c.plan = name } }

// applyPlan fills the zero limits of c from its plan.
func (c *config) applyPlan() error {
	if c.plan == "" {
		return nil
	}
	p, err := LookupPlan(c.plan)
	if err != nil {
		return err
	}
	l := &c.limits
	if l.Rate == 0 {
		l.Rate = p.Rate
	}
	if l.ConcurrentQueries == 0 {
		l.ConcurrentQueries = p.ConcurrentQueries
	}
	if l.ConcurrentMutations == 0 {
		l.ConcurrentMutations = p.ConcurrentMutations
	}
	if l.MaxQueryBody == 0 {
		l.MaxQueryBody = p.MaxQueryBody
	}
	if l.MaxMutationBody == 0 {
		l.MaxMutationBody = p.MaxMutationBody
	}
	if l.MaxQueryCost == 0 {
		l.MaxQueryCost = p.MaxQueryCost
	}
	if c.maxPage == 0 {
		c.maxPage = p.MaxPage
	}
	if c.defaultPage == 0 {
		c.defaultPage = p.DefaultPage
	}
	return nil
}
