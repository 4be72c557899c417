package stagesync

// Phase names a step of a sync, in the order they run.
type Phase string

// The phases of a sync.
const (
	PhasePreflight Phase = "preflight"
	// PhasePlan is the pass that makes the whole plan before the first
	// write (see SyncConfig.Confirm): the first event, without a model,
	// starts it; then per model Done counts the entries planned, and
	// Total is set at the model's end.
	PhasePlan      Phase = "plan"
	PhaseRead      Phase = "read"      // destination read, then source pages planned and written
	PhaseWrite     Phase = "write"     // entries created and updated
	PhaseRelations Phase = "relations" // relations within cycles, second pass
	PhasePublish   Phase = "publish"   // publish state
	PhaseDraft     Phase = "draft"     // drafts written on top of published versions
	PhaseDelete    Phase = "delete"    // mirror deletions
	PhaseVerify    Phase = "verify"    // both stages read again and compared (SyncConfig.Verify)
	// PhaseRepair starts another pass over the phases above, for the
	// entries the last one left failed for a reason that may pass (see
	// SyncConfig.MaxRounds): Done is the pass (2, 3, ...), Total the
	// entries that failed. The events of the pass count from zero again.
	PhaseRepair Phase = "repair"
	PhaseDone   Phase = "done"
)

// Event reports progress to SyncConfig.Progress. The engine hands events
// to Progress one at a time, never concurrently, in the order they happen
// (Progress may block the run while it works). Events of different phases
// and models may interleave: the next model's destination is read while a
// model is written, and a model's entries are published while it is.
type Event struct {
	Phase Phase
	// Model is the model concerned, empty for run-wide events.
	Model string
	// Done counts the entries handled so far in this phase and model;
	// Total is their number when known, else 0.
	Done, Total int
	// Bytes counts the bytes of the files copied so far (PhaseAssets);
	// TotalBytes is the size of the files to copy, as far as known.
	Bytes, TotalBytes int64
}
