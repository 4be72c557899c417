package stagesync_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// TestSyncFailuresPerEntry: an entry that fails for several reasons (here
// authors whose books and favorite the transform dropped with an error) is
// reported once, with every reason, and counted once: a model never has
// more failed entries than it read.
func TestSyncFailuresPerEntry(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 12)
	cfg := p.config()
	cfg.Transform = func(_ context.Context, model string, entry map[string]any) error {
		if model == "Book" {
			return errors.New("no ISBN")
		}
		return nil
	}
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range report.Models() {
		if m.Failed > m.Read {
			t.Errorf("%s: %d failed of %d read", m.Name, m.Failed, m.Read)
		}
	}
	seen := map[string]bool{}
	several := 0
	for _, f := range report.Failures() {
		key := f.Model + " " + f.SourceID
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if f.Model != "Author" {
			continue
		}
		reasons := f.Reasons()
		if len(reasons) > 1 {
			several++
		}
		for _, r := range reasons {
			if r.Op != "relation" || !strings.Contains(r.Message, "has no entry in the destination") {
				t.Errorf("author %s: reason %+v", f.SourceID, r)
			}
		}
	}
	if several == 0 {
		t.Errorf("no author lists several missing books: %+v", report.Failures())
	}
	if got := len(report.Failures()); got != 12+3 {
		t.Errorf("%d failed entries, want the 12 books and the 3 authors", got)
	}
	for _, m := range report.Models() {
		if m.Name == "Book" && m.Failed != 12 || m.Name == "Author" && m.Failed != 3 {
			t.Errorf("%s: %d failed", m.Name, m.Failed)
		}
	}
}
