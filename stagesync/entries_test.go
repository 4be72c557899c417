package stagesync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// opRecorder records the names of the GraphQL operations a stage is sent.
type opRecorder struct {
	mu  sync.Mutex
	ops []string
}

var opName = regexp.MustCompile(`^\s*(?:query|mutation)\s+(\w+)`)

func (r *opRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		var body struct{ Query string }
		if json.Unmarshal(b, &body) == nil {
			if m := opName.FindStringSubmatch(body.Query); m != nil {
				r.mu.Lock()
				r.ops = append(r.ops, m[1])
				r.mu.Unlock()
			}
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// reads returns the read operations recorded (queries of entries, not
// introspection or lookups), and resets.
func (r *opRecorder) reads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, op := range r.ops {
		if strings.HasPrefix(op, "StagesyncRead") || strings.HasPrefix(op, "StagesyncIDs") || strings.HasPrefix(op, "StagesyncLatest") {
			out = append(out, op)
		}
	}
	r.ops = nil
	return out
}

// recorded makes the pair's stages record their operations.
func (p *pair) recorded() (src, dst *opRecorder) {
	src, dst = &opRecorder{}, &opRecorder{}
	p.source = fastStageAt("source", p.src.URL, p.src.Token, stagesync.WithHTTPClient(&http.Client{Transport: src}))
	p.dest = fastStageAt("dest", p.dst.URL, p.dst.Token, stagesync.WithHTTPClient(&http.Client{Transport: dst}))
	return src, dst
}

// noWholeRead fails the test when a read is not narrowed to named entries.
func noWholeRead(t *testing.T, side string, reads []string) {
	t.Helper()
	for _, op := range reads {
		if !strings.HasSuffix(op, "Where") {
			t.Errorf("%s: a single-entry run sent %s, a read of the whole model", side, op)
		}
	}
}

func (p *pair) destOf(t *testing.T, model, srcID string) string {
	t.Helper()
	return destOf(t, p.state, model, srcID)
}

func (p *galleryPair) destOf(t *testing.T, model, srcID string) string {
	t.Helper()
	return destOf(t, p.state, model, srcID)
}

func destOf(t *testing.T, state *stagesync.State, model, srcID string) string {
	t.Helper()
	d, ok := state.DestID(model, srcID)
	if !ok {
		t.Fatalf("%s %s has no destination entry in the identity map", model, srcID)
	}
	return d
}

func TestSyncEntriesOneEntry(t *testing.T) {
	ctx := context.Background()
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 12)
	mustSync(t, p.config())
	srcRec, dstRec := p.recorded()

	books := p.seeded["Book"]
	one, other := books[3], books[4]
	for _, id := range []string{one, other} {
		if err := p.src.Stage.Update(ctx, "Book", id, map[string]any{"pages": 999}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := p.config()
	cfg.Entries = map[string][]string{"Book": {one}}
	report, _ := mustSync(t, cfg)
	if got := modelReport(report, "Book"); got.Read != 1 || got.Updated != 1 {
		t.Errorf("report: %+v, want 1 book read and updated", got)
	}
	noWholeRead(t, "source", srcRec.reads())
	noWholeRead(t, "destination", dstRec.reads())

	got, _ := p.dst.Stage.Get("Book", p.destOf(t, "Book", one), "DRAFT")
	if got["pages"] != 999 && got["pages"] != int64(999) && got["pages"] != float64(999) {
		t.Errorf("synced book has pages %v, want 999", got["pages"])
	}
	untouched, _ := p.dst.Stage.Get("Book", p.destOf(t, "Book", other), "DRAFT")
	if v, _ := json.Marshal(untouched["pages"]); string(v) == "999" {
		t.Errorf("a book not named was synced too")
	}
	// Named again with the other, the stages are equal.
	cfg.Entries = map[string][]string{"Book": {other}}
	mustSync(t, cfg)
	p.compare(t)
}

func TestSyncEntriesDelete(t *testing.T) {
	ctx := context.Background()
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 6)
	mustSync(t, p.config())
	gone := p.seeded["Book"][2]
	dest := p.destOf(t, "Book", gone)
	if err := p.source.Do(ctx, `mutation($id: ID!) { deleteBook(where: {id: $id}) { id } }`, map[string]any{"id": gone}, nil); err != nil {
		t.Fatal(err)
	}

	cfg := p.config()
	cfg.Entries = map[string][]string{"Book": {gone}}
	report, _ := mustSync(t, cfg)
	if m := modelReport(report, "Book"); m.Orphaned != 1 || m.Deleted != 0 {
		t.Errorf("without Mirror: report %+v, want the book orphaned", m)
	}
	if _, ok := p.dst.Stage.Get("Book", dest, "DRAFT"); !ok {
		t.Fatal("without Mirror the destination entry was deleted")
	}

	// With Mirror, an entry the source does not return is kept unless
	// the source reported it deleted: an id read answered with nothing (a
	// token that lost read access) must not delete the copy.
	cfg.Mirror = true
	report, _ = mustSync(t, cfg)
	if m := modelReport(report, "Book"); m.Orphaned != 1 || m.Deleted != 0 {
		t.Errorf("with Mirror, no delete reported: report %+v, want the book orphaned", m)
	}
	if _, ok := p.dst.Stage.Get("Book", dest, "DRAFT"); !ok {
		t.Fatal("with Mirror but no delete reported, the destination entry was deleted")
	}

	cfg.Deleted = map[string][]string{"Book": {gone}}
	report, _ = mustSync(t, cfg)
	if m := modelReport(report, "Book"); m.Deleted != 1 {
		t.Errorf("with Mirror: report %+v, want the book deleted", m)
	}
	if _, ok := p.dst.Stage.Get("Book", dest, "DRAFT"); ok {
		t.Error("with Mirror the destination entry is still there")
	}
	p.compare(t)
}

func TestSyncEntriesPullsMissingTargets(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 6)
	mustSync(t, p.config())
	srcRec, dstRec := p.recorded()

	mentor := p.seed(t, "Author", "PUBLISHED", map[string]any{"name": "Octavia"})[0]
	author := p.seed(t, "Author", "DRAFT", map[string]any{"name": "Ted", "mentor": mentor})[0]
	tag := p.seed(t, "Tag", "PUBLISHED", map[string]any{"name": "new"})[0]
	tag2 := p.seed(t, "Tag", "DRAFT", map[string]any{"name": "newer"})[0]
	book := p.seed(t, "Book", "PUBLISHED", map[string]any{"title": "Fresh", "author": author, "tags": []any{tag2, tag}})[0]

	cfg := p.config()
	cfg.Entries = map[string][]string{"Book": {book}}
	report, _ := mustSync(t, cfg)
	for _, e := range []struct{ model, id string }{{"Book", book}, {"Author", author}, {"Author", mentor}, {"Tag", tag}, {"Tag", tag2}} {
		p.destOf(t, e.model, e.id)
	}
	if cut := report.CutTargets(); len(cut) != 0 {
		t.Errorf("cut targets %+v, want none", cut)
	}
	noWholeRead(t, "source", srcRec.reads())
	noWholeRead(t, "destination", dstRec.reads())
	p.compare(t)

	// One hop deep, the mentor is cut and reported; the author pointing at
	// it was pulled in and is written without it.
	book2Mentor := p.seed(t, "Author", "PUBLISHED", map[string]any{"name": "Kim"})[0]
	author2 := p.seed(t, "Author", "PUBLISHED", map[string]any{"name": "Ann", "mentor": book2Mentor})[0]
	book2 := p.seed(t, "Book", "DRAFT", map[string]any{"title": "Deep", "author": author2})[0]
	cfg.Entries = map[string][]string{"Book": {book2}}
	cfg.EntryDepth = 1
	report, _ = mustSync(t, cfg)
	cut := report.CutTargets()
	if len(cut) != 1 || cut[0].Model != "Author" || cut[0].SourceID != book2Mentor {
		t.Errorf("cut targets %+v, want Author %s", cut, book2Mentor)
	}
	if _, ok := p.state.DestID("Author", book2Mentor); ok {
		t.Error("the cut author was synced")
	}
	p.destOf(t, "Book", book2)
	if !slices.Contains(p.seeded["Author"], author2) {
		t.Fatal("seed bookkeeping")
	}
}

func TestSyncEntriesPullsFromTheOtherSide(t *testing.T) {
	for _, order := range []string{"ab", "ba"} {
		t.Run(order, func(t *testing.T) {
			s := librarySchema(t, nil)
			p := newPair(t, s, s)
			p.seedLibrary(t, 3)
			mustSync(t, p.config())
			a := p.seed(t, "Tag", "PUBLISHED", map[string]any{"name": "a"})[0]
			b := p.seed(t, "Tag", "DRAFT", map[string]any{"name": "b"})[0]
			tags := []any{a, b}
			if order == "ba" {
				tags = []any{b, a}
			}
			book := p.seed(t, "Book", "PUBLISHED", map[string]any{"title": "Both", "tags": tags})[0]
			cfg := p.config()
			cfg.Entries = map[string][]string{"Tag": {a}}
			mustSync(t, cfg)
			p.destOf(t, "Book", book)
			p.compare(t)
		})
	}
}

// TestSyncEntriesAssets: a single-entry run copies the assets its entry
// references that the destination lacks, syncs a named asset alone, and
// mirrors an asset's deletion; it reads no whole model.
func TestSyncEntriesAssets(t *testing.T) {
	for _, system := range []string{"legacy", "upload"} {
		t.Run(system, func(t *testing.T) {
			ctx := context.Background()
			p := newGalleryPair(t, galleryOptions{srcSystem: system})
			p.seedAssets(t, gallerySeed{n: 6, lo: 100, hi: 1000})
			p.seedPosts(t, 3)
			if report, _, err := stagesync.Sync(ctx, p.config()); err != nil || !report.OK() {
				t.Fatalf("full sync: %v %v", err, report.Failures())
			}
			srcRec, dstRec := &opRecorder{}, &opRecorder{}
			p.source = stagesync.NewStage("source", p.src.URL, p.src.Token, stagesync.WithHTTPClient(&http.Client{Transport: srcRec}))
			p.dest = stagesync.NewStage("dest", p.dst.URL, p.dst.Token, stagesync.WithHTTPClient(&http.Client{Transport: dstRec}))

			// A new post with a new asset: the asset comes along.
			fresh, err := p.src.Stage.SeedAsset("fresh.png", "image/png", galleryBytes(99, 500), map[string]any{"alt": "fresh"})
			if err != nil {
				t.Fatal(err)
			}
			post, err := p.src.Stage.Seed("Post", "DRAFT", map[string]any{"title": "Fresh post", "cover": fresh, "gallery": []any{fresh, p.assets[0].id}})
			if err != nil {
				t.Fatal(err)
			}
			run := func(entries map[string][]string, mirror bool) *stagesync.Report {
				t.Helper()
				cfg := p.config()
				cfg.Entries, cfg.Mirror = entries, mirror
				if mirror {
					cfg.Deleted = map[string][]string{"Asset": entries["Asset"]}
				}
				report, _, err := stagesync.Sync(ctx, cfg)
				if err != nil || !report.OK() {
					t.Fatalf("sync %v: %v %v", entries, err, report.Failures())
				}
				return report
			}
			run(map[string][]string{"Post": post}, false)
			if _, ok := p.state.DestID("Asset", fresh); !ok {
				t.Fatal("the new asset was not copied")
			}

			// An asset edited, synced alone.
			if err := p.src.Stage.Update(ctx, "Asset", p.assets[1].id, map[string]any{"caption": "changed"}); err != nil {
				t.Fatal(err)
			}
			report := run(map[string][]string{"Asset": {p.assets[1].id}}, false)
			if m := assetModelReport(report, "Asset"); m.Read != 1 || m.Updated != 1 {
				t.Errorf("asset run: %+v, want 1 read and updated", m)
			}

			// An asset deleted (after the posts let go of it), mirrored.
			gone := p.assets[5].id
			var users []string
			for _, ps := range p.posts {
				if slices.Contains(ps.assets, gone) {
					users = append(users, ps.id)
				}
			}
			if err := p.source.Do(ctx, `mutation($id: ID!) { deleteAsset(where: {id: $id}) { id } }`, map[string]any{"id": gone}, nil); err != nil {
				t.Fatal(err)
			}
			goneDest := p.destOf(t, "Asset", gone)
			run(map[string][]string{"Asset": {gone}, "Post": users}, true)
			noWholeRead(t, "source", srcRec.reads())
			noWholeRead(t, "destination", dstRec.reads())
			if _, ok := p.dst.Stage.Get("Asset", goneDest, "DRAFT"); ok {
				t.Error("the deleted asset is still in the destination")
			}
			if got, _ := p.dst.Stage.Get("Asset", p.destOf(t, "Asset", fresh), "DRAFT"); got["alt"] != "fresh" {
				t.Errorf("the new asset in the destination: %v", got)
			}
			if got, _ := p.dst.Stage.Get("Asset", p.destOf(t, "Asset", p.assets[1].id), "DRAFT"); got["caption"] != "changed" {
				t.Errorf("the edited asset in the destination: %v", got)
			}
			// Asset handles differ where files are re-hosted: the posts are
			// compared (their asset relations through the identity map).
			diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{Source: p.source, Dest: p.dest,
				SourceSchema: p.srcSchema, DestSchema: p.dstSchema, State: p.state, Models: []string{"Post"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diffs {
				t.Errorf("difference: %s", d)
			}
		})
	}
}

// TestSyncEntriesDeletedChecked: Deleted names entries of the run.
func TestSyncEntriesDeletedChecked(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 2)
	book := p.seeded["Book"][0]
	for _, tt := range []struct {
		entries, deleted map[string][]string
		want             string
	}{
		{nil, map[string][]string{"Book": {book}}, "Deleted is set without Entries"},
		{map[string][]string{"Book": {book}}, map[string][]string{"Book": {"other"}}, `Deleted names Book "other", which Entries does not`},
	} {
		cfg := p.config()
		cfg.Mirror, cfg.Entries, cfg.Deleted = true, tt.entries, tt.deleted
		if _, _, err := stagesync.Sync(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Entries %v, Deleted %v: err = %v, want %q", tt.entries, tt.deleted, err, tt.want)
		}
	}
}
