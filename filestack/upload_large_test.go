package filestack_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/filestack/filestacktest"
)

// memoryBudget bounds how much a large upload may allocate, client and
// emulator together.
const memoryBudget = 64 << 20

// heapSampler records the peak of HeapInuse while it runs.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func sampleHeap() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			s.peak = max(s.peak, ms.HeapInuse)
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak HeapInuse.
func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	s.done.Wait()
	return s.peak
}

// TestUploadLargeStreams uploads a generated file of largeUpload bytes (200
// MB, 64 MB under the race detector, 16 MB with -short) and checks that
// client and emulator together allocate far less than the file, and that
// the stored bytes and a streamed download of them are the same.
func TestUploadLargeStreams(t *testing.T) {
	size := int64(largeUpload)
	if testing.Short() {
		size = 16 << 20
	}
	ctx := context.Background()
	fs := filestacktest.NewServer(t)
	c := fs.Client("K")
	want, _ := hashOf(t, newPattern(size))

	tests := []struct {
		name   string
		upload func() (*filestack.File, error)
	}{
		{"known length", func() (*filestack.File, error) {
			return c.Upload(ctx, newPattern(size), filestack.StoreOptions{Filename: "big.bin"})
		}},
		{"chunked", func() (*filestack.File, error) {
			return c.Upload(ctx, onlyReader{newPattern(size)}, filestack.StoreOptions{Filename: "big.bin"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			sampler := sampleHeap()
			start := time.Now()
			f, err := tt.upload()
			elapsed := time.Since(start)
			peak := sampler.Stop()
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			growth := int64(peak) - int64(before.HeapInuse)
			t.Logf("%d MB in %v (%.0f MB/s); allocated %.1f MB, peak heap growth %.1f MB",
				size>>20, elapsed.Round(time.Millisecond), float64(size)/(1<<20)/elapsed.Seconds(),
				float64(alloc)/(1<<20), float64(growth)/(1<<20))
			if alloc > memoryBudget || growth > memoryBudget {
				t.Errorf("allocated %d bytes, heap grew by %d: want both under %d", alloc, growth, memoryBudget)
			}
			if f.Size != size {
				t.Errorf("stored %d bytes, want %d", f.Size, size)
			}
			if stored, _ := fs.File(f.Handle); stored.SHA256 != want {
				t.Errorf("stored sha256 %s, want %s", stored.SHA256, want)
			}

			body, err := c.Download(ctx, f.Handle)
			if err != nil {
				t.Fatal(err)
			}
			got, n := hashOf(t, body)
			body.Close()
			if got != want || n != size {
				t.Errorf("downloaded %d bytes with sha256 %s, want %d %s", n, got, size, want)
			}
			if err := c.Delete(ctx, f.Handle); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// BenchmarkUpload200MB uploads a generated 200 MB file to the emulator (on
// disk past 4 MiB) and reports throughput and the peak heap in use.
func BenchmarkUpload200MB(b *testing.B) {
	const size = 200 << 20
	ctx := context.Background()
	fs := filestacktest.NewServer(b)
	c := fs.Client("K")
	b.SetBytes(size)
	b.ReportAllocs()
	runtime.GC()
	sampler := sampleHeap()
	for b.Loop() {
		f, err := c.Upload(ctx, newPattern(size), filestack.StoreOptions{Filename: "big.bin"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := c.Delete(ctx, f.Handle); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(sampler.Stop())/(1<<20), "peak-heap-MB")
}
