package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
)

func init() {
	rootSubcommands = append(rootSubcommands, newImportCmd)
}

func newImportCmd() *cobra.Command {
	var f syncFlags
	var legacy bool
	cmd := &cobra.Command{
		Use:   "import DIR --to URL",
		Short: "Load a snapshot (stagesync export) into a stage, through the same engine as sync",
		Long: `Load a snapshot directory written by ` + "`stagesync export`" + ` into a stage; plain
legacy NDF files (DIR/nodes, DIR/lists, DIR/relations without a manifest) are read
against the destination's schema. The whole snapshot is parsed and checked first —
files that are truncated or malformed, unknown models (_typeName), ids over 25
characters, relations to entries the snapshot does not hold — and nothing is written
when any of it is wrong; each problem names the file, the line, the value and the
entry.

The snapshot is then the source of a sync (indexed into a scratch file on disk in the
same pass as the check, and read from there in this process: memory does not grow with
the snapshot): the schema pre-flight against the destination, the identity map in the
state database, relation order, publish state and localizations work as in
` + "`stagesync sync`" + `, and every sync flag applies. Running the same import again
writes nothing.

--legacy sends the snapshot's DRAFT content through the destination's legacy
/import endpoint instead (nodes, lists, relations, in requests under 1 MB), after
checking it against the destination's schema; list values and relations the
destination holds already (read through /export) are not sent again. The system token
is read from --to-token-env. The legacy format has no stages: a snapshot with an entry
whose PUBLISHED version differs from its DRAFT is refused (the entries are named;
import it without --legacy to keep both), and entries published as they are arrive as
drafts.

Exit codes as for sync; 2 also when the snapshot is not valid.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("from") {
				return withCode(exitUsage, errors.New("import reads the snapshot DIR: give no --from"))
			}
			if legacy {
				return runLegacyImport(cmd, args[0], &f)
			}
			f.from = args[0]
			return runSync(cmd, &f, false)
		},
	}
	f.register(cmd)
	_ = cmd.Flags().MarkHidden("from")
	_ = cmd.Flags().MarkHidden("from-token-env")
	cmd.Flags().BoolVar(&f.verify, "verify", false, verifyUsage)
	cmd.Flags().BoolVar(&legacy, "legacy", false, "send the snapshot through the destination's legacy /import endpoint")
	return cmd
}

func runLegacyImport(cmd *cobra.Command, dir string, f *syncFlags) error {
	if f.to == "" {
		return withCode(exitUsage, errors.New("--to is required"))
	}
	token, err := tokenFromEnv(f.toTokenEnv, "--to-token-env")
	if err != nil {
		return withCode(exitUsage, err)
	}
	ctx := cmd.Context()
	sdl, err := schema.Introspect(ctx, f.to, schema.IntrospectOptions{Token: token})
	if err != nil {
		return withCode(exitFailures, fmt.Errorf("reading the destination's schema: %w", err))
	}
	p, err := schema.Discover(sdl)
	if err != nil {
		return withCode(exitFailures, fmt.Errorf("the destination's schema: %w", err))
	}
	counts, stages, err := importapi.CheckLegacy(dir, p)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("snapshot %s does not fit the destination; nothing was written:\n%w", dir, err))
	}
	if stages.Differ > 0 {
		more := ""
		if n := stages.Differ - len(stages.Entries); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		return withCode(exitUsage, fmt.Errorf("snapshot %s has %d entries whose PUBLISHED version differs from their DRAFT version: %s%s; "+
			"the legacy /import knows one stage and would import the drafts only, losing the published versions. Nothing was written: "+
			"import it without --legacy (stagesync import %s --to %s), which keeps both", dir, stages.Differ, strings.Join(stages.Entries, ", "), more, dir, f.to))
	}
	c := importapi.NewClient(f.to, token, nil)
	res, err := c.ImportSnapshot(ctx, dir)
	w := cmd.OutOrStdout()
	if stages.Published > 0 {
		fmt.Fprintf(w, "note: %d entries are published in the snapshot, as their drafts are; the legacy /import has no stages, so they arrive as drafts: publish them in the destination, or import without --legacy\n", stages.Published)
	}
	fmt.Fprintf(w, "legacy import of %s (%d nodes, %d lists, %d relations): %d values sent in %d requests, %d left out (already there, or not DRAFT)\n",
		dir, counts.Nodes, counts.Lists, counts.Relations, res.Sent, res.Requests, res.Skipped)
	for i, fl := range res.Failures {
		if i == maxFailureLines {
			fmt.Fprintf(w, "… and %d more\n", len(res.Failures)-i)
			break
		}
		fmt.Fprintln(w, "failed:", fl.Error())
	}
	if err != nil {
		return withCode(exitFailures, err)
	}
	if len(res.Failures) > 0 {
		return withCode(exitFailures, fmt.Errorf("%d values failed", len(res.Failures)))
	}
	return nil
}

// snapshotSource makes a snapshot directory given as --from the source of
// cfg: checked whole and indexed on disk, then read in this process (see
// importapi.Source); closeSnapshot releases it. NDF files without a
// manifest (a plain legacy export) are read against the destination's
// schema.
func (f *syncFlags) snapshotSource(cfg *stagesync.SyncConfig) error {
	if !importapi.IsNDFDir(f.from) {
		return nil
	}
	ctx := context.Background()
	var src *importapi.Source
	var err error
	if importapi.HasManifest(f.from) {
		src, err = importapi.OpenSource(ctx, f.from)
	} else {
		_, s, serr := stagesync.StageProject(ctx, cfg.Dest, nil)
		if serr != nil {
			return fmt.Errorf("%s has NDF files but no manifest: reading them against the destination's schema: %w", f.from, serr)
		}
		src, err = importapi.OpenSourceWithSchema(ctx, f.from, s)
	}
	if err != nil {
		return err
	}
	f.snapshot = src
	cfg.Source, cfg.SourceSchema = src.Stage, src.Schema
	return nil
}

// closeSnapshot releases the snapshot source snapshotSource opened, if any.
func (f *syncFlags) closeSnapshot() {
	if f.snapshot != nil {
		_ = f.snapshot.Close()
		f.snapshot = nil
	}
}
