package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/stagesync/stagesync/stagesync"
)

// The progress of a sync or plan goes to standard error in one of two
// forms: progress bars (github.com/vbauerster/mpb/v8, which draws several
// bars at once, as the phases of different models interleave) when it is a
// terminal, and plain lines (progressPrinter) when it is not, or when CI is
// set, or TERM is dumb.

// phaseLabel names a phase in the progress output. A dry run writes
// nothing: the phase in which a real run reads, plans and writes the
// source's entries reads and plans them ("read/plan"), and the phases
// after it would only be planned.
func phaseLabel(p stagesync.Phase, dryRun bool) string {
	if !dryRun {
		return string(p)
	}
	switch p {
	case stagesync.PhaseWrite:
		return "read/plan"
	case stagesync.PhaseRelations, stagesync.PhasePublish, stagesync.PhaseDraft, stagesync.PhaseDelete:
		return "plan/" + string(p)
	case stagesync.PhaseAssets:
		return "assets/plan"
	}
	return string(p)
}

// repairLine announces another pass of the run (stagesync.PhaseRepair).
func repairLine(e stagesync.Event) string {
	return fmt.Sprintf("repair    pass %d, for the %d entries the last pass left failed in a way that may pass (a lost answer, a 5xx, a cut connection)", e.Done, e.Total)
}

// progressBars reports whether the progress on w is drawn as bars: w is a
// terminal, and neither CI is set nor TERM is dumb.
func progressBars(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("CI") == "" && os.Getenv("TERM") != "dumb"
}

// progressPrinter prints one line per phase and model, and the counts as they
// grow, without flooding: a line every 10% or at the end of a phase. The
// engine hands it one event at a time, but the phases of different models
// interleave (the next model's destination is read while one is written,
// published entries are published while their model is written): it keeps
// what it printed per phase and model.
func progressPrinter(w io.Writer, dryRun bool) func(stagesync.Event) {
	last := map[string]stagesync.Event{} // per phase and model
	return func(e stagesync.Event) {
		if e.Phase == stagesync.PhaseRepair {
			fmt.Fprintln(w, repairLine(e))
			clear(last) // the pass counts from zero again
			return
		}
		label := phaseLabel(e.Phase, dryRun)
		key := string(e.Phase) + "/" + e.Model
		prev, seen := last[key]
		if !seen {
			if e.Model != "" {
				fmt.Fprintf(w, "%-9s %s\n", label, e.Model)
			} else if e.Phase != stagesync.PhaseDone {
				fmt.Fprintf(w, "%s\n", label)
			}
		}
		if e.Total > 0 && (e.Done == e.Total && (prev.Done != e.Done || prev.Total != e.Total) ||
			e.Done*10/e.Total > prev.Done*10/max(prev.Total, 1)) {
			fmt.Fprintf(w, "%-9s %s %d/%d\n", label, e.Model, e.Done, e.Total)
		}
		last[key] = e
	}
}

// barProgress draws a bar per phase and model on a terminal: the count
// (done/total once the total is known), the rate, the ETA when the total
// is known, and the bytes of the assets. Completed bars stay above the
// running ones. Events come one at a time from the engine; the bars are
// drawn by mpb's own goroutine, which reads each row under its lock.
type barProgress struct {
	mu      sync.Mutex
	w       io.Writer
	dryRun  bool
	opts    []mpb.ContainerOption
	p       *mpb.Progress // made at the first bar
	rows    map[string]*barRow
	written map[string]bool // models whose write phase ended
	stopped bool
	plain   func(stagesync.Event) // after stop
	now     func() time.Time
}

// barRow is one bar: a phase of a model.
type barRow struct {
	bar   *mpb.Bar
	phase stagesync.Phase
	model string

	mu                sync.Mutex // the drawing goroutine reads what follows
	start, end        time.Time
	done, total       int
	bytes, totalBytes int64
	finished          bool
	events            int // events seen (the event goroutine's alone)
}

// newBarProgress returns the progress sink drawing bars on w, and stop,
// which ends the bars (completed when ok, else left where they got) and
// waits until they are drawn. Events after stop are printed as plain lines
// (stop comes before a question on the terminal, say).
func newBarProgress(w io.Writer, dryRun bool, opts ...mpb.ContainerOption) (event func(stagesync.Event), stop func(ok bool)) {
	b := &barProgress{w: w, dryRun: dryRun, rows: map[string]*barRow{}, written: map[string]bool{},
		plain: progressPrinter(w, dryRun), now: time.Now}
	b.opts = append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(120 * time.Millisecond), mpb.PopCompletedMode()}, opts...)
	return b.event, b.stop
}

func (b *barProgress) event(e stagesync.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		b.plain(e)
		return
	}
	if e.Phase == stagesync.PhaseRepair {
		// The pass counts from zero again, in bars of its own.
		for _, r := range b.rows {
			b.finish(r, true)
		}
		clear(b.written)
		b.line(repairLine(e) + "\n")
		return
	}
	if e.Model == "" {
		if e.Phase != stagesync.PhaseDone {
			b.line(phaseLabel(e.Phase, b.dryRun) + "\n")
		}
		return
	}
	switch e.Phase {
	case stagesync.PhasePlan, stagesync.PhaseWrite, stagesync.PhaseVerify:
		// Models are planned, written and verified one after the other (the
		// destination is read ahead, two models at a time): a model's
		// first event of one of these phases ends the others'.
		for _, r := range b.rows {
			if r.phase == e.Phase && r.model != e.Model {
				b.finish(r, true)
			}
		}
	}
	if e.Phase == stagesync.PhaseWrite {
		// A model is written once its destination is read.
		if r := b.rows[rowKey(stagesync.PhaseRead, e.Model)]; r != nil {
			b.finish(r, true)
		}
	}
	key := rowKey(e.Phase, e.Model)
	r := b.rows[key]
	if r == nil || r.finished {
		r = b.add(e.Phase, e.Model)
		b.rows[key] = r
	}
	if e.Phase == stagesync.PhaseDraft && r.events > 0 {
		// Drafts are counted batch by batch.
		r.mu.Lock()
		e.Done, e.Total = e.Done+r.done, e.Total+r.total
		r.mu.Unlock()
	}
	if b.dryRun && e.Phase == stagesync.PhaseAssets && e.Total > 0 {
		// A dry run plans the assets it read: nothing more comes.
		e.Done, e.Bytes = e.Total, e.TotalBytes
	}
	r.update(e, b.now())
	complete := false
	switch e.Phase {
	case stagesync.PhasePlan, stagesync.PhaseRead, stagesync.PhaseVerify:
		complete = e.Total > 0 && e.Done >= e.Total
	case stagesync.PhaseWrite:
		complete = e.Total > 0 && e.Done >= e.Total
		if complete {
			b.written[e.Model] = true
			// The model's publisher ended before its last write event.
			for _, p := range []stagesync.Phase{stagesync.PhasePublish, stagesync.PhaseDraft} {
				if r := b.rows[rowKey(p, e.Model)]; r != nil {
					b.finish(r, true)
				}
			}
		}
	case stagesync.PhaseAssets:
		// The assets are counted as they are written, their total given
		// with the last event (none: no assets read).
		complete = e.Total > 0 && e.Done >= e.Total || e.Total == 0 && e.Done == 0 && r.events > 1
	case stagesync.PhasePublish, stagesync.PhaseDraft:
		// Published while the model is written, the counts grow batch
		// by batch; after that, one event per model.
		complete = b.written[e.Model] && e.Done >= e.Total
	default: // relations, draft, delete: one event when the model's phase ended
		complete = e.Done >= e.Total
	}
	if complete {
		b.finish(r, true)
	}
}

func rowKey(p stagesync.Phase, model string) string { return string(p) + "/" + model }

// line prints a line above the bars.
func (b *barProgress) line(s string) {
	if b.p == nil {
		io.WriteString(b.w, s)
		return
	}
	b.p.Write([]byte(s))
}

// add starts a bar.
func (b *barProgress) add(phase stagesync.Phase, model string) *barRow {
	if b.p == nil {
		b.p = mpb.New(b.opts...)
	}
	r := &barRow{phase: phase, model: model, start: b.now()}
	label := fmt.Sprintf("%-11s %-14s", phaseLabel(phase, b.dryRun), model)
	r.bar = b.p.New(0, mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding(" ").Rbound("]"),
		mpb.PrependDecorators(decor.Name(label)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return r.status(b.now()) })),
	)
	return r
}

// finish ends a bar: completed, or aborted where it got.
func (b *barProgress) finish(r *barRow, ok bool) {
	if r.finished {
		return
	}
	r.mu.Lock()
	r.finished, r.end = true, b.now()
	if ok && r.total < r.done {
		r.total = r.done
	}
	r.mu.Unlock()
	if ok {
		r.bar.SetTotal(-1, true)
	} else {
		r.bar.Abort(false)
	}
}

// stop ends the bars and waits until they are drawn.
func (b *barProgress) stop(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return
	}
	b.stopped = true
	if b.p == nil {
		return
	}
	for _, r := range b.rows {
		b.finish(r, ok)
	}
	b.p.Wait()
}

// update takes the counts of an event and moves the bar: by bytes when
// the event has them (assets), else by entries.
func (r *barRow) update(e stagesync.Event, now time.Time) {
	r.events++
	r.mu.Lock()
	r.done, r.total = e.Done, max(e.Total, e.Done)
	if e.Total == 0 {
		r.total = 0 // not known yet
	}
	r.bytes, r.totalBytes = e.Bytes, e.TotalBytes
	r.end = now
	cur, total := int64(r.done), int64(r.total)
	if r.totalBytes > 0 {
		cur, total = r.bytes, r.totalBytes
	}
	r.mu.Unlock()
	if total > 0 {
		r.bar.SetTotal(total, false)
	}
	r.bar.SetCurrent(cur)
}

// status is the text after the bar: count, percentage, bytes, rate, ETA.
func (r *barRow) status(now time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s strings.Builder
	if r.total > 0 {
		fmt.Fprintf(&s, "%d/%d %3d%%", r.done, r.total, percent(int64(r.done), int64(r.total)))
	} else {
		fmt.Fprintf(&s, "%d", r.done)
	}
	if r.totalBytes > 0 {
		fmt.Fprintf(&s, " % .1f/% .1f", decor.SizeB1024(r.bytes), decor.SizeB1024(r.totalBytes))
	}
	end := now
	if r.finished {
		end = r.end
	}
	elapsed := end.Sub(r.start)
	if elapsed >= 200*time.Millisecond && r.done > 0 { // a rate over less is noise
		fmt.Fprintf(&s, " %.1f/s", float64(r.done)/elapsed.Seconds())
		if r.bytes > 0 {
			fmt.Fprintf(&s, " % .1f/s", decor.SizeB1024(int64(float64(r.bytes)/elapsed.Seconds())))
		}
	}
	switch {
	case r.finished:
		fmt.Fprintf(&s, " in %s", elapsed.Round(100*time.Millisecond))
	case r.total > 0 && r.done > 0 && r.done < r.total && elapsed >= 500*time.Millisecond:
		left := time.Duration(float64(elapsed) * float64(r.total-r.done) / float64(r.done))
		if r.totalBytes > 0 && r.bytes > 0 {
			left = time.Duration(float64(elapsed) * float64(r.totalBytes-r.bytes) / float64(r.bytes))
		}
		fmt.Fprintf(&s, " ETA %s", left.Round(time.Second))
	}
	return s.String()
}

func percent(done, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(100, done*100/total)
}
