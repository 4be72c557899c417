package importapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/internal/benchhotels"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
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

// snapshotChild is what BenchmarkSnapshotHotels passes to
// TestSnapshotHotelsChild, in the STAGESYNC_BENCH_SNAPSHOT_CHILD
// environment variable.
type snapshotChild struct {
	Hotels int
	// Step is "export" (Source into Dir) or "import" (Dir into Dest).
	Step        string
	Dir         string
	Source      string
	SourceToken string
	Dest        string
	DestToken   string
}

// snapshotResult is what TestSnapshotHotelsChild prints on a line of its
// own after snapshotPrefix (each child fills its step's fields).
type snapshotResult struct {
	Hotels, Entries int
	NDFBytes        int64
	// Peak RSS (VmHWM) of each child process before its step and after
	// it; peak HeapInuse sampled during each step.
	ExportBaseMB, ImportBaseMB float64
	ExportMB, ImportMB         float64
	ExportHeapMB, ImportHeapMB float64
	ExportWall, ImportWall     time.Duration
	// OpenWall is the time OpenSource takes alone (check and index, one
	// pass over the NDF), measured before the import.
	OpenWall                         time.Duration
	Created, Published, ImportFailed int
}

const snapshotPrefix = "SNAPSHOT_HOTELS "

// BenchmarkSnapshotHotels measures `stagesync export` then `stagesync
// import` of the hotels data set (internal/benchhotels: one destination
// per 50 hotels, two reviews per hotel, 3 in 10 entries published) with
// the library calls the commands make (importapi.Export, importapi.Import
// with a state database on disk): the time and entries/s of each step, the
// NDF bytes, and the peak memory of each step — the peak RSS of the
// process (VmHWM) and the peak HeapInuse sampled at its progress events.
// The peak RSS only grows within a process, so each step of each scale
// runs in a child process of its own (this test binary re-run as
// TestSnapshotHotelsChild) against the source and destination stages
// emulated in this process: a child's memory is the export's or the
// import's, not the emulators'.
//
// It runs 10k hotels (30,200 entries); with STAGESYNC_BENCH_RSS=1, 10k
// and 100k (302,000 entries), to show that memory does not grow with the
// snapshot; STAGESYNC_BENCH_RSS_SCALES=10000,30000 picks the scales:
//
//	go test -run '^$' -bench SnapshotHotels -benchtime 1x -timeout 60m ./importapi/
//	STAGESYNC_BENCH_RSS=1 go test -run '^$' -bench SnapshotHotels -benchtime 1x -timeout 120m ./importapi/
func BenchmarkSnapshotHotels(b *testing.B) {
	s := benchHotelsSchema(b)
	scales := []int{10_000}
	if os.Getenv("STAGESYNC_BENCH_RSS") == "1" {
		scales = []int{10_000, 100_000}
	}
	if v := os.Getenv("STAGESYNC_BENCH_RSS_SCALES"); v != "" {
		scales = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("STAGESYNC_BENCH_RSS_SCALES: %v", err)
			}
			scales = append(scales, n)
		}
	}
	for range b.N {
		var results []snapshotResult
		for _, hotels := range scales {
			sc := benchhotels.ScaleOf(hotels)
			src := stagetest.NewServer(b, s)
			dst := stagetest.NewServer(b, s)
			if err := benchhotels.Seed(src.Stage, sc); err != nil {
				b.Fatal(err)
			}
			dir := filepath.Join(b.TempDir(), "snapshot")
			var res snapshotResult
			for _, step := range []string{"export", "import"} {
				arg, err := json.Marshal(snapshotChild{Hotels: hotels, Step: step, Dir: dir, Source: src.URL, SourceToken: src.Token, Dest: dst.URL, DestToken: dst.Token})
				if err != nil {
					b.Fatal(err)
				}
				cmd := exec.Command(os.Args[0], "-test.run=^TestSnapshotHotelsChild$", "-test.v", "-test.count=1", "-test.timeout=0")
				cmd.Env = append(os.Environ(), "STAGESYNC_BENCH_SNAPSHOT_CHILD="+string(arg))
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%s child at %d hotels: %v\n%s", step, hotels, err, out)
				}
				var got snapshotResult
				found := false
				lines := bufio.NewScanner(bytes.NewReader(out))
				for lines.Scan() {
					if line, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), snapshotPrefix); ok {
						found = json.Unmarshal([]byte(line), &got) == nil
					}
				}
				if !found {
					b.Fatalf("%s child at %d hotels printed no result:\n%s", step, hotels, out)
				}
				res.Hotels = hotels
				if step == "export" {
					res.Entries, res.NDFBytes = got.Entries, got.NDFBytes
					res.ExportBaseMB, res.ExportMB, res.ExportHeapMB, res.ExportWall = got.ExportBaseMB, got.ExportMB, got.ExportHeapMB, got.ExportWall
				} else {
					res.ImportBaseMB, res.ImportMB, res.ImportHeapMB, res.ImportWall, res.OpenWall = got.ImportBaseMB, got.ImportMB, got.ImportHeapMB, got.ImportWall, got.OpenWall
					res.Created, res.Published, res.ImportFailed = got.Created, got.Published, got.ImportFailed
				}
			}
			if res.Entries != sc.Entries() || res.Created != sc.Entries() || res.ImportFailed > 0 {
				b.Fatalf("child at %d hotels: exported %d entries, imported %d (%d failed), want %d", hotels, res.Entries, res.Created, res.ImportFailed, sc.Entries())
			}
			for _, m := range []string{"Destination", "Hotel", "Review"} {
				if got, want := len(dst.Stage.All(m, "PUBLISHED")), benchhotels.PublishedOf(sc.Count(m)); got != want {
					b.Fatalf("%d hotels: %d %s entries published in the destination, want %d", hotels, got, m, want)
				}
			}
			fmt.Printf("snapshot: %d hotels (%d entries, %.1f MB of NDF): export %s (%.0f entries/s), import %s (%.0f entries/s, %d published; opening the snapshot alone %s); "+
				"peak RSS of the export process %.0f MB (%.0f MB before it), of the import process %.0f MB (%.0f MB before it); peak HeapInuse %.0f MB in the export, %.0f MB in the import\n",
				hotels, res.Entries, float64(res.NDFBytes)/1e6,
				res.ExportWall.Round(time.Millisecond), float64(res.Entries)/res.ExportWall.Seconds(),
				res.ImportWall.Round(time.Millisecond), float64(res.Entries)/res.ImportWall.Seconds(), res.Published, res.OpenWall.Round(time.Millisecond),
				res.ExportMB, res.ExportBaseMB, res.ImportMB, res.ImportBaseMB, res.ExportHeapMB, res.ImportHeapMB)
			results = append(results, res)
			src.Close()
			dst.Close()
		}
		first, last := results[0], results[len(results)-1]
		if len(results) > 1 {
			fmt.Printf("snapshot: %d → %d hotels (x%.0f entries): peak RSS of the export %.0f MB → %.0f MB, of the import %.0f MB → %.0f MB; peak HeapInuse of the export %.0f MB → %.0f MB, of the import %.0f MB → %.0f MB\n",
				first.Hotels, last.Hotels, float64(last.Entries)/float64(first.Entries),
				first.ExportMB, last.ExportMB, first.ImportMB, last.ImportMB,
				first.ExportHeapMB, last.ExportHeapMB, first.ImportHeapMB, last.ImportHeapMB)
		}
		for _, r := range results {
			k := r.Hotels / 1000
			b.ReportMetric(r.ExportMB, fmt.Sprintf("export-peak-RSS-MB-%dk", k))
			b.ReportMetric(r.ImportMB, fmt.Sprintf("import-peak-RSS-MB-%dk", k))
			b.ReportMetric(r.ExportHeapMB, fmt.Sprintf("export-peak-heap-MB-%dk", k))
			b.ReportMetric(r.ImportHeapMB, fmt.Sprintf("import-peak-heap-MB-%dk", k))
			b.ReportMetric(float64(r.Entries)/r.ExportWall.Seconds(), fmt.Sprintf("export-entries/s-%dk", k))
			b.ReportMetric(float64(r.Entries)/r.ImportWall.Seconds(), fmt.Sprintf("import-entries/s-%dk", k))
			b.ReportMetric(float64(r.NDFBytes)/1e6, fmt.Sprintf("NDF-MB-%dk", k))
		}
	}
}

// TestSnapshotHotelsChild is a child process of BenchmarkSnapshotHotels:
// it exports the source stage it is given into a snapshot, or imports the
// snapshot into the destination, and prints its time and peak memory. It skips unless STAGESYNC_BENCH_SNAPSHOT_CHILD is set.
func TestSnapshotHotelsChild(t *testing.T) {
	arg := os.Getenv("STAGESYNC_BENCH_SNAPSHOT_CHILD")
	if arg == "" {
		t.Skip("run by BenchmarkSnapshotHotels")
	}
	var c snapshotChild
	if err := json.Unmarshal([]byte(arg), &c); err != nil {
		t.Fatal(err)
	}
	s := benchHotelsSchema(t)
	stage := func(name, url, token string) *stagesync.Stage {
		return stagesync.NewStage(name, url, token,
			stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
			stagesync.WithMaxConcurrency(8))
	}
	source, dest := stage("source", c.Source, c.SourceToken), stage("destination", c.Dest, c.DestToken)
	var mu sync.Mutex
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	res := snapshotResult{Hotels: c.Hotels}
	if c.Step == "export" {
		res.ExportBaseMB = benchhotels.PeakRSSMB()
		start := time.Now()
		n := 0
		man, err := importapi.Export(context.Background(), source, s, c.Dir, importapi.ExportOptions{
			Progress: func(string, int, int64) {
				if n++; n%1000 == 0 {
					sample()
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		sample()
		res.ExportWall, res.ExportMB, res.ExportHeapMB = time.Since(start), benchhotels.PeakRSSMB(), float64(peak)/(1<<20)
		for _, f := range man.Files {
			res.NDFBytes += f.Bytes
		}
		for _, ct := range man.Counts {
			if ct.Stage == importapi.StageDraft && ct.Locale == "" {
				res.Entries += ct.Entries
			}
		}
	} else {
		res.ImportBaseMB = benchhotels.PeakRSSMB()
		start := time.Now()
		src, err := importapi.OpenSource(context.Background(), c.Dir)
		if err != nil {
			t.Fatal(err)
		}
		res.OpenWall = time.Since(start)
		src.Close()
		start = time.Now()
		report, _, err := importapi.Import(context.Background(), c.Dir, stagesync.SyncConfig{
			Dest: dest, DestSchema: s, StatePath: filepath.Join(t.TempDir(), "state.db"),
			Progress: func(stagesync.Event) { sample() },
		})
		if err != nil {
			t.Fatal(err)
		}
		sample()
		res.ImportWall, res.ImportMB, res.ImportHeapMB = time.Since(start), benchhotels.PeakRSSMB(), float64(peak)/(1<<20)
		res.ImportFailed = len(report.Failures())
		for _, m := range report.Models() {
			res.Created += m.Created
			res.Published += m.Published
		}
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(snapshotPrefix + string(out))
}
