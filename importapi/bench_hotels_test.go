package importapi_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// BenchmarkSnapshotHotels exports a hotels stage (one destination per 50
// hotels, two reviews per hotel, 30% published) to a snapshot and imports
// it into an empty stage, both emulated in this process without limits. It
// reports entries/s of each step, the NDF bytes, and the peak live heap
// sampled at every progress event of the export and the import.
//
// The sizes are 2k hotels, 10k with NDF_BENCH=10k, 100k with NDF_BENCH=100k.
// The peak counts the three emulated stages (source, the snapshot's and
// the destination), which hold their content in memory; see the package
// documentation for what streams.
func BenchmarkSnapshotHotels(b *testing.B) {
	hotels := 2000
	switch os.Getenv("NDF_BENCH") {
	case "10k":
		hotels = 10_000
	case "100k":
		hotels = 100_000
	}
	sdl, err := schema.SynthesizeDescription([]byte(`
locales: [en]
models:
  Destination:
    name: String! unique
    country: String
    description: String
  Hotel:
    name: String!
    description: String
    rating: Float
    destination: Destination
  Review:
    title: String!
    body: String
    score: Int
    hotel: Hotel
`))
	if err != nil {
		b.Fatal(err)
	}
	s, err := schema.LoadString("hotels.graphql", sdl)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("quiet room near the old town, breakfast on the terrace; ", 5)
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	for b.Loop() {
		src := stagetest.NewServer(b, s)
		dst := stagetest.NewServer(b, s)
		seed := func(model string, n int, doc func(i int) map[string]any) []string {
			var ids []string
			for start := 0; start < n; start += 2000 {
				for k, stage := range []string{"DRAFT", "PUBLISHED"} {
					var docs []map[string]any
					for i := start; i < min(start+2000, n); i++ {
						if (i%10 < 3) == (k == 1) {
							d := doc(i)
							d["id"] = fmt.Sprintf("c%c%023d", model[0]|0x20, i)
							docs = append(docs, d)
						}
					}
					got, err := src.Stage.Seed(model, stage, docs...)
					if err != nil {
						b.Fatal(err)
					}
					ids = append(ids, got...)
				}
			}
			return ids
		}
		id := func(model string, i int) string { return fmt.Sprintf("c%c%023d", model[0]|0x20, i) }
		nd := max(1, hotels/50)
		seed("Destination", nd, func(i int) map[string]any {
			return map[string]any{"name": fmt.Sprint("Destination ", i), "country": "Portugal", "description": text}
		})
		seed("Hotel", hotels, func(i int) map[string]any {
			return map[string]any{"name": fmt.Sprint("Hotel ", i), "description": text, "rating": 3.5, "destination": id("Destination", i%nd)}
		})
		seed("Review", 2*hotels, func(i int) map[string]any {
			return map[string]any{"title": fmt.Sprint("Review ", i), "body": text, "score": i % 5, "hotel": id("Hotel", i/2)}
		})
		entries := nd + 3*hotels
		runtime.GC()
		peak = 0

		dir := b.TempDir()
		start := time.Now()
		man, err := importapi.Export(b.Context(), localStage("source", src), s, dir, importapi.ExportOptions{
			Progress: func(string, int, int64) { sample() },
		})
		if err != nil {
			b.Fatal(err)
		}
		exportTime := time.Since(start)
		var bytes int64
		for _, f := range man.Files {
			bytes += f.Bytes
		}
		dest := localStage("destination", dst)
		start = time.Now()
		report, _, err := importapi.Import(b.Context(), dir, stagesync.SyncConfig{Dest: dest, DestSchema: s,
			State: stagesync.NewState("snapshot", dest.Endpoint()), Progress: func(stagesync.Event) { sample() }})
		if err != nil {
			b.Fatal(err)
		}
		if !report.OK() {
			b.Fatalf("import failed: %v", report.Failures()[0])
		}
		importTime := time.Since(start)
		b.ReportMetric(float64(entries), "entries")
		b.ReportMetric(float64(entries)/exportTime.Seconds(), "export-entries/s")
		b.ReportMetric(float64(entries)/importTime.Seconds(), "import-entries/s")
		b.ReportMetric(float64(bytes)/1e6, "NDF-MB")
		b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	}
}
