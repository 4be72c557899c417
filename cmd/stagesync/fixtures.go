package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/Khan/genqlient/graphql"
	"github.com/spf13/cobra"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/stagesync/stagesync/internal/atomicfile"
	"github.com/stagesync/stagesync/stagesync"
)

func init() { rootSubcommands = append(rootSubcommands, newFixturesCmd) }

func newFixturesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fixtures",
		Short: "Record fixtures from a stage for testing transforms offline",
	}
	cmd.AddCommand(newFixturesRecordCmd())
	return cmd
}

// recordConfig is what the fixtures record command's flags set.
type recordConfig struct {
	endpoint, tokenEnv string
	opFile, operation  string
	output             string
	first, pageSize    int
	vars               []string
	rate               float64
}

func newFixturesRecordCmd() *cobra.Command {
	var c recordConfig
	cmd := &cobra.Command{
		Use:   "record --endpoint URL --op FILE.graphql -o FILE.json",
		Short: "Record the entries a model's read operation returns, as JSON fixtures",
		Long: `Run a model's own read operation (e.g. queries/readHotels.graphql, as
"stagesync schema scaffold" and "stagesync gen" write it) against a stage, page by
page, and write the entries it returns — the elements of its list root field —
as a JSON array: the fixtures synctest.LoadFixtures reads into the operation's
genqlient type, for table tests of transforms with no network.

The operation pages with $first and $after: $first is the page size, $after the
id of the last entry read, so it must order by id (orderBy: id_ASC, as
scaffolded reads do). Recording stops after --first entries or at a short
page; an operation without $after is read in one page. $stage is DRAFT unless --var says otherwise (a sync reads DRAFT); other
variables are set with --var name=value, the value as JSON or else a string.

The token is read from the environment variable named by --token-env and sent
as a bearer token; it never appears in output or errors. With no -o, or -o -,
the JSON goes to standard output; a file is replaced only when recording
succeeds.

Exit codes: 0 recorded; 1 the stage could not be read or the file written;
2 usage error (flags, operation file, variables).`,
		Example: `  stagesync fixtures record --endpoint "$STAGESYNC_SOURCE_ENDPOINT" \
    --token-env STAGESYNC_SOURCE_TOKEN --op queries/readHotels.graphql \
    --first 20 -o testdata/hotels.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return recordFixtures(cmd, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.endpoint, "endpoint", "", "content API `URL` of the stage (required)")
	f.StringVar(&c.tokenEnv, "token-env", "", "name of the environment `VARIABLE` holding the bearer token")
	f.StringVar(&c.opFile, "op", "", "`FILE`.graphql holding the read operation (required)")
	f.StringVar(&c.operation, "operation", "", "`NAME` of the operation to run, when the file holds several")
	f.StringVarP(&c.output, "output", "o", "", `file to write the fixtures to ("-" or empty: standard output)`)
	f.IntVar(&c.first, "first", 20, "number of entries to record, at most")
	f.IntVar(&c.pageSize, "page-size", stagesync.DefaultPageSize, "entries per request")
	f.StringArrayVar(&c.vars, "var", nil, "`name=value`: set a variable of the operation (repeatable)")
	f.Float64Var(&c.rate, "rate", 5, "requests per second to start from (adapts down on 429)")
	return cmd
}

// readOperation is the read operation of a fixtures recording.
type readOperation struct {
	text, name string
	listField  string // response key of the list root field
	vars       map[string]*ast.VariableDefinition
}

// parseReadOperation reads the operation file and picks the operation.
func parseReadOperation(path, name string) (*readOperation, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := parser.ParseQuery(&ast.Source{Name: path, Input: string(b)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var op *ast.OperationDefinition
	switch {
	case name != "":
		op = doc.Operations.ForName(name)
		if op == nil {
			return nil, fmt.Errorf("%s has no operation %s", path, name)
		}
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	default:
		return nil, fmt.Errorf("%s holds %d operations: choose one with --operation", path, len(doc.Operations))
	}
	if op.Operation != ast.Query {
		return nil, fmt.Errorf("%s: %s is a %s, not a query", path, op.Name, op.Operation)
	}
	var fields []*ast.Field
	for _, s := range op.SelectionSet {
		if f, ok := s.(*ast.Field); ok && f.Name != "__typename" {
			fields = append(fields, f)
		}
	}
	if len(fields) != 1 {
		return nil, fmt.Errorf("%s: %s selects %d root fields; a read operation selects one list", path, op.Name, len(fields))
	}
	r := &readOperation{text: string(b), name: op.Name, listField: fields[0].Alias, vars: map[string]*ast.VariableDefinition{}}
	for _, v := range op.VariableDefinitions {
		r.vars[v.Variable] = v
	}
	if r.vars["first"] == nil {
		return nil, fmt.Errorf("%s: %s has no $first variable to set the page size with", path, op.Name)
	}
	return r, nil
}

// variables builds the operation's variables other than $first and $after
// from --var flags; $stage defaults to DRAFT.
func (r *readOperation) variables(flags []string) (map[string]any, error) {
	vars := map[string]any{}
	for _, kv := range flags {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimPrefix(name, "$")
		switch {
		case !ok || name == "":
			return nil, fmt.Errorf("--var %q: want name=value", kv)
		case name == "first" || name == "after":
			return nil, fmt.Errorf("--var %s: $first and $after page through the entries; see --first and --page-size", name)
		case r.vars[name] == nil:
			return nil, fmt.Errorf("--var %s: operation %s has no variable $%s", name, r.name, name)
		}
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			v = value
		}
		vars[name] = v
	}
	if _, set := vars["stage"]; !set && r.vars["stage"] != nil {
		vars["stage"] = "DRAFT"
	}
	var missing []string
	for name, d := range r.vars {
		if _, set := vars[name]; !set && name != "first" && name != "after" && d.Type.NonNull && d.DefaultValue == nil {
			missing = append(missing, "$"+name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("operation %s needs %s: set with --var name=value", r.name, strings.Join(missing, ", "))
	}
	return vars, nil
}

func recordFixtures(cmd *cobra.Command, c recordConfig) error {
	usage := func(err error) error { return withCode(exitUsage, fmt.Errorf("fixtures record: %w", err)) }
	switch {
	case c.endpoint == "":
		return usage(errors.New("--endpoint is required"))
	case c.opFile == "":
		return usage(errors.New("--op is required"))
	case c.first <= 0:
		return usage(fmt.Errorf("--first %d: must be positive", c.first))
	case c.pageSize <= 0:
		return usage(fmt.Errorf("--page-size %d: must be positive", c.pageSize))
	}
	token, err := tokenFromEnv(c.tokenEnv, "--token-env")
	if err != nil {
		return usage(err)
	}
	op, err := parseReadOperation(c.opFile, c.operation)
	if err != nil {
		return usage(err)
	}
	vars, err := op.variables(c.vars)
	if err != nil {
		return usage(err)
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stage := stagesync.NewStage("stage", c.endpoint, token, stagesync.WithRateLimit(stagesync.RateLimit{Initial: c.rate}))
	client := stage.Client()
	var entries []json.RawMessage
	pages := 0
	for len(entries) < c.first {
		n := min(c.pageSize, c.first-len(entries))
		vars["first"] = n
		var data map[string]json.RawMessage
		err := client.MakeRequest(ctx, &graphql.Request{Query: op.text, OpName: op.name, Variables: vars}, &graphql.Response{Data: &data})
		if err != nil {
			return withCode(exitFailures, fmt.Errorf("fixtures record: %s: page %d: %w", op.name, pages+1, err))
		}
		pages++
		var page []json.RawMessage
		if err := json.Unmarshal(data[op.listField], &page); err != nil || data[op.listField] == nil {
			return withCode(exitFailures, fmt.Errorf("fixtures record: %s: %s in the response is not a list of entries", op.name, op.listField))
		}
		entries = append(entries, page...)
		if len(page) < n || op.vars["after"] == nil {
			break
		}
		var last struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(page[len(page)-1], &last); err != nil || last.ID == "" {
			return withCode(exitUsage, fmt.Errorf("fixtures record: %s: the entries have no id to page with: select id", op.name))
		}
		vars["after"] = last.ID
	}
	if entries == nil {
		entries = []json.RawMessage{}
	}

	out, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return withCode(exitFailures, fmt.Errorf("fixtures record: %w", err))
	}
	out = append(out, '\n')
	if c.output == "" || c.output == "-" {
		_, err := cmd.OutOrStdout().Write(out)
		return err
	}
	if err := atomicfile.WriteFile(c.output, out, 0o644); err != nil {
		return withCode(exitFailures, fmt.Errorf("fixtures record: %w", err))
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "recorded %d %s (%d pages) to %s\n", len(entries), op.listField, pages, c.output)
	return nil
}
