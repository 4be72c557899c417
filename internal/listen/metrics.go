package listen

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// latencySamples is the number of recent event-to-write latencies the
// quantiles of /metrics are computed from.
const latencySamples = 1024

// metrics counts what the listener did, for /metrics.
type metrics struct {
	mu        sync.Mutex
	events    map[string]int // by result
	completed map[string]int // by job kind
	failed    map[string]int // failed attempts, by job kind
	discarded map[string]int // jobs out of attempts, by job kind
	lat       []float64      // seconds, the last latencySamples
	latNext   int
	latSum    float64
	latCount  int
}

func (m *metrics) event(result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string]int{}
	}
	m.events[result]++
}

func inc(p *map[string]int, k string) {
	if *p == nil {
		*p = map[string]int{}
	}
	(*p)[k]++
}

// job records a finished job attempt.
func (m *metrics) job(ev *river.Event) {
	if ev.Job == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev.Kind {
	case river.EventKindJobCompleted:
		inc(&m.completed, ev.Job.Kind)
		if at, ok := received(ev.Job); ok {
			d := time.Since(at).Seconds()
			if len(m.lat) < latencySamples {
				m.lat = append(m.lat, d)
			} else {
				m.lat[m.latNext] = d
				m.latNext = (m.latNext + 1) % latencySamples
			}
			m.latSum += d
			m.latCount++
		}
	case river.EventKindJobFailed:
		inc(&m.failed, ev.Job.Kind)
		if ev.Job.State == rivertype.JobStateDiscarded {
			inc(&m.discarded, ev.Job.Kind)
		}
	}
}

// Stats are the listener's counts, as /metrics shows them.
type Stats struct {
	Events                       map[string]int // webhooks by result
	Completed, Failed, Discarded map[string]int // jobs by kind
	Latency                      struct {
		Count         int
		Sum, P50, P95 float64 // seconds
	}
}

// Stats returns the listener's counts.
func (l *Listener) Stats() Stats {
	m := &l.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	var s Stats
	clone := func(x map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range x {
			out[k] = v
		}
		return out
	}
	s.Events, s.Completed, s.Failed, s.Discarded = clone(m.events), clone(m.completed), clone(m.failed), clone(m.discarded)
	s.Latency.Count, s.Latency.Sum = m.latCount, m.latSum
	if len(m.lat) > 0 {
		sorted := slices.Sorted(slices.Values(m.lat))
		s.Latency.P50 = sorted[len(sorted)*50/100]
		s.Latency.P95 = sorted[min(len(sorted)-1, len(sorted)*95/100)]
	}
	return s
}

// serveMetrics writes the counts in Prometheus' text format.
func (l *Listener) serveMetrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), answerWithin)
	defer cancel()
	depth, err := l.Pending(ctx)
	s := l.Stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP stagesync_listen_queue_depth Jobs not finished: available, scheduled, running or retrying.")
	fmt.Fprintln(w, "# TYPE stagesync_listen_queue_depth gauge")
	if err == nil {
		fmt.Fprintf(w, "stagesync_listen_queue_depth %d\n", depth)
	}
	fmt.Fprintln(w, "# HELP stagesync_listen_webhooks_total Webhooks received, by result.")
	fmt.Fprintln(w, "# TYPE stagesync_listen_webhooks_total counter")
	for _, k := range []string{"accepted", "ignored", "unauthorized", "wrong_environment", "bad_request", "too_large", "error"} {
		fmt.Fprintf(w, "stagesync_listen_webhooks_total{result=%q} %d\n", k, s.Events[k])
	}
	for _, c := range []struct {
		name, help string
		m          map[string]int
	}{
		{"stagesync_listen_jobs_completed_total", "Jobs done.", s.Completed},
		{"stagesync_listen_jobs_failed_total", "Job attempts that failed.", s.Failed},
		{"stagesync_listen_jobs_discarded_total", "Jobs that failed every attempt (see stagesync jobs).", s.Discarded},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
		for _, k := range []string{KindSyncEntry, KindDeltaSync} {
			fmt.Fprintf(w, "%s{kind=%q} %d\n", c.name, k, c.m[k])
		}
	}
	fmt.Fprintln(w, "# HELP stagesync_listen_event_to_write_seconds From a webhook's arrival to the end of its job.")
	fmt.Fprintln(w, "# TYPE stagesync_listen_event_to_write_seconds summary")
	fmt.Fprintf(w, "stagesync_listen_event_to_write_seconds{quantile=\"0.5\"} %g\n", s.Latency.P50)
	fmt.Fprintf(w, "stagesync_listen_event_to_write_seconds{quantile=\"0.95\"} %g\n", s.Latency.P95)
	fmt.Fprintf(w, "stagesync_listen_event_to_write_seconds_sum %g\n", s.Latency.Sum)
	fmt.Fprintf(w, "stagesync_listen_event_to_write_seconds_count %d\n", s.Latency.Count)
}
