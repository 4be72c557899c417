package listen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/stagesync/stagesync/stagesync"
)

// Job kinds.
const (
	KindSyncEntry = "sync-entry"
	KindDeltaSync = "delta-sync"
)

// pendingStates are the states a job is pending in: a sync-entry job of
// an entry in one of them absorbs the later events of that entry.
// (River requires available, pending, running and scheduled; retryable is
// added, completed left out so that a new event after a run runs again.)
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}

// SyncEntryArgs are the arguments of a sync-entry job: one entry of the
// source to bring to the destination, named by a webhook.
type SyncEntryArgs struct {
	Model string `json:"model" river:"unique"`
	ID    string `json:"id" river:"unique"`
	// After, when set, is the id of a job of the same entry that was
	// running when this one was enqueued: this one runs the entry again
	// after it, on the newest state (a running job may have read the
	// entry before the change this one was enqueued for).
	After int64 `json:"after,omitempty" river:"unique"`
	// Delete is set for a delete event: the job's run may mirror-delete
	// the entry (SyncConfig.Deleted) when the source no longer has it. It
	// is part of the job's unique key, so that a delete event is never
	// absorbed by a pending job of another event, whose run would keep
	// the destination's copy.
	Delete    bool   `json:"delete,omitempty" river:"unique"`
	Operation string `json:"operation"`
	Stage     string `json:"stage,omitempty"`
	// Received is when the first event this job stands for arrived.
	Received time.Time `json:"received"`
}

// Kind is the job kind, "sync-entry".
func (SyncEntryArgs) Kind() string { return KindSyncEntry }

// InsertOpts makes the job unique per entry while pending (see
// pendingStates): a burst of events for one entry is one job.
func (SyncEntryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

// DeltaSyncArgs are the arguments of the periodic delta-sync job.
type DeltaSyncArgs struct{}

// Kind is the job kind, "delta-sync".
func (DeltaSyncArgs) Kind() string { return KindDeltaSync }

// InsertOpts keeps one delta sync pending at a time.
func (DeltaSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type syncEntryWorker struct {
	river.WorkerDefaults[SyncEntryArgs]
	l *Listener
}

// batchSize bounds the entries of the jobs waiting behind a sync-entry
// job that its run takes along (see Work).
const batchSize = 50

// Work syncs the job's entry. The entries of other sync-entry jobs waiting
// in the queue go along in the same run, so that their writes are batched;
// their jobs still run (and find little to do), since an event may reach
// them after this run read their entry. When such a run fails, the job's
// entry is synced again alone, so that another entry never fails it.
func (w *syncEntryWorker) Work(ctx context.Context, job *river.Job[SyncEntryArgs]) error {
	what := fmt.Sprintf("%s %s", job.Args.Model, job.Args.ID)
	cfg := w.l.cfg.Sync
	if entries, deleted, n := w.l.batch(ctx, job); n > 1 {
		cfg.Entries, cfg.Deleted = entries, deleted
		if w.l.run(ctx, cfg, fmt.Sprintf("%s and %d waiting", what, n-1)) == nil {
			return nil
		}
	}
	cfg.Entries, cfg.Deleted = map[string][]string{job.Args.Model: {job.Args.ID}}, nil
	if job.Args.Delete {
		cfg.Deleted = cfg.Entries
	}
	return w.l.run(ctx, cfg, what)
}

// batch returns the job's entry and those of up to batchSize sync-entry
// jobs available behind it, the entries of delete events among them (see
// SyncEntryArgs.Delete), and their number.
func (l *Listener) batch(ctx context.Context, job *river.Job[SyncEntryArgs]) (entries, deleted map[string][]string, n int) {
	entries, deleted = map[string][]string{}, map[string][]string{}
	add := func(args SyncEntryArgs) {
		if !slices.Contains(entries[args.Model], args.ID) {
			entries[args.Model] = append(entries[args.Model], args.ID)
			n++
		}
		if args.Delete && !slices.Contains(deleted[args.Model], args.ID) {
			deleted[args.Model] = append(deleted[args.Model], args.ID)
		}
	}
	add(job.Args)
	res, err := l.q.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateAvailable).Kinds(KindSyncEntry).First(batchSize))
	if err != nil {
		return entries, deleted, n
	}
	for _, row := range res.Jobs {
		var args SyncEntryArgs
		if json.Unmarshal(row.EncodedArgs, &args) != nil || !l.models[args.Model] {
			continue
		}
		add(args)
	}
	return entries, deleted, n
}

type deltaSyncWorker struct {
	river.WorkerDefaults[DeltaSyncArgs]
	l *Listener
}

func (w *deltaSyncWorker) Work(ctx context.Context, job *river.Job[DeltaSyncArgs]) error {
	cfg := w.l.cfg.Sync
	cfg.Delta = true
	return w.l.run(ctx, cfg, "delta sync")
}

// run runs one sync, one at a time; entries that failed make it fail, so
// that River tries it again.
func (l *Listener) run(ctx context.Context, cfg stagesync.SyncConfig, what string) error {
	l.runMu.Lock()
	defer l.runMu.Unlock()
	report, plan, err := stagesync.Sync(ctx, cfg)
	for wait := 10 * time.Millisecond; errors.Is(err, stagesync.ErrStateInUse); wait = min(2*wait, time.Second) {
		// Another listener's run holds the shared state: take turns.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		report, plan, err = stagesync.Sync(ctx, cfg)
	}
	if err != nil {
		l.log.Warn("sync failed", "job", what, "err", err)
		return err
	}
	if fs := report.Failures(); len(fs) > 0 {
		msgs := make([]string, 0, len(fs))
		for _, f := range fs {
			msgs = append(msgs, fmt.Sprintf("%s %s: %s: %s", f.Model, f.SourceID, f.Op, f.Message))
		}
		err := errors.New(strings.Join(msgs, "; "))
		l.log.Warn("sync failed", "job", what, "err", err)
		return err
	}
	if cfg.Entries != nil {
		if err := l.resyncReferrers(ctx, plan); err != nil {
			return err
		}
	}
	// An entry pointing at a target left out was written without it: it
	// is synced again, alone, which pulls the target in.
	for _, c := range report.CutTargets() {
		l.log.Info("relation target beyond the relation depth: syncing the entry pointing at it again", "job", what, "target", c.Model+" "+c.SourceID, "entry", c.FromModel+" "+c.FromID)
		if _, _, err := l.Enqueue(ctx, Event{Operation: "update", Model: c.FromModel, ID: c.FromID}, time.Now()); err != nil {
			return fmt.Errorf("enqueue %s %s: %w", c.FromModel, c.FromID, err)
		}
	}
	return nil
}

// Event is a webhook's event, as the listener reads it.
type Event struct {
	Operation string
	Model     string // data.__typename
	ID        string // data.id
	Stage     string // data.stage
}

// Enqueue inserts the sync-entry job of ev, or finds the pending one that
// absorbs it. It returns the job's id and whether it was already pending.
func (l *Listener) Enqueue(ctx context.Context, ev Event, received time.Time) (int64, bool, error) {
	args := SyncEntryArgs{Model: ev.Model, ID: ev.ID, Delete: ev.Operation == "delete", Operation: ev.Operation, Stage: ev.Stage, Received: received}
	res, err := l.q.Insert(ctx, args, nil)
	if err != nil {
		return 0, false, err
	}
	if !res.UniqueSkippedAsDuplicate || res.Job.State != rivertype.JobStateRunning {
		return res.Job.ID, res.UniqueSkippedAsDuplicate, nil
	}
	// The entry's job is running and may have read it before this change:
	// a follow-up job runs it again (one per running job).
	args.After = res.Job.ID
	res, err = l.q.Insert(ctx, args, nil)
	if err != nil {
		return 0, false, err
	}
	return res.Job.ID, res.UniqueSkippedAsDuplicate, nil
}

// received returns when the first event of a sync-entry job arrived.
func received(job *rivertype.JobRow) (time.Time, bool) {
	if job == nil || job.Kind != KindSyncEntry {
		return time.Time{}, false
	}
	var args SyncEntryArgs
	if err := json.Unmarshal(job.EncodedArgs, &args); err != nil || args.Received.IsZero() {
		return time.Time{}, false
	}
	return args.Received, true
}
