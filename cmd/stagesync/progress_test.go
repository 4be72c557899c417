package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/stagesync/stagesync/stagesync"
)

// progressEvents is a run of two models as the engine reports it: the
// destination read ahead, the entries written while published and their
// drafts written in batches, assets with bytes, relations last.
func progressEvents() []stagesync.Event {
	return []stagesync.Event{
		{Phase: stagesync.PhasePreflight},
		{Phase: stagesync.PhaseAssets, Model: "Asset"},
		{Phase: stagesync.PhaseAssets, Model: "Asset", Total: 4, TotalBytes: 4 << 20},
		{Phase: stagesync.PhaseAssets, Model: "Asset", Done: 2, Total: 4, Bytes: 1 << 20, TotalBytes: 4 << 20},
		{Phase: stagesync.PhaseAssets, Model: "Asset", Done: 4, Total: 4, Bytes: 4 << 20, TotalBytes: 4 << 20},
		{Phase: stagesync.PhaseRead, Model: "Hotel", Done: 50},
		{Phase: stagesync.PhaseRead, Model: "Review", Done: 50},
		{Phase: stagesync.PhaseRead, Model: "Hotel", Done: 70, Total: 70},
		{Phase: stagesync.PhaseWrite, Model: "Hotel", Done: 50},
		{Phase: stagesync.PhaseDraft, Model: "Hotel", Done: 3, Total: 3},
		{Phase: stagesync.PhasePublish, Model: "Hotel", Done: 20, Total: 20},
		{Phase: stagesync.PhaseDraft, Model: "Hotel", Done: 2, Total: 2},
		{Phase: stagesync.PhaseWrite, Model: "Hotel", Done: 100, Total: 100},
		{Phase: stagesync.PhaseRead, Model: "Review", Done: 80, Total: 80},
		{Phase: stagesync.PhaseWrite, Model: "Review", Done: 80, Total: 80},
		{Phase: stagesync.PhaseRelations, Model: "Hotel", Done: 100, Total: 100},
		{Phase: stagesync.PhaseDone},
	}
}

func TestProgressPrinterDryRun(t *testing.T) {
	var b strings.Builder
	p := progressPrinter(&b, true)
	for _, e := range progressEvents() {
		p(e)
	}
	out := b.String()
	for _, want := range []string{"read/plan Hotel\n", "read/plan Hotel 100/100\n", "assets/plan Asset 4/4\n", "plan/relations Hotel 100/100\n", "read      Review 80/80\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "write") {
		t.Errorf("a dry run prints write lines:\n%s", out)
	}
}

// TestBarProgress draws the bars into a buffer as on a terminal: one bar
// per phase and model, completed bars with their counts and 100%, the
// asset bytes; after stop, events are plain lines.
func TestBarProgress(t *testing.T) {
	var out lockedBuffer
	event, stop := newBarProgress(&out, false, mpb.WithAutoRefresh(), mpb.WithWidth(160))
	for _, e := range progressEvents() {
		event(e)
		time.Sleep(time.Millisecond) // let the bars draw in between
	}
	stop(true)
	event(stagesync.Event{Phase: stagesync.PhaseDelete, Model: "Hotel", Done: 2, Total: 2})
	s := out.String()
	for _, want := range []string{
		"preflight\n", "[======", "] 100/100 100%", "write       Hotel", "read        Hotel", "] 70/70 100%",
		"] 4/4 100% 4.0 MiB/4.0 MiB", "draft       Hotel", "] 5/5 100%", "publish     Hotel", "relations   Hotel",
		"delete    Hotel\ndelete    Hotel 2/2\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in\n%s", want, s)
		}
	}
	stop(true) // twice is harmless
}

// TestBarProgressInterrupted: bars of an interrupted run stop where they
// got, without 100%.
func TestBarProgressInterrupted(t *testing.T) {
	var out lockedBuffer
	event, stop := newBarProgress(&out, true, mpb.WithAutoRefresh(), mpb.WithWidth(160))
	event(stagesync.Event{Phase: stagesync.PhaseWrite, Model: "Hotel", Done: 50})
	stop(false)
	s := out.String()
	if !strings.Contains(s, "read/plan   Hotel") || !strings.Contains(s, "] 50") || strings.Contains(s, "100%") {
		t.Errorf("interrupted bars:\n%s", s)
	}
}

// TestProgressRepairPass: a repair pass (stagesync.PhaseRepair) is
// announced, and its counts, which start from zero again, are printed as
// a pass of their own: the plain printer prints its headers and counts
// again, and the bars start new rows.
func TestProgressRepairPass(t *testing.T) {
	pass := []stagesync.Event{
		{Phase: stagesync.PhaseRead, Model: "Hotel", Done: 70, Total: 70},
		{Phase: stagesync.PhaseWrite, Model: "Hotel", Done: 100, Total: 100},
	}
	events := append(slices.Clone(pass), stagesync.Event{Phase: stagesync.PhaseRepair, Done: 2, Total: 3})
	events = append(events, pass...)
	events = append(events, stagesync.Event{Phase: stagesync.PhaseDone})

	var b strings.Builder
	p := progressPrinter(&b, false)
	for _, e := range events {
		p(e)
	}
	out := b.String()
	if !strings.Contains(out, "repair    pass 2, for the 3 entries") {
		t.Errorf("no repair line in\n%s", out)
	}
	if n := strings.Count(out, "write     Hotel 100/100\n"); n != 2 {
		t.Errorf("%d lines of the write counts, want one per pass:\n%s", n, out)
	}

	var bars lockedBuffer
	event, stop := newBarProgress(&bars, false, mpb.WithAutoRefresh(), mpb.WithWidth(160))
	for _, e := range events {
		event(e)
	}
	stop(true)
	drawn := bars.String()
	if !strings.Contains(drawn, "repair    pass 2") {
		t.Errorf("no repair line in the bars:\n%s", drawn)
	}
	if n := strings.Count(drawn, "100/100"); n < 2 {
		t.Errorf("the write bar of the second pass is not drawn (%d completed write bars):\n%s", n, drawn)
	}
}
