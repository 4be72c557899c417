// Command hotels copies the content of the hotels project — destinations,
// hotels and their reviews, with relations, publish state and German
// localizations — from its delta stage to master, the way the original
// GraphCMS tutorial "Syncing Content Between Stages" did, in Go: typed
// models read with the project's own queries (queries/, generated.go,
// zz_stagesync.go) and a typed transform (transform.go) that fills
// Hotel.twitterHandle, newly required in master, and normalizes it.
//
// With no configuration it runs against two stages emulated in-process:
// delta, seeded with a few hundred entries and the hotels' photos (assets
// whose files are in delta's emulated Filestack bucket; seed.go), and an
// empty master with a bucket of its own. It shows the schema pre-flight and
// the plan, syncs with progress — the photos first: files stored into
// master's bucket, then their asset entries — prints the report, the files
// and bytes copied and their checksums compared with delta's, and syncs
// once more to show that nothing is left to write and no byte is uploaded:
//
//	go run ./examples/hotels
//
// To sync real stages, set STAGESYNC_SOURCE_ENDPOINT, STAGESYNC_SOURCE_TOKEN,
// STAGESYNC_DEST_ENDPOINT and STAGESYNC_DEST_TOKEN, in the environment or in
// a .env file (the tutorial's GCMS_PAT_SOURCE and GCMS_PAT_DEST are read for
// the tokens too). Nothing is seeded then. The photos are copied too when
// master is on the new asset system, or, on the legacy one, when
// STAGESYNC_DEST_FILESTACK_KEY holds the Filestack API key of its bucket;
// otherwise hotels link only the photos master has already.
//
// Flags:
//
//	-state FILE   keep the identity map in FILE between runs (for real stages)
//	-dry-run      stop after the plan; write nothing
//	-quiet        no progress lines
//	-env FILE     the .env file to read (default .env)
//	-rate N       requests per second to real stages to start from (default 5)
//	-serve ADDR   serve the emulated stages (delta seeded, master empty) at
//	              ADDR until interrupted, for trying the stagesync CLI on them
//
// Exit codes: 0 synced; 1 some entries failed or the sync stopped; 2 usage
// or configuration error; 3 the schema pre-flight refused the sync.
package main

//go:generate go run ../../cmd/stagesync schema synth schema/delta.yaml -o schema/delta.graphql
//go:generate go run ../../cmd/stagesync schema synth schema/master.yaml -o schema/master.graphql
//go:generate go run ../../cmd/stagesync gen --config genqlient.yaml --schema schema/delta.graphql --models Destination,Hotel,Review --out .

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailures = 1
	exitUsage    = 2
	exitBlocked  = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command-line flags.
type options struct {
	state   string
	dryRun  bool
	quiet   bool
	envFile string
	rate    float64
	serve   string
}

// run runs the example with args and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fl := flag.NewFlagSet("hotels", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.state, "state", "", "keep the identity map in `FILE` between runs (of real stages: emulated ones live as long as the process)")
	fl.BoolVar(&o.dryRun, "dry-run", false, "stop after the plan; write nothing")
	fl.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	fl.StringVar(&o.envFile, "env", ".env", "read stage endpoints and tokens not in the environment from `FILE`")
	fl.Float64Var(&o.rate, "rate", 5, "requests per second to real stages to start from (adapts down on 429)")
	fl.StringVar(&o.serve, "serve", "", "serve the emulated stages at `ADDR` (e.g. 127.0.0.1:4466) until interrupted")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "hotels: unexpected arguments %q\n", fl.Args())
		return exitUsage
	}
	if o.rate <= 0 {
		fmt.Fprintf(stderr, "hotels: -rate %v: must be positive\n", o.rate)
		return exitUsage
	}
	env, err := readStagesEnv(o.envFile)
	if err != nil {
		fmt.Fprintln(stderr, "hotels:", err)
		return exitUsage
	}
	if o.serve != "" {
		return serve(ctx, o.serve, env, stdout, stderr)
	}
	if _, err := env.configured(); err != nil {
		fmt.Fprintln(stderr, "hotels:", err)
		return exitUsage
	}
	j, err := newJob(ctx, o, env, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "hotels:", err)
		return exitFailures
	}
	defer j.Close()
	code, err := j.Run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "hotels:", err)
	}
	return code
}

// handledChanges are the schema changes between delta and master that the
// transforms take care of, with how, for the pre-flight.
var handledChanges = map[string]string{
	"Hotel.twitterHandle": fmt.Sprintf("transformHotel normalizes every handle and fills %q where there is none", defaultTwitterHandle),
}

// job is one run of the example: the two stages and what the syncs did.
type job struct {
	opts                     options
	out                      io.Writer
	source, dest             *stagesync.Stage
	sourceSchema, destSchema *ast.Schema
	state                    *stagesync.State // the identity map, when there is no state file
	emu                      *emulation       // nil for real stages
	assets                   *stagesync.AssetOptions
	skipAssets               bool // the photos cannot be copied: link only those master has

	// Filled by Run.
	first, second   *stagesync.Report
	secondMutations int64     // mutations the second sync sent to the emulated master
	copied          [2]copied // the photos each sync copied (first, second)
}

// copied is what the asset model of one sync copied.
type copied struct {
	assets, total int   // assets done and to do, as the sync counted them
	bytes         int64 // bytes of files copied, as the sync counted them
	// stored and storedBytes are the files and bytes the emulated
	// Filestack stored into master's bucket during the sync (emulated
	// stages only).
	stored, storedBytes int64
}

// newJob connects to the real stages env names, or starts the emulated
// ones and seeds delta.
func newJob(ctx context.Context, o options, env stagesEnv, out io.Writer) (*job, error) {
	j := &job{opts: o, out: out}
	real, err := env.configured()
	if err != nil {
		return nil, err
	}
	if real {
		rate := stagesync.WithRateLimit(stagesync.RateLimit{Initial: o.rate})
		j.source = stagesync.NewStage("source", env.sourceEndpoint, env.sourceToken, rate)
		j.dest = stagesync.NewStage("destination", env.destEndpoint, env.destToken, rate)
		if j.sourceSchema, err = schema.Introspect(ctx, env.sourceEndpoint, schema.IntrospectOptions{Token: env.sourceToken}); err != nil {
			return nil, fmt.Errorf("%s: %w", j.source, err)
		}
		if j.destSchema, err = schema.Introspect(ctx, env.destEndpoint, schema.IntrospectOptions{Token: env.destToken}); err != nil {
			return nil, fmt.Errorf("%s: %w", j.dest, err)
		}
		fmt.Fprintf(out, "hotels: syncing %s to %s\n", j.source, j.dest)
		if err := j.assetsOfRealStages(ctx, env.destFilestackKey); err != nil {
			return nil, err
		}
	} else {
		if j.emu, err = startEmulation("127.0.0.1:0", "", ""); err != nil {
			return nil, fmt.Errorf("start the emulated stages: %w", err)
		}
		sum, err := seedDelta(ctx, j.emu.delta)
		if err != nil {
			j.Close()
			return nil, err
		}
		j.source = localStage("delta", j.emu.deltaURL, j.emu.deltaToken)
		j.dest = localStage("master", j.emu.masterURL, j.emu.masterToken)
		j.sourceSchema, j.destSchema = j.emu.deltaSchema, j.emu.masterSchema
		// The photos: stored from delta's bucket into master's, the
		// source's hashes read to copy identical files once and to check
		// each copy.
		j.assets = &stagesync.AssetOptions{
			Files:       j.emu.files.Client(j.emu.masterKey),
			SourceFiles: j.emu.files.Client(j.emu.deltaKey),
			Concurrency: 8,
		}
		fmt.Fprintf(out, "hotels: syncing delta to master, both emulated in-process (no %s set)\n", envSourceEndpoint)
		fmt.Fprintf(out, "seeded delta: %s\n", sum)
	}
	if o.state == "" {
		j.state = stagesync.NewState(j.source.Endpoint(), j.dest.Endpoint())
	}
	return j, nil
}

// assetsOfRealStages decides how real stages' assets are synced: copied
// when master needs no key or key is its bucket's Filestack API key,
// otherwise left out (hotels link the photos master has).
func (j *job) assetsOfRealStages(ctx context.Context, key string) error {
	cfg := j.config()
	needs, err := stagesync.NeedsAssets(ctx, &cfg)
	if err != nil {
		return err
	}
	switch {
	case len(needs.Fields) == 0:
	case needs.Files && key == "":
		j.skipAssets = true
		fmt.Fprintf(j.out, "hotels: %s reference assets and %s is on the legacy asset system: set %s to the Filestack API key of its bucket to copy them; linking only the assets it has\n",
			strings.Join(needs.Fields, ", "), j.dest, envDestFilestackKey)
	case needs.Files:
		j.assets = &stagesync.AssetOptions{Files: filestack.New(key)}
	default:
		j.assets = &stagesync.AssetOptions{}
	}
	return nil
}

// localStage is a Stage for an emulated stage: no rate limit, quick retries.
func localStage(name, endpoint, token string) *stagesync.Stage {
	return stagesync.NewStage(name, endpoint, token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond),
		stagesync.WithMaxConcurrency(8))
}

// Close stops the emulated stages, if any.
func (j *job) Close() {
	if j.emu != nil {
		_ = j.emu.Close()
	}
}

// config is the sync of the three typed models.
func (j *job) config() stagesync.SyncConfig {
	return stagesync.SyncConfig{
		Source: j.source, Dest: j.dest,
		SourceSchema: j.sourceSchema, DestSchema: j.destSchema,
		// Written in relation order by the engine, whatever the order here.
		Typed: []stagesync.Model{
			DestinationModel(nil),
			HotelModel(transformHotel),
			ReviewModel(nil),
		},
		Handled: slices.Sorted(maps.Keys(handledChanges)),
		// Stages that are not clones of each other have different ids;
		// slugs identify destinations and hotels in both.
		Match:      map[string]string{"Destination": "slug", "Hotel": "slug"},
		StatePath:  j.opts.state,
		State:      j.state,
		Assets:     j.assets,
		SkipAssets: j.skipAssets,
	}
}

// Run shows the pre-flight and the plan, syncs, prints the report and
// syncs again. It returns the exit code, and the error that stopped it.
func (j *job) Run(ctx context.Context) (int, error) {
	cfg := j.config()
	if err := j.preflight(cfg); err != nil {
		return exitUsage, err
	}

	dry := cfg
	dry.DryRun = true
	_, plan, err := stagesync.Sync(ctx, dry)
	if code, err := syncError(err); err != nil {
		return code, err
	}
	fmt.Fprintln(j.out, "\nplan (a dry run: what the sync will do):")
	printPlan(j.out, plan)
	if j.opts.dryRun {
		return exitOK, nil
	}

	live := cfg
	var printer func(stagesync.Event)
	if !j.opts.quiet {
		fmt.Fprintln(j.out, "\nsync:")
		printer = progressPrinter(j.out)
	}
	j.first, err = j.sync(ctx, live, &j.copied[0], printer)
	if code, err := syncError(err); err != nil {
		return code, err
	}
	fmt.Fprintln(j.out, "\nreport:")
	if _, err := j.first.WriteTo(j.out); err != nil {
		return exitFailures, err
	}
	if j.assets != nil {
		j.printAssets()
	}

	// Everything is in master now: a second sync reads both stages,
	// finds every entry unchanged and writes nothing.
	var before int64
	if j.emu != nil {
		before = j.emu.master.Counters().Mutations
	}
	j.second, err = j.sync(ctx, cfg, &j.copied[1], nil)
	if code, err := syncError(err); err != nil {
		return code, err
	}
	var read, unchanged, written int
	for _, m := range j.second.Models() {
		read += m.Read
		unchanged += m.Unchanged
		written += m.Created + m.Updated + m.Deleted + m.Published
	}
	fmt.Fprintf(j.out, "\nsecond sync: %d entries read, %d unchanged, ", read, unchanged)
	if written == 0 {
		fmt.Fprint(j.out, "nothing written")
	} else {
		fmt.Fprintf(j.out, "%d written", written)
	}
	if j.emu != nil {
		j.secondMutations = j.emu.master.Counters().Mutations - before
		fmt.Fprintf(j.out, " (%d mutations on master; %d files, %d bytes uploaded to its bucket)",
			j.secondMutations, j.copied[1].stored, j.copied[1].storedBytes)
	} else if j.assets != nil {
		fmt.Fprintf(j.out, " (%d bytes of files copied)", j.copied[1].bytes)
	}
	fmt.Fprintln(j.out)

	if failed := len(j.first.Failures()) + len(j.second.Failures()); failed > 0 {
		return exitFailures, fmt.Errorf("%d entries failed", failed)
	}
	return exitOK, nil
}

// sync runs one sync, counting what its asset model copied into c and
// passing its progress events to progress (when not nil).
func (j *job) sync(ctx context.Context, cfg stagesync.SyncConfig, c *copied, progress func(stagesync.Event)) (*stagesync.Report, error) {
	cfg.Progress = func(e stagesync.Event) { // one event at a time: Sync serializes them
		if e.Phase == stagesync.PhaseAssets {
			c.assets, c.total, c.bytes = e.Done, e.Total, e.Bytes
		}
		if progress != nil {
			progress(e)
		}
	}
	var before fileCounts
	if j.emu != nil {
		before = j.emu.stored()
	}
	report, _, err := stagesync.Sync(ctx, cfg)
	if j.emu != nil {
		after := j.emu.stored()
		c.stored, c.storedBytes = after.files-before.files, after.bytes-before.bytes
	}
	return report, err
}

// printAssets prints what the first sync copied of the photos and, for
// emulated stages, compares the files in master's bucket with delta's.
func (j *job) printAssets() {
	c := j.copied[0]
	fmt.Fprintf(j.out, "\nassets: %d of %d assets synced, %d bytes of files copied", c.assets, c.total, c.bytes)
	if j.emu == nil {
		fmt.Fprintln(j.out)
		return
	}
	fmt.Fprintf(j.out, "; master's Filestack bucket stored %d files, %d bytes\n", c.stored, c.storedBytes)
	same, total, diffs := j.emu.compareFiles()
	fmt.Fprintf(j.out, "checksums: %d of %d of master's photos have the SHA-256 of delta's file of the same name\n", same, total)
	for _, d := range diffs {
		fmt.Fprintln(j.out, "  differs:", d)
	}
}

// syncError maps an error of stagesync.Sync to an exit code.
func syncError(err error) (int, error) {
	var pre *stagesync.PreflightError
	switch {
	case err == nil:
		return exitOK, nil
	case errors.As(err, &pre):
		return exitBlocked, err
	default:
		return exitFailures, err
	}
}

// preflight prints the schema changes between the stages that concern the
// synced models, and how each is handled. Sync runs the same check before
// it writes anything and refuses changes nobody handles.
func (j *job) preflight(cfg stagesync.SyncConfig) error {
	src, err := schema.Discover(cfg.SourceSchema)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Source, err)
	}
	dst, err := schema.Discover(cfg.DestSchema)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Dest, err)
	}
	var models []string
	for _, m := range cfg.Typed {
		models = append(models, m.ModelName())
	}
	fmt.Fprintln(j.out, "\npre-flight (the schema changes from source to destination that concern the synced models):")
	shown := 0
	for _, c := range schema.Diff(src, dst) {
		if c.Severity == schema.SeverityInfo || !slices.Contains(models, c.Model) {
			continue
		}
		shown++
		name := c.Model
		if c.Field != "" {
			name += "." + c.Field
		}
		fmt.Fprintf(j.out, "  %s %s [%s]: %s\n", c.Severity, name, c.Class, c.Message)
		if how, ok := handledChanges[name]; ok && c.Severity == schema.SeverityNeedsTransform {
			fmt.Fprintf(j.out, "    handled: %s\n", how)
		} else {
			fmt.Fprintln(j.out, "    not handled: the sync will refuse to start")
		}
	}
	if shown == 0 {
		fmt.Fprintf(j.out, "  none: the schemas agree on %v\n", models)
	} else {
		fmt.Fprintln(j.out, "  (without a transform or default for each, Sync refuses to start before writing anything)")
	}
	return nil
}

// printPlan prints the per-model counts of a plan as a table.
func printPlan(w io.Writer, p *stagesync.Plan) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tcreate\tupdate\tunchanged\tpublish\tpublished≠draft\t")
	for _, m := range p.Models() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", m.Name, m.Create, m.Update, m.Unchanged, m.Publish, m.PublishedDiffers)
	}
	tw.Flush()
}

// progressPrinter prints one line per progress event of a sync.
func progressPrinter(w io.Writer) func(stagesync.Event) {
	return func(e stagesync.Event) {
		switch {
		case e.Phase == stagesync.PhaseDone:
		case e.Model == "":
			fmt.Fprintf(w, "  %s\n", e.Phase)
		case e.Phase == stagesync.PhaseAssets && e.Total > 0:
			if e.Done%20 != 0 && e.Done != e.Total {
				return // an event per asset: a line per 20
			}
			fmt.Fprintf(w, "  %-9s %-12s %d/%d, %d/%d bytes\n", e.Phase, e.Model, e.Done, e.Total, e.Bytes, e.TotalBytes)
		case e.Total > 0:
			fmt.Fprintf(w, "  %-9s %-12s %d/%d\n", e.Phase, e.Model, e.Done, e.Total)
		default:
			fmt.Fprintf(w, "  %-9s %-12s %d...\n", e.Phase, e.Model, e.Done)
		}
	}
}

// serve serves the emulated stages at addr, delta seeded, until ctx ends:
// a local pair of stages to try the stagesync CLI and this example on.
// Tokens come from the environment (STAGESYNC_SOURCE_TOKEN,
// STAGESYNC_DEST_TOKEN) or are generated.
func serve(ctx context.Context, addr string, env stagesEnv, stdout, stderr io.Writer) int {
	emu, err := startEmulation(addr, env.sourceToken, env.destToken)
	if err != nil {
		fmt.Fprintln(stderr, "hotels:", err)
		return exitUsage
	}
	defer emu.Close()
	sum, err := seedDelta(ctx, emu.delta)
	if err != nil {
		fmt.Fprintln(stderr, "hotels:", err)
		return exitFailures
	}
	fmt.Fprintf(stdout, "seeded delta: %s\n", sum)
	fmt.Fprintln(stdout, "serving delta and master until interrupted; to sync them with this example:")
	fmt.Fprintf(stdout, "export %s=%s\n", envSourceEndpoint, emu.deltaURL)
	fmt.Fprintf(stdout, "export %s=%s\n", envSourceToken, emu.deltaToken)
	fmt.Fprintf(stdout, "export %s=%s\n", envDestEndpoint, emu.masterURL)
	fmt.Fprintf(stdout, "export %s=%s\n", envDestToken, emu.masterToken)
	<-ctx.Done()
	n := emu.master.Counters()
	fmt.Fprintf(stdout, "stopped; master served %d requests, %d mutations\n", n.Requests, n.Mutations)
	return exitOK
}
