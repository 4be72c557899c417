package stagesync_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// TestSyncVerify: a sync with Verify of the library project reports every
// model, locale and stage equal, with the counts of both sides; the
// verify phase reports progress.
func TestSyncVerify(t *testing.T) {
	p := newPair(t, librarySchema(t, nil), librarySchema(t, nil))
	p.seedLibrary(t, 12)
	cfg := p.config()
	cfg.Verify = true
	var phases []stagesync.Phase
	cfg.Progress = func(e stagesync.Event) {
		if len(phases) == 0 || phases[len(phases)-1] != e.Phase {
			phases = append(phases, e.Phase)
		}
	}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := report.Verify()
	if v == nil {
		t.Fatal("no verify in the report")
	}
	if !v.OK() || v.Expected != 0 || len(v.Diffs) != 0 || v.More != 0 {
		t.Fatalf("verify: %+v", v)
	}
	if i := slices.Index(phases, stagesync.PhaseVerify); i < 0 || phases[len(phases)-1] != stagesync.PhaseDone || i != len(phases)-2 {
		t.Errorf("phases %v: want verify just before done", phases)
	}
	want := map[string]int{ // model/locale/stage → entries
		"Book/en/DRAFT": 12, "Book/en/PUBLISHED": 8, "Book/de/DRAFT": 6, "Book/de/PUBLISHED": 4,
		"Author/en/DRAFT": 3, "Author/en/PUBLISHED": 2, "Author/de/DRAFT": 2, "Author/de/PUBLISHED": 1,
		"Tag/en/DRAFT": 4, "Tag/en/PUBLISHED": 3,
	}
	got := map[string]int{}
	for _, r := range v.Rows {
		if r.Source != r.Dest || r.Differ != 0 || r.Expected != 0 {
			t.Errorf("row %+v", r)
		}
		got[r.Model+"/"+r.Locale+"/"+r.Stage] = r.Source
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d entries, want %d", k, got[k], n)
		}
	}
	var b bytes.Buffer
	if _, err := v.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "verify: the destination holds what the source holds") {
		t.Errorf("table:\n%s", b.String())
	}
}

// TestVerifyTampered: after a sync, the destination is changed behind the
// engine's back (a title, a localized summary, the order of a one-way list):
// Verify reports exactly those differences, by model, stage and locale,
// and a *VerifyError; an entry that failed in the run is expected to
// differ. It holds whether the source's hashes stay in memory or spill to
// disk.
func TestVerifyTampered(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, librarySchema(t, nil), librarySchema(t, nil))
	p.seedLibrary(t, 12)
	if _, _, err := stagesync.Sync(ctx, p.config()); err != nil {
		t.Fatal(err)
	}
	books := p.seeded["Book"]
	draftBook, pubBook := books[5], books[4] // a draft book with related entries, a published one with a de summary
	dest := func(model, sid string) string {
		d, ok := p.state.DestID(model, sid)
		if !ok {
			t.Fatalf("%s %s not synced", model, sid)
		}
		return d
	}
	// related is a one-way union list: reordering it changes no other side.
	src, _ := p.src.Stage.Get("Book", draftBook, "DRAFT")
	related := src["related"].([]any)
	if len(related) != 2 {
		t.Fatalf("book 5 relates %v", related)
	}
	// Seeded as [an author, a tag] (see seedLibrary).
	reversed := []any{
		map[string]any{"Tag": map[string]any{"id": dest("Tag", related[1].(string))}},
		map[string]any{"Author": map[string]any{"id": dest("Author", related[0].(string))}},
	}
	if err := p.dst.Stage.Update(ctx, "Book", dest("Book", draftBook), map[string]any{
		"title": "Tampered", "related": map[string]any{"set": reversed},
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.dst.Stage.Update(ctx, "Book", dest("Book", pubBook), map[string]any{
		"localizations": map[string]any{"update": []any{map[string]any{"locale": "de", "data": map[string]any{"summary": "Manipuliert"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.dst.Stage.Publish("Book", dest("Book", pubBook)); err != nil {
		t.Fatal(err)
	}
	vc := stagesync.VerifyConfig{CompareConfig: stagesync.CompareConfig{Source: p.source, Dest: p.dest,
		SourceSchema: p.srcSchema, DestSchema: p.dstSchema, State: p.state}}
	for _, spill := range []bool{false, true} {
		if spill {
			old := stagesync.DestSpillAt.Swap(2)
			t.Cleanup(func() { stagesync.DestSpillAt.Store(old) })
		}
		res, err := stagesync.Verify(ctx, vc)
		var ve *stagesync.VerifyError
		if !errors.As(err, &ve) || ve.Result != res {
			t.Fatalf("spill %v: err %v, want a *VerifyError", spill, err)
		}
		var got []string
		for _, d := range res.Diffs {
			got = append(got, d.Stage+" "+d.Locale+" "+d.Model+" "+d.SourceID+" "+d.DestID+" "+d.Field+" "+d.Expected)
			t.Logf("%s %s %s", d.Stage, d.Locale, d)
		}
		want := []string{
			"DRAFT en Book " + draftBook + " " + dest("Book", draftBook) + " related ",
			"DRAFT en Book " + draftBook + " " + dest("Book", draftBook) + " title ",
			"DRAFT de Book " + pubBook + " " + dest("Book", pubBook) + " summary@de ",
			"PUBLISHED de Book " + pubBook + " " + dest("Book", pubBook) + " published:summary@de ",
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("spill %v: differences\n%s\nwant\n%s", spill, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if res.Unexpected != 2 || res.Expected != 0 || res.More != 0 {
			t.Errorf("spill %v: %d unexpected, %d expected, %d more; want 2, 0, 0", spill, res.Unexpected, res.Expected, res.More)
		}
		var b strings.Builder
		if _, err := res.WriteSummary(&b, 3, " (see the report)"); err != nil {
			t.Fatal(err)
		}
		if out := b.String(); !strings.Contains(out, "verify: 2 entries differ unexpectedly") || !strings.Contains(out, `summary@de: want "Zusammenfassung 4", got "Manipuliert"`) ||
			!strings.Contains(out, "... and 1 more differences (see the report)") {
			t.Errorf("spill %v: summary:\n%s", spill, out)
		}
		for _, r := range res.Rows {
			wantDiffer := 0
			switch r.Model + "/" + r.Locale + "/" + r.Stage {
			case "Book/en/DRAFT", "Book/de/DRAFT", "Book/de/PUBLISHED":
				wantDiffer = 1
			}
			if r.Differ != wantDiffer || r.Source != r.Dest {
				t.Errorf("spill %v: row %+v, want %d differing", spill, r, wantDiffer)
			}
		}
	}

	// The tampered entries failed in the run: expected, no error.
	vc.Failed = []stagesync.Failure{{Model: "Book", SourceID: draftBook, Op: "update"}, {Model: "Book", DestID: dest("Book", pubBook), Op: "publish"}}
	vc.MaxDiffs = 1
	res, err := stagesync.Verify(ctx, vc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unexpected != 0 || res.Expected != 2 || len(res.Diffs) != 1 || res.More != 3 || !strings.Contains(res.Diffs[0].Expected, "failed in the run") {
		t.Errorf("with the failures: %+v", res)
	}
}

// TestSyncVerifyExpected: a sync whose Transform changes every title and
// fails one book verifies the destination against the transformed source:
// only the failed book (and the entries whose relations to it failed)
// differ, as expected, and Sync returns no error.
func TestSyncVerifyExpected(t *testing.T) {
	p := newPair(t, librarySchema(t, nil), librarySchema(t, nil))
	p.seedLibrary(t, 12)
	bad := p.seeded["Book"][3]
	cfg := p.config()
	cfg.Verify = true
	cfg.Transform = func(_ context.Context, model string, e map[string]any) error {
		if model != "Book" {
			return nil
		}
		if e["id"] == bad {
			return errors.New("no")
		}
		e["title"] = strings.ToUpper(e["title"].(string))
		return nil
	}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if report.OK() {
		t.Fatal("no entry failed")
	}
	v := report.Verify()
	if v == nil || !v.OK() || v.Expected == 0 {
		t.Fatalf("verify: %+v", v)
	}
	found := false
	for _, d := range v.Diffs {
		if d.Expected == "" {
			t.Errorf("unexpected: %s", d)
		}
		found = found || d.SourceID == bad && d.Field == "" && d.Got == "missing"
		t.Logf("%s (%s)", d, d.Expected)
	}
	if !found {
		t.Errorf("the failed book %s is not listed missing", bad)
	}
}

// TestSyncVerifySkipAssets: the asset targets a sync with SkipAssets leaves
// out (the destination lacks them) are left out of the verify's source
// too: the run verifies equal.
func TestSyncVerifySkipAssets(t *testing.T) {
	tr := newTravel(t)
	src, dst := tr.p.src.Stage, tr.p.dst.Stage
	for _, m := range []string{"Destination", "Review"} { // a clone without the assets
		for _, e := range src.All(m, "PUBLISHED") {
			doc := map[string]any{"id": e["id"]}
			switch m {
			case "Destination":
				doc["name"] = e["name"]
			case "Review":
				doc["title"] = e["title"]
			}
			if _, err := dst.Seed(m, "PUBLISHED", doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := tr.config()
	cfg.Verify = true
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("failures: %+v", report.Failures())
	}
	if h := tr.destHotel(t, "Ritz"); len(refIDs(h["photos"])) != 0 {
		t.Fatalf("Ritz has photos %v in the destination", h["photos"])
	}
	if v := report.Verify(); v == nil || !v.OK() || len(v.Diffs) != 0 {
		t.Errorf("verify: %+v", v)
	}
}

// TestSyncVerifyOrphans: a destination entry the source lacks is an
// expected difference of a sync without Mirror (kept as an orphan), and
// gone after a mirror sync, which verifies equal.
func TestSyncVerifyOrphans(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, librarySchema(t, nil), librarySchema(t, nil))
	p.seedLibrary(t, 6)
	if _, _, err := stagesync.Sync(ctx, p.config()); err != nil {
		t.Fatal(err)
	}
	extra, err := p.dst.Stage.Create(ctx, "Tag", map[string]any{"name": "extra"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.config()
	cfg.Verify = true
	report, _, err := stagesync.Sync(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := report.Verify()
	if v == nil || !v.OK() || v.Expected != 1 || len(v.Diffs) != 1 || v.Diffs[0].DestID != extra || !strings.Contains(v.Diffs[0].Expected, "orphan") {
		t.Fatalf("verify without mirror: %+v", v)
	}
	for _, r := range v.Rows {
		if r.Model == "Tag" && r.Stage == stagesync.StageDraft && (r.Dest != r.Source+1 || r.Expected != 1 || r.Differ != 0) {
			t.Errorf("row %+v", r)
		}
	}
	// A mirror sync whose deletes are not confirmed keeps the orphan:
	// expected, the error is the delete guard's only.
	cfg.Mirror, cfg.MaxDelete = true, -1
	cfg.ConfirmDelete = func([]stagesync.Deletion) bool { return false }
	report, _, err = stagesync.Sync(ctx, cfg)
	var ge *stagesync.DeleteGuardError
	var ve *stagesync.VerifyError
	if !errors.As(err, &ge) || errors.As(err, &ve) {
		t.Fatalf("unconfirmed mirror sync: %v", err)
	}
	if v := report.Verify(); v == nil || !v.OK() || v.Expected != 1 {
		t.Fatalf("verify of the unconfirmed mirror sync: %+v", v)
	}
	cfg.ConfirmDelete = nil
	report, _, err = stagesync.Sync(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v := report.Verify(); v == nil || !v.OK() || v.Expected != 0 || len(v.Diffs) != 0 {
		t.Fatalf("verify after the mirror sync: %+v", v)
	}
}
