package listen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/filestack/filestacktest"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// TestListenAssets: random edits of posts and their assets (new files,
// changed fields, gallery reorders, publishes, deletes) on a source on the
// legacy asset system fire webhooks; once the queue drains, the posts are
// equal (assets through the identity map) and every source asset has its
// destination copy with the same fields.
func TestListenAssets(t *testing.T) {
	desc, err := os.ReadFile("../../stagesync/testdata/assets/gallery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(desc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString("gallery.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{schema: s, dir: t.TempDir()}
	w.hooks = newFront(t)
	srcFS, dstFS := filestacktest.NewServer(t), filestacktest.NewServer(t)
	w.src = stagetest.NewServer(t, s, stagetest.WithAssets(srcFS, "SRC"),
		stagetest.WithWebhook(stagetest.Webhook{URL: w.hooks.URL, Secret: testSecret, Backoff: 5 * time.Millisecond}))
	w.dst = stagetest.NewServer(t, s, stagetest.WithAssets(dstFS, "DST"))
	w.source, w.dest = fastStage("source", w.src), fastStage("dest", w.dst)
	cfg := w.config()
	cfg.Sync.Assets = &stagesync.AssetOptions{Files: dstFS.Client("DST"), SourceFiles: srcFS.Client("SRC"), PollInterval: 2 * time.Millisecond}
	l := w.listen(t, cfg)
	w.hooks.set(l.Handler())

	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	var assets, posts []string
	n := 0
	pick := func(ids []string) string { return ids[rng.IntN(len(ids))] }
	do := func(query string, vars map[string]any) {
		t.Helper()
		if err := w.source.Do(ctx, query, vars, nil); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	newAsset := func() {
		n++
		id, err := w.src.Stage.SeedAsset(fmt.Sprintf("f%d.txt", n), "text/plain", []byte(strings.Repeat(fmt.Sprint(n), 50+n)), map[string]any{"alt": fmt.Sprintf("alt %d", n)})
		if err != nil {
			t.Fatal(err)
		}
		assets = append(assets, id)
	}
	for range 4 {
		newAsset()
	}
	for range 60 {
		switch k := rng.IntN(8); {
		case k == 0 || len(posts) < 3:
			n++
			gallery := []any{map[string]any{"id": pick(assets)}}
			if g := pick(assets); g != gallery[0].(map[string]any)["id"] {
				gallery = append(gallery, map[string]any{"id": g})
			}
			var out struct{ Item struct{ ID string } }
			if err := w.source.Do(ctx, `mutation($data: PostCreateInput!) { item: createPost(data: $data) { id } }`, map[string]any{"data": map[string]any{
				"title": fmt.Sprintf("post %d", n), "cover": map[string]any{"connect": map[string]any{"id": pick(assets)}},
				"gallery": map[string]any{"connect": gallery},
			}}, &out); err != nil {
				t.Fatal(err)
			}
			posts = append(posts, out.Item.ID)
		case k == 1:
			newAsset()
		case k == 2: // an asset's fields
			n++
			do(`mutation($id: ID!, $c: String) { updateAsset(where: {id: $id}, data: {caption: $c}) { id } }`, map[string]any{"id": pick(assets), "c": fmt.Sprintf("caption %d", n)})
		case k == 3: // a gallery reordered, with a new asset maybe
			var set []any
			for _, i := range rng.Perm(len(assets))[:min(3, len(assets))] {
				set = append(set, map[string]any{"id": assets[i]})
			}
			do(`mutation($id: ID!, $set: [AssetWhereUniqueInput!]) { updatePost(where: {id: $id}, data: {gallery: {set: $set}}) { id } }`, map[string]any{"id": pick(posts), "set": set})
		case k == 4:
			do(`mutation($id: ID!) { publishPost(where: {id: $id}) { id } }`, map[string]any{"id": pick(posts)})
		case k == 5:
			do(`mutation($id: ID!) { publishAsset(where: {id: $id}) { id } }`, map[string]any{"id": pick(assets)})
		case k == 6 && len(posts) > 3:
			id := pick(posts)
			do(`mutation($id: ID!) { deletePost(where: {id: $id}) { id } }`, map[string]any{"id": id})
			posts = removeID(posts, id)
		case k == 7 && len(assets) > 4: // the posts pointing at it let go
			id := pick(assets)
			do(`mutation($id: ID!) { deleteAsset(where: {id: $id}) { id } }`, map[string]any{"id": id})
			assets = removeID(assets, id)
		}
	}
	w.drain(t, nil)
	w.noFailedJobs(t)
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{Source: w.source, Dest: w.dest, SourceSchema: s, DestSchema: s,
		State: l.cfg.Sync.State, Models: []string{"Post"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}
	if src, dst := len(w.src.Stage.All("Post", "DRAFT")), len(w.dst.Stage.All("Post", "DRAFT")); src != dst || src == 0 {
		t.Errorf("%d posts in the source, %d in the destination", src, dst)
	}
	if src, dst := len(w.src.Stage.All("Asset", "DRAFT")), len(w.dst.Stage.All("Asset", "DRAFT")); src != dst {
		t.Errorf("%d assets in the source, %d in the destination", src, dst)
	}
	st := l.Stats()
	t.Logf("%d assets, %d posts; %d webhooks accepted, %d jobs done", len(assets), len(posts), st.Events["accepted"], st.Completed[KindSyncEntry])
	if dstFS.Counters().Stores+dstFS.Counters().Uploads == 0 {
		t.Error("no file was copied")
	}
	for _, id := range assets {
		d, ok := l.cfg.Sync.State.DestID("Asset", id)
		if !ok {
			t.Errorf("asset %s was not copied", id)
			continue
		}
		want, _ := w.src.Stage.Get("Asset", id, "DRAFT")
		got, _ := w.dst.Stage.Get("Asset", d, "DRAFT")
		for _, f := range []string{"alt", "caption", "fileName", "size"} {
			if fmt.Sprint(want[f]) != fmt.Sprint(got[f]) {
				t.Errorf("asset %s: %s %v, want %v", id, f, got[f], want[f])
			}
		}
		_, wantPub := w.src.Stage.Get("Asset", id, "PUBLISHED")
		_, gotPub := w.dst.Stage.Get("Asset", d, "PUBLISHED")
		if wantPub != gotPub {
			t.Errorf("asset %s: published %t, want %t", id, gotPub, wantPub)
		}
	}
}

// removeID returns ids without id.
func removeID(ids []string, id string) []string {
	out := ids[:0:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
