// Command stagesync copies Hygraph content between stages and works with
// Hygraph schemas: pull, inspect, diff, scaffold and synthesize them.
//
// Exit codes: 0 success, 1 the job ran but some entries failed, 2 usage or
// configuration error, 3 a schema pre-flight or diff found blocking changes,
// or a sync stopped for a failure every entry would share (a token that
// may not write, a stage that cannot be written), 130 interrupted (Ctrl-C
// or SIGTERM; running the same command again resumes).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK       = 0
	exitFailures = 1
	exitUsage    = 2
	exitBlocked  = 3
	// exitInterrupted is the shell's code for a command ended by SIGINT
	// (128+2), also used for SIGTERM: the run stopped cleanly and the
	// same command resumes it.
	exitInterrupted = 130
)

// exitError carries an exit code out of a command's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that run exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// stdin is the commands' standard input (tests give them none).
var stdin io.Reader = os.Stdin

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI with args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "stagesync: ") { // the library's errors say it already
		msg = "stagesync: " + msg
	}
	fmt.Fprintln(stderr, msg)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Errors cobra raises itself (unknown flag, wrong arg count) are usage errors.
	return exitUsage
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "stagesync",
		Short:         "Copy Hygraph content between stages, with typed GraphQL operations",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	setVersion(root)
	root.AddCommand(newSchemaCmd())
	for _, sub := range rootSubcommands {
		root.AddCommand(sub())
	}
	return root
}

// rootSubcommands and schemaSubcommands are filled by init functions of the
// files that define each command, so commands live one per file.
var (
	rootSubcommands   []func() *cobra.Command
	schemaSubcommands []func() *cobra.Command
)

func newSchemaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Pull, inspect, diff, scaffold and synthesize Hygraph schemas",
	}
	for _, sub := range schemaSubcommands {
		cmd.AddCommand(sub())
	}
	return cmd
}
