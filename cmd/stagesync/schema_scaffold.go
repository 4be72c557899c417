package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/schema"
)

func init() { schemaSubcommands = append(schemaSubcommands, newSchemaScaffoldCmd) }

func newSchemaScaffoldCmd() *cobra.Command {
	var (
		models []string
		kinds  []string
		out    string
	)
	cmd := &cobra.Command{
		Use:   "scaffold FILE.graphql... --models Hotel,Review --out DIR",
		Short: "Write genqlient-ready read, upsert and publish operations for models",
		Long: `Write one .graphql operation file per model and purpose into DIR, ready for
genqlient:

  readHotels.graphql         query ReadHotels: one cursor page of entries
  upsertHotel.graphql        mutation UpsertHotel
  createHotel.graphql        mutation CreateHotel
  updateHotel.graphql        mutation UpdateHotel
  publishHotel.graphql       mutation PublishHotel
  publishManyHotels.graphql  mutation PublishManyHotels: publish a batch of ids

FILE... is the stage's SDL (e.g. from "stagesync schema pull"). Without
--models every writable model is scaffolded. --kinds limits the purposes
(read, upsert, create, update, publish, publishMany).

Existing files are never overwritten, so hand-edited operations win: they are
listed as skipped. Every operation is validated against the schema first.

Exit codes: 0 done, 2 a file does not parse, a model is unknown or not
writable, or an operation does not validate.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := schema.Load(args...)
			if err != nil {
				return withCode(exitUsage, err)
			}
			p, err := schema.Discover(s)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("%s: %w", strings.Join(args, ", "), err))
			}
			var opts schema.ScaffoldOptions
			for _, k := range kinds {
				opts.Kinds = append(opts.Kinds, schema.OperationKind(strings.TrimSpace(k)))
			}
			ops, err := schema.Scaffold(s, p, models, opts)
			if err != nil {
				return withCode(exitUsage, err)
			}
			written, skipped, err := schema.WriteScaffold(out, ops)
			w := cmd.OutOrStdout()
			for _, f := range written {
				fmt.Fprintf(w, "wrote   %s\n", f)
			}
			for _, f := range skipped {
				fmt.Fprintf(w, "skipped %s (exists; stagesync never overwrites an operation file)\n", f)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%d written, %d skipped\n", len(written), len(skipped))
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&models, "models", nil, "models to scaffold, comma-separated (default: every writable model)")
	cmd.Flags().StringSliceVar(&kinds, "kinds", nil, "operations to write, comma-separated: read, upsert, create, update, publish, publishMany (default: all)")
	cmd.Flags().StringVar(&out, "out", ".", "directory to write the .graphql files into")
	return cmd
}
