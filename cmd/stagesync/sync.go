package main

import (
	"bufio"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/internal/atomicfile"
	"github.com/stagesync/stagesync/internal/texttable"
	"github.com/stagesync/stagesync/stagesync"
)

func init() {
	rootSubcommands = append(rootSubcommands, newSyncCmd, newPlanCmd)
}

// syncFlags are the flags shared by `sync` and `plan`.
type syncFlags struct {
	from, fromTokenEnv string
	// snapshot is the source opened from a snapshot DIR given as --from
	// (import.go); closed when the run ends.
	snapshot           interface{ Close() error }
	to, toTokenEnv     string
	models             []string
	modelsSet          bool // --models was given, possibly empty
	state              string
	report             string
	planOut            string
	mirror             bool
	maxDelete          int
	yes                bool
	delta              bool
	match              []string
	defaults           []string
	handled            []string
	rate               float64
	rateSet            bool   // --rate was given (or set by the config file)
	hygraphPlan        string // --hygraph-plan
	pageSize           int
	quiet              bool
	json               bool // the plan or the report as JSON on stdout
	assets, skipAssets bool
	verify             bool // sync and apply only
	assetsKeyEnv       string
	filestackURL       string            // --filestack-url: an emulated Filestack's base URL
	files              *filestack.Client // of --assets-key-env
	out                string            // plan -o: the plan file to write
	planDB             *sql.DB           // apply: the plan file to apply

	// The config file (config.go): --config and --pair, the tokens and key
	// written into the file, and its .env (nil without a file).
	configPath, pair              string
	fromToken, toToken, assetsKey string
	dotenv                        map[string]string
}

func (f *syncFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "source stage content-API endpoint (required)")
	fl.StringVar(&f.fromTokenEnv, "from-token-env", "", "environment variable holding the source token")
	fl.StringVar(&f.to, "to", "", "destination stage content-API endpoint (required)")
	fl.StringVar(&f.toTokenEnv, "to-token-env", "", "environment variable holding the destination token")
	fl.StringSliceVar(&f.models, "models", nil, "models to copy, comma-separated (default: every writable model)")
	fl.StringVar(&f.state, "state", "", "state database (an SQLite file, or a postgres:// URL to share it between machines; created if missing): identity map, high-water marks and creates in flight, committed after every page; locked while a sync or plan runs (default: "+defaultStateDir+"/state-<hash of the two endpoints>.db in the working directory)")
	fl.StringVar(&f.report, "report", "", "write the report as JSON to this file")
	fl.StringVar(&f.planOut, "plan", "", "write the plan (changeset) as JSON to this file")
	fl.BoolVar(&f.mirror, "mirror", false, "delete destination entries whose source entry is gone (last, and only when nothing failed; asks first)")
	fl.IntVar(&f.maxDelete, "max-delete", 0, "most entries --mirror may delete (default: 10% of the destination, and none of a model the source has no entries of; -1: no limit)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "write and delete without asking (for scripts); without it sync asks on a terminal before writing, and --mirror deletes nothing unless it can ask")
	fl.BoolVar(&f.delta, "delta", false, "read only source entries updated since the last sync recorded in the state")
	fl.StringArrayVar(&f.match, "match", nil, "Model=field: match entries of Model by the unique field (repeatable)")
	fl.StringArrayVar(&f.defaults, "default", nil, "Model.field=value: fill a field the source has no value for (repeatable)")
	fl.StringArrayVar(&f.handled, "handled", nil, "Model.field or Model.*: accept that schema changes lose this content (repeatable)")
	fl.Float64Var(&f.rate, "rate", 0, "requests per second per stage to start from (default: the plan's; adapts down on 429, probes up when quiet)")
	fl.StringVar(&f.hygraphPlan, "hygraph-plan", "", "the stages' Hygraph plan, the scheduler's starting point: hobby, growth or enterprise (default auto: start as on hobby, 5 req/s and 10/5 query/mutation operations in flight, and probe up to enterprise's figures)")
	fl.IntVar(&f.pageSize, "page-size", 0, "entries per read page (default: 100)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	fl.BoolVar(&f.json, "json", false, "print the plan (plan: as --plan writes it) or the report (sync: as --report writes it) as JSON on standard output, and nothing else there; progress and messages stay on standard error")
	fl.BoolVar(&f.assets, "assets", false, "copy the source's assets (files and entries) before the entries that reference them (default: on when a synced model references Asset and the destination is on the new asset system)")
	fl.BoolVar(&f.skipAssets, "skip-assets", false, "do not copy assets: link only the assets already in the destination (mapped by the state or with the same id)")
	fl.StringVar(&f.assetsKeyEnv, "assets-key-env", "", "environment variable holding the destination's Filestack API key (assets on the legacy asset system)")
	fl.StringVar(&f.filestackURL, "filestack-url", "", "base `URL` of the Filestack API the destination's files are stored through, its CDN at URL/cdn (default: Filestack's own; for the emulated Filestack of `stagesync serve --assets`, which prints it)")
	f.registerConfigFlags(fl)
}

// filestackOptions points a Filestack client at base (an emulated
// Filestack: API at base, CDN at base/cdn); "" keeps Filestack's own.
func filestackOptions(base string) []filestack.Option {
	if base == "" {
		return nil
	}
	base = strings.TrimRight(base, "/")
	return []filestack.Option{filestack.WithAPIURL(base), filestack.WithCDNURL(base + "/cdn")}
}

// defaultStateDir is the directory, in the working directory, of the
// state databases of syncs run without --state.
const defaultStateDir = ".stagesync"

// defaultStatePath is the state database of a sync from source to dest
// run without --state: one per pair of endpoints, so that running the same
// command again finds the identity map of the last run.
func defaultStatePath(source, dest string) string {
	h := sha256.Sum256([]byte(source + "\n" + dest))
	return filepath.Join(defaultStateDir, "state-"+hex.EncodeToString(h[:6])+".db")
}

// config turns the flags into a SyncConfig; errors are usage errors.
func (f *syncFlags) config(dryRun bool, progress io.Writer) (stagesync.SyncConfig, error) {
	var cfg stagesync.SyncConfig
	if f.from == "" || f.to == "" {
		return cfg, errors.New("--from and --to are required")
	}
	if f.rate < 0 || f.rateSet && !(f.rate > 0) || math.IsNaN(f.rate) {
		return cfg, fmt.Errorf("--rate %v: want a number of requests per second above 0", f.rate)
	}
	plan, err := stagesync.LookupPlanLimits(f.hygraphPlan)
	if err != nil {
		return cfg, fmt.Errorf("--hygraph-plan: %w", err)
	}
	if f.rate > 0 {
		plan.Rate, plan.MaxRate = f.rate, max(plan.MaxRate, f.rate)
	}
	if f.pageSize < 0 {
		return cfg, fmt.Errorf("--page-size %d: want 1 to %d entries per page, or 0 for the default", f.pageSize, stagesync.DefaultPageSize)
	}
	if f.assets && f.skipAssets {
		return cfg, errors.New("--assets and --skip-assets: give one or the other")
	}
	if f.modelsSet && len(f.models) == 0 {
		return cfg, errors.New(`--models "": name the models to copy, or leave out --models to copy every model`)
	}
	for i, m := range f.models {
		if f.models[i] = strings.TrimSpace(m); f.models[i] == "" {
			return cfg, fmt.Errorf("--models %q: an empty model name", strings.Join(f.models, ","))
		}
	}
	fromToken, err := f.token(f.fromToken, f.fromTokenEnv, "--from-token-env")
	if err != nil {
		return cfg, err
	}
	toToken, err := f.token(f.toToken, f.toTokenEnv, "--to-token-env")
	if err != nil {
		return cfg, err
	}
	// One scheduler per stage: each learns its own stage's limits.
	cfg.Source = stagesync.NewStage("source", f.from, fromToken, stagesync.WithPlanLimits(plan))
	cfg.Dest = stagesync.NewStage("destination", f.to, toToken, stagesync.WithPlanLimits(plan))
	if err := f.snapshotSource(&cfg); err != nil { // --from DIR: import.go
		return cfg, err
	}
	cfg.Models = f.models
	cfg.SkipAssets = f.skipAssets
	if f.filestackURL != "" && !isHTTPURL(f.filestackURL) {
		return cfg, fmt.Errorf("--filestack-url: %q is not an http(s) URL", f.filestackURL)
	}
	if f.assetsKeyEnv != "" || f.assetsKey != "" {
		key, err := f.token(f.assetsKey, f.assetsKeyEnv, "--assets-key-env")
		if err != nil {
			return cfg, err
		}
		f.files = filestack.New(key, filestackOptions(f.filestackURL)...)
	}
	if f.assets {
		cfg.Assets = &stagesync.AssetOptions{Files: f.files}
	}
	cfg.StatePath = f.state
	if cfg.StatePath == "" {
		// A run never goes without an identity map: without one, running
		// the same sync again would create every entry again.
		cfg.StatePath = defaultStatePath(cfg.Source.Endpoint(), cfg.Dest.Endpoint())
	}
	if f.planOut != "" {
		cfg.PlanLimit = -1 // the plan file lists every entry
	}
	cfg.Mirror = f.mirror
	cfg.MaxDelete = f.maxDelete
	cfg.Delta = f.delta
	cfg.DryRun = dryRun
	cfg.Verify = f.verify && !dryRun
	cfg.Handled = f.handled
	cfg.PageSize = f.pageSize
	if len(f.match) > 0 {
		cfg.Match = map[string]string{}
		for _, m := range f.match {
			model, field, ok := strings.Cut(m, "=")
			if !ok || model == "" || field == "" {
				return cfg, fmt.Errorf("--match %q: want Model=field", m)
			}
			cfg.Match[model] = field
		}
	}
	if len(f.defaults) > 0 {
		cfg.Defaults = map[string]any{}
		for _, d := range f.defaults {
			key, value, ok := strings.Cut(d, "=")
			if !ok || !strings.Contains(key, ".") {
				return cfg, fmt.Errorf("--default %q: want Model.field=value", d)
			}
			cfg.Defaults[key] = parseDefault(value)
		}
	}
	if !dryRun && f.state == "" {
		if err := os.MkdirAll(filepath.Dir(cfg.StatePath), 0o755); err != nil {
			return cfg, fmt.Errorf("state: %w", err)
		}
	}
	if !f.quiet && progress != nil {
		fmt.Fprintf(progress, "state: %s\n", redactQueue(cfg.StatePath))
		cfg.Progress = progressPrinter(progress, dryRun)
	}
	return cfg, nil
}

// parseDefault reads a --default value as JSON (numbers, booleans, quoted
// strings, objects) and falls back to the plain string.
func parseDefault(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v
	}
	return s
}

// tokenFromEnv reads the token from the named environment variable; no
// variable named means a public endpoint.
func tokenFromEnv(name, flag string) (string, error) {
	if name == "" {
		return "", nil
	}
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s: environment variable %s is empty or unset", flag, name)
	}
	return v, nil
}

func newSyncCmd() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync --from URL --to URL",
		Short: "Copy content from one stage to another (dynamic mode: every model, no code)",
		Long: `Copy content from one stage to another: entries, relations, publish state and
localizations, in relation-dependency order, with a schema pre-flight before any write.

The identity map (source id → destination id) is kept in the state database, so that
running the same sync again updates entries instead of creating them twice. Without
--state it is ` + "`" + `.stagesync/state-<hash of --from and --to>.db` + "`" + ` in the working directory.
A state is locked while a sync or plan uses it: a second run on it stops at once.

A config file (stagesync.yaml in the working directory, or --config FILE) names
stages and the pairs to sync between them: without --from and --to the command runs
its pair (--pair NAME when it has several), and --from/--to may name its stages. A
flag given on the command line wins over the file. See the README's "Config file".

Relations to models left out of --models resolve through the identity map or to a
destination entry with the same id (environments cloned from each other share ids);
an entry whose target resolves neither way fails and is not written. Assets are
copied (--assets) when a synced model references Asset and the destination is on the
new asset system; on the legacy one --assets needs --assets-key-env; --skip-assets
links only the assets already in the destination.

At most 20 lines of failed entries are printed; the report file (--report FILE, or
` + "`" + `<state>.report.json` + "`" + ` when there are more and no --report) lists them all.
A failure every entry would share stops the run with one message: the destination
refuses the token (401, 402, 403: a read-only token), a stage's schema has no
Mutation type, or 10 writes in a row fail the same way.

--verify reads both stages again after writing and compares them per model, locale
and stage: entry counts, content hashes and relation order. Entries that failed in
the run (and orphans kept without --mirror) are expected to differ; another
difference is a verify failure (exit 1). The report file has the whole result.

Exit codes: 0 every entry synced; 1 some entries failed (see the report), or
--verify found a difference;
2 usage or configuration error; 3 the schema pre-flight refused to start, or the
run stopped for a failure every entry shares; 130 interrupted (Ctrl-C): run
the same command again to resume.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd, &f, false)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.verify, "verify", false, verifyUsage)
	return cmd
}

// verifyUsage is the help of --verify.
const verifyUsage = "after writing, read both stages again and compare them per model, locale and stage (counts, content hashes, relation order); exit 1 when an entry that did not fail differs"

func newPlanCmd() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "plan --from URL --to URL",
		Short: "Show what a sync would change, without writing (a dry run)",
		Long: `Plan a sync without writing: per model the entries that would be created,
updated, left unchanged or deleted, and per entry the changed fields.
--plan FILE writes the changeset as JSON; -o FILE writes the plan for
` + "`" + `stagesync apply FILE` + "`" + `, which applies exactly it or refuses when a stage changed since. It reads the same state as sync (by default
` + "`" + `.stagesync/state-<hash of --from and --to>.db` + "`" + `, not created by a plan) and locks it while
it runs. A config file (stagesync.yaml or --config FILE) is read as for sync.

Exit codes: 0 planned; 1 some entries would fail (listed); 2 usage or
configuration error; 3 the schema pre-flight would refuse the sync.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd, &f, true)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "write the plan to this file (SQLite), for stagesync apply FILE")
	return cmd
}

func runSync(cmd *cobra.Command, f *syncFlags, dryRun bool) error {
	if fl := cmd.Flags().Lookup("models"); fl != nil {
		f.modelsSet = fl.Changed
	}
	if f.planDB == nil { // apply: the plan file has the flags
		if err := f.applyConfigFile(cmd, cmd.ErrOrStderr()); err != nil {
			return withCode(exitUsage, err)
		}
	}
	if fl := cmd.Flags().Lookup("rate"); fl != nil {
		f.rateSet = fl.Changed // after the config file, which sets it too
	}
	cfg, err := f.config(dryRun, cmd.ErrOrStderr())
	defer f.closeSnapshot()
	if err != nil {
		return withCode(exitUsage, err)
	}
	stopProgress := func(bool) {}
	if cfg.Progress != nil && progressBars(cmd.ErrOrStderr()) {
		cfg.Progress, stopProgress = newBarProgress(cmd.ErrOrStderr(), dryRun)
	}
	defer stopProgress(false)
	var refused error
	deletesConfirmed := false // with the plan (see confirmPlan)
	if f.mirror && !f.yes {
		confirm := confirmDeletes(cmd.InOrStdin(), cmd.ErrOrStderr(), f.to)
		cfg.ConfirmDelete = func(dels []stagesync.Deletion) bool {
			if deletesConfirmed {
				return true
			}
			stopProgress(true) // the question goes below the bars
			return confirm(dels)
		}
	}
	if f.json && dryRun {
		cfg.PlanLimit = -1 // the JSON lists every entry, as the plan file does
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.Assets == nil && !cfg.SkipAssets {
		// Assets are copied when synced models reference them and the
		// destination takes them without more keys (the new asset system,
		// or the legacy one with --assets-key-env).
		needs, err := stagesync.NeedsAssets(ctx, &cfg)
		if err != nil {
			return withCode(exitFailures, err)
		}
		if len(needs.Fields) > 0 && (!needs.Files || f.files != nil) {
			cfg.Assets = &stagesync.AssetOptions{Files: f.files}
			if !f.quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "assets: %s reference Asset: copying assets (--skip-assets leaves them out)\n", strings.Join(needs.Fields, ", "))
			}
		}
	}
	if !dryRun {
		cfg.Confirm = confirmPlan(cmd, f, stopProgress, &refused, &deletesConfirmed)
	}
	report, plan, err := stagesync.Sync(ctx, cfg)
	if errors.Is(err, stagesync.ErrNotConfirmed) && refused != nil {
		return refused
	}
	interrupted := ctx.Err() != nil
	// The bars end before the summary.
	stopProgress(err == nil || isDeleteGuard(err))
	stop() // a second Ctrl-C ends the process at once
	out := cmd.OutOrStdout()
	reportPath := f.report
	if f.json {
		// Standard output has the JSON alone: the report of a sync,
		// the plan of a dry run (its failing entries are in it, op
		// "fail").
		var werr error
		if dryRun && plan != nil {
			werr = plan.WriteJSON(out) // entry by entry, from disk
		} else if !dryRun && report != nil {
			werr = writeJSON(out, report)
		}
		if werr != nil {
			return withCode(exitFailures, werr)
		}
	} else if report != nil && !dryRun {
		// The terminal shows the first failures; the report file has them all.
		more := " (see --report FILE)"
		v := report.Verify()
		if reportPath == "" && (len(report.Failures()) > maxFailureLines || v != nil && len(v.Diffs)+v.More > maxFailureLines) {
			reportPath = strings.TrimSuffix(cfg.StatePath, filepath.Ext(cfg.StatePath)) + ".report.json"
		}
		if reportPath != "" {
			more = " in the report (" + reportPath + ")"
		}
		if _, werr := report.WriteSummary(out, maxFailureLines, more); werr != nil {
			return withCode(exitFailures, werr)
		}
		if v != nil {
			fmt.Fprintln(out)
			if _, werr := v.WriteSummary(out, maxFailureLines, more); werr != nil {
				return withCode(exitFailures, werr)
			}
		}
	}
	if plan != nil && dryRun && !f.json {
		printPlan(out, plan)
		if report != nil && !report.OK() {
			printPlanFailures(out, report)
		}
	}
	if werr := writeJSONFile(reportPath, report); werr != nil {
		return withCode(exitFailures, werr)
	}
	if werr := writeJSONFile(f.planOut, plan); werr != nil {
		return withCode(exitFailures, werr)
	}
	if f.out != "" && plan != nil && (err == nil || isDeleteGuard(err)) {
		if werr := writePlanFile(f.out, planArgs(cmd), plan); werr != nil {
			return withCode(exitFailures, werr)
		}
		if !f.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "plan written to %s; apply it with: stagesync apply %s\n", f.out, f.out)
		}
	}
	var pre *stagesync.PreflightError
	var conf *stagesync.ConfigError
	var sys *stagesync.SystemicError
	switch {
	case interrupted && err != nil:
		written := 0
		if report != nil {
			for _, m := range report.Models() {
				written += m.Created + m.Updated + m.Deleted
			}
		}
		if dryRun {
			return withCode(exitInterrupted, errors.New("interrupted; nothing was written"))
		}
		return withCode(exitInterrupted, fmt.Errorf("interrupted: %d written; resume with the same command", written))
	case errors.As(err, &conf):
		return withCode(exitUsage, &flagsError{conf})
	case errors.As(err, &pre), errors.As(err, &sys):
		return withCode(exitBlocked, err)
	case isDeleteGuard(err):
		return withCode(exitBlocked, err)
	case err != nil:
		return withCode(exitFailures, err)
	case report != nil && !report.OK() && dryRun:
		return withCode(exitFailures, fmt.Errorf("%d entries would fail", len(report.Failures())))
	case report != nil && !report.OK():
		return withCode(exitFailures, fmt.Errorf("%d entries failed", len(report.Failures())))
	}
	return nil
}

// maxFailureLines is the number of lines of failed entries a sync prints;
// the report file lists them all.
const maxFailureLines = 20

// flagsError is a *stagesync.ConfigError told in the terms of the flags:
// one problem a line.
type flagsError struct{ err *stagesync.ConfigError }

func (e *flagsError) Unwrap() error { return e.err }

func (e *flagsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s) with the flags, nothing was read or written:", len(e.err.Problems))
	for _, p := range e.err.Problems {
		key := p.Model
		if p.Field != "" && p.Model != "" {
			key += "."
		}
		key += p.Field
		var flag string
		switch p.Option {
		case "Models":
			flag = fmt.Sprintf("--models %q", p.Model)
		case "Match":
			flag = fmt.Sprintf("--match %s=%s", p.Model, p.Field)
		case "Defaults":
			flag = "--default " + key
		case "Handled":
			flag = "--handled " + key
		case "PageSize":
			flag = "--page-size " + p.Value
		case "Assets":
			flag = "--assets"
			p.Fix = "copy assets (--assets; on the legacy asset system with --assets-key-env) or accept leaving them out (--skip-assets): " +
				"then only assets already in the destination with the same id or mapped by the state are linked."
		default:
			flag = p.Option + " " + key
		}
		fmt.Fprintf(&b, "\n  %s: %s", flag, p.Message)
		if p.Fix != "" {
			b.WriteString(" Fix: " + p.Fix)
		}
	}
	return b.String()
}

// printPlan prints the per-model counts of a plan, as a table like the
// report's.
func printPlan(w io.Writer, p *stagesync.Plan) {
	t := texttable.New("model", "create", "update", "unchanged", "delete", "orphaned", "publish", "unpublish", "skipped", "failed")
	for _, m := range p.Models() {
		t.Row(m.Name, m.Create, m.Update, m.Unchanged, m.Delete, m.Orphaned, m.Publish, m.Unpublish, m.Skipped, m.Failed)
	}
	t.WriteTo(w)
}

// printPlanFailures prints the entries a planned sync would fail, the
// first maxFailureLines of them; the plan's JSON lists every one.
func printPlanFailures(w io.Writer, r *stagesync.Report) {
	failures := r.Failures()
	fmt.Fprintf(w, "\n%d would fail:\n", len(failures))
	for n, f := range failures {
		if n == maxFailureLines {
			fmt.Fprintf(w, "  ... and %d more entries that would fail (plan --json lists every one)\n", len(failures)-n)
			break
		}
		dest := ""
		if f.DestID != "" {
			dest = " -> " + f.DestID
		}
		for i, r := range f.Reasons() {
			if i == 0 {
				fmt.Fprintf(w, "  %s %s%s: %s: %s\n", f.Model, f.SourceID, dest, r.Op, r.Message)
			} else {
				fmt.Fprintf(w, "    and %s: %s\n", r.Op, r.Message)
			}
		}
	}
}

// writeJSONFile writes v as indented JSON to path; "" writes nothing.
func writeJSONFile(path string, v any) error {
	if path == "" || v == nil {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

func isDeleteGuard(err error) bool {
	_, ok := errors.AsType[*stagesync.DeleteGuardError](err)
	return ok
}

// confirmDeletes asks on the terminal before a mirror run deletes: it
// lists every delete and reads y/N. When in is not a terminal it deletes
// nothing and says to pass --yes.
func confirmDeletes(in io.Reader, out io.Writer, dest string) func([]stagesync.Deletion) bool {
	return func(dels []stagesync.Deletion) bool {
		n := 0
		for _, d := range dels {
			n += len(d.DestIDs)
		}
		if !isTerminal(in) {
			fmt.Fprintf(out, "mirror: %d deletes need confirmation and standard input is not a terminal; run with --yes to delete them\n", n)
			return false
		}
		fmt.Fprintf(out, "mirror: about to delete %d entries from %s:\n", n, dest)
		for _, d := range dels {
			for _, id := range d.DestIDs {
				fmt.Fprintf(out, "  %s %s\n", d.Model, id)
			}
		}
		fmt.Fprintf(out, "Delete these %d entries? [y/N] ", n)
		return readYes(in)
	}
}

// readYes reads one line and reports whether it says yes.
func readYes(in io.Reader) bool {
	line, _ := bufio.NewReader(in).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
