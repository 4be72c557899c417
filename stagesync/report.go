package stagesync

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/stagesync/stagesync/internal/texttable"
)

// Report is the outcome of a sync: counts per model and one Failure per entry
// that could not be synced, with every reason it failed. It is safe for
// concurrent use while a sync runs; read it after the sync returns.
type Report struct {
	mu       sync.Mutex
	models   map[string]*ModelReport
	order    []string
	failures []Failure
	failed   map[failureKey]int // index in failures
	verify   *VerifyResult
	cut      []CutTarget    // of a single-entry run (see CutTargets)
	adopted  map[string]int // per model, creates of an earlier pass adopted (see absorb)
	// Rounds is the number of passes the run made: 1, or more when it
	// repaired entries a pass left failed (see SyncConfig.MaxRounds).
	Rounds int
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
	// Failed counts the entries that failed, each once however many
	// reasons it has (see Failure).
	Failed int `json:"failed"`
	// Orphaned counts destination entries whose source entry is gone and
	// that were left in place because mirror mode is off.
	Orphaned int `json:"orphaned"`
}

// Failure describes one entry that could not be synced. An entry is listed
// once: Op, Message and Path are the first reason it failed, More the
// others (a create that failed and a relation to an entry that is
// missing, say). Reasons returns them all.
type Failure struct {
	Model    string `json:"model"`
	SourceID string `json:"sourceId"`
	DestID   string `json:"destId"`
	// Op is the operation that failed: read, transform, adopt, create,
	// update, publish, unpublish, delete, relation, asset.
	Op      string `json:"op"`
	Message string `json:"message"`
	// Path is the GraphQL path of the error, when the stage gave one.
	Path []any `json:"path"`
	// More are the entry's other reasons, in the order they were
	// reported; empty when it failed for one reason.
	More []Reason `json:"more,omitempty"`
}

// Reason is one reason an entry failed.
type Reason struct {
	Op      string `json:"op"`
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

// Reasons returns every reason the entry failed: the first (Op, Message,
// Path), then More.
func (f Failure) Reasons() []Reason {
	return append([]Reason{{Op: f.Op, Message: f.Message, Path: f.Path}}, f.More...)
}

// failureKey identifies an entry in the report: by source id, or by
// destination id for a destination entry without one (an orphan).
type failureKey struct{ model, sourceID, destID string }

func keyOf(f Failure) failureKey {
	if f.SourceID != "" {
		return failureKey{model: f.Model, sourceID: f.SourceID}
	}
	return failureKey{model: f.Model, destID: f.DestID}
}

// counter names a ModelReport count, for Report.add.
type counter int

// The counters of a ModelReport.
const (
	countRead counter = iota
	countCreated
	countUpdated
	countUnchanged
	countDeleted
	countPublished
	countFailed
	countOrphaned
)

// newReport returns an empty report.
func newReport() *Report {
	return &Report{models: map[string]*ModelReport{}, failed: map[failureKey]int{}, Rounds: 1}
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

// touch makes model appear in the report even if nothing is counted for it.
func (r *Report) touch(model string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.model(model)
}

// add adds n to one counter of model.
func (r *Report) add(model string, c counter, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.model(model)
	switch c {
	case countRead:
		m.Read += n
	case countCreated:
		m.Created += n
	case countUpdated:
		m.Updated += n
	case countUnchanged:
		m.Unchanged += n
	case countDeleted:
		m.Deleted += n
	case countPublished:
		m.Published += n
	case countFailed:
		m.Failed += n
	case countOrphaned:
		m.Orphaned += n
	default:
		panic(fmt.Sprintf("stagesync: unknown counter %d", c))
	}
}

// adopt counts a create of an earlier pass of the run (its answer lost)
// found in the destination and adopted.
func (r *Report) adopt(model string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.adopted == nil {
		r.adopted = map[string]int{}
	}
	r.adopted[model]++
}

// progressed reports whether the run wrote or adopted an entry.
func (r *Report) progressed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.models {
		if m.Created+m.Updated+m.Deleted+m.Published+r.adopted[m.Name] > 0 {
			return true
		}
	}
	return false
}

// failedKeys returns the entries that failed.
func (r *Report) failedKeys() map[failureKey]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[failureKey]bool, len(r.failed))
	for k := range r.failed {
		out[k] = true
	}
	return out
}

// absorb adds the report of a further pass of the run (see
// SyncConfig.MaxRounds). Its writes add to the counts (and the creates of
// an earlier pass it adopted count as created); what it read, failed and
// left orphaned replaces the earlier pass's, which it read again.
// Unchanged stays the first pass's, less what later passes wrote: an
// entry a pass wrote is found unchanged by the next.
func (r *Report) absorb(next *Report) {
	next.mu.Lock()
	defer next.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range next.order {
		n, m := next.models[name], r.model(name)
		m.Created += n.Created + next.adopted[name]
		m.Updated += n.Updated
		m.Deleted += n.Deleted
		m.Published += n.Published
		m.Read, m.Failed, m.Orphaned = n.Read, n.Failed, n.Orphaned
		m.Unchanged = max(0, min(m.Unchanged, m.Read-m.Created-m.Updated-m.Failed))
	}
	r.failures = slices.Clone(next.failures)
	r.failed = maps.Clone(next.failed)
	r.cut = slices.Clone(next.cut)
	r.Rounds++
}

// fail records a reason an entry failed. The first reason of an entry
// lists it and counts it as failed for its model; a later one (the same
// model and source id, or destination id when there is no source id) is
// added to its More, unless the entry already has that operation and
// message.
func (r *Report) fail(f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f.Path == nil {
		f.Path = []any{}
	}
	k := keyOf(f)
	i, ok := r.failed[k]
	if !ok {
		r.model(f.Model).Failed++
		f.More = slices.Clone(f.More)
		r.failed[k] = len(r.failures)
		r.failures = append(r.failures, f)
		return
	}
	have := &r.failures[i]
	if have.DestID == "" {
		have.DestID = f.DestID
	}
	for _, x := range f.Reasons() {
		if x.Path == nil {
			x.Path = []any{}
		}
		dup := x.Op == have.Op && x.Message == have.Message
		for _, y := range have.More {
			dup = dup || x.Op == y.Op && x.Message == y.Message
		}
		if !dup {
			have.More = append(have.More, x)
		}
	}
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

// Failures returns a copy of the failed entries, one each, ordered by
// model, source id and destination id.
func (r *Report) Failures() []Failure {
	r.mu.Lock()
	out := make([]Failure, len(r.failures))
	for i, f := range r.failures {
		f.More = slices.Clone(f.More)
		out[i] = f
	}
	r.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.SourceID, b.SourceID), cmp.Compare(a.DestID, b.DestID))
	})
	return out
}

// OK reports whether no entry failed.
func (r *Report) OK() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) == 0
}

// Verify returns what the verify step found (SyncConfig.Verify), or nil
// when it did not run.
func (r *Report) Verify() *VerifyResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.verify
}

func (r *Report) setVerify(v *VerifyResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verify = v
}

// reportJSON is the report file's shape.
type reportJSON struct {
	Models   []ModelReport `json:"models"`
	Failures []Failure     `json:"failures"`
	Verify   *VerifyResult `json:"verify,omitempty"`
	Rounds   int           `json:"rounds,omitempty"`
	Started  *time.Time    `json:"started,omitempty"`
	Finished *time.Time    `json:"finished,omitempty"`
}

// MarshalJSON writes {"models":[...],"failures":[...]} with started and
// finished times when known, and "rounds" when the run made more than one
// pass.
func (r *Report) MarshalJSON() ([]byte, error) {
	j := reportJSON{Models: r.Models(), Failures: r.Failures(), Verify: r.Verify()}
	if r.Rounds > 1 {
		j.Rounds = r.Rounds
	}
	if !r.Started.IsZero() {
		j.Started = &r.Started
	}
	if !r.Finished.IsZero() {
		j.Finished = &r.Finished
	}
	return json.Marshal(j)
}

// WriteTo prints the report as a table followed by the failed entries,
// each with every reason it failed.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	return r.WriteSummary(w, 0, "")
}

// WriteSummary prints the report as WriteTo does, but at most maxLines
// lines of failures (0 or less: no limit; an entry's reasons are not
// split, and the first entry is always printed). The failed entries left
// out are counted on one more line, "... and N more failed entries",
// followed by more (say, where the whole list is).
func (r *Report) WriteSummary(w io.Writer, maxLines int, more string) (int64, error) {
	cw := &countingWriter{w: w}
	t := texttable.New("model", "read", "created", "updated", "unchanged", "deleted", "published", "failed")
	for _, m := range r.Models() {
		t.Row(m.Name, m.Read, m.Created, m.Updated, m.Unchanged, m.Deleted, m.Published, m.Failed)
	}
	t.WriteTo(cw)
	failures := r.Failures()
	if len(failures) > 0 {
		fmt.Fprintf(cw, "\n%d failed:\n", len(failures))
		lines := 0
		for i, f := range failures {
			if maxLines > 0 && i > 0 && lines+1+len(f.More) > maxLines {
				fmt.Fprintf(cw, "  ... and %d more failed entries%s\n", len(failures)-i, more)
				break
			}
			lines += 1 + len(f.More)
			name := f.Model
			if f.SourceID != "" {
				name += " " + f.SourceID
			}
			if f.DestID != "" {
				name += " -> " + f.DestID
			}
			fmt.Fprintf(cw, "  %s: %s: %s\n", name, f.Op, f.Message)
			for _, x := range f.More {
				fmt.Fprintf(cw, "      and %s: %s\n", x.Op, x.Message)
			}
		}
	}
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		rounds := ""
		if r.Rounds > 1 {
			rounds = fmt.Sprintf(" in %d passes (the later ones repaired entries an earlier one left failed)", r.Rounds)
		}
		fmt.Fprintf(cw, "took %s%s\n", r.Finished.Sub(r.Started).Round(time.Millisecond), rounds)
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
