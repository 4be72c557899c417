package stagesync_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/filestack/filestacktest"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// BenchmarkSyncAssets copies the 200-asset set (1 KB to 5 MB each) into a
// fresh destination stage and bucket per iteration, on the legacy asset
// system, and reports files/s and MB/s.
//
//	go test -run '^$' -bench SyncAssets -benchtime 3x ./stagesync/
func BenchmarkSyncAssets(b *testing.B) {
	ctx := context.Background()
	p := newGalleryPair(b, galleryOptions{})
	p.seedAssets(b, gallerySeed{n: 200, lo: 1 << 10, hi: maxAssetSize})
	var total int64
	for _, a := range p.assets {
		total += a.size
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p.dstFS = filestacktest.NewServer(b, filestacktest.WithMemoryThreshold(256<<10))
		p.dst = stagetest.NewServer(b, p.dstSchema, stagetest.WithAssets(p.dstFS, "DST"))
		p.dest = galleryStage("dest", p.dst)
		p.state = stagesync.NewState(p.src.URL, p.dst.URL)
		b.StartTimer()
		report, _, err := stagesync.Sync(ctx, p.config())
		if err != nil || !report.OK() {
			b.Fatalf("Sync: %v %v", err, report.Failures())
		}
		b.StopTimer()
		if c := p.dstFS.Counters(); c.BytesUploaded != total {
			b.Fatalf("copied %d bytes, want %d", c.BytesUploaded, total)
		}
		b.StartTimer()
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(p.assets)*b.N)/sec, "files/s")
	b.ReportMetric(float64(total)*float64(b.N)/sec/1e6, "MB/s")
}

// largeAssetSize is the file of BenchmarkSyncLargeAsset.
const largeAssetSize = 200 << 20

// largeAssetChildEnv, set to "store" or "stream", makes
// TestLargeAssetChild copy the large file.
const largeAssetChildEnv = "STAGESYNC_LARGE_ASSET_CHILD"

// BenchmarkSyncLargeAsset copies one 200 MB asset in a child process and
// reports the child's peak RSS, which must stay under 64 MB: the engine
// streams files and never holds one in memory. "store" has the
// destination's Filestack fetch the file by URL; "stream" refuses that,
// so the engine downloads the file and uploads it in one stream. The
// child holds both emulated stages and Filestack emulators too.
//
// The peak is the child's own VmHWM: its rusage is no good, since Linux
// charges a child that execs the high-water RSS of the address space it
// was forked with, which here is the benchmark's.
//
//	go test -run '^$' -bench SyncLargeAsset -benchtime 1x ./stagesync/
func BenchmarkSyncLargeAsset(b *testing.B) {
	for _, mode := range []string{"store", "stream"} {
		b.Run(mode, func(b *testing.B) {
			var rss, secs float64
			for range b.N {
				cmd := exec.Command(os.Args[0], "-test.run=^TestLargeAssetChild$", "-test.v", "-test.count=1")
				cmd.Env = append(os.Environ(), largeAssetChildEnv+"="+mode)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				kb, ok := childValue(string(out), "peak_rss_kb=")
				if !ok {
					b.Skip("the child cannot read its peak RSS (no /proc/self/status)")
				}
				rss = max(rss, kb*1024)
				s, ok := childValue(string(out), "sync_seconds=")
				if !ok {
					b.Fatalf("child printed no sync time:\n%s", out)
				}
				secs += s
			}
			b.ReportMetric(rss/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(largeAssetSize)*float64(b.N)/secs/1e6, "MB/s")
			if rss >= 64<<20 {
				b.Errorf("peak RSS %.1f MB copying a %d MB file, want under 64 MB", rss/(1<<20), largeAssetSize>>20)
			}
		})
	}
}

// childValue finds a "key=value" line TestLargeAssetChild prints.
func childValue(out, key string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key); ok {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return s, err == nil
		}
	}
	return 0, false
}

// peakRSS returns the peak resident set size of this process in
// kilobytes: VmHWM of /proc/self/status.
func peakRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// TestLargeAssetChild is the child process of BenchmarkSyncLargeAsset: it
// seeds a 200 MB asset (streamed into the source's bucket, on disk) and
// syncs it.
func TestLargeAssetChild(t *testing.T) {
	mode := os.Getenv(largeAssetChildEnv)
	if mode == "" {
		t.Skip("run by BenchmarkSyncLargeAsset")
	}
	ctx := context.Background()
	var faults []filestacktest.Option
	if mode == "stream" {
		faults = append(faults, filestacktest.WithFault(func(c filestacktest.Call) int {
			if c.Op == filestacktest.OpStore {
				return http.StatusBadRequest // "could not fetch url"
			}
			return 0
		}))
	}
	p := newGalleryPair(t, galleryOptions{dstFS: faults})
	data := io.LimitReader(rand.NewChaCha8([32]byte{1}), largeAssetSize)
	id, err := p.src.Stage.SeedAssetFrom(ctx, "large.bin", "application/octet-stream", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	report, _, err := stagesync.Sync(ctx, p.config())
	elapsed := time.Since(start)
	if err != nil || !report.OK() {
		t.Fatalf("Sync: %v %v", err, report.Failures())
	}
	src, _ := p.src.Stage.Get("Asset", id, "DRAFT")
	did, _ := p.state.DestID("Asset", id)
	dst, _ := p.dst.Stage.Get("Asset", did, "DRAFT")
	sf, _ := p.srcFS.File(src["handle"].(string))
	df, ok := p.dstFS.File(fmt.Sprint(dst["handle"]))
	if !ok || df.SHA256 != sf.SHA256 || df.Size != largeAssetSize {
		t.Fatalf("destination file %+v, want the source's %+v", df, sf)
	}
	c := p.dstFS.Counters()
	if (mode == "stream") != (c.Uploads == 1) {
		t.Fatalf("mode %s: %+v", mode, c)
	}
	fmt.Printf("sync_seconds=%f\n", elapsed.Seconds())
	if kb, ok := peakRSS(); ok {
		fmt.Printf("peak_rss_kb=%d\n", kb)
	}
}
