package stagesync

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a sync: counts per model and one Failure per entry
// that could not be synced. It is safe for concurrent use while a sync runs;
// read it after the sync returns.
type Report struct {
	mu       sync.Mutex
	models   map[string]*ModelReport
	order    []string
	failures []Failure
	// Started and Finished bound the run.
	Started, Finished time.Time
}

// ModelReport counts what happened to the entries of one model.
type ModelReport struct {
	Name      string `json:"name"`
	Read      int    `json:"read"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Deleted   int    `json:"deleted"`
	Published int    `json:"published"`
	Failed    int    `json:"failed"`
	// Orphaned counts destination entries whose source entry is gone and
	// that were left in place because mirror mode is off.
	Orphaned int `json:"orphaned"`
}

// Failure describes one entry that could not be synced.
type Failure struct {
	Model    string `json:"model"`
	SourceID string `json:"sourceId"`
	DestID   string `json:"destId"`
	// Op is the operation that failed: read, transform, create, update,
	// publish, delete, relation, asset.
	Op      string `json:"op"`
	Message string `json:"message"`
	// Path is the GraphQL path of the error, when the stage gave one.
	Path []any `json:"path"`
}

// Counter names a ModelReport count, for Report.Add.
type Counter int

// The counters of a ModelReport.
const (
	CountRead Counter = iota
	CountCreated
	CountUpdated
	CountUnchanged
	CountDeleted
	CountPublished
	CountFailed
	CountOrphaned
)

// NewReport returns an empty report.
func NewReport() *Report {
	return &Report{models: map[string]*ModelReport{}}
}

// model returns the entry for name, creating it; r.mu must be held.
func (r *Report) model(name string) *ModelReport {
	m := r.models[name]
	if m == nil {
		m = &ModelReport{Name: name}
		r.models[name] = m
		r.order = append(r.order, name)
	}
	return m
}

// Touch makes model appear in the report even if nothing is counted for it.
func (r *Report) Touch(model string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.model(model)
}

// Add adds n to one counter of model.
func (r *Report) Add(model string, c Counter, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.model(model)
	switch c {
	case CountRead:
		m.Read += n
	case CountCreated:
		m.Created += n
	case CountUpdated:
		m.Updated += n
	case CountUnchanged:
		m.Unchanged += n
	case CountDeleted:
		m.Deleted += n
	case CountPublished:
		m.Published += n
	case CountFailed:
		m.Failed += n
	case CountOrphaned:
		m.Orphaned += n
	default:
		panic(fmt.Sprintf("stagesync: unknown counter %d", c))
	}
}

// Fail records a failed entry and counts it as failed for its model.
func (r *Report) Fail(f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.model(f.Model).Failed++
	if f.Path == nil {
		f.Path = []any{}
	}
	r.failures = append(r.failures, f)
}

// Models returns a copy of the per-model counts in the order models were
// first seen.
func (r *Report) Models() []ModelReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ModelReport, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, *r.models[n])
	}
	return out
}

// Failures returns a copy of the failures, ordered by model, source id and
// operation.
func (r *Report) Failures() []Failure {
	r.mu.Lock()
	out := append([]Failure(nil), r.failures...)
	r.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.SourceID != b.SourceID {
			return a.SourceID < b.SourceID
		}
		return a.Op < b.Op
	})
	return out
}

// OK reports whether no entry failed.
func (r *Report) OK() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) == 0
}

// reportJSON is the report file's shape.
type reportJSON struct {
	Models   []ModelReport `json:"models"`
	Failures []Failure     `json:"failures"`
	Started  *time.Time    `json:"started,omitempty"`
	Finished *time.Time    `json:"finished,omitempty"`
}

// MarshalJSON writes {"models":[...],"failures":[...]} with started and
// finished times when known.
func (r *Report) MarshalJSON() ([]byte, error) {
	j := reportJSON{Models: r.Models(), Failures: r.Failures()}
	if !r.Started.IsZero() {
		j.Started = &r.Started
	}
	if !r.Finished.IsZero() {
		j.Finished = &r.Finished
	}
	return json.Marshal(j)
}

// WriteTo prints the report as a table followed by the failures.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	tw := tabwriter.NewWriter(cw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tread\tcreated\tupdated\tunchanged\tdeleted\tpublished\tfailed\t")
	for _, m := range r.Models() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n",
			m.Name, m.Read, m.Created, m.Updated, m.Unchanged, m.Deleted, m.Published, m.Failed)
	}
	tw.Flush()
	failures := r.Failures()
	if len(failures) > 0 {
		fmt.Fprintf(cw, "\n%d failed:\n", len(failures))
		for _, f := range failures {
			dest := ""
			if f.DestID != "" {
				dest = " -> " + f.DestID
			}
			fmt.Fprintf(cw, "  %s %s%s: %s: %s\n", f.Model, f.SourceID, dest, f.Op, f.Message)
		}
	}
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		fmt.Fprintf(cw, "took %s\n", r.Finished.Sub(r.Started).Round(time.Millisecond))
	}
	return cw.n, cw.err
}

// countingWriter counts bytes and keeps the first error.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
