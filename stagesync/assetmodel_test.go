package stagesync_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// assetChanges records the changes of a sync to model Asset.
type assetChanges struct {
	mu   sync.Mutex
	list []stagesync.Change
	// lose, when set, sends an asset create and then loses its answer
	// (ErrMaybeApplied) when it returns true.
	lose func(stagesync.Change) bool
}

func (r *assetChanges) wrap(next stagesync.Writer) stagesync.Writer {
	return stagesync.WriterFunc(func(ctx context.Context, c stagesync.Change) (string, error) {
		if c.Model == "Asset" {
			r.mu.Lock()
			r.list = append(r.list, c)
			r.mu.Unlock()
		}
		id, err := next.Write(ctx, c)
		if err == nil && c.Model == "Asset" && c.Op == stagesync.OpCreate && r.lose != nil && r.lose(c) {
			return "", fmt.Errorf("%w: the connection broke after the request was sent", stagesync.ErrMaybeApplied)
		}
		return id, err
	})
}

func (r *assetChanges) take() []stagesync.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.list
	r.list = nil
	return out
}

// TestSyncAssetsAsModel checks what assets get from being a model of the
// pipeline: planned by content hash (an unchanged asset sends nothing, a
// changed field is written alone), mirror deletes under the delete guard,
// and creates whose answers were lost adopted on resume only when the
// destination asset is identified unambiguously.
func TestSyncAssetsAsModel(t *testing.T) {
	ctx := context.Background()

	t.Run("unchanged assets send nothing", func(t *testing.T) {
		p := newGalleryPair(t, galleryOptions{})
		p.seedAssets(t, gallerySeed{n: 9, lo: 1 << 10, hi: 4 << 10})
		p.seedPosts(t, 4)
		var rec assetChanges
		cfg := p.config()
		cfg.Writer = rec.wrap
		if report, _, err := stagesync.Sync(ctx, cfg); err != nil || !report.OK() {
			t.Fatalf("run 1: %v %v", err, report.Failures())
		}
		if n := len(rec.take()); n == 0 {
			t.Fatal("run 1 wrote no asset")
		}
		report, plan, err := stagesync.Sync(ctx, cfg)
		if err != nil || !report.OK() {
			t.Fatalf("run 2: %v %v", err, report.Failures())
		}
		if got := rec.take(); len(got) != 0 {
			t.Errorf("run 2 wrote %d asset changes, want none: %+v", len(got), got)
		}
		if m := plan.Model("Asset"); m.Unchanged != 9 || len(m.Entries) != 0 {
			t.Errorf("run 2: plan %+v, want 9 unchanged", m)
		}

		edited := p.assets[4]
		if err := p.src.Stage.Update(ctx, "Asset", edited.id, map[string]any{"alt": "Edited"}); err != nil {
			t.Fatal(err)
		}
		p.assets[4].alt = "Edited"
		p.dstFS.ResetCounters()
		if report, _, err := stagesync.Sync(ctx, cfg); err != nil || !report.OK() {
			t.Fatalf("run 3: %v %v", err, report.Failures())
		}
		did, _ := p.state.DestID("Asset", edited.id)
		got := rec.take()
		if len(got) != 1 || got[0].Op != stagesync.OpUpdate || got[0].ID != did {
			t.Fatalf("run 3 wrote %+v, want one update of %s", got, did)
		}
		if keys := slices.Sorted(func(yield func(string) bool) {
			for k := range got[0].Data {
				if !yield(k) {
					return
				}
			}
		}); !slices.Equal(keys, []string{"alt"}) {
			t.Errorf("run 3 updated %v, want alt only (no file fields)", keys)
		}
		if c := p.dstFS.Counters(); c.Stores+c.Uploads != 0 {
			t.Errorf("run 3 copied files: %+v", c)
		}
		p.checkCopied(t, nil)
	})

	t.Run("mirror deletes of assets obey the delete guard", func(t *testing.T) {
		p := newGalleryPair(t, galleryOptions{})
		p.seedAssets(t, gallerySeed{n: 5, lo: 1 << 10, hi: 2 << 10})
		var extra []string
		for i := range 3 {
			id, err := p.dst.Stage.SeedAsset(fmt.Sprintf("extra-%d.txt", i), "text/plain", []byte(fmt.Sprintf("extra %d", i)), nil)
			if err != nil {
				t.Fatal(err)
			}
			extra = append(extra, id)
		}
		cfg := p.config()
		cfg.Mirror = true
		report, plan, err := stagesync.Sync(ctx, cfg)
		var guard *stagesync.DeleteGuardError
		if !errors.As(err, &guard) || guard.Count != 3 || !guard.Stopped {
			t.Fatalf("mirror run = %v, want a *DeleteGuardError holding back 3 deletes (3 of 8 assets) before the first write", err)
		}
		// The plan made before the first write deletes more than the
		// guard allows: the run writes nothing (the source may be the
		// wrong one) and reports the plan.
		if m := assetModelReport(report, "Asset"); m.Created != 0 || m.Deleted != 0 || m.Orphaned != 3 {
			t.Errorf("guarded run: Asset %+v, want none created, 3 orphaned, none deleted", m)
		}
		if m := plan.Model("Asset"); m.Create != 5 || m.Orphaned != 3 || m.Delete != 0 {
			t.Errorf("guarded run: plan %+v, want 5 creates and 3 orphans", m)
		}
		for _, id := range extra {
			if _, ok := p.dst.Stage.Get("Asset", id, "DRAFT"); !ok {
				t.Errorf("the guard held the deletes back, and asset %s is gone", id)
			}
		}
		cfg.MaxDelete = 3
		report, _, err = stagesync.Sync(ctx, cfg)
		if err != nil || !report.OK() {
			t.Fatalf("allowed mirror run: %v %v", err, report.Failures())
		}
		if m := assetModelReport(report, "Asset"); m.Deleted != 3 || m.Created != 5 {
			t.Errorf("allowed mirror run: Asset %+v, want 3 deleted and 5 created", m)
		}
		for _, id := range extra {
			if _, ok := p.dst.Stage.Get("Asset", id, "DRAFT"); ok {
				t.Errorf("asset %s is still there", id)
			}
		}
		p.checkCopied(t, nil)
	})

	t.Run("a resumed run adopts an asset create only when unambiguous", func(t *testing.T) {
		p := newGalleryPair(t, galleryOptions{})
		p.seedAssets(t, gallerySeed{n: 4, lo: 1 << 10, hi: 2 << 10})
		// Twins: two assets created at once with the same fields, files
		// apart; whichever create arrived, nothing tells them apart.
		const at = "2026-01-02T03:04:05Z"
		var twins []string
		for i := range 2 {
			id, err := p.src.Stage.SeedAsset(fmt.Sprintf("twin-%d.png", i), "image/png", galleryBytes(uint64(900+i), 2048),
				map[string]any{"alt": "Twin", "createdAt": at})
			if err != nil {
				t.Fatal(err)
			}
			twins = append(twins, id)
		}
		var rec assetChanges
		rec.lose = func(stagesync.Change) bool { return true } // every create's answer is lost
		cfg := p.config()
		cfg.Writer = rec.wrap
		cfg.MaxRounds = 1
		report, _, err := stagesync.Sync(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(galleryFailures(report, "Asset")); n != 6 {
			t.Fatalf("run 1: %d asset failures, want the 6 creates: %v", n, report.Failures())
		}
		if n := len(p.dst.Stage.All("Asset", "DRAFT")); n != 6 {
			t.Fatalf("run 1 left %d destination assets, want the 6 it created", n)
		}

		// The resumed run adopts the four assets it can tell apart and
		// neither twin: it reports both, writes nothing for them, and
		// (mirror) deletes neither candidate.
		rec.lose = nil
		rec.take()
		p.dstFS.ResetCounters()
		cfg.Mirror, cfg.MaxDelete = true, -1
		report, _, err = stagesync.Sync(ctx, cfg)
		var guard *stagesync.DeleteGuardError
		if err != nil && !errors.As(err, &guard) {
			t.Fatal(err)
		}
		if n := len(p.dst.Stage.All("Asset", "DRAFT")); n != 6 {
			t.Errorf("run 2: %d destination assets, want 6 (no duplicate, no candidate deleted)", n)
		}
		for _, c := range rec.take() {
			if c.Op == stagesync.OpCreate || c.Op == stagesync.OpDelete {
				t.Errorf("run 2 wrote %s %s %v", c.Op, c.ID, c.Data["fileName"])
			}
		}
		var adoptFailed []string
		for _, f := range galleryFailures(report, "Asset") {
			if f.Op != "adopt" || !strings.Contains(f.Message, "none of them is adopted") {
				t.Errorf("run 2: failure %+v, want an ambiguous adoption", f)
				continue
			}
			adoptFailed = append(adoptFailed, f.SourceID)
		}
		slices.Sort(adoptFailed)
		if want := slices.Sorted(slices.Values(twins)); !slices.Equal(adoptFailed, want) {
			t.Errorf("run 2: ambiguous adoptions %v, want the twins %v", adoptFailed, want)
		}
		for _, a := range p.assets {
			if _, ok := p.state.DestID("Asset", a.id); !ok {
				t.Errorf("asset %s (%s) was not adopted", a.id, a.name)
			}
		}
		for _, id := range twins {
			if d, ok := p.state.DestID("Asset", id); ok {
				t.Errorf("twin %s was adopted as %s", id, d)
			}
		}
		if c := p.dstFS.Counters(); c.Stores+c.Uploads != 0 {
			t.Errorf("run 2 copied files again: %+v", c)
		}
		dest := p.destAssets(t)
		for _, a := range p.assets {
			did, _ := p.state.DestID("Asset", a.id)
			if d, ok := dest[did]; !ok || d.FileName != a.name {
				t.Errorf("asset %s (%s) adopted as %s, which has %+v", a.id, a.name, did, d)
			}
		}
	})
}
