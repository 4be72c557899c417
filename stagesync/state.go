package stagesync

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/stagesync/stagesync/internal/atomicfile"
	"io/fs"
	"os"
	"sort"
	"sync"
	"time"
)

// stateVersion is the format version written into state files.
const stateVersion = 1

// State is what a sync remembers between runs: the identity map, per-model
// high-water marks for delta sync, and the creates in flight (see
// SetPending) so that a killed run resumes without duplicating them. It is
// safe for concurrent use.
//
// A State is saved with Save, which writes a temporary file, syncs it and
// renames it over the old one, so a crash leaves either the old or the new
// state on disk, never a torn one.
type State struct {
	mu        sync.Mutex
	ids       map[string]map[string]string // model -> source id -> destination id
	highWater map[string]time.Time         // model -> max source updatedAt fully synced
	pending   map[string]map[string]string // model -> source id -> createdAt of a create in flight
	source    string
	dest      string
}

// NewState returns an empty state for a sync from source to dest (endpoint
// URLs or any names that identify the stages; they guard against resuming a
// state file against the wrong stages).
func NewState(source, dest string) *State {
	return &State{
		ids:       map[string]map[string]string{},
		highWater: map[string]time.Time{},
		pending:   map[string]map[string]string{},
		source:    source,
		dest:      dest,
	}
}

// stateFile is the JSON form of State.
type stateFile struct {
	Version   int                          `json:"version"`
	Source    string                       `json:"source"`
	Dest      string                       `json:"dest"`
	IDs       map[string]map[string]string `json:"ids"`
	HighWater map[string]time.Time         `json:"highWater,omitempty"`
	Pending   map[string]map[string]string `json:"pending,omitempty"`
}

// LoadState reads a state file. A missing file is not an error: it returns
// an empty state for source and dest. A file written for other stages is an
// error, so a state is never applied to the wrong destination.
func LoadState(path, source, dest string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NewState(source, dest), nil
	}
	if err != nil {
		return nil, fmt.Errorf("stagesync: read state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("stagesync: state file %s is not valid JSON: %w", path, err)
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("stagesync: state file %s has version %d, want %d", path, f.Version, stateVersion)
	}
	if (source != "" && f.Source != source) || (dest != "" && f.Dest != dest) {
		return nil, fmt.Errorf("stagesync: state file %s belongs to a sync from %q to %q, not from %q to %q",
			path, f.Source, f.Dest, source, dest)
	}
	s := NewState(f.Source, f.Dest)
	for m, ids := range f.IDs {
		s.ids[m] = ids
	}
	for m, t := range f.HighWater {
		s.highWater[m] = t
	}
	for m, p := range f.Pending {
		s.pending[m] = p
	}
	return s, nil
}

// Save writes the state to path atomically (temporary file, fsync, rename,
// fsync of the directory).
func (s *State) Save(path string) error {
	s.mu.Lock()
	b, err := json.MarshalIndent(stateFile{
		Version:   stateVersion,
		Source:    s.source,
		Dest:      s.dest,
		IDs:       s.ids,
		HighWater: s.highWater,
		Pending:   s.pending,
	}, "", " ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("stagesync: encode state: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("stagesync: save state %s: %w", path, err)
	}
	return nil
}

// DestID returns the destination id mapped to a source id of model.
func (s *State) DestID(model, sourceID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.ids[model][sourceID]
	return id, ok
}

// SetDestID records that the source entry sourceID of model is destID in the
// destination.
func (s *State) SetDestID(model, sourceID, destID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ids[model]
	if m == nil {
		m = map[string]string{}
		s.ids[model] = m
	}
	m[sourceID] = destID
}

// ForgetID removes a mapping, e.g. after the destination entry was deleted.
func (s *State) ForgetID(model, sourceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids[model], sourceID)
}

// IDs returns a copy of the identity map of model, source id → destination id.
func (s *State) IDs(model string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.ids[model]))
	for k, v := range s.ids[model] {
		out[k] = v
	}
	return out
}

// Models returns the models that have identity-map entries, sorted.
func (s *State) Models() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.ids))
	for m := range s.ids {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// HighWater returns the updatedAt up to which model was fully synced; the
// zero time when it never was.
func (s *State) HighWater(model string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.highWater[model]
}

// SetHighWater records that every source entry of model updated at or before
// t has been synced. It never moves the mark backwards.
func (s *State) SetHighWater(model string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.After(s.highWater[model]) {
		s.highWater[model] = t.UTC()
	}
}

// SetPending records that an entry of model is being created in the
// destination for the source entry sourceID, with the creation time
// createdAt (as sent in the create input). A create whose response never
// arrives (the run was killed or cancelled, the connection dropped) may
// still have happened; the next run adopts the destination entry with that
// creation time instead of creating a duplicate.
func (s *State) SetPending(model, sourceID, createdAt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[model] == nil {
		s.pending[model] = map[string]string{}
	}
	s.pending[model][sourceID] = createdAt
}

// Pending returns the creation time recorded by SetPending for a create in
// flight.
func (s *State) Pending(model, sourceID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.pending[model][sourceID]
	return c, ok
}

// ClearPending forgets a create in flight: it is known to have happened
// (and its id is mapped) or known not to have.
func (s *State) ClearPending(model, sourceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending[model], sourceID)
	if len(s.pending[model]) == 0 {
		delete(s.pending, model)
	}
}
