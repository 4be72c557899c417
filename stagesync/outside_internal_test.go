package stagesync

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// TestOutsideLookup checks that ids are looked up in batches of
// outsideBatch, once, and that the cache starts over past its bound.
func TestOutsideLookup(t *testing.T) {
	s := libraryAST(t)
	dst := stagetest.NewServer(t, s)
	var docs []map[string]any
	for i := range 250 {
		docs = append(docs, map[string]any{"name": fmt.Sprintf("tag %d", i)})
	}
	ids, err := dst.Stage.Seed("Tag", "DRAFT", docs...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := schema.Discover(s)
	if err != nil {
		t.Fatal(err)
	}
	stage := NewStage("dest", dst.URL, dst.Token, WithRateLimit(RateLimit{Initial: math.Inf(1)}))
	ctx := context.Background()
	o := newOutside(ctx, stage, p)
	queries := func() int64 { return dst.Stage.Counters().Queries }

	before := queries()
	o.lookup(ctx, "Tag", append(append([]string{}, ids...), "cnotthereatall0000000000a", "cnotthereatall0000000000b"))
	if n := queries() - before; n != 3 {
		t.Errorf("252 ids looked up in %d queries, want 3", n)
	}
	before = queries()
	for _, id := range ids {
		if !o.exists("Tag", id) {
			t.Fatalf("tag %s not found", id)
		}
	}
	if o.exists("Tag", "cnotthereatall0000000000a") {
		t.Error("an id the destination lacks exists")
	}
	if n := queries() - before; n != 0 {
		t.Errorf("cached ids were looked up again (%d queries)", n)
	}

	old := outsideCacheMax.Swap(100)
	defer outsideCacheMax.Store(old)
	o = newOutside(ctx, stage, p)
	o.lookup(ctx, "Tag", ids)
	if n := len(o.known); n > 100 {
		t.Errorf("the cache holds %d ids, bound 100", n)
	}
	if !o.exists("Tag", ids[0]) {
		t.Error("an id evicted from the cache is not found again")
	}
}
