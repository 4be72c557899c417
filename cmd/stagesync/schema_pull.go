package main

import (
	"errors"
	"fmt"
	"github.com/stagesync/stagesync/internal/atomicfile"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/schema"
)

func init() { schemaSubcommands = append(schemaSubcommands, newSchemaPullCmd) }

func newSchemaPullCmd() *cobra.Command {
	var (
		endpoint, tokenEnv, output string
		timeout                    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "pull --endpoint URL [--token-env VAR] [-o FILE]",
		Short: "Introspect a stage's content API and write its schema as SDL",
		Long: `Ask a Hygraph content API (or any GraphQL endpoint) for its schema with the
standard introspection query and write it as SDL that genqlient and the other
stagesync commands read. The token is read from the environment variable named
by --token-env and sent as a bearer token; it never appears in output or errors.
With no -o, or -o -, the SDL goes to standard output; a file is replaced only
when the pull succeeds.

Exit codes: 0 success, 1 the endpoint could not be introspected (network, HTTP
or GraphQL error), 2 usage error (missing --endpoint, empty token variable).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if endpoint == "" {
				return withCode(exitUsage, errors.New("schema pull: --endpoint is required"))
			}
			var token string
			if tokenEnv != "" {
				token = os.Getenv(tokenEnv)
				if token == "" {
					return withCode(exitUsage, fmt.Errorf("schema pull: environment variable %s (named by --token-env) is empty or unset", tokenEnv))
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			sdl, err := schema.IntrospectSDL(ctx, endpoint, schema.IntrospectOptions{Token: token, Timeout: timeout})
			if err != nil {
				return withCode(exitFailures, err)
			}
			if output == "" || output == "-" {
				_, err := io.WriteString(cmd.OutOrStdout(), sdl)
				return err
			}
			if err := atomicfile.WriteFile(output, []byte(sdl), 0o644); err != nil {
				return withCode(exitFailures, fmt.Errorf("schema pull: %w", err))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d bytes)\n", output, len(sdl))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoint, "endpoint", "", "content API URL of the stage (required)")
	f.StringVar(&tokenEnv, "token-env", "", "name of the environment variable holding the bearer token")
	f.StringVarP(&output, "output", "o", "", `file to write the SDL to ("-" or empty: standard output)`)
	f.DurationVar(&timeout, "timeout", schema.DefaultIntrospectTimeout, "time limit for the introspection request")
	return cmd
}
