package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/internal/emulator"
	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/schema"
)

func init() { rootSubcommands = append(rootSubcommands, newServeCmd) }

// serveShutdownTimeout bounds how long serve waits for requests in flight
// when it is told to stop.
const serveShutdownTimeout = 10 * time.Second

// serveConfig is what the serve command's flags set.
type serveConfig struct {
	schemas   []string
	addr      string
	token     string
	tokenSet  bool // --token given, possibly empty to turn auth off
	readToken string
	dataDir   string
	limits    gate.Limits
	maxPage   int
	project   projectFlags // --env: several environments of one project (serve_project.go)
	plan      string       // --plan: a Hygraph plan preset
	defPage   int          // --default-page
	// webhook: --webhook, --webhook-secret-env, --webhook-models
	webhook, webhookSecretEnv string
	webhookModels             []string
}

func newServeCmd() *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve --schema FILE [FILE...]",
		Short: "Serve a local Hygraph stage emulator for a schema",
		Long: `Serve the GraphQL content API of a Hygraph stage, emulated locally from one or
more SDL files (pulled from a project or synthesized), until interrupted.
Schema files are given with --schema, as arguments, or both.

Requests need "Authorization: Bearer <token>". Without --token a token is
generated and printed; --token= (empty) turns auth off. --read-token adds a
token that may query but gets 403 on mutations.

With --data the stage's documents are kept in DIR/stage.db and survive
restarts (and crashes: a write is on disk before it is acknowledged); without
it they live in memory. Limits and faults emulate Hygraph's: --rate/--burst
answer 429 "Too many requests", --max-body answers 413, --fail-rate answers
500/502/503, --drop-rate closes connections, --seed makes faults repeatable.
--plan hobby|growth|enterprise sets a Hygraph plan's limits at once:
requests per second, concurrent query/mutation operations (every root field
of every request in flight counts; 429 above), query and mutation body caps
(413 above), pages (default 10, maximum 100) and a query cost cap; every
limit given on its own flag wins over the plan's. 429s carry no Retry-After
unless --retry-after is given, as on Hygraph.

The endpoint is printed on a line of its own, "endpoint: http://...", for
scripts.

With --env NAME=FILE (repeated) it serves several environments of one
project instead, each at /content/PROJECT/NAME (--project), and the
Management API queries that list them at /management/graphql (printed as
"management: http://..."), which "stagesync init" reads.

On SIGINT or SIGTERM the server finishes the requests in flight,
closes the data directory and prints what it served.`,
		Example: `  stagesync serve --schema blog.graphql --addr 127.0.0.1:0 --data ./stage-data
  stagesync serve --schema blog.graphql --token dev --rate 5 --retry-after --max-page 100
  stagesync serve --env master=master.graphql --env dev=dev.graphql --project hotels --token dev
  stagesync serve --schema blog.graphql --plan growth --service-time 20ms --latency 50ms`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c.schemas = append(c.schemas, args...)
			c.tokenSet = cmd.Flags().Changed("token")
			c.project.mgmtSet = cmd.Flags().Changed("management-token")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// After the first signal, a second one kills the process as
			// usual instead of waiting for the graceful shutdown.
			context.AfterFunc(ctx, stop)
			if len(c.project.envs) > 0 {
				return serveProject(ctx, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			return serveWithContext(ctx, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&c.schemas, "schema", nil, "SDL `FILE` of the stage's schema (repeat or comma-separate for several)")
	f.StringVar(&c.addr, "addr", "127.0.0.1:4466", "`HOST:PORT` to listen on; port 0 picks a free one")
	f.StringVar(&c.token, "token", "", "bearer `TOKEN` with full access (default: generated and printed; empty: no auth)")
	f.StringVar(&c.readToken, "read-token", "", "bearer `TOKEN` that may query but not mutate")
	f.StringVar(&c.dataDir, "data", "", "keep documents in `DIR`/stage.db across restarts (default: in memory)")
	f.Float64Var(&c.limits.Rate, "rate", 0, "sustained requests per second before 429 (0: unlimited)")
	f.IntVar(&c.limits.Burst, "burst", 0, "requests allowed in a burst (default: the rate, at least 1)")
	f.BoolVar(&c.limits.RetryAfter, "retry-after", false, "send Retry-After with 429 responses")
	f.DurationVar(&c.limits.Latency, "latency", 0, "added to every request, e.g. 150ms")
	f.IntVar(&c.maxPage, "max-page", 0, "largest first/last a query may ask for (default 100)")
	f.Int64Var(&c.limits.MaxBody, "max-body", 0, "largest request body in `BYTES` before 413 (0: no cap)")
	f.Float64Var(&c.limits.FailRate, "fail-rate", 0, "probability 0..1 that a request fails with 500/502/503")
	f.Float64Var(&c.limits.DropRate, "drop-rate", 0, "probability 0..1 that a connection is closed without a response")
	f.Int64Var(&c.limits.Seed, "seed", 0, "seed for injected faults (0: random)")
	c.project.register(f)
	f.StringVar(&c.webhook, "webhook", "", "post a Hygraph-shaped webhook to `URL` on every change (queued; 3 s timeout, up to 5 attempts)")
	f.StringVar(&c.webhookSecretEnv, "webhook-secret-env", "", "environment `VAR` holding the secret that signs the webhooks (gcms-signature)")
	f.StringSliceVar(&c.webhookModels, "webhook-models", nil, "send webhooks for these models only (default: every model)")
	f.StringVar(&c.plan, "plan", "", "Hygraph plan preset: "+strings.Join(gate.PlanNames, ", ")+" (limits given on their own flags win)")
	f.IntVar(&c.limits.ConcurrentQueries, "concurrent-queries", 0, "query operations in flight before 429, each root field counted (0: no cap)")
	f.IntVar(&c.limits.ConcurrentMutations, "concurrent-mutations", 0, "mutation operations in flight before 429, each root field counted (0: no cap)")
	f.DurationVar(&c.limits.ServiceTime, "service-time", 0, "time one operation takes (mutations of a request one after another), e.g. 20ms")
	f.Int64Var(&c.limits.MaxQueryBody, "max-query-body", 0, "largest query request body in `BYTES` before 413 (0: --max-body only)")
	f.Int64Var(&c.limits.MaxMutationBody, "max-mutation-body", 0, "largest mutation request body in `BYTES` before 413 (0: --max-body only)")
	f.Int64Var(&c.limits.MaxQueryCost, "max-query-cost", 0, "largest estimated number of objects a query may ask for (0: no cap)")
	f.IntVar(&c.limits.MaxResponseBytes, "max-response-bytes", 0, "largest query response in bytes before it is refused (0: no cap)")
	f.IntVar(&c.defPage, "default-page", 0, "entries a list returns without first/last (default 10)")
	return cmd
}

// validate checks the flag values that cobra cannot.
func (c *serveConfig) validate() error {
	var errs []error
	if len(c.schemas) == 0 && len(c.project.envs) == 0 {
		errs = append(errs, errors.New("no schema: give at least one SDL file with --schema (or environments with --env NAME=FILE)"))
	}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	l := c.limits
	check(l.Rate >= 0, "--rate %v: must not be negative", l.Rate)
	check(l.Burst >= 0, "--burst %d: must not be negative", l.Burst)
	check(l.Latency >= 0, "--latency %v: must not be negative", l.Latency)
	check(c.maxPage >= 0, "--max-page %d: must not be negative", c.maxPage)
	check(l.MaxBody >= 0, "--max-body %d: must not be negative", l.MaxBody)
	check(l.FailRate >= 0 && l.FailRate <= 1, "--fail-rate %v: must be between 0 and 1", l.FailRate)
	check(l.DropRate >= 0 && l.DropRate <= 1, "--drop-rate %v: must be between 0 and 1", l.DropRate)
	check(l.ConcurrentQueries >= 0, "--concurrent-queries %d: must not be negative", l.ConcurrentQueries)
	check(l.ConcurrentMutations >= 0, "--concurrent-mutations %d: must not be negative", l.ConcurrentMutations)
	check(l.ServiceTime >= 0, "--service-time %v: must not be negative", l.ServiceTime)
	check(l.MaxQueryBody >= 0, "--max-query-body %d: must not be negative", l.MaxQueryBody)
	check(l.MaxMutationBody >= 0, "--max-mutation-body %d: must not be negative", l.MaxMutationBody)
	check(l.MaxQueryCost >= 0, "--max-query-cost %d: must not be negative", l.MaxQueryCost)
	check(l.MaxResponseBytes >= 0, "--max-response-bytes %d: must not be negative", l.MaxResponseBytes)
	check(c.defPage >= 0, "--default-page %d: must not be negative", c.defPage)
	if c.plan != "" {
		if _, err := gate.LookupPlan(c.plan); err != nil {
			errs = append(errs, fmt.Errorf("--plan: %w", err))
		}
	}
	return errors.Join(errs...)
}

// serveWithContext serves the stage c describes until ctx is done, then
// shuts down gracefully and prints the counters to stdout. Setup problems
// (flags, schema, data directory, address) are exitUsage errors.
func serveWithContext(ctx context.Context, c serveConfig, stdout, stderr io.Writer) (err error) {
	if err := c.validate(); err != nil {
		return withCode(exitUsage, err)
	}
	s, err := schema.Load(c.schemas...)
	if err != nil {
		return withCode(exitUsage, err)
	}

	limits := c.limits
	limits.Token, limits.ReadToken = c.token, c.readToken
	generated := false
	if !c.tokenSet {
		limits.Token, generated = rand.Text(), true
	}
	opts := []emulator.Option{emulator.WithLimits(limits)}
	if c.maxPage > 0 {
		opts = append(opts, emulator.WithMaxPage(c.maxPage))
	}
	if c.project.assets {
		opts = append(opts, emulator.WithAssets(nil, "")) // a Filestack emulator of its own
	}
	if hook, err := c.webhookOption(); err != nil {
		return withCode(exitUsage, err)
	} else if hook != nil {
		opts = append(opts, hook)
	}
	if c.defPage > 0 {
		opts = append(opts, emulator.WithDefaultPage(c.defPage))
	}
	if c.plan != "" {
		opts = append(opts, emulator.WithPlan(c.plan))
	}
	var backend *store.BoltBackend
	if c.dataDir != "" {
		if backend, err = store.OpenBolt(c.dataDir); err != nil {
			return withCode(exitUsage, err)
		}
		defer func() {
			if cerr := backend.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		opts = append(opts, emulator.WithBackend(backend))
	}

	stage, err := emulator.NewStage(s, opts...)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("%s: %w", strings.Join(c.schemas, ", "), err))
	}
	defer func() {
		if cerr := stage.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--addr: %w", err))
	}
	endpoint := endpointURL(ln.Addr())
	srv := &http.Server{
		Handler:           stage,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute + limits.Latency + 100*limits.ServiceTime,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(stderr, "stagesync: http: ", 0),
	}

	names := make([]string, len(c.schemas))
	for i, p := range c.schemas {
		names[i] = filepath.Base(p)
	}
	fmt.Fprintf(stdout, "stagesync: serving %s at %s", strings.Join(names, ", "), endpoint)
	if generated {
		fmt.Fprintf(stdout, " (token: %s)", limits.Token)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "endpoint: %s\n", endpoint)
	if generated {
		fmt.Fprintf(stdout, "token: %s\n", limits.Token)
	}
	if fs := stage.AssetServer(); fs != nil {
		fmt.Fprintf(stdout, "filestack: %s (API key %s; copy files into it with sync --filestack-url %s)\n", fs.URL(), stage.AssetBucket().APIKey(), fs.URL())
	}
	if backend != nil {
		path := backend.Path()
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		fmt.Fprintf(stdout, "data: %s\n", path)
	}

	if err := serveUntilDone(ctx, srv, ln, stderr); err != nil {
		return fmt.Errorf("serve %s: %w", endpoint, err)
	}
	if err := stage.Close(); err != nil { // closes the backend too
		return fmt.Errorf("close the stage: %w", err)
	}

	n := stage.Counters()
	fmt.Fprintf(stdout, "stagesync: stopped; requests %d, rejected %d, queries %d, mutations %d, entries written %d, answered 429 %d\n",
		n.Requests, n.Rejected, n.Queries, n.Mutations, n.EntriesWritten, n.Throttled)
	return nil
}

// endpointURL is the URL a client on this machine uses to reach addr; an
// unspecified listen address (":4466", "0.0.0.0") is reached at localhost.
func endpointURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// webhookOption is the stage option of --webhook, or nil without it.
func (c *serveConfig) webhookOption() (emulator.Option, error) {
	if c.webhook == "" {
		if c.webhookSecretEnv != "" || len(c.webhookModels) > 0 {
			return nil, errors.New("--webhook-secret-env and --webhook-models need --webhook URL")
		}
		return nil, nil
	}
	h := emulator.Webhook{URL: c.webhook, Models: c.webhookModels}
	if c.webhookSecretEnv != "" {
		if h.Secret = os.Getenv(c.webhookSecretEnv); h.Secret == "" {
			return nil, fmt.Errorf("--webhook-secret-env: environment variable %s is empty or unset", c.webhookSecretEnv)
		}
	}
	return emulator.WithWebhook(h), nil
}

// serveUntilDone serves ln with srv until ctx is done, then shuts it down,
// waiting up to serveShutdownTimeout for the requests in flight before
// closing them. It returns the error of a listener that failed first.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, stderr io.Writer) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served: // Serve only returns early on a listener failure
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serveShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "stagesync: requests still running after %v, closing them: %v\n", serveShutdownTimeout, err)
		_ = srv.Close()
	}
	<-served
	return nil
}
