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

// benchHotelsSchema synthesizes the hotels project of the benchmarks
// (benchhotels.Schema).
func benchHotelsSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	s, err := benchhotels.Schema()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// benchStageFigures prints one stage's traffic and its bound: the time the
// stage needs at least, max(requests ÷ rate, mutation operations × service
// time ÷ mutation cap, query operations × service time ÷ query cap).
func benchStageFigures(tag, name string, c stagetest.CountersSnapshot, p stagetest.Plan) time.Duration {
	byRate := time.Duration(float64(c.Requests) / p.Rate * float64(time.Second))
	byMutations := time.Duration(c.MutationOperations) * benchServiceTime / time.Duration(p.ConcurrentMutations)
	byQueries := time.Duration(c.QueryOperations) * benchServiceTime / time.Duration(p.ConcurrentQueries)
	bound := max(byRate, byMutations, byQueries)
	fmt.Printf("%s: %-11s requests %d (429: %d = %.2f%%, 413: %d), query operations %d, mutation operations %d; bound %.1fs = max(requests/rate %.1fs, mutation ops × %v / %d %.1fs, query ops × %v / %d %.1fs)\n",
		tag, name, c.Requests, c.Throttled, 100*float64(c.Throttled)/math.Max(1, float64(c.Requests)), c.TooLarge,
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
//
// STAGESYNC_BENCH_HOTELS sets the number of hotels (the rest scales with
// it); STAGESYNC_BENCH_VERBOSE prints the destination's counters every 10 s.
func BenchmarkHotels10kGrowth(b *testing.B) { benchHotelsSync(b, "growth", stagetest.Limits{}) }

// BenchmarkHotels10kHobby is BenchmarkHotels10kGrowth between two emulated
// Hobby stages (5 req/s, 10/5 concurrent query/mutation operations, 10/30
// KB body caps), the CLI still at its defaults.
func BenchmarkHotels10kHobby(b *testing.B) { benchHotelsSync(b, "hobby", stagetest.Limits{}) }

// BenchmarkHotels10kEnterprise is BenchmarkHotels10kGrowth between two
// emulated Enterprise stages (the preset's 100 req/s, 60/20 concurrent
// query/mutation operations, 20/80 KB body caps), the CLI still at its
// defaults.
func BenchmarkHotels10kEnterprise(b *testing.B) {
	benchHotelsSync(b, "enterprise", stagetest.Limits{})
}

// BenchmarkHotels10kFaultsGrowth is BenchmarkHotels10kGrowth with faults
// on both stages: 10% of the requests answered 5xx (500, 502 or 503) and
// 5% dropped connections, drawn from a fixed seed. The sync must still
// create every entry once, and the destination must hold what the source
// holds (compared entry by entry, relations by their targets' contents).
func BenchmarkHotels10kFaultsGrowth(b *testing.B) {
	benchHotelsSync(b, "growth", stagetest.Limits{FailRate: 0.10, DropRate: 0.05, Seed: 12})
}

// benchHotelsSync runs the hotels sync between two stages of plan, with
// faults (FailRate, DropRate, Seed) from faults; see BenchmarkHotels10kGrowth.
func benchHotelsSync(b *testing.B, plan string, faults stagetest.Limits) {
	hotels := 10_000
	if v := os.Getenv("STAGESYNC_BENCH_HOTELS"); v != "" {
		if _, err := fmt.Sscan(v, &hotels); err != nil {
			b.Fatalf("STAGESYNC_BENCH_HOTELS=%q: %v", v, err)
		}
	}
	s := benchHotelsSchema(b)
	preset, err := stagetest.LookupPlan(plan)
	if err != nil {
		b.Fatal(err)
	}
	tag := "hotels-" + plan
	faulty := faults.FailRate > 0 || faults.DropRate > 0
	if faulty {
		tag += "-faults"
	}
	stageOpts := func(seed int64) []stagetest.Option {
		return []stagetest.Option{
			stagetest.WithPlan(plan),
			stagetest.WithLimits(stagetest.Limits{Latency: benchLatency, ServiceTime: benchServiceTime,
				FailRate: faults.FailRate, DropRate: faults.DropRate, Seed: seed}),
		}
	}
	for range b.N {
		b.StopTimer()
		src := stagetest.NewServer(b, s, stageOpts(faults.Seed)...)
		dst := stagetest.NewServer(b, s, stageOpts(faults.Seed+1)...)
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
		fmt.Printf("%s: %d Destination, %d Hotel, %d Review; stages: %s preset, latency %v, service time %v per operation",
			tag, counts["Destination"], counts["Hotel"], counts["Review"], plan, benchLatency, benchServiceTime)
		if faulty {
			fmt.Printf(", %.0f%% 5xx, %.0f%% dropped connections (seed %d)", 100*faults.FailRate, 100*faults.DropRate, faults.Seed)
		}
		fmt.Println()
		fmt.Printf("%s: stagesync %s\n", tag, strings.Join(args, " "))

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
					fmt.Printf("%s: @%.0fs destination requests %d, 429 %d, mutation operations %d\n",
						tag, time.Since(start).Seconds(), d.Requests, d.Throttled, d.MutationOperations)
				}
			}()
		}
		// One run of the command: a create answered 5xx or cut off may
		// have been applied, and the run's further passes adopt or
		// create it (SyncConfig.MaxRounds).
		code := run(args, &stdout, &stderr)
		wall := time.Since(start)
		b.StopTimer()
		if code != 0 {
			raw, _ := os.ReadFile(report)
			b.Fatalf("sync exited %d after %v\nstderr: %s\nreport: %.3000s", code, wall, stderr.String(), raw)
		}
		passes := checkBenchReport(b, report, counts)
		checkBenchEqual(b, src.Stage, dst.Stage, counts)
		fmt.Printf("%s: one run of the command, %d passes; the destination equals the source (DRAFT and PUBLISHED, no duplicates, relations to the same contents)\n", tag, passes)

		srcC, dstC := benchDelta(src.Stage.Counters(), srcBefore), benchDelta(dst.Stage.Counters(), dstBefore)
		fmt.Printf("%s: wall %.1fs\n", tag, wall.Seconds())
		bound := max(benchStageFigures(tag, "source", srcC, preset), benchStageFigures(tag, "destination", dstC, preset))
		fmt.Printf("%s: wall / bound = %.2f (bound %.1fs, the larger of the two stages')\n", tag, wall.Seconds()/bound.Seconds(), bound.Seconds())
		if faulty {
			fmt.Printf("%s: injected faults answered: source %d, destination %d (5xx and dropped connections, with 401/403/413/429 in the stages' rejected counts: %d, %d)\n",
				tag, srcC.Rejected-srcC.Throttled-srcC.TooLarge, dstC.Rejected-dstC.Throttled-dstC.TooLarge, srcC.Rejected, dstC.Rejected)
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(bound.Seconds(), "bound-s")
		b.ReportMetric(float64(srcC.Throttled+dstC.Throttled), "429s")
		b.ReportMetric(float64(srcC.TooLarge+dstC.TooLarge), "413s")
		b.StartTimer()
	}
}

// benchKeys name each hotels entry by its contents (its id differs
// between the stages): Destination names are unique, Hotel twitter
// handles too, and reviews are told apart by title and body.
var benchKeys = map[string][]string{
	"Destination": {"name"},
	"Hotel":       {"twitterHandle"},
	"Review":      {"title", "body"},
}

// checkBenchEqual fails the benchmark unless the destination holds, in
// each stage (DRAFT, PUBLISHED), the source's entries and no others: each
// entry once, its fields equal, and its relation pointing at the entry of
// the same contents (no duplicates, no swapped entries).
func checkBenchEqual(b *testing.B, src, dst *stagetest.Stage, counts map[string]int) {
	b.Helper()
	for _, stage := range []string{"DRAFT", "PUBLISHED"} {
		canon := func(st *stagetest.Stage) map[string]int {
			keyOf := map[string]string{} // id -> contents key
			for _, model := range []string{"Destination", "Hotel", "Review"} {
				for _, e := range st.All(model, stage) {
					var k []string
					for _, f := range benchKeys[model] {
						k = append(k, fmt.Sprint(e[f]))
					}
					keyOf[e["id"].(string)] = model + ":" + strings.Join(k, "|")
				}
			}
			out := map[string]int{}
			for model := range counts {
				for _, e := range st.All(model, stage) {
					c := map[string]any{}
					for f, v := range e {
						switch f {
						case "id", "stage", "createdAt", "updatedAt", "publishedAt":
							continue
						case "destination", "hotel":
							if id, ok := v.(string); ok {
								v = keyOf[id]
							}
						}
						c[f] = v
					}
					raw, err := json.Marshal(c)
					if err != nil {
						b.Fatal(err)
					}
					out[model+" "+string(raw)]++
				}
			}
			return out
		}
		want, got := canon(src), canon(dst)
		bad := 0
		for k, n := range want {
			if got[k] != n {
				if bad++; bad <= 5 {
					b.Errorf("%s: the destination has %d of %.300s; the source %d", stage, got[k], k, n)
				}
			}
		}
		for k, n := range got {
			if _, ok := want[k]; !ok {
				if bad++; bad <= 5 {
					b.Errorf("%s: the destination has %d of %.300s, which the source lacks", stage, n, k)
				}
			}
		}
		if bad > 0 {
			b.Fatalf("%s: %d entries differ", stage, bad)
		}
	}
}

// checkBenchReport fails the benchmark unless the sync created every entry
// once (the creates of all its passes) with no failures; it returns the
// run's passes.
func checkBenchReport(b *testing.B, path string, counts map[string]int) int {
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
		Rounds int `json:"rounds"`
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
	return max(rep.Rounds, 1)
}

func benchDelta(a, b stagetest.CountersSnapshot) stagetest.CountersSnapshot {
	return stagetest.CountersSnapshot{
		Requests: a.Requests - b.Requests, Rejected: a.Rejected - b.Rejected, Throttled: a.Throttled - b.Throttled,
		TooLarge: a.TooLarge - b.TooLarge, Queries: a.Queries - b.Queries, Mutations: a.Mutations - b.Mutations,
		EntriesWritten:  a.EntriesWritten - b.EntriesWritten,
		QueryOperations: a.QueryOperations - b.QueryOperations, MutationOperations: a.MutationOperations - b.MutationOperations,
	}
}
