package stagesync_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// travelDesc is a project whose hotels reference destinations, reviews
// (two-way) and assets, for syncs of a subset of its models.
const travelDesc = `locales: [en]
assets:
  system: upload
models:
  Destination:
    name: String! unique
    hotels: "[Hotel] <- destination"
  Hotel:
    name: String! unique
    destination: Destination -> hotels
    reviews: "[Review] -> hotel"
    photos: "[Asset]"
  Review:
    title: String!
    hotel: Hotel <- reviews
`

// recorder is a RoundTripper that keeps the bodies of the requests it
// carries.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// mutations returns the recorded bodies of mutations.
func (r *recorder) mutations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		if strings.Contains(b, "mutation") {
			out = append(out, b)
		}
	}
	return out
}

// travel is a source seeded with destinations, hotels, reviews and
// assets, and a destination whose requests are recorded.
type travel struct {
	p       *pair
	rec     *recorder
	schema  *ast.Schema
	dests   []string
	hotels  []string
	reviews map[string][]string // hotel → its reviews, in order
	photos  map[string][]string // hotel → its photos
	assets  []string
}

func newTravel(t *testing.T) *travel {
	t.Helper()
	s := describedSchema(t, "travel.graphql", travelDesc)
	tr := &travel{schema: s, rec: &recorder{}, reviews: map[string][]string{}, photos: map[string][]string{}}
	tr.p = newPairOf(t, s, s, []stagetest.Option{stagetest.WithAssets(nil, "")}, nil)
	tr.p.dest = fastStageAt("dest", tr.p.dst.URL, tr.p.dst.Token, stagesync.WithHTTPClient(&http.Client{Transport: tr.rec}))
	src := tr.p.src.Stage
	for _, name := range []string{"photo-a.png", "photo-b.png"} {
		id, err := src.SeedAsset(name, "image/png", []byte("png "+name), nil)
		if err != nil {
			t.Fatal(err)
		}
		tr.assets = append(tr.assets, id)
	}
	tr.dests = tr.p.seed(t, "Destination", "PUBLISHED", map[string]any{"name": "Lisbon"}, map[string]any{"name": "Porto"})
	for i, name := range []string{"Ritz", "Ibis", "Tivoli"} {
		id := tr.p.seed(t, "Hotel", "PUBLISHED", map[string]any{"name": name, "destination": tr.dests[i%2], "photos": []any{tr.assets[i%2]}})[0]
		tr.hotels = append(tr.hotels, id)
		tr.photos[id] = []string{tr.assets[i%2]}
		for j := range 2 {
			r := tr.p.seed(t, "Review", "PUBLISHED", map[string]any{"title": name + " review " + string(rune('A'+j)), "hotel": id})[0]
			tr.reviews[id] = append(tr.reviews[id], r)
		}
	}
	return tr
}

// config syncs Destination and Hotel only, leaving assets out.
func (tr *travel) config() stagesync.SyncConfig {
	cfg := tr.p.config()
	cfg.Models = []string{"Destination", "Hotel"}
	cfg.SkipAssets = true
	return cfg
}

// sourceReviewIDs returns every source review id.
func (tr *travel) sourceReviewIDs() []string {
	var out []string
	for _, h := range tr.hotels {
		out = append(out, tr.reviews[h]...)
	}
	return out
}

// noSourceIDs fails when a mutation the destination received carries one
// of ids.
func (tr *travel) noSourceIDs(t *testing.T, ids []string) {
	t.Helper()
	for _, body := range tr.rec.mutations() {
		for _, id := range ids {
			if strings.Contains(body, id) {
				t.Errorf("a mutation carries source id %s:\n%s", id, body)
			}
		}
	}
}

// refIDs returns the ids of a relation value as the emulator's Get gives
// it (an id or a list of ids).
func refIDs(x any) []string {
	switch v := x.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, y := range v {
			out = append(out, refIDs(y)...)
		}
		return out
	case []string:
		return v
	case map[string]any:
		id, _ := v["id"].(string)
		return []string{id}
	}
	return nil
}

// destHotel returns the destination hotel named name.
func (tr *travel) destHotel(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, h := range tr.p.dst.Stage.All("Hotel", "DRAFT") {
		if h["name"] == name {
			return h
		}
	}
	t.Fatalf("the destination has no hotel %q", name)
	return nil
}

func TestSyncSubsetEmptyDestination(t *testing.T) {
	tr := newTravel(t)

	// The plan predicts the run: every hotel fails, none is created.
	cfg := tr.config()
	cfg.DryRun = true
	dryReport, plan, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hp := plan.Model("Hotel")
	if hp.Create != 0 || hp.Failed != 3 {
		t.Errorf("plan of Hotel: create %d, failed %d; want 0 and 3", hp.Create, hp.Failed)
	}
	for _, ep := range hp.Entries {
		if ep.Op != stagesync.OpFail || !strings.Contains(ep.Reason, "include Review in --models") {
			t.Errorf("planned hotel %s: %s %q", ep.SourceID, ep.Op, ep.Reason)
		}
	}
	if got := plan.Model("Destination").Create; got != 2 {
		t.Errorf("plan creates %d destinations, want 2", got)
	}
	if len(tr.rec.mutations()) != 0 {
		t.Errorf("a dry run sent mutations")
	}

	report, _, err := stagesync.Sync(context.Background(), tr.config())
	if err != nil {
		t.Fatal(err)
	}
	// The destinations are written without the hotels that failed, and
	// report them missing.
	var failures []stagesync.Failure
	for _, f := range report.Failures() {
		if f.Model == "Destination" {
			if f.Op != "relation" || !strings.Contains(f.Message, "Destination.hotels: Hotel") {
				t.Errorf("failure %+v", f)
			}
			continue
		}
		failures = append(failures, f)
	}
	if len(failures) != 3 {
		t.Fatalf("failures %+v, want one per hotel", failures)
	}
	// The dry run reported the same failures.
	if diff := cmp.Diff(report.Failures(), dryReport.Failures()); diff != "" {
		t.Errorf("the dry run's failures differ from the run's (-run +dry):\n%s", diff)
	}
	for _, f := range failures {
		if f.Model != "Hotel" || f.Op != "relation" || f.DestID != "" {
			t.Errorf("failure %+v", f)
		}
		for _, want := range append([]string{"Hotel.reviews", "Review", "include Review in --models or sync it first"}, tr.reviews[f.SourceID]...) {
			if !strings.Contains(f.Message, want) {
				t.Errorf("failure of hotel %s lacks %q: %s", f.SourceID, want, f.Message)
			}
		}
		if strings.Contains(f.Message, "Asset") {
			t.Errorf("failure names the assets left out (SkipAssets): %s", f.Message)
		}
	}
	if n := len(tr.p.dst.Stage.All("Hotel", "DRAFT")); n != 0 {
		t.Errorf("the destination has %d hotels, want none", n)
	}
	if n := len(tr.p.dst.Stage.All("Destination", "DRAFT")); n != 2 {
		t.Errorf("the destination has %d destinations, want 2", n)
	}
	tr.noSourceIDs(t, append(tr.sourceReviewIDs(), tr.assets...))
}

func TestSyncSubsetClonedDestination(t *testing.T) {
	tr := newTravel(t)
	// The destination is a clone of the source: the same destinations,
	// reviews and assets, with the same ids; no hotels yet.
	src, dst := tr.p.src.Stage, tr.p.dst.Stage
	for _, m := range []string{"Asset", "Destination", "Review"} {
		for _, e := range src.All(m, "DRAFT") {
			doc := map[string]any{"id": e["id"]}
			switch m {
			case "Asset":
				doc["handle"], doc["fileName"] = e["handle"], e["fileName"]
			case "Destination":
				doc["name"] = e["name"]
			case "Review":
				doc["title"] = e["title"]
			}
			if _, err := dst.Seed(m, "DRAFT", doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	report, plan, err := stagesync.Sync(context.Background(), tr.config())
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("failures: %+v", report.Failures())
	}
	if got := plan.Model("Hotel").Create; got != 3 {
		t.Errorf("created %d hotels, want 3", got)
	}
	// The reviews and assets are looked up by id, in one batch per model
	// for the one page of hotels.
	lookups := map[string]int{}
	tr.rec.mu.Lock()
	for _, b := range tr.rec.bodies {
		for _, m := range []string{"Review", "Asset"} {
			if strings.Contains(b, "StagesyncExists"+m) {
				lookups[m]++
				if !strings.Contains(b, "id_in") {
					t.Errorf("lookup without id_in: %s", b)
				}
			}
		}
	}
	tr.rec.mu.Unlock()
	if lookups["Review"] != 1 || lookups["Asset"] != 1 {
		t.Errorf("lookups %v, want one per model", lookups)
	}
	for i, name := range []string{"Ritz", "Ibis", "Tivoli"} {
		h := tr.destHotel(t, name)
		srcID := tr.hotels[i]
		if got := refIDs(h["reviews"]); !slices.Equal(got, tr.reviews[srcID]) {
			t.Errorf("%s reviews %v, want the same ids %v", name, got, tr.reviews[srcID])
		}
		if got := refIDs(h["photos"]); !slices.Equal(got, tr.photos[srcID]) {
			t.Errorf("%s photos %v, want the same ids %v", name, got, tr.photos[srcID])
		}
		if got := refIDs(h["destination"]); !slices.Equal(got, []string{tr.dests[i%2]}) {
			t.Errorf("%s destination %v, want %s", name, got, tr.dests[i%2])
		}
	}
}

func TestSyncSubsetIdentityMap(t *testing.T) {
	tr := newTravel(t)
	// The destination has the reviews under ids of its own, which the
	// identity map knows; it has no assets.
	destOf := map[string]string{}
	for _, h := range tr.hotels {
		for _, r := range tr.reviews[h] {
			ids, err := tr.p.dst.Stage.Seed("Review", "PUBLISHED", map[string]any{"title": "copy of " + r})
			if err != nil {
				t.Fatal(err)
			}
			destOf[r] = ids[0]
			if err := tr.p.state.Adopt("Review", r, ids[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	report, _, err := stagesync.Sync(context.Background(), tr.config())
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("failures: %+v", report.Failures())
	}
	for i, name := range []string{"Ritz", "Ibis", "Tivoli"} {
		h := tr.destHotel(t, name)
		var want []string
		for _, r := range tr.reviews[tr.hotels[i]] {
			want = append(want, destOf[r])
		}
		if got := refIDs(h["reviews"]); !slices.Equal(got, want) {
			t.Errorf("%s reviews %v, want the mapped %v", name, got, want)
		}
		// SkipAssets: the assets the destination lacks are left out.
		if got := refIDs(h["photos"]); len(got) != 0 {
			t.Errorf("%s photos %v, want none", name, got)
		}
	}
	tr.noSourceIDs(t, append(tr.sourceReviewIDs(), tr.assets...))

	// A second run writes nothing: the photos left out compare equal.
	before := len(tr.rec.mutations())
	report, _, err = stagesync.Sync(context.Background(), tr.config())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range report.Models() {
		if m.Created+m.Updated+m.Published+m.Failed > 0 {
			t.Errorf("second run: %+v", m)
		}
	}
	if n := len(tr.rec.mutations()) - before; n != 0 {
		t.Errorf("second run sent %d mutations", n)
	}
}

func TestSyncAssetReferencesNeedADecision(t *testing.T) {
	tr := newTravel(t)
	cfg := tr.config()
	cfg.SkipAssets = false
	srcBefore, dstBefore := tr.p.src.Stage.Counters().Queries, tr.p.dst.Stage.Counters().Queries
	_, _, err := stagesync.Sync(context.Background(), cfg)
	var ce *stagesync.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Option != "Assets" {
		t.Fatalf("err = %v, want a ConfigError on Assets", err)
	}
	for _, want := range []string{"Hotel.photos references Asset", "SkipAssets", "--skip-assets", "--assets"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if tr.p.src.Stage.Counters().Queries != srcBefore || tr.p.dst.Stage.Counters().Queries != dstBefore {
		t.Errorf("the refused sync read content")
	}

	// Every model: Hotel.photos still references Asset (Review does not).
	cfg.Models = nil
	if _, _, err := stagesync.Sync(context.Background(), cfg); !errors.As(err, &ce) {
		t.Errorf("syncing every model: err = %v, want a ConfigError", err)
	}
	// Models that do not reference Asset need no decision.
	cfg.Models = []string{"Destination"}
	if _, _, err := stagesync.Sync(context.Background(), cfg); err != nil {
		t.Errorf("syncing Destination: %v", err)
	}
	// Both set is a contradiction.
	cfg.Assets, cfg.SkipAssets = &stagesync.AssetOptions{}, true
	if _, _, err := stagesync.Sync(context.Background(), cfg); !errors.As(err, &ce) {
		t.Errorf("Assets and SkipAssets: err = %v, want a ConfigError", err)
	}
}

func TestNeedsAssets(t *testing.T) {
	tr := newTravel(t)
	cfg := tr.config()
	cfg.SourceSchema, cfg.DestSchema = nil, nil
	needs, err := stagesync.NeedsAssets(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(needs.Fields, []string{"Hotel.photos"}) || needs.Files {
		t.Errorf("needs %+v, want Hotel.photos on the new asset system", needs)
	}
	if cfg.SourceSchema == nil || cfg.DestSchema == nil {
		t.Errorf("the introspected schemas are not kept")
	}
	cfg.Models = []string{"Destination", "Review"}
	if needs, err := stagesync.NeedsAssets(context.Background(), &cfg); err != nil || len(needs.Fields) != 0 {
		t.Errorf("Destination, Review: needs %+v, %v; want none", needs, err)
	}
}
