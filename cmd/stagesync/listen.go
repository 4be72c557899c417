package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/internal/listen"
	"github.com/stagesync/stagesync/stagesync"
)

func init() { rootSubcommands = append(rootSubcommands, newListenCmd, newJobsCmd) }

// defaultSecretEnv is the environment variable of the webhook secret.
const defaultSecretEnv = "STAGESYNC_WEBHOOK_SECRET"

// defaultQueuePath is the queue of listen and jobs without --queue.
var defaultQueuePath = filepath.Join(defaultStateDir, "listen-queue.db")

// listenFlags are the flags of listen beyond the sync's.
type listenFlags struct {
	addr, secretEnv, queue string
	sourceEnv              string
	every, maxAge          time.Duration
	jobTimeout, rescue     time.Duration
	depth                  int
}

func newListenCmd() *cobra.Command {
	var f syncFlags
	var lf listenFlags
	cmd := &cobra.Command{
		Use:   "listen --addr HOST:PORT --from URL --to URL",
		Short: "Keep a destination stage in step with a source stage from Hygraph webhooks",
		Long: `Serve an HTTP endpoint for the source's Hygraph webhooks and keep the destination in
step: each webhook (POST, any path) is verified (the gcms-signature header, signed
with the secret in --secret-env; timestamps more than --max-age from now are
refused), stored as a durable sync-entry job, and answered 202 within Hygraph's 3 s
timeout. Jobs run one at a time: each syncs its entry alone (its draft and published
versions, the relation targets the destination lacks, --depth hops deep; with
--mirror, an entry a delete event names is deleted once the source no longer has it,
and an entry the source does not return for any other event is kept and reported),
through the same engine and state as sync. Events for an entry whose job is still
pending are absorbed by it (a delete event only by another delete event's job). A job that fails is
tried again with backoff, up to 10 attempts, then kept in the failed list
(stagesync jobs). --every runs a delta sync on an interval, for events that never
arrived.

The queue is River's: an SQLite file (--queue PATH, default ` + "`" + `.stagesync/listen-queue.db` + "`" + `)
or, with --queue postgres://..., a PostgreSQL database that several listeners share.
Listeners take turns on the state: a file on one machine, or with --state
postgres://... a PostgreSQL database or schema, for listeners on several machines.

Answers: 202 accepted (or ignored: a model outside --models); 401 bad or stale
signature; 403 signed for another environment than the source's (--source-env); 413 body over 1 MB; 400 malformed JSON, unknown operation or model; 503
the job could not be stored (Hygraph sends it again). GET /healthz and GET
/metrics (Prometheus text: queue depth, webhooks by result, jobs done, failed and
discarded, event-to-write latency) are served on the same address.

In Hygraph, add a webhook for the source environment: URL http://HOST:PORT/, the
models to follow, stages Draft and Published, actions create, update, delete,
publish and unpublish, and a secret key (the value of --secret-env).

The stages, state and models come from the flags or the config file, as for sync;
a pair's listen: key in the file sets this command's flags (addr, secret_env, queue,
every, max_age, depth, source_env, job_timeout).`,
		Example: `  STAGESYNC_WEBHOOK_SECRET=... stagesync listen --addr 0.0.0.0:8484 --from $SRC --to $DST --mirror --every 15m`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListen(cmd, &f, &lf)
		},
	}
	f.register(cmd)
	for _, name := range []string{"report", "plan", "yes", "delta", "json", "quiet"} {
		_ = cmd.Flags().MarkHidden(name)
	}
	fl := cmd.Flags()
	fl.Lookup("mirror").Usage = "delete the destination entry of an entry deleted in the source (without asking; only when nothing failed in its run)"
	fl.StringVar(&lf.addr, "addr", "127.0.0.1:8484", "`HOST:PORT` to listen on; port 0 picks a free one")
	fl.StringVar(&lf.secretEnv, "secret-env", defaultSecretEnv, "environment `VAR` holding the webhook secret")
	fl.StringVar(&lf.queue, "queue", "", "the job queue: an SQLite `PATH` or a postgres:// URL (default "+defaultQueuePath+")")
	fl.DurationVar(&lf.every, "every", 0, "run a delta sync on this interval, e.g. 15m (default: none)")
	fl.DurationVar(&lf.maxAge, "max-age", 5*time.Minute, "refuse webhooks signed longer ago (or later) than this")
	fl.StringVar(&lf.sourceEnv, "source-env", "", "refuse (403) webhooks signed for another environment than `NAME` (default: the environment of a Hygraph --from endpoint, .../content/PROJECT/NAME; none: not checked)")
	fl.IntVar(&lf.depth, "depth", 0, "relation hops followed to targets the destination lacks (default 2; -1: none)")
	fl.DurationVar(&lf.jobTimeout, "job-timeout", 10*time.Minute, "longest a job may run")
	fl.DurationVar(&lf.rescue, "rescue-after", 11*time.Minute, "run again a job left running this long by a listener that died (more than --job-timeout)")
	return cmd
}

func runListen(cmd *cobra.Command, f *syncFlags, lf *listenFlags) error {
	if fl := cmd.Flags().Lookup("models"); fl != nil {
		f.modelsSet = fl.Changed
	}
	if err := f.applyConfigFile(cmd, cmd.ErrOrStderr()); err != nil {
		return withCode(exitUsage, err)
	}
	cfg, err := f.config(false, nil)
	defer f.closeSnapshot()
	if err != nil {
		return withCode(exitUsage, err)
	}
	secret := f.env(lf.secretEnv)
	if secret == "" {
		return withCode(exitUsage, fmt.Errorf("--secret-env: environment variable %s is empty or unset: the listener accepts signed webhooks only", lf.secretEnv))
	}
	if lf.every < 0 || lf.maxAge <= 0 {
		return withCode(exitUsage, errors.New("--every must not be negative and --max-age must be positive"))
	}
	cfg.EntryDepth = lf.depth
	cfg.MaxDelete = f.maxDelete
	if lf.queue == "" {
		lf.queue = defaultQueuePath
	}
	if !strings.Contains(lf.queue, "://") {
		if err := os.MkdirAll(filepath.Dir(lf.queue), 0o755); err != nil {
			return withCode(exitUsage, fmt.Errorf("--queue: %w", err))
		}
	}
	stderr := cmd.ErrOrStderr()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	if cfg.Assets == nil && !cfg.SkipAssets {
		needs, err := stagesync.NeedsAssets(ctx, &cfg)
		if err != nil {
			return withCode(exitFailures, err)
		}
		if len(needs.Fields) > 0 {
			// Assets are copied (per event too) when the destination takes
			// them without more keys, as sync does; else only the assets
			// already in the destination are linked.
			cfg.SkipAssets = true
			if !needs.Files || f.files != nil {
				cfg.SkipAssets, cfg.Assets = false, &stagesync.AssetOptions{Files: f.files}
			}
		}
	}
	env := lf.sourceEnv
	switch {
	case env == "none":
		env = ""
	case env == "":
		env = hygraphEnvironment(cfg.Source.Endpoint())
	}
	l, err := listen.Open(ctx, listen.Config{
		Environment: env,
		Sync:        cfg,
		Queue:       listen.QueueConfig{URL: lf.queue, JobTimeout: lf.jobTimeout, RescueAfter: lf.rescue, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))},
		Secret:      secret,
		MaxAge:      lf.maxAge,
		Every:       lf.every,
		Logger:      logger,
	})
	if err != nil {
		return withCode(exitUsage, err)
	}
	defer l.Close()
	ln, err := net.Listen("tcp", lf.addr)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--addr: %w", err))
	}
	if err := l.Start(ctx); err != nil {
		ln.Close()
		return withCode(exitFailures, err)
	}
	srv := &http.Server{
		Handler:           l.Handler(),
		ReadHeaderTimeout: 3 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(stderr, "stagesync: http: ", 0),
	}
	envNote := "webhooks of environment " + env
	if env == "" {
		envNote = "the webhooks' environment not checked (--source-env)"
	}
	fmt.Fprintf(stderr, "stagesync: listening for webhooks at http://%s/ (models: %s; %s; queue: %s; state: %s)\n",
		ln.Addr(), strings.Join(l.Models(), ", "), envNote, redactQueue(lf.queue), redactQueue(cfg.StatePath))
	if err := serveUntilDone(ctx, srv, ln, stderr); err != nil {
		return withCode(exitFailures, fmt.Errorf("listen %s: %w", ln.Addr(), err))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serveShutdownTimeout)
	defer cancel()
	if err := l.Stop(sctx); err != nil {
		fmt.Fprintf(stderr, "stagesync: stopping the workers: %v\n", err)
	}
	fmt.Fprintln(stderr, "stagesync: stopped; pending jobs stay in the queue for the next start")
	return nil
}

// hygraphEnvironment is the environment of a Hygraph content-API endpoint
// (https://REGION.cdn.hygraph.com/content/PROJECT/ENV, or the older
// .../v2/PROJECT/ENV), or "" for another URL.
func hygraphEnvironment(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) == 3 && (parts[0] == "content" || parts[0] == "v2") && parts[1] != "" && parts[2] != "" {
		return parts[2]
	}
	return ""
}

// redactQueue hides the password of a postgres:// queue or state URL.
func redactQueue(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	at := strings.LastIndex(rest, "@")
	if !ok || at < 0 {
		return u
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":***@" + rest[at+1:]
}

func newJobsCmd() *cobra.Command {
	var queue string
	var retry []int64
	var retryAll bool
	cmd := &cobra.Command{
		Use:   "jobs [--queue PATH|URL] [--retry ID]... [--retry-all]",
		Short: "List the failed jobs of stagesync listen, and retry them",
		Long: `List the jobs of stagesync listen's queue that failed: those that failed every
attempt (discarded) and those waiting for their next attempt (retryable), each with
its kind, entry, attempts and last error. --retry ID makes a job available again
at once (a discarded one gets one more attempt); --retry-all retries every listed
job. A listener working the queue runs them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if queue == "" {
				queue = defaultQueuePath
				if _, err := os.Stat(queue); err != nil {
					return withCode(exitUsage, fmt.Errorf("no queue at %s: give --queue", queue))
				}
			}
			ctx := cmd.Context()
			j, err := listen.OpenJobs(ctx, queue)
			if err != nil {
				return withCode(exitUsage, err)
			}
			defer j.Close()
			failed, err := j.Failed(ctx)
			if err != nil {
				return withCode(exitFailures, err)
			}
			out := cmd.OutOrStdout()
			if len(failed) == 0 {
				fmt.Fprintln(out, "no failed jobs")
			}
			for _, job := range failed {
				msg := ""
				if n := len(job.Errors); n > 0 {
					msg = job.Errors[n-1].Error
				}
				fmt.Fprintf(out, "%d\t%s\t%s\t%s\tattempt %d/%d\t%s\n", job.ID, job.State, job.Kind, job.EncodedArgs, job.Attempt, job.MaxAttempts, msg)
				if retryAll {
					retry = append(retry, job.ID)
				}
			}
			for _, id := range retry {
				if _, err := j.Retry(ctx, id); err != nil {
					return withCode(exitFailures, fmt.Errorf("retry job %d: %w", id, err))
				}
				fmt.Fprintf(out, "retrying job %d\n", id)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&queue, "queue", "", "the job queue: an SQLite `PATH` or a postgres:// URL (default "+defaultQueuePath+")")
	cmd.Flags().Int64SliceVar(&retry, "retry", nil, "retry the job with this `ID` (repeatable)")
	cmd.Flags().BoolVar(&retryAll, "retry-all", false, "retry every failed job listed")
	return cmd
}
