package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/benchhotels"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// BenchmarkHotels10kDelta is BenchmarkHotels10kGrowth's set-up (hotels-10k
// between two emulated Growth stages with 50 ms latency and 20 ms per
// operation, the CLI's own code path with its defaults) followed by what
// a user runs next: a no-op re-sync, a no-op `sync --delta`, and a
// `sync --delta` after 1% of the hotels and reviews changed in the source
// (drafts edited; published ones published again). It prints each run's
// requests (both stages), 429s and wall time, and its requests as a share
// of the full sync's (issue #12's target for the 1% delta: at most 0.1),
// and compares the destination with the source at the end.
//
//	go test -run '^$' -bench Hotels10kDelta -benchtime 1x -timeout 60m ./cmd/stagesync/
//
// STAGESYNC_BENCH_HOTELS scales it (e.g. 1000 for a smoke run).
func BenchmarkHotels10kDelta(b *testing.B) {
	hotels := 10_000
	if v := os.Getenv("STAGESYNC_BENCH_HOTELS"); v != "" {
		if _, err := fmt.Sscan(v, &hotels); err != nil {
			b.Fatalf("STAGESYNC_BENCH_HOTELS=%q: %v", v, err)
		}
	}
	ctx := context.Background()
	s := benchHotelsSchema(b)
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
		b.Setenv("BENCH_SRC_TOKEN", src.Token)
		b.Setenv("BENCH_DST_TOKEN", dst.Token)
		b.Chdir(b.TempDir())
		dir := b.TempDir()
		state := filepath.Join(dir, "state.db")
		fmt.Printf("hotels-delta: %d Destination, %d Hotel, %d Review; stages: growth preset, latency %v, service time %v per operation\n",
			sc.Destinations, sc.Hotels, sc.Reviews, benchLatency, benchServiceTime)

		// sync runs `stagesync sync` with extra flags and prints its figures.
		type figures struct {
			requests, throttled int64
			wall                time.Duration
		}
		n := 0
		sync := func(name string, extra ...string) (figures, benchReport) {
			n++
			report := filepath.Join(dir, fmt.Sprintf("report-%d.json", n))
			args := append([]string{"sync", "--from", src.URL, "--from-token-env", "BENCH_SRC_TOKEN",
				"--to", dst.URL, "--to-token-env", "BENCH_DST_TOKEN", "--state", state, "--yes", "--quiet", "--report", report}, extra...)
			srcBefore, dstBefore := src.Stage.Counters(), dst.Stage.Counters()
			var stdout, stderr bytes.Buffer
			b.StartTimer()
			start := time.Now()
			code := run(args, &stdout, &stderr)
			wall := time.Since(start)
			b.StopTimer()
			raw, _ := os.ReadFile(report)
			if code != 0 {
				b.Fatalf("%s: sync exited %d after %v\nstderr: %s\nreport: %.3000s", name, code, wall, stderr.String(), raw)
			}
			var rep benchReport
			if err := json.Unmarshal(raw, &rep); err != nil {
				b.Fatalf("%s: report: %v", name, err)
			}
			srcC, dstC := benchDelta(src.Stage.Counters(), srcBefore), benchDelta(dst.Stage.Counters(), dstBefore)
			f := figures{requests: srcC.Requests + dstC.Requests, throttled: srcC.Throttled + dstC.Throttled, wall: wall}
			fmt.Printf("hotels-delta: %-16s stagesync %s\n", name+":", strings.Join(args, " "))
			fmt.Printf("hotels-delta: %-16s requests %d (source %d, destination %d; 429: %d), mutation operations %d, wall %.1fs; %s\n",
				name+":", f.requests, srcC.Requests, dstC.Requests, f.throttled, dstC.MutationOperations, wall.Seconds(), rep.summary())
			return f, rep
		}

		full, rep := sync("full sync")
		for _, m := range rep.Models {
			if m.Failed != 0 || m.Created != sc.Count(m.Name) {
				b.Fatalf("full sync: %s created %d, failed %d; want %d created", m.Name, m.Created, m.Failed, sc.Count(m.Name))
			}
		}
		ratio := func(name string, f figures) {
			fmt.Printf("hotels-delta: %-16s requests / full sync's = %d / %d = %.3f; wall / full sync's = %.3f\n",
				name+":", f.requests, full.requests, float64(f.requests)/float64(full.requests), f.wall.Seconds()/full.wall.Seconds())
			b.ReportMetric(float64(f.requests)/float64(full.requests), strings.ReplaceAll(name, " ", "-")+"-ratio")
		}
		noop, rep := sync("no-op re-sync")
		rep.wantWrites(b, "no-op re-sync", 0)
		ratio("no-op re-sync", noop)
		noopDelta, rep := sync("no-op delta", "--delta")
		rep.wantWrites(b, "no-op delta", 0)
		ratio("no-op delta", noopDelta)

		// 1% of the hotels and of the reviews change.
		edited := 0
		for _, model := range []string{"Hotel", "Review"} {
			for i, e := range src.Stage.All(model, "DRAFT") {
				if i%100 != 0 {
					continue
				}
				id, _ := e["id"].(string)
				field := map[string]string{"Hotel": "description", "Review": "body"}[model]
				if err := src.Stage.Update(ctx, model, id, map[string]any{field: fmt.Sprintf("Edited for the delta (%d).", i)}); err != nil {
					b.Fatal(err)
				}
				if _, published := src.Stage.Get(model, id, "PUBLISHED"); published {
					if err := src.Stage.Publish(model, id); err != nil {
						b.Fatal(err)
					}
				}
				edited++
			}
		}
		delta, rep := sync("1% delta", "--delta")
		rep.wantWrites(b, "1% delta", edited)
		ratio("1% delta", delta)
		b.ReportMetric(delta.wall.Seconds(), "delta-wall-s")
		b.ReportMetric(float64(delta.requests), "delta-requests")
		b.ReportMetric(float64(full.requests), "full-requests")
		if delta.requests*10 > full.requests {
			fmt.Printf("hotels-delta: the 1%% delta's requests are more than 0.1 × the full sync's\n")
		}

		// The destination equals the source (not counted above).
		st, err := stagesync.LoadState(state, src.URL, dst.URL)
		if err != nil {
			b.Fatal(err)
		}
		growth, err := stagesync.LookupPlanLimits("growth")
		if err != nil {
			b.Fatal(err)
		}
		diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
			Source:       stagesync.NewStage("source", src.URL, src.Token, stagesync.WithPlanLimits(growth)),
			Dest:         stagesync.NewStage("dest", dst.URL, dst.Token, stagesync.WithPlanLimits(growth)),
			SourceSchema: s, DestSchema: s, State: st,
		})
		st.Close()
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("hotels-delta: compare: %d differences between the stages after the delta (%d entries edited)\n", len(diffs), edited)
		for i, d := range diffs {
			if i == 10 {
				break
			}
			b.Errorf("difference: %s", d)
		}
	}
}

// benchReport is what the benchmark reads of a sync's --report.
type benchReport struct {
	Models []struct {
		Name      string `json:"name"`
		Read      int    `json:"read"`
		Created   int    `json:"created"`
		Updated   int    `json:"updated"`
		Unchanged int    `json:"unchanged"`
		Deleted   int    `json:"deleted"`
		Orphaned  int    `json:"orphaned"`
		Failed    int    `json:"failed"`
	} `json:"models"`
}

func (r benchReport) summary() string {
	var parts []string
	for _, m := range r.Models {
		parts = append(parts, fmt.Sprintf("%s read %d created %d updated %d unchanged %d orphaned %d failed %d",
			m.Name, m.Read, m.Created, m.Updated, m.Unchanged, m.Orphaned, m.Failed))
	}
	return strings.Join(parts, "; ")
}

// wantWrites fails the benchmark unless the run failed nothing and
// created, deleted and orphaned nothing, and updated updates entries.
func (r benchReport) wantWrites(b *testing.B, name string, updates int) {
	b.Helper()
	got := 0
	for _, m := range r.Models {
		got += m.Updated
		if m.Failed+m.Created+m.Deleted+m.Orphaned != 0 {
			b.Errorf("%s: %s failed %d, created %d, deleted %d, orphaned %d; want none", name, m.Name, m.Failed, m.Created, m.Deleted, m.Orphaned)
		}
	}
	if got != updates {
		b.Errorf("%s: updated %d entries, want %d", name, got, updates)
	}
}
