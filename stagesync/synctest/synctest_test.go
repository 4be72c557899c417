package synctest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
	"github.com/stagesync/stagesync/stagesync/synctest"
)

// ref is a relation as a read operation reads it.
type ref struct {
	ID string `json:"id"`
}

// richText is a rich text field as read.
type richText struct {
	Raw json.RawMessage `json:"raw"`
}

// post is a Post as readPosts reads it, the way genqlient types it:
// nullable fields are pointers without omitempty.
type post struct {
	ID               string        `json:"id"`
	CreatedAt        string        `json:"createdAt"`
	Title            string        `json:"title"`
	Body             *richText     `json:"body"`
	Level            *string       `json:"level"`
	Views            *int          `json:"views"`
	Score            *float64      `json:"score"`
	Author           *ref          `json:"author"`
	Tags             []ref         `json:"tags"`
	DocumentInStages []postInStage `json:"documentInStages"`
}

type postInStage struct {
	ID     string    `json:"id"`
	Title  string    `json:"title"`
	Body   *richText `json:"body"`
	Level  *string   `json:"level"`
	Views  *int      `json:"views"`
	Score  *float64  `json:"score"`
	Author *ref      `json:"author"`
	Tags   []ref     `json:"tags"`
}

// author is an Author as read, with its German localization.
type author struct {
	ID               string          `json:"id"`
	CreatedAt        string          `json:"createdAt"`
	Name             string          `json:"name"`
	Bio              *string         `json:"bio"`
	Posts            []ref           `json:"posts"`
	Localizations    []authorLocale  `json:"localizations"`
	DocumentInStages []authorInStage `json:"documentInStages"`
}

type authorLocale struct {
	Locale string  `json:"locale"`
	Bio    *string `json:"bio"`
}

type authorInStage struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Bio           *string        `json:"bio"`
	Posts         []ref          `json:"posts"`
	Localizations []authorLocale `json:"localizations"`
}

const postFields = `title body { raw } level views score author { id } tags(first: 100) { id }`

const readPostsQuery = `query ReadPosts($first: Int!, $after: String) {
  posts(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) {
    id createdAt ` + postFields + `
    documentInStages(stages: [PUBLISHED]) { id ` + postFields + ` }
  }
}`

// postModel is what `stagesync gen` glue makes of readPosts.
func postModel(transform func(context.Context, *post) error) stagesync.TypedModel[post] {
	return stagesync.TypedModel[post]{
		Name: "Post",
		Read: func(ctx context.Context, c graphql.Client, first int, after *string) ([]post, error) {
			var out struct{ Posts []post }
			err := c.MakeRequest(ctx, &graphql.Request{Query: readPostsQuery, OpName: "ReadPosts",
				Variables: map[string]any{"first": first, "after": after}}, &graphql.Response{Data: &out})
			return out.Posts, err
		},
		Transform: transform,
	}
}

// shout is the transform under test: titles in upper case; "spam" is
// dropped, "broken" fails.
func shout(_ context.Context, p *post) error {
	switch p.Title {
	case "spam":
		return stagesync.ErrDrop
	case "broken":
		return errors.New("no title fits")
	}
	p.Title = strings.ToUpper(p.Title)
	return nil
}

func blogSchema(t *testing.T) *ast.Schema {
	t.Helper()
	desc, err := os.ReadFile("testdata/blog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(desc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("blog.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReadFixtures(t *testing.T) {
	posts, err := synctest.ReadFixtures[post]("testdata/posts.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 5 || posts[0].ID != "post-1" || posts[1].Body != nil || len(posts[0].DocumentInStages) != 1 {
		t.Errorf("posts = %+v", posts)
	}
	dir := t.TempDir()
	notArray := filepath.Join(dir, "object.json")
	if err := os.WriteFile(notArray, []byte(`{"id": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.json"), notArray} {
		if _, err := synctest.ReadFixtures[post](path); err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("ReadFixtures(%s): error %v, want one naming the file", path, err)
		}
	}
}

func TestApplyTransform(t *testing.T) {
	posts := synctest.LoadFixtures[post](t, "testdata/posts.json")
	before, _ := json.Marshal(posts)
	got := synctest.ApplyTransform(t, posts, shout)
	if after, _ := json.Marshal(posts); string(after) != string(before) {
		t.Error("ApplyTransform changed the fixtures")
	}
	if len(got) != len(posts) {
		t.Fatalf("%d results for %d fixtures", len(got), len(posts))
	}
	// The draft and the published version are transformed separately,
	// the draft without its documentInStages, as Sync does.
	if r := got[0]; r.Entry.Title != "HELLO, WORLD" || r.Entry.DocumentInStages != nil || r.Published == nil || r.Published.Title != "HELLO" {
		t.Errorf("post-1: %+v", r)
	}
	if !errors.Is(got[3].Err, stagesync.ErrDrop) || got[4].Err == nil || got[1].Published != nil {
		t.Errorf("results: %+v", got)
	}
	synctest.Golden(t, "testdata/posts.golden.json", got)
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

// Fatalf records the failure and stops the function under test, as
// t.Fatalf does (record recovers).
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatal{})
}
func (r *recorder) Logf(string, ...any) {}

type fatal struct{}

// record runs fn with a recorder and returns it.
func record(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if x := recover(); x != nil {
				if _, ok := x.(fatal); !ok {
					panic(x)
				}
			}
		}()
		fn(r)
	}()
	return r
}

func TestGolden(t *testing.T) {
	if synctest.Updating() {
		t.Skip("checks how Golden compares")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "golden.json")
	if err := os.WriteFile(path, []byte("{\n  \"a\": 1,\n  \"b\": [\n    \"x\"\n  ]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		got        any
		want       string // in the failure message; "" for no failure
	}{
		{"equal", path, map[string]any{"b": []string{"x"}, "a": 1}, ""},
		{"raw JSON", path, json.RawMessage(`{"a":1,"b":["x"]}`), ""},
		{"differs", path, map[string]any{"a": 2, "b": []string{"x"}}, `"a": 2`},
		{"missing", filepath.Join(dir, "nope.json"), 1, "run the test with -update"},
		{"not JSON", path, func() {}, "unsupported type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := record(t, func(tb testing.TB) { synctest.Golden(tb, tc.path, tc.got) })
			switch {
			case tc.want == "" && r.failed:
				t.Errorf("Golden failed: %s", r.msg)
			case tc.want != "" && !strings.Contains(r.msg, tc.want):
				t.Errorf("Golden: failed %v with %q, want a failure mentioning %q", r.failed, r.msg, tc.want)
			}
		})
	}
}

func TestSeedStage(t *testing.T) {
	srv := stagetest.NewServer(t, blogSchema(t))
	st := srv.Stage
	authors := synctest.SeedStage(t, st, "Author", synctest.LoadFixtures[author](t, "testdata/authors.json"))
	if _, err := st.Seed("Tag", "PUBLISHED", map[string]any{"id": "tag-go", "name": "go"}, map[string]any{"id": "tag-cms", "name": "cms"}); err != nil {
		t.Fatal(err)
	}
	posts := synctest.SeedStage(t, st, "Post", synctest.LoadFixtures[post](t, "testdata/posts.json"))
	if want := []string{"author-ursula", "author-isaac"}; !slices.Equal(authors, want) {
		t.Errorf("author ids %v, want %v", authors, want)
	}
	if len(posts) != 5 || posts[0] != "post-1" {
		t.Errorf("post ids %v", posts)
	}

	get := func(model, id, stage string) map[string]any {
		t.Helper()
		e, ok := st.Get(model, id, stage)
		if !ok {
			t.Fatalf("no %s %s in %s", model, id, stage)
		}
		return e
	}
	// The draft on top of the published version, with its relations
	// linked to what the stage has (tag-missing is not there).
	p1 := get("Post", "post-1", "DRAFT")
	if p1["title"] != "hello, world" || fmt.Sprint(p1["tags"]) != "[tag-go tag-cms]" || p1["author"] != "author-ursula" {
		t.Errorf("post-1 draft: %v", p1)
	}
	if p1["createdAt"] != "2024-02-01T09:00:00.000000+00:00" {
		t.Errorf("post-1 createdAt %v", p1["createdAt"])
	}
	pub := get("Post", "post-1", "PUBLISHED")
	if pub["title"] != "hello" || fmt.Sprint(pub["views"]) != "3" || fmt.Sprint(pub["tags"]) != "[tag-go]" {
		t.Errorf("post-1 published: %v", pub)
	}
	if p3 := get("Post", "post-3", "DRAFT"); fmt.Sprint(p3["tags"]) != "[tag-cms]" || p3["author"] != nil {
		t.Errorf("post-3: %v", p3)
	}
	if _, ok := st.Get("Post", "post-3", "PUBLISHED"); ok {
		t.Error("post-3 is published")
	}
	if p2 := get("Post", "post-2", "DRAFT"); p2["body"] != nil || p2["views"] != nil {
		t.Errorf("post-2 nulls: %v", p2)
	}
	// The localization, in the draft and the published version.
	ursula := get("Author", "author-ursula", "DRAFT")
	if de := ursula["localizations"].(map[string]any)["de"].(map[string]any); de["bio"] != "Schriftstellerin" {
		t.Errorf("Ursula's German bio: %v", ursula["localizations"])
	}
	ursulaPub := get("Author", "author-ursula", "PUBLISHED")
	if de := ursulaPub["localizations"].(map[string]any)["de"].(map[string]any); de["bio"] != "Romanautorin" || ursulaPub["bio"] != "Writer of novels" {
		t.Errorf("Ursula published: %v", ursulaPub)
	}
	// The other side of the two-way relation follows.
	if fmt.Sprint(ursula["posts"]) != "[post-1 post-2]" {
		t.Errorf("Ursula's posts: %v", ursula["posts"])
	}
}

func TestSyncModel(t *testing.T) {
	s := blogSchema(t)
	res := synctest.SyncModel(t, synctest.Spec[post]{
		Model:        postModel(shout),
		Fixtures:     synctest.LoadFixtures[post](t, "testdata/posts.json"),
		SourceSchema: s,
		Seed: func(t testing.TB, src *stagetest.Stage) {
			synctest.SeedStage(t, src, "Author", synctest.LoadFixtures[author](t, "testdata/authors.json"))
			if _, err := src.Seed("Tag", "PUBLISHED", map[string]any{"id": "tag-go", "name": "go"}, map[string]any{"id": "tag-cms", "name": "cms"}); err != nil {
				t.Fatal(err)
			}
		},
		// The posts' authors and tags are synced too, so that their
		// relations have something to point at in the destination.
		Configure: func(cfg *stagesync.SyncConfig) { cfg.Models = []string{"Author", "Tag"} },
	})

	// One post is dropped, one fails: both are missing in the destination,
	// and the authors' post lists say so.
	var failed []string
	for _, f := range res.Report.Failures() {
		failed = append(failed, f.Model+" "+f.SourceID+" "+f.Op)
	}
	if want := []string{"Post post-5 transform"}; !slices.Equal(failed, want) {
		t.Errorf("failures %q, want %q", failed, want)
	}
	for _, m := range res.Report.Models() {
		if m.Name == "Post" && (m.Read != 5 || m.Created != 3) {
			t.Errorf("Post: %+v, want 5 read and 3 created", m)
		}
	}

	// The destination holds the source's posts but for what the transform
	// changed: the titles, and the posts it dropped or failed.
	for _, d := range res.Differences(t) {
		switch {
		case d.Model == "Post" && (d.Field == "title" || d.Field == "published:title"):
			var want string
			if err := json.Unmarshal([]byte(d.Want), &want); err != nil || d.Got != fmt.Sprintf("%q", strings.ToUpper(want)) {
				t.Errorf("title: %s", d)
			}
		case d.Model == "Post" && d.Got == "missing" && (d.SourceID == "post-4" || d.SourceID == "post-5"):
		default:
			t.Errorf("difference: %s", d)
		}
	}

	// A second sync writes nothing.
	before := res.Dest.Stage.Counters()
	if _, _, err := stagesync.Sync(t.Context(), res.Config); err != nil {
		t.Fatal(err)
	}
	if n := res.Dest.Stage.Counters().Mutations - before.Mutations; n != 0 {
		t.Errorf("second sync: %d mutations, want 0", n)
	}
}
