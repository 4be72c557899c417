package stagesync_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/filestack/filestacktest"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// gallerySchema synthesizes testdata/assets/gallery.yaml on an asset
// system ("legacy" or "upload").
func gallerySchema(t testing.TB, system string) *ast.Schema {
	t.Helper()
	b, err := os.ReadFile("testdata/assets/gallery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	desc := strings.Replace(string(b), "\n  system: legacy\n", "\n  system: "+system+"\n", 1)
	if !strings.Contains(desc, "\n  system: "+system+"\n") {
		t.Fatalf("gallery.yaml has no asset system to set")
	}
	return describedSchema(t, "gallery-"+system+".graphql", desc)
}

// galleryPair is a source and a destination emulated stage, each with its
// own Filestack emulator and bucket.
type galleryPair struct {
	src, dst             *stagetest.Server
	srcFS, dstFS         *filestacktest.Server
	source, dest         *stagesync.Stage
	srcSchema, dstSchema *ast.Schema
	state                *stagesync.State
	assets               []galleryAsset
	posts                []galleryPost
}

// galleryAsset is a source asset and what its file holds.
type galleryAsset struct {
	id, name, mime, handle string
	size                   int64
	sum                    string // hex SHA-256 of the file
	alt, altDE, caption    string
	published              bool
}

type galleryPost struct {
	id     string
	assets []string // source asset ids referenced
}

// galleryOptions configure a galleryPair.
type galleryOptions struct {
	srcSystem, dstSystem string
	dstFS                []filestacktest.Option
	dst                  []stagetest.Option
}

func newGalleryPair(t testing.TB, o galleryOptions) *galleryPair {
	t.Helper()
	if o.srcSystem == "" {
		o.srcSystem = "legacy"
	}
	if o.dstSystem == "" {
		o.dstSystem = o.srcSystem
	}
	p := &galleryPair{srcSchema: gallerySchema(t, o.srcSystem), dstSchema: gallerySchema(t, o.dstSystem)}
	// Files above 256 KiB go to disk, so that the test holds little.
	p.srcFS = filestacktest.NewServer(t, filestacktest.WithMemoryThreshold(256<<10))
	p.dstFS = filestacktest.NewServer(t, append([]filestacktest.Option{filestacktest.WithMemoryThreshold(256 << 10)}, o.dstFS...)...)
	p.src = stagetest.NewServer(t, p.srcSchema, stagetest.WithAssets(p.srcFS, "SRC"))
	p.dst = stagetest.NewServer(t, p.dstSchema, append([]stagetest.Option{stagetest.WithAssets(p.dstFS, "DST")}, o.dst...)...)
	p.source = galleryStage("source", p.src)
	p.dest = galleryStage("dest", p.dst)
	p.state = stagesync.NewState(p.src.URL, p.dst.URL)
	return p
}

// galleryStage is a Stage for a local emulator: no rate limit, quick
// retries.
func galleryStage(name string, s *stagetest.Server) *stagesync.Stage {
	return stagesync.NewStage(name, s.URL, s.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond),
		stagesync.WithMaxConcurrency(8))
}

// config syncs every model and the assets.
func (p *galleryPair) config() stagesync.SyncConfig {
	return stagesync.SyncConfig{
		Source: p.source, Dest: p.dest,
		SourceSchema: p.srcSchema, DestSchema: p.dstSchema,
		State: p.state,
		Assets: &stagesync.AssetOptions{
			Files:        p.dstFS.Client("DST"),
			SourceFiles:  p.srcFS.Client("SRC"),
			PollInterval: 2 * time.Millisecond,
		},
	}
}

// galleryBytes returns size deterministic pseudo-random bytes for seed.
func galleryBytes(seed uint64, size int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, size)
	rand.NewChaCha8(key).Read(b)
	return b
}

// gallerySize draws the size of file i between lo and hi, spread evenly on
// a log scale; the first two files are the largest and the smallest.
func gallerySize(i, lo, hi int) int {
	switch i {
	case 0:
		return hi
	case 1:
		return lo
	}
	u := rand.New(rand.NewPCG(uint64(i), 0x5eed)).Float64()
	return int(float64(lo) * math.Pow(float64(hi)/float64(lo), u))
}

var galleryTypes = []struct{ ext, mime string }{{"jpg", "image/jpeg"}, {"png", "image/png"}, {"pdf", "application/pdf"}}

// gallerySeed says which assets to seed.
type gallerySeed struct {
	n, lo, hi int
	// broken names assets by index (their files fail in fault tests).
	broken map[int]string
	// dupes makes a few assets share a file (the same handle) and a few
	// hold the same bytes as another under a handle of their own.
	dupes bool
}

// gallerySameHandle and gallerySameBytes are the assets that, with dupes, share the
// file of the asset before them or hold its bytes.
var (
	gallerySameHandle = []int{10, 20}
	gallerySameBytes  = []int{30, 40, 50}
)

// seedAssets seeds the source's assets and returns how many distinct
// contents their files have.
func (p *galleryPair) seedAssets(t testing.TB, spec gallerySeed) int {
	t.Helper()
	st := p.src.Stage
	distinct := 0
	for i := range spec.n {
		typ := galleryTypes[i%len(galleryTypes)]
		a := galleryAsset{name: fmt.Sprintf("file-%03d.%s", i, typ.ext), mime: typ.mime, alt: fmt.Sprintf("Picture %d", i)}
		if name, ok := spec.broken[i]; ok {
			a.name = name
		}
		if i%2 == 0 {
			a.caption = fmt.Sprintf("Caption %d", i)
		}
		if i%10 == 0 {
			a.altDE = fmt.Sprintf("Bild %d", i)
		}
		a.published = i%3 == 0
		fields := map[string]any{"alt": a.alt}
		if a.caption != "" {
			fields["caption"] = a.caption
		}
		if a.altDE != "" {
			fields["localizations"] = map[string]any{"de": map[string]any{"alt": a.altDE}}
		}
		var err error
		switch {
		case spec.dupes && slices.Contains(gallerySameHandle, i):
			prev := p.assets[i-1]
			a.handle, a.size, a.sum, a.name, a.mime = prev.handle, prev.size, prev.sum, prev.name, prev.mime
			fields["handle"], fields["fileName"], fields["mimeType"], fields["size"] = a.handle, a.name, a.mime, float64(a.size)
			var ids []string
			ids, err = st.Seed("Asset", "DRAFT", fields)
			if err == nil {
				a.id = ids[0]
			}
		default:
			seed := uint64(i)
			if spec.dupes && slices.Contains(gallerySameBytes, i) {
				seed = uint64(i - 1)
			} else {
				distinct++
			}
			data := galleryBytes(seed, gallerySize(int(seed), spec.lo, spec.hi))
			sum := sha256.Sum256(data)
			a.size, a.sum = int64(len(data)), hex.EncodeToString(sum[:])
			a.id, err = st.SeedAsset(a.name, a.mime, data, fields)
			if err == nil {
				got, _ := st.Get("Asset", a.id, "DRAFT")
				a.handle, _ = got["handle"].(string)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if a.published {
			if err := st.Publish("Asset", a.id); err != nil {
				t.Fatal(err)
			}
		}
		p.assets = append(p.assets, a)
	}
	return distinct
}

// seedPosts seeds n posts, each with a cover and a gallery of two assets,
// so that n ≥ half the assets references every asset.
func (p *galleryPair) seedPosts(t testing.TB, n int) {
	t.Helper()
	k := len(p.assets)
	for j := range n {
		cover, g1, g2 := p.assets[(2*j)%k].id, p.assets[(2*j+1)%k].id, p.assets[(3*j+5)%k].id
		ids, err := p.src.Stage.Seed("Post", "DRAFT", map[string]any{
			"title": fmt.Sprintf("Post %03d", j), "cover": cover, "gallery": []any{g1, g2},
		})
		if err != nil {
			t.Fatal(err)
		}
		p.posts = append(p.posts, galleryPost{id: ids[0], assets: []string{cover, g1, g2}})
	}
}

// galleryDestAsset is a destination asset as checked.
type galleryDestAsset struct {
	ID       string  `json:"id"`
	URL      string  `json:"url"`
	Handle   string  `json:"handle"`
	FileName string  `json:"fileName"`
	MimeType *string `json:"mimeType"`
	Size     *float64
	Alt      *string `json:"alt"`
	Caption  *string `json:"caption"`
	Locs     []struct {
		Locale string  `json:"locale"`
		Alt    *string `json:"alt"`
	} `json:"localizations"`
	Stages []struct {
		ID string `json:"id"`
	} `json:"documentInStages"`
}

// destAssets reads the destination's assets by id.
func (p *galleryPair) destAssets(t testing.TB) map[string]galleryDestAsset {
	t.Helper()
	out := map[string]galleryDestAsset{}
	after := ""
	for {
		var res struct{ Assets []galleryDestAsset }
		err := p.dest.Do(context.Background(), `query($after: String) { assets(stage: DRAFT, first: 100, after: $after, orderBy: id_ASC) {
			id url handle fileName mimeType size alt caption
			localizations(locales: [de]) { locale alt }
			documentInStages(stages: [PUBLISHED]) { id }
		} }`, map[string]any{"after": galleryCursor(after)}, &res)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range res.Assets {
			out[a.ID] = a
		}
		if len(res.Assets) < 100 {
			return out
		}
		after = res.Assets[len(res.Assets)-1].ID
	}
}

func galleryCursor(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// galleryFileSum downloads a URL and returns the hex SHA-256 of its bytes.
func galleryFileSum(t testing.TB, hc *http.Client, u string) string {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkCopied checks that every source asset but those in failed has its
// destination asset, with the same bytes behind its url, the same fields
// and publish state; and that the failed ones have none.
func (p *galleryPair) checkCopied(t testing.TB, failed map[string]bool) {
	t.Helper()
	dest := p.destAssets(t)
	hc := p.dstFS.HTTPClient()
	for _, a := range p.assets {
		did, ok := p.state.DestID("Asset", a.id)
		if failed[a.id] {
			if ok {
				t.Errorf("failed asset %s (%s) is mapped to %s", a.id, a.name, did)
			}
			continue
		}
		d, found := dest[did]
		if !ok || !found {
			t.Errorf("asset %s (%s): no destination asset (mapped %v to %q)", a.id, a.name, ok, did)
			continue
		}
		if !strings.HasPrefix(d.URL, p.dstFS.CDNURL()+"/") {
			t.Errorf("asset %s: url %s is not on the destination's CDN", a.id, d.URL)
			continue
		}
		if sum := galleryFileSum(t, hc, d.URL); sum != a.sum {
			t.Errorf("asset %s (%s): destination file has SHA-256 %s, want %s", a.id, a.name, sum, a.sum)
		}
		if d.FileName != a.name || d.Alt == nil || *d.Alt != a.alt {
			t.Errorf("asset %s: fileName %q alt %v, want %q %q", a.id, d.FileName, d.Alt, a.name, a.alt)
		}
		if got := galleryString(d.Caption); got != a.caption {
			t.Errorf("asset %s: caption %q, want %q", a.id, got, a.caption)
		}
		if d.MimeType == nil || *d.MimeType != a.mime || d.Size == nil || int64(*d.Size) != a.size {
			t.Errorf("asset %s: mimeType %v size %v, want %s %d", a.id, d.MimeType, d.Size, a.mime, a.size)
		}
		altDE := ""
		for _, l := range d.Locs {
			if l.Locale == "de" {
				altDE = galleryString(l.Alt)
			}
		}
		if altDE != a.altDE {
			t.Errorf("asset %s: de alt %q, want %q", a.id, altDE, a.altDE)
		}
		if pub := len(d.Stages) > 0; pub != a.published {
			t.Errorf("asset %s: published %v, want %v", a.id, pub, a.published)
		}
	}
	want := len(p.assets) - len(failed)
	if len(dest) != want {
		t.Errorf("destination has %d assets, want %d", len(dest), want)
	}
}

func galleryString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// galleryEvents records the last PhaseAssets event of a run.
type galleryEvents struct {
	mu   sync.Mutex
	last stagesync.Event
	n    int
}

func (l *galleryEvents) record(ev stagesync.Event) {
	if ev.Phase != stagesync.PhaseAssets {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = ev
	l.n++
}

func galleryFailures(r *stagesync.Report, model string) []stagesync.Failure {
	var out []stagesync.Failure
	for _, f := range r.Failures() {
		if f.Model == model {
			out = append(out, f)
		}
	}
	return out
}

func assetModelReport(r *stagesync.Report, model string) stagesync.ModelReport {
	for _, m := range r.Models() {
		if m.Name == model {
			return m
		}
	}
	return stagesync.ModelReport{Name: model}
}

func TestSyncAssets(t *testing.T) {
	ctx := context.Background()
	p := newGalleryPair(t, galleryOptions{})
	distinct := p.seedAssets(t, gallerySeed{n: 200, lo: 1 << 10, hi: maxAssetSize, dupes: true})
	p.seedPosts(t, 100)

	var events galleryEvents
	cfg := p.config()
	cfg.Progress = events.record
	report, _, err := stagesync.Sync(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("run 1 failed: %v", report.Failures())
	}
	if m := assetModelReport(report, "Asset"); m.Read != 200 || m.Created != 200 || m.Published != 67 {
		t.Errorf("run 1: Asset %+v, want 200 read and created, 67 published", m)
	}
	p.checkCopied(t, nil)
	c := p.dstFS.Counters()
	if files := len(p.dstFS.Files("DST")); files != distinct || c.Stores+c.Uploads != int64(distinct) {
		t.Errorf("run 1: destination bucket has %d files after %d stores and %d uploads; want %d, each copied once",
			files, c.Stores, c.Uploads, distinct)
	}
	if ev := events.last; ev.Done != 200 || ev.Total != 200 || ev.Bytes != c.BytesUploaded || ev.Bytes == 0 || ev.TotalBytes < ev.Bytes {
		t.Errorf("run 1: last asset event %+v, want 200 of 200 assets and %d bytes", ev, c.BytesUploaded)
	}
	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{Source: p.source, Dest: p.dest,
		SourceSchema: p.srcSchema, DestSchema: p.dstSchema, Models: []string{"Post"}, State: p.state})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("run 1: %s", d)
	}

	// A second run copies nothing and writes nothing.
	p.dstFS.ResetCounters()
	report, _, err = stagesync.Sync(ctx, cfg)
	if err != nil || !report.OK() {
		t.Fatalf("run 2: %v %v", err, report.Failures())
	}
	if c := p.dstFS.Counters(); c.Stores+c.Uploads != 0 || c.BytesUploaded != 0 {
		t.Errorf("run 2 copied files: %+v", c)
	}
	if m := assetModelReport(report, "Asset"); m.Unchanged != 200 || m.Created+m.Updated+m.Published != 0 {
		t.Errorf("run 2: Asset %+v, want 200 unchanged", m)
	}
	if m := assetModelReport(report, "Post"); m.Unchanged != 100 {
		t.Errorf("run 2: Post %+v, want 100 unchanged", m)
	}

	// A changed field is written without copying the file; a replaced
	// file is copied, once.
	edited, replaced := &p.assets[3], &p.assets[4]
	edited.alt = "Edited"
	if err := p.src.Stage.Update(ctx, "Asset", edited.id, map[string]any{"alt": edited.alt}); err != nil {
		t.Fatal(err)
	}
	data := galleryBytes(9999, 3000)
	f := p.src.Stage.AssetBucket().Put(replaced.name, replaced.mime, data)
	sum := sha256.Sum256(data)
	replaced.handle, replaced.size, replaced.sum = f.Handle, f.Size, hex.EncodeToString(sum[:])
	if err := p.src.Stage.Update(ctx, "Asset", replaced.id, map[string]any{"handle": f.Handle, "size": float64(f.Size)}); err != nil {
		t.Fatal(err)
	}
	p.dstFS.ResetCounters()
	report, _, err = stagesync.Sync(ctx, cfg)
	if err != nil || !report.OK() {
		t.Fatalf("run 3: %v %v", err, report.Failures())
	}
	if c := p.dstFS.Counters(); c.Stores+c.Uploads != 1 || c.BytesUploaded != 3000 {
		t.Errorf("run 3: %d stores, %d uploads, %d bytes; want the replaced file only", c.Stores, c.Uploads, c.BytesUploaded)
	}
	if m := assetModelReport(report, "Asset"); m.Updated != 2 || m.Unchanged != 198 {
		t.Errorf("run 3: Asset %+v, want 2 updated", m)
	}
	p.checkCopied(t, nil)
}

// galleryFaults fails every store and upload of the broken files, and a fifth
// of the others once.
func galleryFaults(broken ...string) filestacktest.Option {
	return filestacktest.WithFault(func(c filestacktest.Call) int {
		switch {
		case c.Op != filestacktest.OpStore && c.Op != filestacktest.OpUpload:
			return 0
		case slices.Contains(broken, c.Filename):
			return http.StatusInternalServerError
		case c.N == 1 && filestacktest.Chance(7, c.Filename) < 0.2:
			return http.StatusServiceUnavailable
		}
		return 0
	})
}

// checkFaults checks a run in which the assets named broken failed: the
// report lists exactly them, with their URL, and every post that
// references one of them reports the missing relation.
func (p *galleryPair) checkFaults(t testing.TB, report *stagesync.Report, broken ...string) map[string]bool {
	t.Helper()
	if report.OK() {
		t.Error("report is OK, want failures")
	}
	failed := map[string]bool{}
	urls := map[string]string{}
	for _, a := range p.assets {
		if slices.Contains(broken, a.name) {
			failed[a.id] = true
			urls[a.id] = p.srcFS.CDNURL() + "/" + a.handle
		}
	}
	var got []string
	for _, f := range galleryFailures(report, "Asset") {
		got = append(got, f.SourceID)
		if f.Op != "asset" || !strings.Contains(f.Message, urls[f.SourceID]) {
			t.Errorf("asset failure %+v: want op asset and the URL %s in the message", f, urls[f.SourceID])
		}
	}
	slices.Sort(got)
	want := slices.Sorted(func(yield func(string) bool) {
		for id := range failed {
			if !yield(id) {
				return
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Errorf("failed assets %v, want %v", got, want)
	}
	missing := map[string][]string{}
	for _, f := range galleryFailures(report, "Post") {
		for _, r := range f.Reasons() {
			if r.Op != "relation" {
				t.Errorf("post failure %+v, want a relation", f)
			}
			missing[f.SourceID] = append(missing[f.SourceID], r.Message)
		}
	}
	for _, post := range p.posts {
		var refs []string
		for _, id := range post.assets {
			if failed[id] && !slices.Contains(refs, id) {
				refs = append(refs, id)
			}
		}
		msgs := strings.Join(missing[post.id], "\n")
		if len(refs) == 0 && msgs != "" {
			t.Errorf("post %s reports %s, want nothing", post.id, msgs)
		}
		for _, id := range refs {
			if !strings.Contains(msgs, "Asset "+id) {
				t.Errorf("post %s references failed asset %s but reports %q", post.id, id, msgs)
			}
		}
	}
	return failed
}

func TestSyncAssetsFaults(t *testing.T) {
	ctx := context.Background()
	broken := []string{"broken-1.png", "broken-2.pdf"}
	p := newGalleryPair(t, galleryOptions{dstFS: []filestacktest.Option{galleryFaults(broken...)}})
	p.seedAssets(t, gallerySeed{n: 100, lo: 1 << 10, hi: 64 << 10, broken: map[int]string{17: broken[0], 62: broken[1]}})
	p.seedPosts(t, 50)
	report, _, err := stagesync.Sync(ctx, p.config())
	if err != nil {
		t.Fatal(err)
	}
	failed := p.checkFaults(t, report, broken...)
	p.checkCopied(t, failed)
	if c := p.dstFS.Counters(); c.Faults < 10 {
		t.Errorf("only %d faults were injected", c.Faults)
	}
	for _, f := range galleryFailures(report, "Asset") {
		if !strings.Contains(f.Message, "500") {
			t.Errorf("asset failure %q does not say why", f.Message)
		}
	}
}

func TestSyncAssetSystems(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		src, dst string
		mode     stagetest.UploadMode
	}{
		{"legacy", "legacy", stagetest.UploadAsync},
		{"upload", "upload", stagetest.UploadAsync},
		{"legacy", "upload", stagetest.UploadOnNextRequest},
		{"upload", "legacy", stagetest.UploadAsync},
	} {
		t.Run(tc.src+" to "+tc.dst, func(t *testing.T) {
			broken := "broken.png"
			p := newGalleryPair(t, galleryOptions{srcSystem: tc.src, dstSystem: tc.dst,
				dstFS: []filestacktest.Option{galleryFaults(broken)}, dst: []stagetest.Option{stagetest.WithUploadMode(tc.mode)}})
			p.seedAssets(t, gallerySeed{n: 30, lo: 1 << 10, hi: 32 << 10, broken: map[int]string{7: broken}})
			p.seedPosts(t, 15)
			report, _, err := stagesync.Sync(ctx, p.config())
			if err != nil {
				t.Fatal(err)
			}
			failed := p.checkFaults(t, report, broken)
			p.checkCopied(t, failed)
			if m := assetModelReport(report, "Asset"); m.Created != 29 || m.Failed != 1 {
				t.Errorf("Asset %+v, want 29 created and 1 failed", m)
			}

			p.dstFS.ResetCounters()
			report, _, err = stagesync.Sync(ctx, p.config())
			if err != nil {
				t.Fatal(err)
			}
			c := p.dstFS.Counters()
			// The broken file is tried again; nothing else is copied.
			if c.BytesUploaded != 0 || c.Stores+c.Uploads != 0 {
				t.Errorf("run 2 copied files: %+v", c)
			}
			if m := assetModelReport(report, "Asset"); m.Unchanged != 29 || m.Failed != 1 {
				t.Errorf("run 2: Asset %+v, want 29 unchanged and 1 failed", m)
			}
		})
	}
}

func TestSyncAssetsStrict(t *testing.T) {
	ctx := context.Background()
	p := newGalleryPair(t, galleryOptions{dstFS: []filestacktest.Option{galleryFaults("broken.jpg")}})
	p.seedAssets(t, gallerySeed{n: 6, lo: 1 << 10, hi: 8 << 10, broken: map[int]string{3: "broken.jpg"}})
	p.seedPosts(t, 3)
	cfg := p.config()
	cfg.Assets.Strict = true
	report, _, err := stagesync.Sync(ctx, cfg)
	var ae *stagesync.AssetError
	if !errors.As(err, &ae) || len(ae.Failures) != 1 || ae.Failures[0].SourceID != p.assets[3].id {
		t.Fatalf("Sync = %v, want an *AssetError for asset %s", err, p.assets[3].id)
	}
	if report.OK() {
		t.Error("report is OK")
	}
	if posts := p.dst.Stage.All("Post", "DRAFT"); len(posts) != 0 {
		t.Errorf("strict run wrote %d posts", len(posts))
	}
	if m := assetModelReport(report, "Asset"); m.Created != 5 {
		t.Errorf("Asset %+v, want the 5 others created", m)
	}
}

func TestSyncAssetsStoreByURLRefused(t *testing.T) {
	// The destination's Filestack cannot reach the source's files: they
	// are downloaded and uploaded instead.
	p := newGalleryPair(t, galleryOptions{dstFS: []filestacktest.Option{filestacktest.WithFault(func(c filestacktest.Call) int {
		if c.Op == filestacktest.OpStore {
			return http.StatusBadRequest
		}
		return 0
	})}})
	p.seedAssets(t, gallerySeed{n: 8, lo: 1 << 10, hi: 1 << 20})
	report, _, err := stagesync.Sync(context.Background(), p.config())
	if err != nil || !report.OK() {
		t.Fatalf("Sync: %v %v", err, report.Failures())
	}
	if c := p.dstFS.Counters(); c.Uploads != 8 || c.Stores != 0 {
		t.Errorf("%d uploads and %d stores, want 8 uploads", c.Uploads, c.Stores)
	}
	p.checkCopied(t, nil)
}

func TestSyncAssetsUploadTimeout(t *testing.T) {
	p := newGalleryPair(t, galleryOptions{dstSystem: "upload", dst: []stagetest.Option{stagetest.WithUploadMode(stagetest.UploadManual)}})
	p.seedAssets(t, gallerySeed{n: 3, lo: 1 << 10, hi: 2 << 10})
	cfg := p.config()
	cfg.Assets.UploadTimeout = 30 * time.Millisecond
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	failed := galleryFailures(report, "Asset")
	if len(failed) != 3 {
		t.Fatalf("failures %v, want the 3 assets; %+v %v", failed, report.Models(), p.dst.Stage.All("Asset", "DRAFT"))
	}
	for _, f := range failed {
		if !strings.Contains(f.Message, "still ASSET_CREATE_PENDING after 30ms") {
			t.Errorf("failure %q does not say the upload timed out", f.Message)
		}
	}
	if left := p.dst.Stage.All("Asset", "DRAFT"); len(left) != 0 {
		t.Errorf("%d pending assets were left in the destination", len(left))
	}
}

func TestSyncAssetsPlanAndMirror(t *testing.T) {
	ctx := context.Background()
	p := newGalleryPair(t, galleryOptions{})
	p.seedAssets(t, gallerySeed{n: 5, lo: 1 << 10, hi: 2 << 10})
	extra, err := p.dst.Stage.SeedAsset("extra.txt", "text/plain", []byte("not in the source"), nil)
	if err != nil {
		t.Fatal(err)
	}

	cfg := p.config()
	cfg.DryRun = true
	report, plan, err := stagesync.Sync(ctx, cfg)
	if err != nil || !report.OK() {
		t.Fatalf("dry run: %v %v", err, report.Failures())
	}
	if m := plan.Model("Asset"); m.Create != 5 || m.Orphaned != 1 || m.Publish != 2 {
		t.Errorf("dry run plan %+v, want 5 creates, 2 publishes, 1 orphan", m)
	}
	if n := len(p.dstFS.Files("DST")); n != 1 {
		t.Errorf("dry run copied files: %d in the bucket", n)
	}

	report, _, err = stagesync.Sync(ctx, p.config())
	if err != nil || !report.OK() {
		t.Fatalf("run: %v %v", err, report.Failures())
	}
	if m := assetModelReport(report, "Asset"); m.Orphaned != 1 || m.Created != 5 {
		t.Errorf("Asset %+v, want 5 created and 1 orphaned", m)
	}
	cfg = p.config()
	cfg.Mirror = true
	report, _, err = stagesync.Sync(ctx, cfg)
	if err != nil || !report.OK() {
		t.Fatalf("mirror run: %v %v", err, report.Failures())
	}
	if m := assetModelReport(report, "Asset"); m.Deleted != 1 || m.Unchanged != 5 {
		t.Errorf("mirror: Asset %+v, want 1 deleted", m)
	}
	if _, ok := p.dst.Stage.Get("Asset", extra, "DRAFT"); ok {
		t.Error("the orphaned asset is still there")
	}
	p.checkCopied(t, nil)
}

// ExampleAssetOptions copies an asset and the post that shows it between
// two emulated stages on the legacy asset system, each with its own
// bucket in one Filestack emulator.
func ExampleAssetOptions() {
	ctx := context.Background()
	desc, err := os.ReadFile("testdata/assets/gallery.yaml")
	if err != nil {
		panic(err)
	}
	sdl, err := schema.SynthesizeDescription(desc)
	if err != nil {
		panic(err)
	}
	s, err := schema.LoadString("gallery.graphql", sdl)
	if err != nil {
		panic(err)
	}
	files := filestacktest.New()
	defer files.Close()
	serve := func(apiKey string) (*stagetest.Stage, *httptest.Server) {
		st, err := stagetest.NewStage(s, stagetest.WithAssets(files, apiKey))
		if err != nil {
			panic(err)
		}
		return st, httptest.NewServer(st)
	}
	src, srcServer := serve("SOURCE_KEY")
	defer srcServer.Close()
	_, dstServer := serve("DEST_KEY")
	defer dstServer.Close()

	photo, err := src.SeedAsset("photo.png", "image/png", []byte("\x89PNG..."), map[string]any{"alt": "A photo"})
	if err != nil {
		panic(err)
	}
	if _, err := src.Seed("Post", "DRAFT", map[string]any{"title": "Hello", "cover": photo}); err != nil {
		panic(err)
	}

	report, _, err := stagesync.Sync(ctx, stagesync.SyncConfig{
		Source: stagesync.NewStage("source", srcServer.URL, ""),
		Dest:   stagesync.NewStage("dest", dstServer.URL, ""),
		Assets: &stagesync.AssetOptions{Files: files.Client("DEST_KEY")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range report.Models() {
		fmt.Printf("%s: %d created\n", m.Name, m.Created)
	}
	fmt.Println("files in the destination's bucket:", len(files.Files("DEST_KEY")))
	// Output:
	// Asset: 1 created
	// Post: 1 created
	// files in the destination's bucket: 1
}

func TestSyncAssetsTransform(t *testing.T) {
	p := newGalleryPair(t, galleryOptions{})
	p.seedAssets(t, gallerySeed{n: 4, lo: 1 << 10, hi: 2 << 10})
	p.seedPosts(t, 2)
	cfg := p.config()
	cfg.Transform = func(_ context.Context, model string, entry map[string]any) error {
		if model != "Asset" {
			return nil
		}
		switch entry["id"] {
		case p.assets[1].id:
			return stagesync.ErrDrop
		case p.assets[2].id:
			return errors.New("no alt text")
		}
		entry["alt"] = strings.ToUpper(entry["alt"].(string))
		return nil
	}
	report, plan, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m := plan.Model("Asset"); m.Create != 2 || m.Skipped != 1 {
		t.Errorf("plan %+v, want 2 creates and 1 skip", m)
	}
	var ops []string
	for _, f := range report.Failures() {
		ops = append(ops, f.Model+" "+f.Op)
	}
	// Post 0 shows assets 0, 1 and 3; post 1 shows 2, 3 and 0.
	if want := []string{"Asset transform", "Post relation", "Post relation"}; !slices.Equal(ops, want) {
		t.Errorf("failures %v, want %v", report.Failures(), want)
	}
	for _, i := range []int{0, 3} {
		did, _ := p.state.DestID("Asset", p.assets[i].id)
		got, _ := p.dst.Stage.Get("Asset", did, "DRAFT")
		if want := strings.ToUpper(p.assets[i].alt); got["alt"] != want {
			t.Errorf("asset %d: alt %v, want %s", i, got["alt"], want)
		}
	}
}
