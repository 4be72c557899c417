package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stagesync/stagesync/schema"
)

func init() { schemaSubcommands = append(schemaSubcommands, newSchemaModelsCmd) }

func newSchemaModelsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models FILE...",
		Short: "List the models, components, enums, locales and stages of a Hygraph SDL",
		Long: `List every model of a Hygraph content-API schema (system models such as Asset
and User included and marked), its components, user enums, locales and stages.

The human form is a table per model of its content fields; --json prints the
whole discovered project. A file that does not parse, or a schema that has no
Hygraph models, exits with code 2.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := discoverFiles(args...)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), p)
			}
			return writeModels(cmd.OutOrStdout(), p)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of tables")
	return cmd
}

// discoverFiles loads SDL files and discovers their Hygraph project. Both a
// malformed file (reported as file:line:col: message) and a schema without
// Hygraph models are exitUsage errors.
func discoverFiles(paths ...string) (*schema.Project, error) {
	s, err := schema.Load(paths...)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	p, err := schema.Discover(s)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("%s: %w", strings.Join(paths, ", "), err))
	}
	return p, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeModels prints a compact table per model and component.
func writeModels(w io.Writer, p *schema.Project) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	section := func(title string, models []*schema.Model) {
		for _, m := range models {
			var marks []string
			if m.System {
				marks = append(marks, "system")
			}
			if m.Writable {
				marks = append(marks, "writable")
			}
			fmt.Fprintf(tw, "%s %s", title, m.Name)
			if len(marks) > 0 {
				fmt.Fprintf(tw, " (%s)", strings.Join(marks, ", "))
			}
			fmt.Fprintln(tw)
			var sys []string
			content := m.ContentFields()
			if len(content) > 0 {
				fmt.Fprintln(tw, "  FIELD\tTYPE\tKIND\tFLAGS\tTARGETS")
			}
			for _, f := range content {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Name, f.Type, f.Kind, fieldFlags(f), fieldTargets(f))
			}
			for _, f := range m.Fields {
				if f.System {
					sys = append(sys, f.Name)
				}
			}
			if len(sys) > 0 {
				fmt.Fprintf(tw, "  system fields: %s\n", strings.Join(sys, ", "))
			}
			fmt.Fprintln(tw)
		}
	}
	section("model", p.Models)
	section("component", p.Components)
	for _, e := range p.Enums {
		fmt.Fprintf(tw, "enum %s: %s\n", e.Name, strings.Join(e.Values, ", "))
	}
	for _, u := range p.Unions {
		fmt.Fprintf(tw, "union %s = %s\n", u.Name, strings.Join(u.Members, " | "))
	}
	fmt.Fprintf(tw, "locales: %s\n", strings.Join(p.Locales, ", "))
	fmt.Fprintf(tw, "stages: %s\n", strings.Join(p.Stages, ", "))
	return tw.Flush()
}

func fieldFlags(f *schema.Field) string {
	var flags []string
	for _, fl := range []struct {
		on   bool
		name string
	}{{f.Required, "required"}, {f.Unique, "unique"}, {f.Localized, "localized"}, {f.List, "list"}} {
		if fl.on {
			flags = append(flags, fl.name)
		}
	}
	if len(flags) == 0 {
		return "-"
	}
	return strings.Join(flags, ",")
}

func fieldTargets(f *schema.Field) string {
	if len(f.Targets) == 0 {
		return "-"
	}
	t := strings.Join(f.Targets, " | ")
	if f.Union != "" {
		t = f.Union + " = " + t
	}
	if f.Reverse != "" {
		t += " (reverse " + f.Reverse + ")"
	}
	return t
}
