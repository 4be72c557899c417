package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/schema"
)

func init() { schemaSubcommands = append(schemaSubcommands, newSchemaDiffCmd) }

func newSchemaDiffCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff FROM.graphql TO.graphql",
		Short: "Diff two stages' schemas for a content sync from FROM to TO",
		Long: `Compare the content models of two Hygraph stages for a sync from FROM to TO
and list every change that matters: missing models and fields, type, list and
relation-target changes, enum values missing in TO, fields required in TO but
optional or absent in FROM, and localization changes — each with its fix.

Exit codes: 0 nothing blocks the sync, 3 at least one change blocks it, 2 a
file does not parse or is not a Hygraph schema. --json prints
{"changes":[...],"blocking":N}.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := discoverFiles(args[0])
			if err != nil {
				return err
			}
			to, err := discoverFiles(args[1])
			if err != nil {
				return err
			}
			changes := schema.Diff(from, to)
			blocking := schema.Blocking(changes)
			if asJSON {
				if changes == nil {
					changes = []schema.Change{}
				}
				err = writeJSON(cmd.OutOrStdout(), struct {
					Changes  []schema.Change `json:"changes"`
					Blocking int             `json:"blocking"`
				}{changes, len(blocking)})
			} else {
				schema.FormatChanges(cmd.OutOrStdout(), changes)
			}
			if err != nil {
				return err
			}
			if len(blocking) > 0 {
				return withCode(exitBlocked, fmt.Errorf("schema diff %s → %s: %d blocking changes", args[0], args[1], len(blocking)))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}
