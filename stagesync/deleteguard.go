package stagesync

import (
	"fmt"
	"strings"
)

// Deletion is what a mirror run is about to delete of one model: the ids
// of destination entries whose source entry is gone.
type Deletion struct {
	Model   string
	DestIDs []string
}

// DeleteGuardError is returned by a mirror run that deleted nothing
// because its deletes were not safe to make: entries failed in the run
// (a delete may depend on them), more deletes than SyncConfig.MaxDelete
// allows, a model whose source read returned no entries at all (an empty
// or wrong source), or deletes not confirmed. Everything else the run
// does is done, and the entries are reported as orphaned, unless the plan
// made before the first write (see SyncConfig.Confirm) showed deletes
// beyond MaxDelete, the share or an empty source's: that is the sign of a
// wrong source, whose entries must not be written either, and the run
// stops before its first write (Stopped).
type DeleteGuardError struct {
	// Reason says why, and how to allow the deletes if they are meant.
	Reason string
	// Count is the number of deletes held back.
	Count int
	// Stopped is set when the run stopped before its first write:
	// nothing was written.
	Stopped bool

	failures bool // refused because entries failed
}

func (e *DeleteGuardError) Error() string {
	if e.Stopped {
		return fmt.Sprintf("stagesync: mirror: the plan deletes %d destination entries: %s. Nothing was written", e.Count, e.Reason)
	}
	return fmt.Sprintf("stagesync: mirror: %d destination entries not deleted: %s", e.Count, e.Reason)
}

func countDeletes(dels []Deletion) int {
	n := 0
	for _, d := range dels {
		n += len(d.DestIDs)
	}
	return n
}

// defaultDeleteShare is the share of the destination's entries (of the
// synced models) a mirror run deletes without SyncConfig.MaxDelete.
const defaultDeleteShare = 10 // percent

// deleteGuard decides whether a mirror run may make dels; nil allows.
func (e *engine) deleteGuard(dels []Deletion) *DeleteGuardError {
	n := countDeletes(dels)
	e.flushFailures() // failures held back to tell a systemic stop count too
	if fs := e.report.Failures(); len(fs) > 0 {
		return &DeleteGuardError{Count: n, failures: true, Reason: fmt.Sprintf(
			"%d entries failed in this run, and a delete must not run before what it depends on succeeded; fix the failures (see the report) and run again",
			len(fs))} // Failures lists each entry once
	}
	switch max := e.cfg.MaxDelete; {
	case max < 0, max == 0 && e.entries != nil: // the entries of a single-entry run are named
		return nil
	case max > 0:
		if n > max {
			return &DeleteGuardError{Count: n, Reason: fmt.Sprintf(
				"that is more than the %d allowed (MaxDelete, --max-delete); check that the source is the stage you mean, then allow them with --max-delete %d",
				max, n)}
		}
		return nil
	}
	var empty []string
	for _, d := range dels {
		if e.srcSize[d.Model] == 0 {
			empty = append(empty, fmt.Sprintf("%s (%d)", d.Model, e.destSize[d.Model]))
		}
	}
	if len(empty) > 0 {
		return &DeleteGuardError{Count: n, Reason: fmt.Sprintf(
			"the source has no entries of %s, so every destination entry of it would go; is the source empty or the wrong stage? If it is meant, allow it with --max-delete %d",
			strings.Join(empty, ", "), n)}
	}
	total := 0
	for _, size := range e.destSize {
		total += size
	}
	allowed := (total*defaultDeleteShare + 99) / 100
	if n > allowed {
		return &DeleteGuardError{Count: n, Reason: fmt.Sprintf(
			"that is more than %d%% of the destination's %d entries (%d); check that the source is the stage you mean, then allow them with --max-delete %d",
			defaultDeleteShare, total, allowed, n)}
	}
	return nil
}
