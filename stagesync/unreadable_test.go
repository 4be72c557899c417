package stagesync_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// TestSyncUnreadableDestEntry: a destination entry whose published version
// Hygraph cannot return (its required author is not published) is read
// without it and counts as published differently: the source's readable
// published version is published over it, and the run fails nothing.
func TestSyncUnreadableDestEntry(t *testing.T) {
	s := librarySchema(t, func(d string) string {
		return strings.Replace(d, "author: Author -> books", "author: Author! -> books", 1)
	})
	p := newPair(t, s, s)
	p.seedLibrary(t, 12)
	ctx := context.Background()
	cfg := p.config()
	mustSync(t, cfg)

	// In the destination, a published book and a draft-only one move to an
	// author who is only a draft there, and are published.
	published, draftOnly := p.seeded["Book"][4], p.seeded["Book"][2]
	ids, err := p.dst.Stage.Seed("Author", "DRAFT", map[string]any{"name": "Stray"})
	if err != nil {
		t.Fatal(err)
	}
	dest := map[string]string{}
	for _, b := range []string{published, draftOnly} {
		d, ok := p.state.DestID("Book", b)
		if !ok {
			t.Fatalf("book %s has no destination entry", b)
		}
		dest[b] = d
		if err := p.dst.Stage.Update(ctx, "Book", d, map[string]any{"author": map[string]any{"connect": map[string]any{"id": ids[0]}}}); err != nil {
			t.Fatal(err)
		}
		if err := p.dst.Stage.Publish("Book", d); err != nil {
			t.Fatal(err)
		}
	}
	report, _ := mustSync(t, cfg)
	if !hasCount(report.Models(), "Book", func(m stagesync.ModelReport) bool { return m.Published >= 1 && m.Failed == 0 }) {
		t.Errorf("report %+v, want the book published again", report.Models())
	}
	// The published one is published over with the source's version.
	pub, _ := p.dst.Stage.Get("Book", dest[published], "PUBLISHED")
	srcPub, _ := p.src.Stage.Get("Book", published, "PUBLISHED")
	if want, _ := p.state.DestID("Author", srcPub["author"].(string)); pub["author"] != want {
		t.Errorf("destination published book %s has author %v, want %s", dest[published], pub["author"], want)
	}
	// The draft-only one is unpublished, as in the source.
	if _, ok := p.dst.Stage.Get("Book", dest[draftOnly], "PUBLISHED"); ok {
		t.Errorf("destination book %s is still published; its source %s is a draft only", dest[draftOnly], draftOnly)
	}
	p.compare(t, "Book") // the stray author is the destination's own
}
