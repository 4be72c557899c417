package importapi_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
)

// BenchmarkNDFStream writes n hotel nodes of about 400 bytes as NDF files
// and reads them back, sampling the live heap every 1,000 values: with
// the reader and writer streaming, the peak stays flat as n grows ten-fold
// (compare peak-heap-MB of the two sizes; NDF-MB grows with n).
func BenchmarkNDFStream(b *testing.B) {
	text := strings.Repeat("quiet room near the old town, breakfast on the terrace; ", 6)
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			sample := func() {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			var bytes int64
			for b.Loop() {
				dir := b.TempDir()
				w := importapi.NewWriter(dir, importapi.Nodes, 0)
				for i := range n {
					if err := w.Write(importapi.Node{TypeName: "Hotel", ID: fmt.Sprintf("ch%023d", i),
						Fields: map[string]any{"name": fmt.Sprintf("Hotel %d", i), "description": text, "stars": i % 5}}); err != nil {
						b.Fatal(err)
					}
					if i%1000 == 0 {
						sample()
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				bytes = 0
				for _, f := range w.Files() {
					bytes += f.Bytes
				}
				read := 0
				for v, err := range importapi.ReadDir(dir, importapi.Nodes) {
					if err != nil {
						b.Fatal(err)
					}
					if _, err := importapi.ParseNode(v.Raw); err != nil {
						b.Fatal(err)
					}
					if read++; read%1000 == 0 {
						sample()
					}
				}
				if read != n {
					b.Fatalf("read %d values, wrote %d", read, n)
				}
			}
			b.ReportMetric(float64(bytes)/1e6, "NDF-MB")
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		})
	}
}
