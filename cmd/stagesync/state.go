package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/stagesync/stagesync/stagesync"
)

func init() {
	rootSubcommands = append(rootSubcommands, newStateCmd)
}

func newStateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and repair a sync's state database (its identity map)",
	}
	cmd.AddCommand(newStateAdoptCmd())
	return cmd
}

func newStateAdoptCmd() *cobra.Command {
	var path, from, to string
	cmd := &cobra.Command{
		Use:   "adopt MODEL SOURCE_ID DEST_ID",
		Short: "Record that a source entry is a given destination entry",
		Long: `adopt resolves an entry a sync reported as ambiguous (op "adopt"): an
earlier run's create lost its answer and several destination entries hold
what it sent. Pick the one that is the source entry's copy; the next sync
updates it and leaves the others as orphans (deleted by --mirror).

The state is --state, or the default state of --from and --to.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if path == "" {
				if from == "" || to == "" {
					return withCode(exitUsage, fmt.Errorf("give --state, or --from and --to of the sync"))
				}
				path = defaultStatePath(from, to)
			}
			if _, err := os.Stat(path); err != nil {
				return withCode(exitUsage, fmt.Errorf("state %s: %w", path, err))
			}
			st, err := stagesync.LoadState(path, from, to)
			if err != nil {
				return withCode(exitFailures, err)
			}
			defer st.Close()
			if err := st.Adopt(args[0], args[1], args[2]); err != nil {
				return withCode(exitUsage, err)
			}
			if err := st.Save(); err != nil {
				return withCode(exitFailures, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: source entry %s is destination entry %s (%s)\n", args[0], args[1], args[2], path)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "state", "", "state database")
	cmd.Flags().StringVar(&from, "from", "", "source endpoint of the sync (finds its default state)")
	cmd.Flags().StringVar(&to, "to", "", "destination endpoint of the sync (finds its default state)")
	return cmd
}
