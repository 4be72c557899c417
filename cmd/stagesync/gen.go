package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/internal/codegen"
)

func init() { rootSubcommands = append(rootSubcommands, newGenCmd) }

func newGenCmd() *cobra.Command {
	var opts codegen.Options
	cmd := &cobra.Command{
		Use:   "gen --schema FILE --models Hotel,Review --out DIR",
		Short: "Generate typed operations and typed sync models for models (genqlient + glue)",
		Long: `Generate a Go package of typed operations and ready-to-sync typed models:

 1. scaffold the read, upsert, create, update, publish and publishMany
    operations of --models that are missing in DIR/queries (existing files
    are never overwritten: edit them freely);
 2. run genqlient with DIR/genqlient.yaml (or --config), which binds
    Hygraph's custom scalars so that values round-trip unchanged; the default
    config is rewritten on every run unless its first line is removed.
    genqlient runs as a child process in DIR: always the version stagesync
    pins (` + codegen.GenqlientVersion + `, not one DIR's module declares as a tool), built
    with the go command, which must be on PATH, in this environment (GOFLAGS,
    GOPROXY, ... apply);
 3. generate DIR/zz_stagesync.go from the read queries as they are on disk:
    <Model>Model(transform) returns the model's stagesync.TypedModel, and
    Models() all of them, for stagesync.SyncConfig.Typed. The sync writes
    the fields a read query selects, so removing a field from one (then
    rerunning gen) leaves that field alone in the destination;
 4. write DIR/doc.go, when absent, with a //go:generate line that reruns this
    command, so that "go generate ./..." reproduces everything.

Without --models the operations of every writable model are scaffolded.

Exit codes: 0 done, 2 a file does not parse, a model is unknown, an
operation does not validate, genqlient fails, or there is no go command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.SchemaPath == "" {
				return withCode(exitUsage, errors.New("gen: --schema is required"))
			}
			if opts.OutDir == "" {
				return withCode(exitUsage, errors.New("gen: --out is required"))
			}
			res, err := codegen.Generate(opts)
			if err != nil {
				return withCode(exitUsage, err)
			}
			w := cmd.OutOrStdout()
			for _, f := range res.Scaffolded {
				fmt.Fprintf(w, "scaffolded %s\n", f)
			}
			for _, f := range res.Written {
				fmt.Fprintf(w, "wrote      %s\n", f)
			}
			for _, m := range res.Models {
				fmt.Fprintf(w, "model      %s: %s reads with %s (%s) into %s\n", m.Model, m.Func, m.Operation, m.File, m.Type)
			}
			for _, warn := range res.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", warn)
			}
			fmt.Fprintf(w, "%d operations scaffolded, %d kept; %d files written, %d unchanged; %d typed models\n",
				len(res.Scaffolded), len(res.Kept), len(res.Written), len(res.Unchanged), len(res.Models))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ConfigPath, "config", "", "genqlient.yaml to use (default: DIR/genqlient.yaml, written by gen)")
	f.StringVar(&opts.SchemaPath, "schema", "", "the stage's content-API schema (SDL), e.g. from `stagesync schema pull`")
	f.StringSliceVar(&opts.Models, "models", nil, "models to scaffold operations for, comma-separated (default: every writable model)")
	f.StringVar(&opts.OutDir, "out", "", "directory of the generated Go package")
	f.StringVar(&opts.Package, "package", "", "Go package name (default: the package in DIR, else DIR's base name)")
	return cmd
}
