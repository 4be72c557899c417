package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/stagesync"
)

func init() {
	rootSubcommands = append(rootSubcommands, newExportCmd)
}

func newExportCmd() *cobra.Command {
	var (
		from, tokenEnv, out string
		models              []string
		pageSize            int
		maxFile             int64
		quiet, assets       bool
	)
	cmd := &cobra.Command{
		Use:   "export --from URL -o DIR",
		Short: "Write a stage's content to a snapshot directory (NDF files and a manifest)",
		Long: `Write a snapshot of a stage: every entry of the models (--models, default every
writable model) in DRAFT and, when published, PUBLISHED, in every locale, with its
relations in order, as Normalized Data Format files (DIR/nodes, DIR/lists and
DIR/relations, numbered files of at most 1 MB as the legacy export cut them) and
DIR/manifest.json: the stage's schema, the entries per model, stage and locale, and
a SHA-256 of every file. With --assets, the Asset model is exported too, with every
asset's file (DIR/assets/<id>/<fileName>, its SHA-256 in the manifest); an import copies
the files into the destination's bucket when the sync copies the Asset model. See the importapi
package for the format.

The snapshot is read with the same reader as sync and written as it is read: memory
does not grow with the stage. Restore it with ` + "`stagesync import DIR --to URL`" + `, or
use it as a source: ` + "`stagesync sync --from DIR --to URL`" + `.

Exit codes: 0 written; 1 the export failed (the directory then has no manifest, so
it is never imported); 2 usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || out == "" {
				return withCode(exitUsage, errors.New("--from and -o are required"))
			}
			token, err := tokenFromEnv(tokenEnv, "--from-token-env")
			if err != nil {
				return withCode(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stage := stagesync.NewStage("source", from, token)
			opt := importapi.ExportOptions{Models: models, PageSize: pageSize, MaxFileSize: maxFile, Assets: assets}
			errOut := cmd.ErrOrStderr()
			if !quiet {
				last := ""
				opt.Progress = func(model string, n int, bytes int64) {
					if model != last || n%1000 == 0 {
						last = model
						fmt.Fprintf(errOut, "export: %s: %d entries, %d bytes of NDF\n", model, n, bytes)
					}
				}
			}
			m, err := importapi.Export(ctx, stage, nil, out, opt)
			if err != nil {
				return withCode(exitFailures, err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "snapshot written to %s: %d files, %d relations, %d list values, %d asset files\n", out, len(m.Files), m.Relations, m.ListValues, len(m.Assets))
			for _, c := range m.Counts {
				loc := ""
				if c.Locale != "" {
					loc = " " + c.Locale
				}
				fmt.Fprintf(w, "  %-20s %-9s%s %d\n", c.Model, c.Stage, loc, c.Entries)
			}
			for k, n := range m.Dropped {
				fmt.Fprintf(w, "  left out: %d relations of %s (the target model is not exported)\n", n, k)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "stage content-API endpoint to export (required)")
	fl.StringVar(&tokenEnv, "from-token-env", "", "environment variable holding the stage's token")
	fl.StringVarP(&out, "out", "o", "", "snapshot directory to write (required; must not hold a snapshot)")
	fl.StringSliceVar(&models, "models", nil, "models to export, comma-separated (default: every writable model)")
	fl.IntVar(&pageSize, "page-size", 0, "entries per read page (default: 100)")
	fl.Int64Var(&maxFile, "max-file-size", importapi.DefaultMaxFileSize, "largest NDF file in bytes")
	fl.BoolVar(&assets, "assets", false, "export the Asset model too, and every asset's file into DIR/assets/<id>/<fileName> with its SHA-256 in the manifest")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}
