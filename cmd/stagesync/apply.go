package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/stagesync"
)

func init() {
	rootSubcommands = append(rootSubcommands, newApplyCmd)
}

func newApplyCmd() *cobra.Command {
	var yes, quiet, verify bool
	var report string
	cmd := &cobra.Command{
		Use:   "apply PLAN_FILE",
		Short: "Apply a plan made with stagesync plan -o, exactly as planned",
		Long: `Apply runs the sync a plan file describes (made by ` + "`" + `stagesync plan ... -o FILE` + "`" + `),
with the same flags. It first plans again: when any entry's plan differs from
the file's (the source or the destination changed since), it writes nothing,
names the entries and exits 3; make a new plan then. Deletes (--mirror) are
still confirmed on a terminal unless --yes.

Exit codes as for sync; 3 also when the plan is stale.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openPlanFile(args[0], false)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("plan file: %w", err))
			}
			defer db.Close()
			pargs, err := readPlanArgs(db, args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			var f syncFlags
			planned := &cobra.Command{Use: "plan"}
			f.register(planned)
			if err := planned.Flags().Parse(pargs); err != nil {
				return withCode(exitUsage, fmt.Errorf("plan file %s: its flags: %w", args[0], err))
			}
			f.modelsSet = planned.Flags().Changed("models")
			if err := f.configForApply(); err != nil {
				return withCode(exitUsage, fmt.Errorf("plan file %s: %w", args[0], err))
			}
			f.yes = f.yes || yes
			f.quiet, f.report, f.planDB, f.verify = quiet, report, db, verify
			return runSync(cmd, &f, false)
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking (for scripts)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	cmd.Flags().StringVar(&report, "report", "", "write the report as JSON to this file")
	cmd.Flags().BoolVar(&verify, "verify", false, verifyUsage)
	return cmd
}

// confirmPlan returns the SyncConfig.Confirm of a sync (nil when it needs
// none), which the engine calls with the whole plan before its first
// write: applying a plan file, it refuses when the plan changed since the
// file was made; on a terminal without --yes, it shows the plan and asks.
// What it refused for is left in *refused. stopProgress ends the bars
// before the question. The question lists every delete of the plan; a yes
// sets *deletes, so that the deletes are not asked about again.
func confirmPlan(cmd *cobra.Command, f *syncFlags, stopProgress func(bool), refused *error, deletes *bool) func(*stagesync.Plan) bool {
	ask := f.planDB == nil && !f.yes && isTerminal(cmd.InOrStdin())
	if f.planDB == nil && !ask {
		return nil
	}
	return func(now *stagesync.Plan) bool {
		if f.planDB != nil {
			stale, serr := staleEntries(f.planDB, now, maxFailureLines)
			if serr != nil {
				*refused = withCode(exitFailures, serr)
				return false
			}
			if len(stale) > 0 {
				*refused = withCode(exitBlocked, fmt.Errorf("the plan is stale: the source or the destination changed since it was made, so nothing was written; make a new plan (stagesync plan ... -o FILE). What changed:\n  %s",
					strings.Join(stale, "\n  ")))
				return false
			}
			return true
		}
		stopProgress(true) // the question goes below the bars
		out := cmd.ErrOrStderr()
		fmt.Fprintf(out, "plan for %s:\n", f.to)
		printPlan(out, now)
		n := 0
		for _, m := range now.Models() {
			if m.Delete == 0 {
				continue
			}
			for e := range now.Entries(m.Name) {
				if e.Op == stagesync.OpDelete {
					if n == 0 {
						fmt.Fprintf(out, "to delete from %s:\n", f.to)
					}
					fmt.Fprintf(out, "  %s %s\n", m.Name, e.DestID)
					n++
				}
			}
		}
		if n > 0 {
			fmt.Fprintf(out, "Write these changes and delete these %d entries? [y/N] ", n)
		} else {
			fmt.Fprint(out, "Write these changes? [y/N] ")
		}
		if !readYes(cmd.InOrStdin()) {
			*refused = withCode(exitFailures, fmt.Errorf("not confirmed; nothing was written (--yes writes without asking)"))
			return false
		}
		*deletes = n > 0
		return true
	}
}
