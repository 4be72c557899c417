package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/benchhotels"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// The figures of the emulated Growth stages of BenchmarkHotels10kGrowth:
// the plan preset (25 req/s, 30/10 concurrent query/mutation operations,
// 15/70 KB body caps, pages of 10 by default and 100 at most) plus a network
// latency and a service time per operation that this benchmark chooses.
const (
	benchLatency     = 50 * time.Millisecond // added to every request, before the limits
	benchServiceTime = 20 * time.Millisecond // per operation; mutations of a request one after another
)

// benchHotelsSchema synthesizes the hotels project of the engine's
// benchmark (stagesync/testdata/bench/hotels.yaml).
func benchHotelsSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	b, err := os.ReadFile("../../stagesync/testdata/bench/hotels.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	sdl, err := schema.SynthesizeDescription(b)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := schema.LoadString("hotels.graphql", sdl)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// benchStageFigures prints one stage's traffic and its bound: the time the
// stage needs at least, max(requests ÷ rate, mutation operations × service
// time ÷ mutation cap, query operations × service time ÷ query cap).
func benchStageFigures(name string, c stagetest.CountersSnapshot, p stagetest.Plan) time.Duration {
	byRate := time.Duration(float64(c.Requests) / p.Rate * float64(time.Second))
	byMutations := time.Duration(c.MutationOperations) * benchServiceTime / time.Duration(p.ConcurrentMutations)
	byQueries := time.Duration(c.QueryOperations) * benchServiceTime / time.Duration(p.ConcurrentQueries)
	bound := max(byRate, byMutations, byQueries)
	fmt.Printf("hotels-growth: %-11s requests %d (429: %d = %.2f%%, 413: %d), query operations %d, mutation operations %d; bound %.1fs = max(requests/rate %.1fs, mutation ops × %v / %d %.1fs, query ops × %v / %d %.1fs)\n",
		name, c.Requests, c.Throttled, 100*float64(c.Throttled)/math.Max(1, float64(c.Requests)), c.TooLarge,
		c.QueryOperations, c.MutationOperations, bound.Seconds(), byRate.Seconds(),
		benchServiceTime, p.ConcurrentMutations, byMutations.Seconds(), benchServiceTime, p.ConcurrentQueries, byQueries.Seconds())
	return bound
}

// BenchmarkHotels10kGrowth syncs hotels-10k (200 destinations, 10,000
// hotels, 20,000 reviews, 30% published) between two emulated Growth
// stages — stagetest.WithPlan("growth"): 25 req/s, 30/10 concurrent
// query/mutation operations, 15/70 KB body caps — with 50 ms latency and a
// service time of 20 ms per operation, through the CLI's own code path
// (`stagesync sync` as a user types it, with the CLI's defaults: no --rate,
// no --hygraph-plan, no tuning), and prints requests, 429s, 413s, wall time
// and the bound per stage.
//
//	go test -run '^$' -bench Hotels10kGrowth -benchtime 1x -timeout 60m ./cmd/stagesync/
func BenchmarkHotels10kGrowth(b *testing.B) {
	hotels := 10_000
	if v := os.Getenv("STAGESYNC_BENCH_HOTELS"); v != "" {
		if _, err := fmt.Sscan(v, &hotels); err != nil {
			b.Fatalf("STAGESYNC_BENCH_HOTELS=%q: %v", v, err)
		}
	}
	s := benchHotelsSchema(b)
	growth, err := stagetest.LookupPlan("growth")
	if err != nil {
		b.Fatal(err)
	}
	opts := []stagetest.Option{
		stagetest.WithPlan("growth"),
		stagetest.WithLimits(stagetest.Limits{Latency: benchLatency, ServiceTime: benchServiceTime}),
	}
	for range b.N {
		b.StopTimer()
		src := stagetest.NewServer(b, s, opts...)
		dst := stagetest.NewServer(b, s, opts...)
		sc := benchhotels.ScaleOf(hotels)
		if err := benchhotels.Seed(src.Stage, sc); err != nil {
			b.Fatal(err)
		}
		counts := map[string]int{"Destination": sc.Destinations, "Hotel": sc.Hotels, "Review": sc.Reviews}
		b.Setenv("BENCH_SRC_TOKEN", src.Token)
		b.Setenv("BENCH_DST_TOKEN", dst.Token)
		b.Chdir(b.TempDir()) // the default state database goes to ./.stagesync
		report := filepath.Join(b.TempDir(), "report.json")
		args := []string{"sync", "--from", src.URL, "--from-token-env", "BENCH_SRC_TOKEN",
			"--to", dst.URL, "--to-token-env", "BENCH_DST_TOKEN", "--yes", "--quiet", "--report", report}
		fmt.Printf("hotels-growth: %d Destination, %d Hotel, %d Review; stages: growth preset, latency %v, service time %v per operation\n",
			counts["Destination"], counts["Hotel"], counts["Review"], benchLatency, benchServiceTime)
		fmt.Printf("hotels-growth: stagesync %s\n", strings.Join(args, " "))

		srcBefore, dstBefore := src.Stage.Counters(), dst.Stage.Counters()
		var stdout, stderr bytes.Buffer
		b.StartTimer()
		start := time.Now()
		if os.Getenv("STAGESYNC_BENCH_VERBOSE") != "" {
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Second):
					}
					d := dst.Stage.Counters()
					fmt.Printf("hotels-growth: @%.0fs destination requests %d, 429 %d, mutation operations %d\n",
						time.Since(start).Seconds(), d.Requests, d.Throttled, d.MutationOperations)
				}
			}()
		}
		code := run(args, &stdout, &stderr)
		wall := time.Since(start)
		b.StopTimer()
		if code != 0 {
			raw, _ := os.ReadFile(report)
			b.Fatalf("sync exited %d after %v\nstderr: %s\nreport: %.3000s", code, wall, stderr.String(), raw)
		}
		checkBenchReport(b, report, counts)

		srcC, dstC := benchDelta(src.Stage.Counters(), srcBefore), benchDelta(dst.Stage.Counters(), dstBefore)
		fmt.Printf("hotels-growth: wall %.1fs\n", wall.Seconds())
		bound := max(benchStageFigures("source", srcC, growth), benchStageFigures("destination", dstC, growth))
		fmt.Printf("hotels-growth: wall / bound = %.2f (bound %.1fs, the larger of the two stages')\n", wall.Seconds()/bound.Seconds(), bound.Seconds())
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(bound.Seconds(), "bound-s")
		b.ReportMetric(float64(srcC.Throttled+dstC.Throttled), "429s")
		b.ReportMetric(float64(srcC.TooLarge+dstC.TooLarge), "413s")
		b.StartTimer()
	}
}

// checkBenchReport fails the benchmark unless the sync created every entry
// with no failures.
func checkBenchReport(b *testing.B, path string, counts map[string]int) {
	b.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var rep struct {
		Models []struct {
			Name    string `json:"name"`
			Read    int    `json:"read"`
			Created int    `json:"created"`
			Failed  int    `json:"failed"`
		} `json:"models"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		b.Fatalf("report: %v", err)
	}
	seen := 0
	for _, m := range rep.Models {
		n, ok := counts[m.Name]
		if !ok {
			continue
		}
		seen++
		if m.Created != n || m.Failed != 0 {
			b.Errorf("%s: created %d, failed %d; want %d created", m.Name, m.Created, m.Failed, n)
		}
	}
	if seen != len(counts) {
		b.Errorf("report lists %d of the %d models: %s", seen, len(counts), raw)
	}
}

func benchDelta(a, b stagetest.CountersSnapshot) stagetest.CountersSnapshot {
	return stagetest.CountersSnapshot{
		Requests: a.Requests - b.Requests, Rejected: a.Rejected - b.Rejected, Throttled: a.Throttled - b.Throttled,
		TooLarge: a.TooLarge - b.TooLarge, Queries: a.Queries - b.Queries, Mutations: a.Mutations - b.Mutations,
		EntriesWritten:  a.EntriesWritten - b.EntriesWritten,
		QueryOperations: a.QueryOperations - b.QueryOperations, MutationOperations: a.MutationOperations - b.MutationOperations,
	}
}
