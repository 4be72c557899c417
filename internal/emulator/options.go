package emulator

import (
	"time"

	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/filestackemu"
)

// config collects what the options set.
type config struct {
	limits      gate.Limits
	backend     store.Backend
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
func WithLimits(l gate.Limits) Option { return func(c *config) { c.limits = l } }

// WithBackend persists the stage's documents in b (default: memory only).
func WithBackend(b store.Backend) Option { return func(c *config) { c.backend = b } }

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
	p, err := gate.LookupPlan(c.plan)
	if err != nil {
		return err
	}
	gate.ApplyPlan(&c.limits, p)
	if c.maxPage == 0 {
		c.maxPage = p.MaxPage
	}
	if c.defaultPage == 0 {
		c.defaultPage = p.DefaultPage
	}
	return nil
}
