package stagesync

import (
	"encoding/json"
	"io"
	"sync"
)

// Op is what a sync does (or would do) to one entry.
type Op string

// The entry operations of a plan.
const (
	OpCreate    Op = "create"
	OpUpdate    Op = "update"
	OpUnchanged Op = "unchanged"
	OpDelete    Op = "delete"
	// OpOrphan is a destination entry whose source entry is gone, left in
	// place because mirror mode is off.
	OpOrphan Op = "orphan"
	// OpSkip is an entry a transform dropped.
	OpSkip Op = "skip"
	// OpFail is an entry that is not written because it fails before
	// any write, e.g. a relation target in a model left out of the sync
	// that does not resolve; Reason says why, and the report lists it.
	OpFail Op = "fail"
)

// Plan is the changeset of a sync: per model the entries to create,
// update, delete or publish, with the fields that change. A dry run
// returns it without writing; a real run returns what it did. Unchanged
// entries are counted, not listed. It is safe for concurrent use while a
// sync runs; read it after the sync returns.
type Plan struct {
	mu     sync.Mutex
	models []*ModelPlan
	byName map[string]*ModelPlan
	limit  int
}

// ModelPlan is the changeset of one model.
type ModelPlan struct {
	Name      string `json:"name"`
	Create    int    `json:"create"`
	Update    int    `json:"update"`
	Unchanged int    `json:"unchanged"`
	Delete    int    `json:"delete"`
	Orphaned  int    `json:"orphaned"`
	Skipped   int    `json:"skipped"`
	Failed    int    `json:"failed"`
	Publish   int    `json:"publish"`
	Unpublish int    `json:"unpublish"`
	// PublishedDiffers counts the entries whose source's published version
	// differs from its draft.
	PublishedDiffers int `json:"publishedDiffers"`
	// Entries lists the entries that are not unchanged, up to the plan's
	// limit (see SyncConfig.PlanLimit).
	Entries []EntryPlan `json:"entries"`
	// Omitted counts the entries over the limit, counted but not listed.
	Omitted int `json:"omitted,omitempty"`
}

// EntryPlan is what happens to one entry.
type EntryPlan struct {
	SourceID string `json:"sourceId,omitempty"`
	DestID   string `json:"destId,omitempty"`
	Op       Op     `json:"op"`
	// Changed names the fields written: "field" or, for a localized field
	// in another locale, "field@locale".
	Changed []string `json:"changed,omitempty"`
	// Publish is "publish" or "unpublish" when the entry's publish state
	// changes, or its published version is rewritten.
	Publish string `json:"publish,omitempty"`
	// PublishedDiffers is set when the source's published version differs
	// from its draft, so the published version is written first.
	PublishedDiffers bool `json:"publishedDiffers,omitempty"`
	// Reason says why an entry fails (OpFail).
	Reason string `json:"reason,omitempty"`
}

// newPlan returns an empty plan that lists at most limit entries per
// model (all when limit is negative).
func newPlan(limit int) *Plan { return &Plan{byName: map[string]*ModelPlan{}, limit: limit} }

// model returns the plan of name, creating it; p.mu must be held.
func (p *Plan) model(name string) *ModelPlan {
	m := p.byName[name]
	if m == nil {
		m = &ModelPlan{Name: name, Entries: []EntryPlan{}}
		p.byName[name] = m
		p.models = append(p.models, m)
	}
	return m
}

// add records one entry's plan.
func (p *Plan) add(model string, e EntryPlan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.model(model)
	switch e.Op {
	case OpCreate:
		m.Create++
	case OpUpdate:
		m.Update++
	case OpUnchanged:
		m.Unchanged++
	case OpDelete:
		m.Delete++
	case OpOrphan:
		m.Orphaned++
	case OpSkip:
		m.Skipped++
	case OpFail:
		m.Failed++
	}
	switch e.Publish {
	case "publish":
		m.Publish++
	case "unpublish":
		m.Unpublish++
	}
	if e.PublishedDiffers {
		m.PublishedDiffers++
	}
	if e.Op != OpUnchanged || e.Publish != "" {
		if p.limit >= 0 && len(m.Entries) >= p.limit {
			m.Omitted++
			return
		}
		m.Entries = append(m.Entries, e)
	}
}

// Models returns a copy of the per-model plans in write order.
func (p *Plan) Models() []ModelPlan {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ModelPlan, len(p.models))
	for i, m := range p.models {
		out[i] = *m
		out[i].Entries = append([]EntryPlan{}, m.Entries...)
	}
	return out
}

// Model returns the plan of one model (zero counts when it has none).
func (p *Plan) Model(name string) ModelPlan {
	for _, m := range p.Models() {
		if m.Name == name {
			return m
		}
	}
	return ModelPlan{Name: name}
}

// Writes reports whether the plan writes anything.
func (p *Plan) Writes() bool {
	for _, m := range p.Models() {
		if m.Create+m.Update+m.Delete+m.Publish+m.Unpublish > 0 {
			return true
		}
	}
	return false
}

// MarshalJSON writes {"models":[...]}.
func (p *Plan) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Models []ModelPlan `json:"models"`
	}{p.Models()})
}

// WriteJSON writes the plan as indented JSON.
func (p *Plan) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
