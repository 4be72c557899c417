package listen

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stagesync/stagesync/internal/pgtest"
)

// postgresQueue returns a queue URL in a schema of its own, dropped when
// the test ends; it skips the test without STAGESYNC_TEST_POSTGRES.
func postgresQueue(t *testing.T) string {
	return pgtest.SchemaURL(t, "the PostgreSQL queue")
}

func TestListenPostgresEndToEnd(t *testing.T) {
	queue := postgresQueue(t)
	w := newWorld(t)
	cfg := w.config()
	cfg.Queue.URL = queue
	l := w.listen(t, cfg)
	w.hooks.set(l.Handler())
	ed := newEditor(t, w.source, 11)
	for range 60 {
		ed.step()
	}
	w.drain(t, nil)
	w.compare(t)
	w.noFailedJobs(t)
	jobs, err := OpenJobs(context.Background(), queue)
	if err != nil {
		t.Fatal(err)
	}
	defer jobs.Close()
	if failed, err := jobs.Failed(context.Background()); err != nil || len(failed) != 0 {
		t.Errorf("failed jobs %v, %v", failed, err)
	}
}

// TestListenPostgresTwoListeners: two listeners share one PostgreSQL queue
// (and, taking turns, one state); webhooks go to either. Every event is
// applied once in effect: the destination equals the source.
func TestListenPostgresTwoListeners(t *testing.T) {
	queue := postgresQueue(t)
	w := newWorld(t)
	cfg := w.config()
	cfg.Queue.URL = queue
	a := w.listen(t, cfg)
	b := w.listen(t, cfg)
	var n atomic.Int64
	ha, hb := a.Handler(), b.Handler()
	w.hooks.set(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			ha.ServeHTTP(rw, r)
		} else {
			hb.ServeHTTP(rw, r)
		}
	}))
	ed := newEditor(t, w.source, 12)
	for range 60 {
		ed.step()
	}
	w.drain(t, nil)
	w.compare(t)
	sa, sb := a.Stats(), b.Stats()
	for _, s := range []Stats{sa, sb} {
		if s.Discarded[KindSyncEntry] > 0 {
			t.Errorf("jobs failed every attempt: %v", s.Discarded)
		}
	}
	t.Logf("jobs done: %d by one listener, %d by the other", sa.Completed[KindSyncEntry], sb.Completed[KindSyncEntry])
	if sa.Completed[KindSyncEntry] == 0 || sb.Completed[KindSyncEntry] == 0 {
		t.Log("one listener did every job")
	}
}
