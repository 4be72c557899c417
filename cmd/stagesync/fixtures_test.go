package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readTagsOp is a read operation in the shape `stagesync schema scaffold`
// writes: cursor paging by id, stage and filter variables, comments.
const readTagsOp = `# ReadTags reads one page of Tag entries.
# @genqlient(for: "TagWhereInput.name_starts_with", pointer: true, omitempty: true)
query ReadTags(
  $first: Int!
  # @genqlient(pointer: true, omitempty: true)
  $after: String
  $stage: Stage!
  # @genqlient(pointer: true, omitempty: true)
  $where: TagWhereInput
) {
  # @genqlient(typename: "Tag")
  tags(first: $first, after: $after, stage: $stage, where: $where, orderBy: id_ASC) {
    id
    name
    books(first: 100) {
      id
    }
  }
}
`

// fixtureTag is a recorded Tag.
type fixtureTag struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Books []struct {
		ID string `json:"id"`
	} `json:"books"`
}

func TestFixturesRecord(t *testing.T) {
	srv := libraryStage(t, nil)
	var docs []map[string]any
	for i := range 12 {
		docs = append(docs, map[string]any{"name": fmt.Sprintf("tag %02d", i)})
	}
	published, err := srv.Stage.Seed("Tag", "PUBLISHED", docs[:5]...)
	if err != nil {
		t.Fatal(err)
	}
	drafts, err := srv.Stage.Seed("Tag", "DRAFT", docs[5:]...)
	if err != nil {
		t.Fatal(err)
	}
	ids := slices.Sorted(slices.Values(append(published, drafts...)))

	dir := t.TempDir()
	op := filepath.Join(dir, "readTags.graphql")
	if err := os.WriteFile(op, []byte(readTagsOp), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STAGESYNC_FIXTURES_TOKEN", srv.Token)
	base := []string{"fixtures", "record", "--endpoint", srv.URL, "--token-env", "STAGESYNC_FIXTURES_TOKEN", "--op", op, "--rate", "1000"}

	cases := []struct {
		name    string
		args    []string
		wantIDs []string // the ids recorded, in order
	}{
		{"pages", []string{"--first", "9", "--page-size", "4"}, ids[:9]},
		{"all in one page", []string{"--first", "100"}, ids},
		{"exact pages", []string{"--first", "12", "--page-size", "3"}, ids},
		{"published stage", []string{"--var", "stage=PUBLISHED"}, slices.Sorted(slices.Values(published))},
		{"filter", []string{"--var", `where={"name_starts_with": "tag 1"}`, "--page-size", "1"}, ids[10:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			code, stdout, stderr := runCLI(t, append(append(base, tc.args...), "-o", out)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != "" || !strings.Contains(stderr, fmt.Sprintf("recorded %d tags", len(tc.wantIDs))) {
				t.Errorf("stdout %q, stderr %q", stdout, stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got []fixtureTag
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
				if e.Name == "" || e.Books == nil {
					t.Errorf("entry %+v: fields missing", e)
				}
			}
			if !slices.Equal(gotIDs, tc.wantIDs) {
				// The filter case keeps only names starting with "tag 1",
				// which are the last two by id: ids follow creation time.
				t.Errorf("recorded %v, want %v", gotIDs, tc.wantIDs)
			}
			// Pretty JSON, the entries' fields in the operation's order.
			if !strings.HasPrefix(string(b), "[\n  {\n    \"id\": ") || !strings.HasSuffix(string(b), "]\n") {
				t.Errorf("not an indented array:\n%s", b)
			}
		})
	}

	t.Run("stdout", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, append(base, "--first", "2")...)
		if code != exitOK || !strings.HasPrefix(stdout, "[\n") || strings.Count(stdout, `"id": "c`) != 2 {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

func TestFixturesRecordErrors(t *testing.T) {
	srv := libraryStage(t, nil)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	op := write("readTags.graphql", readTagsOp)
	two := write("two.graphql", readTagsOp+"query Other($first: Int!) { tags(first: $first) { id } }\n")
	mutation := write("mutation.graphql", "mutation M($first: Int!) { deleteManyTagsConnection(first: $first) { aggregate { count } } }")
	noFirst := write("nofirst.graphql", "query Q { tags { id } }")
	twoRoots := write("roots.graphql", "query Q($first: Int!) { tags(first: $first) { id } books { id } }")
	noID := write("noid.graphql", "query Q($first: Int!, $after: String) { tags(first: $first, after: $after, stage: DRAFT) { name } }")
	needs := write("needs.graphql", "query Q($first: Int!, $where: TagWhereInput!) { tags(first: $first, where: $where) { id } }")
	if _, err := srv.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "a"}, map[string]any{"name": "b"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STAGESYNC_FIXTURES_TOKEN", srv.Token)
	t.Setenv("STAGESYNC_FIXTURES_WRONG", "wrong-token-0987654321")
	t.Setenv("STAGESYNC_FIXTURES_EMPTY", "")
	auth := []string{"--token-env", "STAGESYNC_FIXTURES_TOKEN", "--rate", "1000"}
	out := filepath.Join(dir, "out.json")

	cases := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stderr
	}{
		{"no endpoint", []string{"--op", op}, exitUsage, "--endpoint is required"},
		{"no op", []string{"--endpoint", srv.URL}, exitUsage, "--op is required"},
		{"missing op file", []string{"--endpoint", srv.URL, "--op", filepath.Join(dir, "nope.graphql")}, exitUsage, "nope.graphql"},
		{"bad first", []string{"--endpoint", srv.URL, "--op", op, "--first", "0"}, exitUsage, "--first 0"},
		{"empty token variable", []string{"--endpoint", srv.URL, "--op", op, "--token-env", "STAGESYNC_FIXTURES_EMPTY"}, exitUsage, "STAGESYNC_FIXTURES_EMPTY"},
		{"two operations", append([]string{"--endpoint", srv.URL, "--op", two}, auth...), exitUsage, "choose one with --operation"},
		{"unknown operation", append([]string{"--endpoint", srv.URL, "--op", two, "--operation", "Nope"}, auth...), exitUsage, "no operation Nope"},
		{"mutation", append([]string{"--endpoint", srv.URL, "--op", mutation}, auth...), exitUsage, "not a query"},
		{"no $first", append([]string{"--endpoint", srv.URL, "--op", noFirst}, auth...), exitUsage, "no $first variable"},
		{"two root fields", append([]string{"--endpoint", srv.URL, "--op", twoRoots}, auth...), exitUsage, "selects 2 root fields"},
		{"bad var", append([]string{"--endpoint", srv.URL, "--op", op, "--var", "stage"}, auth...), exitUsage, "want name=value"},
		{"unknown var", append([]string{"--endpoint", srv.URL, "--op", op, "--var", "nope=1"}, auth...), exitUsage, "no variable $nope"},
		{"paging var", append([]string{"--endpoint", srv.URL, "--op", op, "--var", "after=x"}, auth...), exitUsage, "--first and --page-size"},
		{"required var", append([]string{"--endpoint", srv.URL, "--op", needs}, auth...), exitUsage, "needs $where"},
		{"no id", append([]string{"--endpoint", srv.URL, "--op", noID, "--page-size", "1", "--first", "2"}, auth...), exitUsage, "select id"},
		{"wrong token", []string{"--endpoint", srv.URL, "--op", op, "--token-env", "STAGESYNC_FIXTURES_WRONG", "-o", out}, exitFailures, "401"},
		{"graphql error", append([]string{"--endpoint", srv.URL, "--op", op, "--var", "stage=NOPE", "-o", out}, auth...), exitFailures, "page 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"fixtures", "record"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.wantCode, tc.want)
			}
			if strings.Contains(stderr, srv.Token) || strings.Contains(stderr, "wrong-token-0987654321") {
				t.Errorf("stderr shows a token: %q", stderr)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed recording wrote %s (%v)", out, err)
	}
}
