package main

import (
	"errors"
	"fmt"
	"github.com/stagesync/stagesync/internal/atomicfile"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/schema"
)

func init() { schemaSubcommands = append(schemaSubcommands, newSchemaSynthCmd) }

func newSchemaSynthCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "synth DESCRIPTION [-o FILE]",
		Short: "Synthesize a Hygraph content-API schema from a model description",
		Long: `Read a compact YAML model description (locales, asset system, enums,
components, models and their fields) and write the complete content-API SDL
Hygraph would generate for it: models with system fields, connections, every
create/update/upsert/localization/where/order-by input, unions, components with
their Parent unions, and the Query and Mutation types. The SDL serves the local
emulator and genqlient as a real stage's schema would.

A description looks like:

  locales: [en, de]
  assets: legacy
  models:
    Hotel:
      name: String! unique
      description: String localized
      destination: Destination -> hotels
      photos: "[Asset]"
    Destination:
      hotels: "[Hotel] <- destination"

See the package documentation of schema (describe.go) for the full format.
With no -o, or -o -, the SDL goes to standard output; a file is replaced only
when synthesis succeeds.

Exit codes: 0 success, 1 the output file could not be written, 2 usage error
or a bad description (the message names the file, line, model and field).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			data, err := os.ReadFile(path)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("schema synth: %w", err))
			}
			p, err := schema.ParseDescription(data)
			if err != nil {
				var de *schema.DescriptionError
				if errors.As(err, &de) {
					de.File = path
				}
				return withCode(exitUsage, fmt.Errorf("schema synth: %w", err))
			}
			sdl, err := schema.Synthesize(p)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("schema synth: %s: %w", path, err))
			}
			if output == "" || output == "-" {
				_, err := io.WriteString(cmd.OutOrStdout(), sdl)
				return err
			}
			if err := atomicfile.WriteFile(output, []byte(sdl), 0o644); err != nil {
				return withCode(exitFailures, fmt.Errorf("schema synth: %w", err))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d bytes)\n", output, len(sdl))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", `file to write the SDL to ("-" or empty: standard output)`)
	return cmd
}
