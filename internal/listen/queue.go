package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/stagesync/stagesync/internal/sqlitefile"
)

// client is what the listener uses of a River client, whatever its
// driver (river.Client is generic in the driver's transaction type).
type client interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// QueueConfig says where the queue lives and how its jobs run.
type QueueConfig struct {
	// URL is the queue's database: a postgres:// or postgresql:// URL for
	// PostgreSQL (several listeners may share it), else the path of an
	// SQLite file (created when missing).
	URL string
	// Workers, when set, makes the client work jobs (else it only inserts,
	// lists and retries them, as `stagesync jobs` does).
	Workers *river.Workers
	// PeriodicJobs are inserted on their schedules by the elected leader.
	PeriodicJobs []*river.PeriodicJob
	// MaxAttempts bounds the attempts of a job before it is discarded (the
	// failed list); default 10.
	MaxAttempts int
	// RetryBase is the wait before the second attempt; each later one
	// waits twice as long, up to 10 minutes (default 1 s).
	RetryBase time.Duration
	// JobTimeout bounds one attempt (default 10 minutes); a job left
	// running by a process that died is rescued after RescueAfter (default
	// JobTimeout + 1 minute) and run again.
	JobTimeout, RescueAfter time.Duration
	// Logger receives River's logs (default: discarded below warnings).
	Logger *slog.Logger
}

// queue is an open River client and what must be closed with it.
type queue struct {
	client
	close func()
}

// isPostgres reports whether url names a PostgreSQL database.
func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// openQueue opens the queue's database, migrates River's tables and
// returns a client.
func openQueue(ctx context.Context, cfg QueueConfig) (*queue, error) {
	if cfg.URL == "" {
		return nil, errors.New("listen: no queue database")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 10 * time.Minute
	}
	if cfg.RescueAfter <= cfg.JobTimeout {
		cfg.RescueAfter = cfg.JobTimeout + time.Minute
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rc := &river.Config{
		Logger:               logger,
		MaxAttempts:          cfg.MaxAttempts,
		RetryPolicy:          retryPolicy{base: cfg.RetryBase},
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		PeriodicJobs:         cfg.PeriodicJobs,
		FetchCooldown:        20 * time.Millisecond,
		FetchPollInterval:    200 * time.Millisecond,
	}
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		// One job at a time per process: runs share the state database,
		// which a run locks, and the jobs of one entry keep their order.
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}}
	}
	if isPostgres(cfg.URL) {
		pool, err := pgxpool.New(ctx, cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("listen: queue %s: %w", redactURL(cfg.URL), err)
		}
		driver := riverpgxv5.New(pool)
		if err := migrate(ctx, driver); err != nil {
			pool.Close()
			return nil, fmt.Errorf("listen: queue %s: %w", redactURL(cfg.URL), err)
		}
		c, err := river.NewClient(driver, rc)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("listen: queue: %w", err)
		}
		return &queue{client: c, close: pool.Close}, nil
	}
	db, err := sqlitefile.Open(cfg.URL, "journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("listen: queue %s: %w", cfg.URL, err)
	}
	// River's SQLite driver works with one connection at a time.
	db.SetMaxOpenConns(1)
	driver := riversqlite.New(db)
	if err := migrate(ctx, driver); err != nil {
		db.Close()
		return nil, fmt.Errorf("listen: queue %s: %w", cfg.URL, err)
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("listen: queue: %w", err)
	}
	return &queue{client: c, close: func() { db.Close() }}, nil
}

// migrate brings River's tables up to date.
func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// redactURL drops the password of a database URL.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":***@" + rest[at+1:]
}

// retryPolicy waits base, then twice as long each attempt, at most 10 min.
type retryPolicy struct{ base time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := p.base
	for i := 1; i < job.Attempt && d < 10*time.Minute; i++ {
		d *= 2
	}
	return time.Now().Add(min(d, 10*time.Minute))
}
