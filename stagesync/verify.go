package stagesync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stagesync/stagesync/internal/texttable"
)

// defaultVerifyDiffs is the number of differences a verify lists when
// VerifyConfig.MaxDiffs is 0; all are counted.
const defaultVerifyDiffs = 100

// The stages a verify compares.
const (
	StageDraft     = "DRAFT"
	StagePublished = "PUBLISHED"
)

// VerifyConfig says what Verify compares and what it expects to differ.
type VerifyConfig struct {
	CompareConfig
	// Failed are the entries that failed in the sync being verified: that
	// they differ is expected, not a verify failure.
	Failed []Failure
	// Orphans expects destination entries the source lacks (a sync
	// without Mirror, or whose deletes the delete guard held back, leaves
	// them in place).
	Orphans bool
	// MaxDiffs bounds the differences listed (0: 100;
	// negative: all); every difference is counted.
	MaxDiffs int
	// Progress, when set, receives a PhaseVerify event per model.
	Progress func(Event)
}

// VerifyResult is what a verify found: per model, locale and stage the
// entries of each side and those that differ, and the differences
// themselves (the first MaxDiffs).
type VerifyResult struct {
	Rows []VerifyRow `json:"rows"`
	// Diffs are the differences listed, in model order, then by source id.
	Diffs []VerifyDiff `json:"differences"`
	// More counts the differences left out of Diffs.
	More int `json:"more,omitempty"`
	// Unexpected and Expected count the entries that differ, each once.
	Unexpected int `json:"unexpected"`
	Expected   int `json:"expected"`
}

// VerifyRow counts the entries of one model in one locale and stage.
type VerifyRow struct {
	Model  string `json:"model"`
	Locale string `json:"locale"`
	Stage  string `json:"stage"`
	// Source and Dest count the entries each side has in this locale and
	// stage (an entry is in a non-default locale when it has a
	// localization for it).
	Source int `json:"source"`
	Dest   int `json:"dest"`
	// Differ counts the entries that differ here unexpectedly; Expected
	// those that differ and failed in the run (or are orphans kept).
	Differ   int `json:"differ"`
	Expected int `json:"expected"`
}

// VerifyDiff is a difference found by a verify.
type VerifyDiff struct {
	Difference
	// Stage is DRAFT or PUBLISHED; Locale the locale of the field, or ""
	// for a whole entry missing or extra, or its publish state.
	Stage  string `json:"stage"`
	Locale string `json:"locale,omitempty"`
	// Expected says why the difference is expected ("" when it is not):
	// the entry failed in the run, or is an orphan kept.
	Expected string `json:"expected,omitempty"`
}

// OK reports whether no entry differs unexpectedly.
func (r *VerifyResult) OK() bool { return r.Unexpected == 0 }

// VerifyError is returned when a verify finds entries that differ
// unexpectedly; Result has them.
type VerifyError struct {
	Result *VerifyResult
}

func (e *VerifyError) Error() string {
	msg := fmt.Sprintf("stagesync: verify: %d entries differ from the source", e.Result.Unexpected)
	for _, d := range e.Result.Diffs {
		if d.Expected == "" {
			return msg + " (first: " + d.String() + ")"
		}
	}
	return msg
}

// Verify compares the destination with the source as Compare does, model
// by model (see Compare for what it holds in memory), and counts per
// model, locale and stage the entries of each side and those that differ.
// Differences of the entries that failed in the run (cfg.Failed) are
// expected, as are orphans with cfg.Orphans. It returns a *VerifyError,
// with the result, when an entry differs unexpectedly; other errors are
// failed reads.
func Verify(ctx context.Context, cfg VerifyConfig) (*VerifyResult, error) {
	c, err := newComparer(ctx, cfg.CompareConfig)
	if err != nil {
		return nil, err
	}
	return c.verify(ctx, cfg)
}

// verify runs Verify with a comparer.
func (c *comparer) verify(ctx context.Context, cfg VerifyConfig) (*VerifyResult, error) {
	limit := cfg.MaxDiffs
	if limit == 0 {
		limit = defaultVerifyDiffs
	}
	failed := map[string]string{} // "s:"+model+id or "d:"+model+id → reason
	for _, f := range cfg.Failed {
		reason := "failed in the run (" + f.Op + ")"
		if f.SourceID != "" {
			failed["s:"+f.Model+"\x00"+f.SourceID] = reason
		}
		if f.DestID != "" {
			failed["d:"+f.Model+"\x00"+f.DestID] = reason
		}
	}
	c.failed = func(model, id string) bool {
		_, ok := failed["s:"+model+"\x00"+id]
		return ok
	}
	def := ""
	if len(c.dst.Locales) > 0 {
		def = c.dst.Locales[0]
	}
	res := &VerifyResult{}
	for _, model := range c.models {
		if cfg.Progress != nil {
			cfg.Progress(Event{Phase: PhaseVerify, Model: model})
		}
		locales := []string{def}
		if dm := c.dst.Model(model); dm != nil && len(localizedFields(dm)) > 0 && len(c.dst.Locales) > 1 {
			locales = c.dst.Locales
		}
		rows := map[[2]string]*VerifyRow{}
		for _, stage := range []string{StageDraft, StagePublished} {
			for _, l := range locales {
				r := &VerifyRow{Model: model, Locale: l, Stage: stage}
				rows[[2]string{l, stage}] = r
				res.Rows = append(res.Rows, *r) // filled in below
			}
		}
		first := len(res.Rows) - len(rows)
		expected := map[string]string{} // entry key → reason, of this model's differing entries
		n := 0
		tally := func(er entryResult) {
			n++
			present := func(e *destEntry) map[[2]string]bool {
				out := map[[2]string]bool{}
				if e == nil {
					return out
				}
				for stage, h := range map[string]fieldHashes{StageDraft: e.draft, StagePublished: e.pub} {
					if h == nil {
						continue
					}
					out[[2]string{def, stage}] = true
					for k := range h {
						if _, l, ok := strings.Cut(k, "@"); ok {
							out[[2]string{l, stage}] = true
						}
					}
				}
				return out
			}
			sp, dp := present(er.src), present(er.dst)
			for k := range sp {
				if r := rows[k]; r != nil {
					r.Source++
				}
			}
			for k := range dp {
				if r := rows[k]; r != nil {
					r.Dest++
				}
			}
			if len(er.fields) == 0 {
				return
			}
			reason := ""
			if er.sourceID != "" {
				reason = failed["s:"+model+"\x00"+er.sourceID]
			}
			if reason == "" && er.destID != "" {
				reason = failed["d:"+model+"\x00"+er.destID]
			}
			if reason == "" && er.refsFailed {
				reason = "relates to an entry that failed in the run"
			}
			if reason == "" && er.src == nil {
				switch {
				case er.dropped:
					reason = "dropped by the transform"
				case cfg.Orphans:
					reason = "orphan kept (not mirrored)"
				}
			}
			differ := map[[2]string]bool{}
			for _, f := range er.fields {
				switch {
				case f == "":
					for k := range sp {
						differ[k] = true
					}
					for k := range dp {
						differ[k] = true
					}
				case f == "published":
					for k := range sp {
						differ[k] = differ[k] || k[1] == StagePublished
					}
					for k := range dp {
						differ[k] = differ[k] || k[1] == StagePublished
					}
				default:
					stage, l := fieldStage(f, def)
					differ[[2]string{l, stage}] = true
				}
			}
			for k, yes := range differ {
				if r := rows[k]; yes && r != nil {
					if reason != "" {
						r.Expected++
					} else {
						r.Differ++
					}
				}
			}
			if reason != "" {
				res.Expected++
				expected[entryKey(er.sourceID, er.destID, er.src == nil)] = reason
			} else {
				res.Unexpected++
			}
		}
		room := -1
		if limit >= 0 {
			room = max(limit-len(res.Diffs), 0)
		}
		diffs, total, err := c.compareModel(ctx, model, room, tally)
		if err != nil {
			return nil, err
		}
		res.More += total - len(diffs)
		if n == 0 && total > 0 {
			res.Unexpected++ // the model itself is missing
		}
		for _, d := range diffs {
			stage, l := StageDraft, ""
			switch {
			case d.Field == "published":
				stage = StagePublished
			case d.Field != "":
				stage, l = fieldStage(d.Field, def)
			}
			res.Diffs = append(res.Diffs, VerifyDiff{Difference: d, Stage: stage, Locale: l,
				Expected: expected[entryKey(d.SourceID, d.DestID, d.SourceID == "")]})
		}
		for i := first; i < len(res.Rows); i++ {
			res.Rows[i] = *rows[[2]string{res.Rows[i].Locale, res.Rows[i].Stage}]
		}
		if cfg.Progress != nil {
			cfg.Progress(Event{Phase: PhaseVerify, Model: model, Done: n, Total: n})
		}
	}
	if res.Unexpected > 0 {
		return res, &VerifyError{Result: res}
	}
	return res, nil
}

// entryKey identifies an entry of a model in a verify: a destination
// entry the source lacks by its destination id, others by source id.
func entryKey(sid, did string, extra bool) string {
	if extra {
		return "d:" + did
	}
	return "s:" + sid
}

// fieldStage returns the stage and locale of a difference's field:
// "published:f@locale" is PUBLISHED, a field without "@" is in the default
// locale.
func fieldStage(field, def string) (stage, locale string) {
	stage = StageDraft
	if f, ok := strings.CutPrefix(field, "published:"); ok {
		stage, field = StagePublished, f
	}
	if _, l, ok := strings.Cut(field, "@"); ok {
		return stage, l
	}
	return stage, def
}

// WriteTo prints the result: a table of the models' locales and stages
// (those with entries on either side), then the differences listed,
// unexpected ones first, the expected ones marked.
func (r *VerifyResult) WriteTo(w io.Writer) (int64, error) {
	return r.WriteSummary(w, 0, "")
}

// WriteSummary prints the result as WriteTo does, but at most maxLines
// differences (0 or less: all listed); the others are counted on one more
// line, followed by more (say, where the whole list is).
func (r *VerifyResult) WriteSummary(w io.Writer, maxLines int, more string) (int64, error) {
	cw := &countingWriter{w: w}
	t := texttable.New("verify", "locale", "stage", "source", "dest", "differ", "expected")
	for _, row := range r.Rows {
		if row.Source == 0 && row.Dest == 0 && row.Differ == 0 && row.Expected == 0 {
			continue
		}
		t.Row(row.Model, row.Locale, row.Stage, row.Source, row.Dest, row.Differ, row.Expected)
	}
	t.WriteTo(cw)
	switch {
	case r.Unexpected == 0 && r.Expected == 0:
		fmt.Fprintln(cw, "verify: the destination holds what the source holds")
	case r.Unexpected == 0:
		fmt.Fprintf(cw, "verify: %d entries differ, all of them expected (failed in the run or kept orphans)\n", r.Expected)
	default:
		fmt.Fprintf(cw, "verify: %d entries differ unexpectedly", r.Unexpected)
		if r.Expected > 0 {
			fmt.Fprintf(cw, ", %d as expected", r.Expected)
		}
		fmt.Fprintln(cw)
	}
	diffs := slices.Clone(r.Diffs)
	slices.SortStableFunc(diffs, func(a, b VerifyDiff) int {
		return cmp.Compare(b2i(a.Expected != ""), b2i(b.Expected != "")) // unexpected first
	})
	left := r.More
	if maxLines > 0 && len(diffs) > maxLines {
		left += len(diffs) - maxLines
		diffs = diffs[:maxLines]
	}
	for _, d := range diffs {
		field := d.Field
		if field == "" {
			field = "entry"
		}
		fmt.Fprintf(cw, "  %s %s %s -> %s %s: want %s, got %s", d.Stage, d.Model, orDash(d.SourceID), orDash(d.DestID), field, clip(d.Want), clip(d.Got))
		if d.Expected != "" {
			fmt.Fprintf(cw, " (expected: %s)", d.Expected)
		}
		fmt.Fprintln(cw)
	}
	if left > 0 {
		fmt.Fprintf(cw, "  ... and %d more differences%s\n", left, more)
	}
	return cw.n, cw.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens a value for a line of the verify table.
func clip(s string) string {
	const n = 80
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// verify is the verify step of a sync (SyncConfig.Verify): after a real
// run that no systemic failure stopped, both stages are read again and
// compared; the result goes into the report. guard says the delete guard
// held deletes back (their orphans are expected).
func (e *engine) verify(ctx context.Context, guard bool) error {
	if !e.cfg.Verify || e.cfg.DryRun || ctx.Err() != nil {
		return nil
	}
	e.emit(Event{Phase: PhaseVerify})
	// Assets are compared by their entries' relations to them, not as a
	// model: their file fields are the destination's own.
	models := slices.DeleteFunc(slices.Clone(e.ord.models), func(m string) bool { return m == assetModel })
	c := &comparer{src: e.src, dst: e.dst, models: models, state: e.state,
		cfg:       CompareConfig{Source: e.cfg.Source, Dest: e.cfg.Dest, State: e.state, Transform: e.transform, PageSize: e.pageSize},
		fixSource: e.dropSkipped}
	// Targets resolve as in the sync: an entry of a synced model the state
	// does not know is looked up by its own id, as Compare does.
	c.srcResolve = func(model, id string) (string, bool) {
		if d, ok := e.resolve(model, id); ok || !e.synced[model] {
			return d, ok
		}
		return c.resolve(model, id)
	}
	res, err := c.verify(ctx, VerifyConfig{Failed: e.report.Failures(), Orphans: !e.cfg.Mirror || guard, Progress: e.emit})
	if res != nil {
		e.report.setVerify(res)
	}
	return err
}

func isDeleteGuard(err error) bool {
	_, ok := errors.AsType[*DeleteGuardError](err)
	return ok
}

// joinVerify adds the verify's error to the run's.
func joinVerify(err, verr error) error {
	if err == nil || verr == nil {
		return cmp.Or(err, verr)
	}
	return errors.Join(err, verr)
}
