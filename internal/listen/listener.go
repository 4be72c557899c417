package listen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
)

// Config configures a Listener.
type Config struct {
	// Sync is the template of every run: Source, Dest, their schemas
	// (introspected once at Open when nil), the state (StatePath is opened
	// once, for the listener's life; with a PostgreSQL queue, which other
	// listeners may share, it is opened by each run, so that the listeners
	// share the identity map, taking turns: on one machine with a state
	// file, on several with a postgres:// StatePath), Models (the configured set: events
	// of other models are ignored), Mirror (deletes mirrored), Match,
	// Transform, Defaults, Handled and the rest. Entries and Delta are set
	// per job.
	Sync stagesync.SyncConfig
	// Queue is the job queue.
	Queue QueueConfig
	// Secret verifies the gcms-signature header of webhooks; required.
	Secret string
	// MaxAge is how far a signature's timestamp may lie from now (default
	// 5 minutes); older (or later) ones are refused as stale.
	MaxAge time.Duration
	// Environment, when set, is the source environment the webhooks must
	// be signed for (the env of the gcms-signature header); a webhook
	// signed for another environment is refused with 403 and nothing is
	// enqueued. Empty: not checked.
	Environment string
	// Every, when set, runs a delta sync on that interval.
	Every time.Duration
	// Logger receives the listener's logs (default: discarded).
	Logger *slog.Logger
}

// Listener turns webhooks into sync-entry jobs and works them.
type Listener struct {
	cfg    Config
	q      *queue
	log    *slog.Logger
	state  *stagesync.State // opened by Open, else nil
	models map[string]bool  // the configured set
	known  map[string]bool  // the source's models
	// referrers are the relation fields pointing at each model's entries
	// (see resyncReferrers).
	referrers map[string]*referrers
	runMu     sync.Mutex // one sync at a time (they share the state)
	metrics   metrics
	stopSub   func()
	subDone   chan struct{}
}

// Open prepares a listener: it reads both stages' schemas when not given,
// opens the state and the queue. Start works the jobs.
func Open(ctx context.Context, cfg Config) (_ *Listener, err error) {
	if cfg.Secret == "" {
		return nil, errors.New("listen: no webhook secret: unsigned webhooks are not accepted")
	}
	if cfg.Sync.Source == nil || cfg.Sync.Dest == nil {
		return nil, errors.New("listen: a source and a destination stage are needed")
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 5 * time.Minute
	}
	l := &Listener{cfg: cfg, log: cfg.Logger}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.cfg.Sync.SourceSchema == nil {
		if l.cfg.Sync.SourceSchema, err = introspect(ctx, cfg.Sync.Source); err != nil {
			return nil, err
		}
	}
	if l.cfg.Sync.DestSchema == nil {
		if l.cfg.Sync.DestSchema, err = introspect(ctx, cfg.Sync.Dest); err != nil {
			return nil, err
		}
	}
	src, err := schema.Discover(l.cfg.Sync.SourceSchema)
	if err != nil {
		return nil, fmt.Errorf("listen: %s: %w", cfg.Sync.Source, err)
	}
	l.known, l.models = map[string]bool{}, map[string]bool{}
	for _, m := range src.Models {
		if m.Component {
			continue
		}
		l.known[m.Name] = true
		if len(cfg.Sync.Models) == 0 && !m.System && m.Writable && m.Name != "Asset" {
			l.models[m.Name] = true
		}
		if m.Name == "Asset" && cfg.Sync.Assets != nil {
			l.models[m.Name] = true // copied by single-entry runs too
		}
	}
	for _, m := range cfg.Sync.Models {
		if !l.known[m] {
			return nil, fmt.Errorf("listen: %s has no model %q", cfg.Sync.Source, m)
		}
		l.models[m] = true
	}
	l.referrers = referrersOf(src, l.models)
	// A state other listeners may share (a PostgreSQL queue, or a
	// PostgreSQL state) is opened by each run, taking turns on its lock.
	if cfg.Sync.StatePath != "" && cfg.Sync.State == nil && !isPostgres(cfg.Queue.URL) && !isPostgres(cfg.Sync.StatePath) {
		if l.state, err = stagesync.LoadState(cfg.Sync.StatePath, cfg.Sync.Source.Endpoint(), cfg.Sync.Dest.Endpoint()); err != nil {
			return nil, err
		}
		l.cfg.Sync.State, l.cfg.Sync.StatePath = l.state, ""
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &syncEntryWorker{l: l})
	river.AddWorker(workers, &deltaSyncWorker{l: l})
	qc := cfg.Queue
	qc.Workers = workers
	if cfg.Every > 0 {
		qc.PeriodicJobs = append(qc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.Every),
			func() (river.JobArgs, *river.InsertOpts) { return DeltaSyncArgs{}, nil },
			&river.PeriodicJobOpts{ID: KindDeltaSync}))
	}
	if l.q, err = openQueue(ctx, qc); err != nil {
		return nil, err
	}
	return l, nil
}

// Models returns the configured set of models, sorted.
func (l *Listener) Models() []string { return slices.Sorted(maps.Keys(l.models)) }

// Start works the queue's jobs until Stop.
func (l *Listener) Start(ctx context.Context) error {
	events, cancel := l.q.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	l.stopSub, l.subDone = cancel, make(chan struct{})
	go func() {
		defer close(l.subDone)
		for ev := range events {
			l.metrics.job(ev)
		}
	}()
	return l.q.Start(ctx)
}

// Stop stops working jobs, letting the one running finish (within ctx).
func (l *Listener) Stop(ctx context.Context) error {
	err := l.q.Stop(ctx)
	if l.stopSub != nil {
		l.stopSub()
		<-l.subDone
		l.stopSub = nil
	}
	return err
}

// Close releases the queue and the state (after Stop).
func (l *Listener) Close() {
	if l.q != nil {
		l.q.close()
		l.q = nil
	}
	if l.state != nil {
		_ = l.state.Close()
		l.state = nil
	}
}

// Pending counts the jobs not finished: available, scheduled, running,
// retrying.
func (l *Listener) Pending(ctx context.Context) (int, error) {
	return countJobs(ctx, l.q, pendingStates...)
}

// countJobs counts the jobs in states, a page at a time.
func countJobs(ctx context.Context, q client, states ...rivertype.JobState) (int, error) {
	n := 0
	params := river.NewJobListParams().States(states...).First(1000)
	for {
		res, err := q.JobList(ctx, params)
		if err != nil {
			return 0, err
		}
		n += len(res.Jobs)
		if len(res.Jobs) < 1000 {
			return n, nil
		}
		params = params.After(res.LastCursor)
	}
}

// introspect reads a stage's content-API schema.
func introspect(ctx context.Context, s *stagesync.Stage) (*ast.Schema, error) {
	var data json.RawMessage
	req := &graphql.Request{Query: schema.IntrospectionQuery, OpName: "IntrospectionQuery"}
	if err := s.Client().MakeRequest(ctx, req, &graphql.Response{Data: &data}); err != nil {
		return nil, fmt.Errorf("listen: %s: introspection: %w", s, err)
	}
	sdl, err := schema.IntrospectionSDL(data)
	if err != nil {
		return nil, fmt.Errorf("listen: %s: introspection: %w", s, err)
	}
	return schema.LoadString("introspection of "+s.Endpoint(), sdl)
}
