package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestSchemaDiff(t *testing.T) {
	from := filepath.Join(diffTestdata, "from.graphql")
	to := filepath.Join(diffTestdata, "to.graphql")
	blog := filepath.Join(synthTestdata, "blog.graphql")
	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"blocking", []string{from, to}, exitBlocked, []string{
			"blocks:\n",
			"[model-missing] model Review is missing in the destination",
			"[required-in-destination] Hotel.twitterHandle is required in the destination but optional in the source: declare a default or set it in a Hotel transform",
			"4 blocking, 7 needing a transform, 4 informational",
		}},
		// Syncing the other way blocks too: City is missing in from.graphql.
		{"reverse", []string{to, from}, exitBlocked, []string{"model City is missing in the destination"}},
		{"same schema", []string{blog, blog}, exitOK, []string{"no changes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"schema", "diff"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, stderr)
			}
			for _, want := range tc.contains {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if tc.code == exitBlocked && !strings.Contains(stderr, "blocking changes") {
				t.Errorf("stderr %q does not say why", stderr)
			}
		})
	}
}

func TestSchemaDiffJSON(t *testing.T) {
	cases := []struct {
		name     string
		from, to string
		code     int
		blocking int
		changes  int
	}{
		{"testdata", filepath.Join(diffTestdata, "from.graphql"), filepath.Join(diffTestdata, "to.graphql"), exitBlocked, 4, 15},
		{"no changes", filepath.Join(synthTestdata, "kitchensink.graphql"), filepath.Join(synthTestdata, "kitchensink.graphql"), exitOK, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "schema", "diff", "--json", tc.from, tc.to)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, stderr)
			}
			var out struct {
				Changes []struct {
					Severity, Class, Model, Field, Message, Fix string
				} `json:"changes"`
				Blocking int `json:"blocking"`
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			if out.Changes == nil {
				t.Error(`"changes" is null, want a list`)
			}
			if out.Blocking != tc.blocking || len(out.Changes) != tc.changes {
				t.Errorf("blocking %d of %d changes, want %d of %d", out.Blocking, len(out.Changes), tc.blocking, tc.changes)
			}
		})
	}
}

func TestSchemaDiffErrors(t *testing.T) {
	good := filepath.Join(diffTestdata, "from.graphql")
	cases := []struct {
		name string
		args func(t *testing.T) []string
		code int
		want string
	}{
		{"one file", func(t *testing.T) []string { return []string{good} }, exitUsage, "accepts 2 arg"},
		{"malformed", func(t *testing.T) []string {
			return []string{good, writeSDL(t, "bad.graphql", "type {")}
		}, exitUsage, "bad.graphql:1:6: "},
		{"not Hygraph", func(t *testing.T) []string {
			return []string{writeSDL(t, "plain.graphql", "type Query { a: Int }"), good}
		}, exitUsage, "no Hygraph models found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"schema", "diff"}, tc.args(t)...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want %q", stderr, tc.want)
			}
		})
	}
}
