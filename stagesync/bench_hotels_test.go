//go:build linux || darwin

package stagesync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/benchhotels"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// The hotels-10k scenario of issue #4: 200 destinations, 10,000 hotels and
// 20,000 reviews (hotel → destination, review → hotel), 30% of the entries
// published, synced between two emulated stages that behave like a Hygraph
// project on a growth plan.
const (
	hotelsRate    = 25                    // requests per second per stage; 429 beyond
	hotelsLatency = 50 * time.Millisecond // added to every request
	hotelsMaxPage = 100                   // largest page a query may ask for
	hotelsMaxBody = 70_000                // request body cap in bytes; 413 beyond

	// naiveSample is how many entries the naive loop copies; its time is
	// extrapolated to the full set (at 25 req/s the whole set would take
	// well over 20 minutes).
	naiveSample = 500

	// The memory runs (BenchmarkHotelsRSS) raise the emulated rate limit
	// and cut the latency: they measure memory, not time.
	rssRate    = 500
	rssLatency = 5 * time.Millisecond
)

// hotelsModels are the models of the data set in write order.
var hotelsModels = benchhotels.Models

// hotelsSchema synthesizes the hotels project of the benchmarks
// (benchhotels.Schema).
func hotelsSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	s, err := benchhotels.Schema()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// hotelsOptions are the emulator options of a stage with the given rate
// limit and latency, the page maximum and the body cap.
func hotelsOptions(rate float64, latency time.Duration) []stagetest.Option {
	return []stagetest.Option{
		stagetest.WithLimits(stagetest.Limits{MaxBody: hotelsMaxBody, Rate: rate, Latency: latency}),
		stagetest.WithMaxPage(hotelsMaxPage),
	}
}

// Words of the generated text; some need JSON escaping (& < > ") and some
// are not ASCII, as in real editorial content.
// wire counts the HTTP attempts of one Stage as they leave it, after its
// rate limiter: per kind of request (read, write, publish), the answers by
// status, body sizes, round-trip times and the time with at least one
// request in flight. It is the base transport of the Stage.
type wire struct {
	base http.RoundTripper
	all  *activity // shared by the stages of a run

	mu    sync.Mutex
	act   activity
	kinds map[string]*wireKind
}

// wireKind counts the requests of one kind.
type wireKind struct {
	Requests  int           // attempts sent
	OK        int           // answered 200
	TooLarge  int           // answered 413
	Throttled int           // answered 429
	Other     int           // other answers and transport errors
	OKBytes   int64         // request body bytes of the 200 answers
	OKOps     int           // root fields in the 200 answers
	MaxBytes  int           // largest body sent
	Time      time.Duration // summed round-trip time
}

// activity measures the time with at least one request in flight.
type activity struct {
	mu       sync.Mutex
	inFlight int
	since    time.Time
	busy     time.Duration
}

func (a *activity) start(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inFlight == 0 {
		a.since = now
	}
	a.inFlight++
}

func (a *activity) end(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	if a.inFlight == 0 {
		a.busy += now.Sub(a.since)
	}
}

func (a *activity) busyTime() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.busy
}

func newWire(all *activity) *wire {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &wire{base: t, all: all, kinds: map[string]*wireKind{}}
}

// rootFieldRE finds the root mutation fields of a (merged) document.
var rootFieldRE = regexp.MustCompile(`\b(?:create|update|upsert|delete|publish|unpublish)[A-Z]\w*\s*\(`)

// publishRE finds publish mutations (publishHotel, publishManyHotelsConnection).
var publishRE = regexp.MustCompile(`\bpublish[A-Z]\w*\s*\(`)

// classify returns the kind of a GraphQL request body and its number of
// operations (root mutation fields; 1 for a query).
func classify(body []byte) (string, int) {
	var req struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "other", 0
	}
	q := strings.TrimSpace(req.Query)
	if !strings.HasPrefix(q, "mutation") {
		return "read", 1
	}
	kind := "write"
	if publishRE.MatchString(q) {
		kind = "publish"
	}
	return kind, len(rootFieldRE.FindAllStringIndex(q, -1))
}

// RoundTrip implements http.RoundTripper.
func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	kind, ops := classify(body)

	start := time.Now()
	w.mu.Lock()
	w.act.start(start)
	w.mu.Unlock()
	if w.all != nil {
		w.all.start(start)
	}
	resp, err := w.base.RoundTrip(out)
	end := time.Now()
	if w.all != nil {
		w.all.end(end)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	w.act.end(end)
	k := w.kinds[kind]
	if k == nil {
		k = &wireKind{}
		w.kinds[kind] = k
	}
	k.Requests++
	k.Time += end.Sub(start)
	k.MaxBytes = max(k.MaxBytes, len(body))
	switch {
	case err != nil:
		k.Other++
	case resp.StatusCode == http.StatusOK:
		k.OK++
		k.OKBytes += int64(len(body))
		k.OKOps += ops
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		k.TooLarge++
	case resp.StatusCode == http.StatusTooManyRequests:
		k.Throttled++
	default:
		k.Other++
	}
	return resp, err
}

// kind returns a copy of the counts of one kind.
func (w *wire) kind(name string) wireKind {
	w.mu.Lock()
	defer w.mu.Unlock()
	if k := w.kinds[name]; k != nil {
		return *k
	}
	return wireKind{}
}

// total returns the counts of every kind together.
func (w *wire) total() wireKind {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t wireKind
	for _, k := range w.kinds {
		t.Requests += k.Requests
		t.OK += k.OK
		t.TooLarge += k.TooLarge
		t.Throttled += k.Throttled
		t.Other += k.Other
		t.OKBytes += k.OKBytes
		t.OKOps += k.OKOps
		t.MaxBytes = max(t.MaxBytes, k.MaxBytes)
		t.Time += k.Time
	}
	return t
}

// busy returns the time this stage had at least one request in flight.
func (w *wire) busy() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.act.busy
}

// hotelsStage returns a Stage for an emulated stage, rate-limited at its true
// limit, sending through w when it is not nil.
func hotelsStage(name string, srv *stagetest.Server, rate float64, conc int, w *wire) *stagesync.Stage {
	opts := []stagesync.StageOption{
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: rate, Max: rate}),
		stagesync.WithMaxConcurrency(conc),
	}
	if w != nil {
		opts = append(opts, stagesync.WithHTTPClient(&http.Client{Transport: w, Timeout: stagesync.DefaultTimeout}))
	}
	return stagesync.NewStage(name, srv.URL, srv.Token, opts...)
}

// hotelsConfig is the SyncConfig of the benchmark: pages of the stage
// maximum, a page of writes in flight at once, and batches bounded by the
// stage's body cap only (the operation count is raised so that bytes
// decide, as in the request budget).
func hotelsConfig(src, dst *stagesync.Stage, s *ast.Schema, state *stagesync.State, progress func(stagesync.Event)) stagesync.SyncConfig {
	return stagesync.SyncConfig{
		Source: src, Dest: dst,
		SourceSchema: s, DestSchema: s,
		State:       state,
		PageSize:    hotelsMaxPage,
		Concurrency: 2 * hotelsMaxPage,
		Batch:       []hygraph.BatchOption{hygraph.WithMaxBytes(hotelsMaxBody), hygraph.WithMaxOps(1000)},
		Progress:    progress,
	}
}

// syncRun is one measured Sync.
type syncRun struct {
	wall               time.Duration
	report             *stagesync.Report
	src, dst           *wire
	srcStats, dstStats stagesync.StageStats
	srcC, dstC         stagetest.CountersSnapshot // deltas
	anyBusy            time.Duration
	timeline           []string
}

// runSync runs one Sync between src and dst with fresh Stages.
func runSync(b *testing.B, src, dst *stagetest.Server, s *ast.Schema, state *stagesync.State) *syncRun {
	b.Helper()
	all := &activity{}
	run := &syncRun{src: newWire(all), dst: newWire(all)}
	source := hotelsStage("source", src, hotelsRate, 8, run.src)
	dest := hotelsStage("dest", dst, hotelsRate, 8, run.dst)
	srcBefore, dstBefore := src.Stage.Counters(), dst.Stage.Counters()
	var mu sync.Mutex
	start := time.Now()
	progress := func(ev stagesync.Event) {
		if ev.Total == 0 && ev.Phase != stagesync.PhaseDone {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		at := fmt.Sprintf("@%.1fs", time.Since(start).Seconds())
		if ev.Phase == stagesync.PhaseDone {
			run.timeline = append(run.timeline, "done "+at)
			return
		}
		run.timeline = append(run.timeline, fmt.Sprintf("%s %s %d %s", ev.Phase, ev.Model, ev.Total, at))
	}
	cfg := hotelsConfig(source, dest, s, state, progress)
	// STAGESYNC_BENCH_MIRROR=1 measures mirror runs, which make and check
	// the whole plan before their first write (see SyncConfig.Confirm).
	cfg.Mirror = os.Getenv("STAGESYNC_BENCH_MIRROR") == "1"
	report, _, err := stagesync.Sync(context.Background(), cfg)
	run.wall = time.Since(start)
	if err != nil {
		b.Fatalf("sync: %v", err)
	}
	if f := report.Failures(); len(f) > 0 {
		b.Fatalf("sync: %d entries failed; first: %+v", len(f), f[0])
	}
	run.report = report
	run.srcStats, run.dstStats = source.Stats(), dest.Stats()
	run.srcC, run.dstC = counterDelta(src.Stage.Counters(), srcBefore), counterDelta(dst.Stage.Counters(), dstBefore)
	run.anyBusy = all.busyTime()
	return run
}

func counterDelta(a, b stagetest.CountersSnapshot) stagetest.CountersSnapshot {
	return stagetest.CountersSnapshot{
		Requests:       a.Requests - b.Requests,
		Rejected:       a.Rejected - b.Rejected,
		Queries:        a.Queries - b.Queries,
		Mutations:      a.Mutations - b.Mutations,
		EntriesWritten: a.EntriesWritten - b.EntriesWritten,
	}
}

// say prints one line of the benchmark's report to stdout (benchmark logs
// are cut after ten lines).
func say(format string, args ...any) {
	fmt.Printf("hotels: "+format+"\n", args...)
}

// pages returns the read requests that reading n entries needs at least.
func pages(n int) int { return max(1, (n+hotelsMaxPage-1)/hotelsMaxPage) }

// BenchmarkHotels10k is issue #4's benchmark: a full Sync of the hotels-10k
// data set between two emulated stages (50 ms latency, 25 req/s with 429
// beyond, pages of at most 100, 70 KB body cap with 413 beyond), a no-op
// re-sync, and a naive serial loop timed on a sample and extrapolated.
//
//	go test -run '^$' -bench Hotels10k -benchtime 1x -timeout 60m ./stagesync/
func BenchmarkHotels10k(b *testing.B) {
	sc := benchhotels.ScaleOf(10_000)
	s := hotelsSchema(b)
	for range b.N {
		b.StopTimer()
		src := stagetest.NewServer(b, s, hotelsOptions(hotelsRate, hotelsLatency)...)
		dst := stagetest.NewServer(b, s, hotelsOptions(hotelsRate, hotelsLatency)...)
		seedStart := time.Now()
		if err := benchhotels.Seed(src.Stage, sc); err != nil {
			b.Fatal(err)
		}
		say("seeded the source in-process: %d Destination, %d Hotel, %d Review (%d entries, %d published) in %s",
			sc.Destinations, sc.Hotels, sc.Reviews, sc.Entries(), benchhotels.PublishedOf(sc.Destinations)+benchhotels.PublishedOf(sc.Hotels)+benchhotels.PublishedOf(sc.Reviews),
			time.Since(seedStart).Round(time.Millisecond))
		// A state database, as a real sync of this size keeps (resumable,
		// and its identity map is not held in memory).
		state, err := stagesync.LoadState(filepath.Join(b.TempDir(), "state.db"), src.URL, dst.URL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { state.Close() })
		b.StartTimer()

		full := runSync(b, src, dst, s, state)
		b.StopTimer()
		rss := benchhotels.PeakRSSMB()
		checkCounts(b, full.report, sc, false)
		logFull(b, sc, full, rss)

		resync := runSync(b, src, dst, s, state)
		checkCounts(b, resync.report, sc, true)
		logResync(b, sc, resync)

		naive := runNaive(b, src, s)
		logNaive(b, sc, naive, full.wall)
		b.StartTimer()
	}
}

// checkCounts fails the benchmark unless every entry was created (or, on a
// re-sync, left unchanged) and the published ones published.
func checkCounts(b *testing.B, r *stagesync.Report, sc benchhotels.Scale, resync bool) {
	b.Helper()
	for _, m := range r.Models() {
		n := sc.Count(m.Name)
		switch {
		case m.Read != n:
			b.Errorf("%s: read %d, want %d", m.Name, m.Read, n)
		case !resync && (m.Created != n || m.Published != benchhotels.PublishedOf(n)):
			b.Errorf("%s: created %d published %d, want %d and %d", m.Name, m.Created, m.Published, n, benchhotels.PublishedOf(n))
		case resync && m.Unchanged != n:
			b.Errorf("%s: re-sync left %d unchanged, want %d (%+v)", m.Name, m.Unchanged, n, m)
		}
	}
}

func logFull(b *testing.B, sc benchhotels.Scale, run *syncRun, rss float64) {
	b.Helper()
	entries := sc.Entries()
	srcRead, dstRead := run.src.kind("read"), run.dst.kind("read")
	write, publish := run.dst.kind("write"), run.dst.kind("publish")
	srcT, dstT := run.src.total(), run.dst.total()
	reads := srcRead.Requests + dstRead.Requests
	writes := write.Requests + publish.Requests
	requests := srcT.Requests + dstT.Requests
	accepted := srcT.OK + dstT.OK
	secs := run.wall.Seconds()
	published := 0
	for _, m := range hotelsModels {
		published += benchhotels.PublishedOf(sc.Count(m))
	}

	say("=== hotels-10k full sync: %d entries (%d Destination, %d Hotel, %d Review; %d published) in %s = %.0f entries/s",
		entries, sc.Destinations, sc.Hotels, sc.Reviews, published, run.wall.Round(time.Millisecond), float64(entries)/secs)
	say("requests made: %d = %d read (source %d, dest %d) + %d write (dest: %d entry writes, %d publish); answered 200: %d, 413: %d, 429: %d, other: %d; stage retries: source %d, dest %d",
		requests, reads, srcRead.Requests, dstRead.Requests, writes, write.Requests, publish.Requests,
		accepted, srcT.TooLarge+dstT.TooLarge, srcT.Throttled+dstT.Throttled, srcT.Other+dstT.Other,
		run.srcStats.Retries, run.dstStats.Retries)
	say("emulator counters (this sync): source %+v; dest %+v; read requests (Queries) %d, write requests (accepted non-queries) %d",
		run.srcC, run.dstC, run.srcC.Queries+run.dstC.Queries,
		run.srcC.Requests-run.srcC.Rejected-run.srcC.Queries+run.dstC.Requests-run.dstC.Rejected-run.dstC.Queries)
	say("wall time: %s; peak RSS: %.0f MB (whole process: engine and both in-process emulators)", run.wall.Round(time.Millisecond), rss)

	bound := float64(accepted) / hotelsRate
	stageBound := float64(max(srcT.OK, dstT.OK)) / hotelsRate
	say("lower bound: %d requests / %d req/s = %.1f s; wall/bound = %.2f (target <= 1.2) [each stage has its own bucket: busiest stage %d requests / %d = %.1f s, wall/that = %.2f]",
		accepted, hotelsRate, bound, secs/bound, max(srcT.OK, dstT.OK), hotelsRate, stageBound, secs/stageBound)

	avg := float64(write.OKBytes) / float64(max(write.OKOps, 1))
	perReq := int(math.Floor(hotelsMaxBody / avg))
	readPages, trailing := 0, 0
	publishBatches := 0
	for _, m := range hotelsModels {
		n := sc.Count(m)
		readPages += pages(n) + pages(0) // source pages + the empty destination
		if n%hotelsMaxPage == 0 {
			trailing++
		}
		publishBatches += (benchhotels.PublishedOf(n) + 99) / 100
	}
	writeBudget := (entries + perReq - 1) / perReq
	budget := readPages + writeBudget + publishBatches
	say("request budget: %d read pages + ceil(%d entries / %d per 70 KB request [measured average create %.0f B]) %d + %d publish batches = %d; requests/budget = %d/%d = %.2f (target <= 1.3)",
		readPages, entries, perReq, avg, writeBudget, publishBatches, budget, requests, budget, float64(requests)/float64(budget))

	say("where the time goes: source reads %d round trips, one at a time, avg %s, sum %.1f s; dest reads %d, sum %.1f s; entry writes %d requests (%d ops, %.1f ops/request, %.0f B avg body, largest %d B), avg %s, sum %.1f s; publish %d requests (%d ops), sum %.1f s; %d trailing empty source pages",
		srcRead.Requests, avgDur(srcRead), srcRead.Time.Seconds(), dstRead.Requests, dstRead.Time.Seconds(),
		write.Requests, write.OKOps, float64(write.OKOps)/float64(max(write.OK, 1)), float64(write.OKBytes)/float64(max(write.OK, 1)), write.MaxBytes,
		avgDur(write), write.Time.Seconds(), publish.Requests, publish.OKOps, publish.Time.Seconds(), trailing)
	say("  busy time (>= 1 request in flight): source %.1f s (%.0f%%), dest %.1f s (%.0f%%), either %.1f s (%.0f%%); no request in flight: %.1f s; rate-limit use: source %.0f%%, dest %.0f%% of %d req/s",
		run.src.busy().Seconds(), pct(run.src.busy(), run.wall), run.dst.busy().Seconds(), pct(run.dst.busy(), run.wall),
		run.anyBusy.Seconds(), pct(run.anyBusy, run.wall), (run.wall - run.anyBusy).Seconds(),
		100*float64(srcT.OK)/(hotelsRate*secs), 100*float64(dstT.OK)/(hotelsRate*secs), hotelsRate)
	say("  write requests per source page: %.2f; timeline: %s", float64(write.Requests)/float64(max(srcRead.Requests, 1)), strings.Join(run.timeline, ", "))

	b.ReportMetric(float64(srcRead.Requests+dstRead.Requests), "read-requests")
	b.ReportMetric(float64(writes), "write-requests")
	b.ReportMetric(secs, "wall-s")
	b.ReportMetric(float64(entries)/secs, "entries/s")
	b.ReportMetric(rss, "peak-RSS-MB")
	b.ReportMetric(secs/bound, "wall/bound")
	b.ReportMetric(secs/stageBound, "wall/stage-bound")
	b.ReportMetric(float64(requests)/float64(budget), "requests/budget")
}

func logResync(b *testing.B, sc benchhotels.Scale, run *syncRun) {
	b.Helper()
	srcRead, dstRead := run.src.kind("read"), run.dst.kind("read")
	dstT, srcT := run.dst.total(), run.src.total()
	writes := dstT.Requests - dstRead.Requests + srcT.Requests - srcRead.Requests
	readPages := 0
	for _, m := range hotelsModels {
		readPages += 2 * pages(sc.Count(m))
	}
	accepted := srcT.OK + dstT.OK
	bound := float64(accepted) / hotelsRate
	stageBound := float64(max(srcT.OK, dstT.OK)) / hotelsRate
	say("=== no-op re-sync: %s; requests: %d read (source %d, dest %d), %d write; only reads: %t; budget %d read pages, requests/budget = %.2f",
		run.wall.Round(time.Millisecond), srcRead.Requests+dstRead.Requests, srcRead.Requests, dstRead.Requests, writes, writes == 0,
		readPages, float64(srcRead.Requests+dstRead.Requests)/float64(readPages))
	say("  lower bound %d requests / %d req/s = %.1f s, wall/bound = %.2f [busiest stage %d / %d = %.1f s, wall/that = %.2f]; source reads avg %s, sum %.1f s; dest reads avg %s, sum %.1f s; busy: source %.0f%%, dest %.0f%%, either %.0f%%",
		accepted, hotelsRate, bound, run.wall.Seconds()/bound, max(srcT.OK, dstT.OK), hotelsRate, stageBound, run.wall.Seconds()/stageBound,
		avgDur(srcRead), srcRead.Time.Seconds(), avgDur(dstRead), dstRead.Time.Seconds(),
		pct(run.src.busy(), run.wall), pct(run.dst.busy(), run.wall), pct(run.anyBusy, run.wall))
	say("  emulator: source %+v, dest %+v; timeline: %s", run.srcC, run.dstC, strings.Join(run.timeline, ", "))
	b.ReportMetric(float64(writes), "resync-write-requests")
	b.ReportMetric(run.wall.Seconds(), "resync-wall-s")
}

func avgDur(k wireKind) time.Duration {
	if k.Requests == 0 {
		return 0
	}
	return (k.Time / time.Duration(k.Requests)).Round(100 * time.Microsecond)
}

func pct(part, whole time.Duration) float64 { return 100 * part.Seconds() / whole.Seconds() }

// The naive loop, as the original JavaScript example does it minus its
// sleeps: per model, serial cursor pages of the source and one upsert
// mutation per entry and request (keyed by the source id), then one publish
// request per published entry; relations are connected through the ids the
// upserts return.
type naiveModel struct {
	read, upsert, publish string
	fields                []string
	rel                   string // the relation field, "" if none
}

var naiveModels = []naiveModel{
	{
		read:    `query ReadDestinations($first: Int!, $after: String) { items: destinations(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) { id name country description documentInStages(stages: [PUBLISHED]) { id } } }`,
		upsert:  `mutation UpsertDestination($id: ID!, $create: DestinationCreateInput!, $update: DestinationUpdateInput!) { item: upsertDestination(where: {id: $id}, upsert: {create: $create, update: $update}) { id } }`,
		publish: `mutation PublishDestination($id: ID!) { item: publishDestination(where: {id: $id}, to: [PUBLISHED]) { id } }`,
		fields:  []string{"name", "country", "description"},
	},
	{
		read:    `query ReadHotels($first: Int!, $after: String) { items: hotels(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) { id name description rating twitterHandle destination { id } documentInStages(stages: [PUBLISHED]) { id } } }`,
		upsert:  `mutation UpsertHotel($id: ID!, $create: HotelCreateInput!, $update: HotelUpdateInput!) { item: upsertHotel(where: {id: $id}, upsert: {create: $create, update: $update}) { id } }`,
		publish: `mutation PublishHotel($id: ID!) { item: publishHotel(where: {id: $id}, to: [PUBLISHED]) { id } }`,
		fields:  []string{"name", "description", "rating", "twitterHandle"},
		rel:     "destination",
	},
	{
		read:    `query ReadReviews($first: Int!, $after: String) { items: reviews(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) { id title body score hotel { id } documentInStages(stages: [PUBLISHED]) { id } } }`,
		upsert:  `mutation UpsertReview($id: ID!, $create: ReviewCreateInput!, $update: ReviewUpdateInput!) { item: upsertReview(where: {id: $id}, upsert: {create: $create, update: $update}) { id } }`,
		publish: `mutation PublishReview($id: ID!) { item: publishReview(where: {id: $id}, to: [PUBLISHED]) { id } }`,
		fields:  []string{"title", "body", "score"},
		rel:     "hotel",
	},
}

// naiveCopy copies the first limit entries (in write order) from src to dst
// the naive way and returns how many it copied.
func naiveCopy(ctx context.Context, src, dst *stagesync.Stage, limit int) (int, error) {
	ctx = hygraph.Idempotent(ctx) // upserts and publishes by id
	ids := map[string]string{}    // source id → destination id
	n := 0
	for _, m := range naiveModels {
		after := ""
		for n < limit {
			vars := map[string]any{"first": hotelsMaxPage}
			if after != "" {
				vars["after"] = after
			}
			var page struct {
				Items []map[string]any `json:"items"`
			}
			if err := src.Do(ctx, m.read, vars, &page); err != nil {
				return n, err
			}
			for _, e := range page.Items {
				if n == limit {
					break
				}
				data := map[string]any{}
				for _, f := range m.fields {
					data[f] = e[f]
				}
				if m.rel != "" {
					if r, ok := e[m.rel].(map[string]any); ok {
						if d, ok := ids[fmt.Sprint(r["id"])]; ok {
							data[m.rel] = map[string]any{"connect": map[string]any{"id": d}}
						}
					}
				}
				id := fmt.Sprint(e["id"])
				var out struct {
					Item struct{ ID string } `json:"item"`
				}
				if err := dst.Do(ctx, m.upsert, map[string]any{"id": id, "create": data, "update": data}, &out); err != nil {
					return n, err
				}
				ids[id] = out.Item.ID
				if dis, _ := e["documentInStages"].([]any); len(dis) > 0 {
					if err := dst.Do(ctx, m.publish, map[string]any{"id": out.Item.ID}, nil); err != nil {
						return n, err
					}
				}
				n++
			}
			if len(page.Items) < hotelsMaxPage {
				break
			}
			after = fmt.Sprint(page.Items[len(page.Items)-1]["id"])
		}
	}
	return n, nil
}

// naiveRun is the naive loop's sample.
type naiveRun struct {
	n                         int
	wall                      time.Duration
	reads, upserts, publishes int
}

// runNaive times the naive loop on the first naiveSample entries, into a
// fresh destination with the same limits.
func runNaive(b *testing.B, src *stagetest.Server, s *ast.Schema) naiveRun {
	b.Helper()
	dst := stagetest.NewServer(b, s, hotelsOptions(hotelsRate, hotelsLatency)...)
	sw, dw := newWire(nil), newWire(nil)
	source := hotelsStage("naive-source", src, hotelsRate, 1, sw)
	dest := hotelsStage("naive-dest", dst, hotelsRate, 1, dw)
	start := time.Now()
	n, err := naiveCopy(context.Background(), source, dest, naiveSample)
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("naive loop: %v", err)
	}
	return naiveRun{n: n, wall: wall, reads: sw.kind("read").Requests, upserts: dw.kind("write").Requests, publishes: dw.kind("publish").Requests}
}

func logNaive(b *testing.B, sc benchhotels.Scale, run naiveRun, syncWall time.Duration) {
	b.Helper()
	entries := sc.Entries()
	perEntry := run.wall / time.Duration(run.n)
	full := perEntry * time.Duration(entries)
	requests := run.reads + run.upserts + run.publishes
	say("=== naive loop (serial cursor pages, one upsert per request, one publish request per published entry, same stages and limits): %d entries in %s with %d requests (%d reads, %d upserts, %d publishes; %.1f req/s)",
		run.n, run.wall.Round(time.Millisecond), requests, run.reads, run.upserts, run.publishes, float64(requests)/run.wall.Seconds())
	say("naive full set: EXTRAPOLATED from %d of %d entries (%s per entry): %s; naive/stagesync = %s / %s = %.1fx",
		run.n, entries, perEntry.Round(10*time.Microsecond), full.Round(time.Second), full.Round(time.Second), syncWall.Round(time.Millisecond), full.Seconds()/syncWall.Seconds())
	b.ReportMetric(full.Seconds(), "naive-extrapolated-s")
	b.ReportMetric(full.Seconds()/syncWall.Seconds(), "naive/stagesync")
}

// rssChild is what BenchmarkHotelsRSS passes to TestHotelsRSSChild, in the
// STAGESYNC_BENCH_RSS_CHILD environment variable.
type rssChild struct {
	Hotels      int
	Source      string
	SourceToken string
	Dest        string
	DestToken   string
	Rate        float64
	// Plan makes the child plan the sync only (a dry run listing every
	// entry, as plan -o and plan --json do), in a process of its own:
	// the peak RSS only grows within one.
	Plan bool
}

// rssResult is what TestHotelsRSSChild prints on a line of its own after
// rssPrefix.
type rssResult struct {
	Hotels, Entries                  int
	BaseMB, PlanMB, FullMB, ResyncMB float64
	FullWall, ResyncWall             time.Duration
}

const rssPrefix = "HOTELS_RSS "

// BenchmarkHotelsRSS measures the peak RSS of the engine at 10k and 100k
// hotels (30,200 and 302,000 entries), after a full sync and after a no-op
// re-sync. The peak only grows within a process, so each scale syncs in a
// child process of its own (this test binary re-run as TestHotelsRSSChild)
// against emulated stages served by this process, so that the child's RSS
// is the engine's, not the emulators'. The emulated rate limit is raised to
// 500 req/s and the latency cut to 5 ms: this measures memory, not time
// (the 100k run takes about 13 minutes, mostly the emulator, whose cursor
// pages cost time in proportion to the model's size). It runs only with
// STAGESYNC_BENCH_RSS=1:
//
//	STAGESYNC_BENCH_RSS=1 go test -run '^$' -bench HotelsRSS -benchtime 1x -timeout 60m ./stagesync/
func BenchmarkHotelsRSS(b *testing.B) {
	if os.Getenv("STAGESYNC_BENCH_RSS") != "1" {
		b.Skip("set STAGESYNC_BENCH_RSS=1 to measure the peak RSS at 10k and 100k hotels (about 15 minutes)")
	}
	s := hotelsSchema(b)
	for range b.N {
		var results []rssResult
		scales := []int{10_000, 100_000}
		if v := os.Getenv("STAGESYNC_BENCH_RSS_SCALES"); v != "" { // e.g. "10000,30000"
			scales = nil
			for _, f := range strings.Split(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					b.Fatalf("STAGESYNC_BENCH_RSS_SCALES: %v", err)
				}
				scales = append(scales, n)
			}
		}
		for _, hotels := range scales {
			sc := benchhotels.ScaleOf(hotels)
			src := stagetest.NewServer(b, s, hotelsOptions(rssRate, rssLatency)...)
			dst := stagetest.NewServer(b, s, hotelsOptions(rssRate, rssLatency)...)
			if err := benchhotels.Seed(src.Stage, sc); err != nil {
				b.Fatal(err)
			}
			child := func(plan bool) rssResult {
				arg, err := json.Marshal(rssChild{Hotels: hotels, Source: src.URL, SourceToken: src.Token, Dest: dst.URL, DestToken: dst.Token, Rate: rssRate, Plan: plan})
				if err != nil {
					b.Fatal(err)
				}
				cmd := exec.Command(os.Args[0], "-test.run=^TestHotelsRSSChild$", "-test.v", "-test.count=1", "-test.timeout=0")
				cmd.Env = append(os.Environ(), "STAGESYNC_BENCH_RSS_CHILD="+string(arg))
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child at %d hotels: %v\n%s", hotels, err, out)
				}
				var res rssResult
				found := false
				sc2 := bufio.NewScanner(bytes.NewReader(out))
				for sc2.Scan() {
					if line, ok := strings.CutPrefix(strings.TrimSpace(sc2.Text()), rssPrefix); ok {
						found = json.Unmarshal([]byte(line), &res) == nil
					}
				}
				if !found {
					b.Fatalf("child at %d hotels printed no result:\n%s", hotels, out)
				}
				return res
			}
			planMB := child(true).PlanMB // before the sync: every entry a create
			res := child(false)
			res.PlanMB = planMB
			if res.Entries != sc.Entries() {
				b.Fatalf("child at %d hotels synced %d entries, want %d", hotels, res.Entries, sc.Entries())
			}
			say("peak RSS at %d hotels (%d entries), engine only (child processes): %.0f MB before the sync, %.0f MB after the full sync (%s), %.0f MB after the no-op re-sync (%s); %.0f MB for a dry run listing every entry (in a process of its own) [emulated limit %d req/s, %s latency: memory, not time]",
				hotels, res.Entries, res.BaseMB, res.FullMB, res.FullWall.Round(time.Millisecond), res.ResyncMB, res.ResyncWall.Round(time.Millisecond), res.PlanMB, rssRate, rssLatency)
			results = append(results, res)
			src.Close()
			dst.Close()
		}
		first, last := results[0], results[len(results)-1]
		say("peak RSS %d → %d hotels: %.0f MB → %.0f MB (x%.2f for x%.0f entries)",
			first.Hotels, last.Hotels, first.ResyncMB, last.ResyncMB, last.ResyncMB/first.ResyncMB, float64(last.Entries)/float64(first.Entries))
		say("peak RSS of the dry run listing every entry, %d → %d hotels: %.0f MB → %.0f MB", first.Hotels, last.Hotels, first.PlanMB, last.PlanMB)
		for _, r := range results {
			b.ReportMetric(r.ResyncMB, fmt.Sprintf("peak-RSS-MB-%dk", r.Hotels/1000))
			b.ReportMetric(r.PlanMB, fmt.Sprintf("plan-peak-RSS-MB-%dk", r.Hotels/1000))
		}
	}
}

// TestHotelsRSSChild is the child process of BenchmarkHotelsRSS: it syncs
// the stages it is given (full, then no-op) and prints its peak RSS. It
// skips unless STAGESYNC_BENCH_RSS_CHILD is set.
func TestHotelsRSSChild(t *testing.T) {
	arg := os.Getenv("STAGESYNC_BENCH_RSS_CHILD")
	if arg == "" {
		t.Skip("run by BenchmarkHotelsRSS")
	}
	var c rssChild
	if err := json.Unmarshal([]byte(arg), &c); err != nil {
		t.Fatal(err)
	}
	s := hotelsSchema(t)
	res := rssResult{Hotels: c.Hotels, BaseMB: benchhotels.PeakRSSMB()}
	stage := func(name, url, token string) *stagesync.Stage {
		return stagesync.NewStage(name, url, token,
			stagesync.WithRateLimit(stagesync.RateLimit{Initial: c.Rate, Max: c.Rate}),
			stagesync.WithMaxConcurrency(8))
	}
	source, dest := stage("source", c.Source, c.SourceToken), stage("dest", c.Dest, c.DestToken)
	state, err := stagesync.LoadState(filepath.Join(t.TempDir(), "state.db"), c.Source, c.Dest)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	if c.Plan {
		// The plan of every entry, listed whole as `plan -o` and `plan
		// --json` list it (30,200 creates at 10k hotels).
		plan := hotelsConfig(source, dest, s, state, nil)
		plan.DryRun, plan.PlanLimit = true, -1
		report, p, err := stagesync.Sync(context.Background(), plan)
		if err != nil {
			t.Fatal(err)
		}
		if f := report.Failures(); len(f) > 0 {
			t.Fatalf("the dry run plans %d entries failing; first: %+v", len(f), f[0])
		}
		listed := 0
		for _, m := range p.Models() {
			for _, err := range p.Entries(m.Name) {
				if err != nil {
					t.Fatal(err)
				}
				listed++
			}
		}
		if want := benchhotels.ScaleOf(c.Hotels).Entries(); listed != want {
			t.Fatalf("the dry run lists %d entries, want %d", listed, want)
		}
		res.PlanMB = benchhotels.PeakRSSMB()
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(rssPrefix + string(out))
		return
	}
	for i := range 2 {
		start := time.Now()
		report, _, err := stagesync.Sync(context.Background(), hotelsConfig(source, dest, s, state, nil))
		if err != nil {
			t.Fatal(err)
		}
		if f := report.Failures(); len(f) > 0 {
			t.Fatalf("%d entries failed; first: %+v", len(f), f[0])
		}
		entries := 0
		for _, m := range report.Models() {
			entries += m.Read
		}
		if i == 0 {
			res.Entries, res.FullWall, res.FullMB = entries, time.Since(start), benchhotels.PeakRSSMB()
		} else {
			res.ResyncWall, res.ResyncMB = time.Since(start), benchhotels.PeakRSSMB()
		}
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(rssPrefix + string(out))
}
