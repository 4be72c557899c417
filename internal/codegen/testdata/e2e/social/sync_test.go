// This test runs in the packages `stagesync gen` generates from the social
// fixture (Account, Comment, Post) and from the synthesized schema with its
// content models (as package synthsocial), in a temporary module: see
// internal/codegen's TestGenerateE2E.

package social

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	sdl, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("schema.graphql", string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fastStage(name string, srv *stagetest.Server) *stagesync.Stage {
	return stagesync.NewStage(name, srv.URL, srv.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond))
}

func richText(s string) map[string]any {
	return map[string]any{"children": []any{map[string]any{"type": "paragraph", "children": []any{map[string]any{"text": s}}}}}
}

// TestTypedSync seeds an emulated source with accounts, their comments and
// posts (published, draft only, and published with a newer draft), syncs
// it to an empty destination through the generated typed models only, and
// checks that the destination equals the source; a second sync writes
// nothing.
func TestTypedSync(t *testing.T) {
	s := loadSchema(t)
	src, dst := stagetest.NewServer(t, s), stagetest.NewServer(t, s)
	source, dest := fastStage("source", src), fastStage("dest", dst)
	ctx := context.Background()

	seed := func(model, stage string, doc map[string]any) string {
		t.Helper()
		ids, err := src.Stage.Seed(model, stage, doc)
		if err != nil {
			t.Fatal(err)
		}
		return ids[0]
	}
	var accounts []string
	for i := range 12 {
		doc := map[string]any{
			"firstName": fmt.Sprintf("First%02d", i), "lastName": "Last", "emailAddress": fmt.Sprintf("a%02d@example.com", i),
			"password": "secret", "gender": []string{"Female", "Male"}[i%2],
		}
		if i%3 == 0 {
			doc["city"], doc["country"], doc["birthdate"] = "Berlin", "DE", "1990-01-02"
		}
		accounts = append(accounts, seed("Account", []string{"PUBLISHED", "DRAFT"}[i%2], doc))
	}
	for i := range 8 {
		stage := "PUBLISHED"
		if i == 7 {
			stage = "DRAFT"
		}
		seed("Comment", stage, map[string]any{"content": fmt.Sprintf("comment %d", i), "creator": accounts[i]})
	}
	for i := range 8 {
		id := seed("Post", "PUBLISHED", map[string]any{"content": richText(fmt.Sprintf("post %d", i)), "creator": accounts[11-i]})
		if i%3 == 0 {
			// The draft moves on after publishing.
			if err := src.Stage.Update(ctx, "Post", id, map[string]any{"content": richText(fmt.Sprintf("post %d, edited", i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A post with no creator.
	seed("Post", "DRAFT", map[string]any{"content": richText("orphan")})

	state := stagesync.NewState(src.URL, dst.URL)
	cfg := stagesync.SyncConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state,
		Typed:    Models(),
		PageSize: 5, // several pages per model
		// Account.avatar and Post.images reference Asset; no entry has
		// one, and assets are left out.
		SkipAssets: true,
	}
	report, _, err := stagesync.Sync(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Failures() {
		t.Errorf("failure: %+v", f)
	}
	want := map[string][2]int{"Account": {12, 6}, "Comment": {8, 7}, "Post": {9, 8}} // read, published
	for _, m := range report.Models() {
		if w := want[m.Name]; m.Read != w[0] || m.Created != w[0] || m.Published != w[1] {
			t.Errorf("%s: %+v, want %d read and created, %d published", m.Name, m, w[0], w[1])
		}
	}
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
		Source: source, Dest: dest, SourceSchema: s, DestSchema: s, State: state,
		Models: []string{"Account", "Comment", "Post"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}

	report, _, err = stagesync.Sync(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range report.Models() {
		if m.Created+m.Updated+m.Published+m.Deleted+m.Failed > 0 {
			t.Errorf("second sync wrote: %+v", m)
		}
	}
}
