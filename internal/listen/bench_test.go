package listen

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/gcmssig"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// BenchmarkListen measures sustained webhook events per second and the
// event-to-destination latency (p50, p95) of one listener, between two
// emulated stages limited as Hygraph's Growth plan (HYGRAPH.md: 25
// requests per second per environment), for 200 edited books:
//
//	go test -run '^$' -bench Listen -benchtime 1x ./internal/listen/
func BenchmarkListen(b *testing.B) {
	const books = 200
	growth := stagetest.WithLimits(stagetest.Limits{Rate: 25, Burst: 25})
	for range b.N {
		b.StopTimer()
		s := librarySchema(b)
		// The edits of the benchmark go to the source stage directly, not
		// through its HTTP limits, which the listener's reads meet.
		src := stagetest.NewServer(b, s, growth)
		dst := stagetest.NewServer(b, s, growth)
		stage := func(name string, srv *stagetest.Server) *stagesync.Stage {
			return stagesync.NewStage(name, srv.URL, srv.Token, stagesync.WithRateLimit(stagesync.RateLimit{Initial: 25}))
		}
		var ids []string
		for i := range books {
			id, err := src.Stage.Seed("Book", "PUBLISHED", map[string]any{"title": fmt.Sprintf("Book %d", i), "pages": i})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id...)
		}
		dir := b.TempDir()
		l, err := Open(context.Background(), Config{
			Sync: stagesync.SyncConfig{Source: stage("source", src), Dest: stage("dest", dst),
				SourceSchema: s, DestSchema: s, StatePath: filepath.Join(dir, "state.db"), Mirror: true},
			Queue:  QueueConfig{URL: filepath.Join(dir, "queue.db")},
			Secret: testSecret,
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		h := l.Handler()
		b.StartTimer()
		start := time.Now()
		for i, id := range ids {
			if err := src.Stage.Update(context.Background(), "Book", id, map[string]any{"pages": 1000 + i}); err != nil {
				b.Fatal(err)
			}
			body := fmt.Sprintf(`{"operation":"update","data":{"__typename":"Book","id":%q,"stage":"DRAFT"}}`, id)
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
			req.Header.Set(gcmssig.Header, gcmssig.Sign(testSecret, []byte(body), "master", time.Now()))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				b.Fatalf("webhook answered %d", rec.Code)
			}
		}
		for {
			n, err := l.Pending(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		st := l.Stats()
		if st.Completed[KindSyncEntry] == 0 || st.Discarded[KindSyncEntry] > 0 {
			b.Fatalf("jobs: %+v", st)
		}
		b.ReportMetric(float64(books)/elapsed.Seconds(), "events/s")
		b.ReportMetric(st.Latency.P50, "p50-s")
		b.ReportMetric(st.Latency.P95, "p95-s")
		b.ReportMetric(float64(st.Completed[KindSyncEntry]), "jobs")
		b.Logf("%d events in %s: %.1f events/s; event to destination p50 %.2fs, p95 %.2fs; %d jobs; destination requests %d (%d refused), source requests %d (%d refused)",
			books, elapsed.Round(time.Millisecond), float64(books)/elapsed.Seconds(), st.Latency.P50, st.Latency.P95,
			st.Completed[KindSyncEntry], dst.Stage.Counters().Requests, dst.Stage.Counters().Rejected, src.Stage.Counters().Requests, src.Stage.Counters().Rejected)
		_ = l.Stop(context.Background())
		l.Close()
	}
}
