package stagesync_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// reviewsDesc: a review requires its hotel.
const reviewsDesc = `
models:
  Hotel:
    name: String! unique
    reviews: "[Review] <- hotel"
  Review:
    title: String
    hotel: Hotel! -> reviews
`

// recordMutations records the root fields of every mutation request.
type recordMutations struct {
	base http.RoundTripper

	mu     sync.Mutex
	fields []string
}

func (r *recordMutations) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	g := parseGQL(body)
	if g.mutation {
		r.mu.Lock()
		r.fields = append(r.fields, g.fields...)
		r.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

// TestSyncRequiredTargetFailed: when a hotel's create fails, its reviews
// (whose hotel is required) cannot be valid: they are reported, naming the
// hotel, and never sent, so that no batch carries an entry the stage must
// refuse (which fails the whole batch).
func TestSyncRequiredTargetFailed(t *testing.T) {
	s := describedSchema(t, "reviews.graphql", reviewsDesc)
	p := newPair(t, s, s)
	hotels := p.seed(t, "Hotel", "DRAFT", map[string]any{"name": "Good"}, map[string]any{"name": "Doomed"})
	// The destination has another hotel of that unique name: the create
	// of the source's fails.
	if _, err := p.dst.Stage.Seed("Hotel", "DRAFT", map[string]any{"name": "Doomed"}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		p.seed(t, "Review", "DRAFT", map[string]any{"title": fmt.Sprint("r", i), "hotel": hotels[i%2]})
	}
	rec := &recordMutations{base: newTransport(t)}
	cfg := p.config()
	cfg.Dest = stageVia("dest", p.dst.URL, p.dst.Token, rec)
	report, _, err := stagesync.Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	creates := 0
	rec.mu.Lock()
	for _, f := range rec.fields {
		if f == "createReview" {
			creates++
		}
	}
	rec.mu.Unlock()
	if creates != 2 {
		t.Errorf("%d createReview sent, want the 2 of the hotel that exists", creates)
	}
	if n := len(p.dst.Stage.All("Review", "DRAFT")); n != 2 {
		t.Errorf("%d reviews in the destination, want 2", n)
	}
	failed := 0
	for _, f := range report.Failures() {
		if f.Model == "Review" {
			if len(f.More) > 0 {
				t.Errorf("review failure %+v: the review was sent", f)
			}
			failed++
			if f.Op != "relation" || !strings.Contains(f.Message, hotels[1]) || !strings.Contains(f.Message, "required") {
				t.Errorf("review failure %+v: want op relation naming the required hotel %s", f, hotels[1])
			}
		}
	}
	if failed != 2 {
		t.Errorf("%d reviews reported, want 2: %+v", failed, report.Failures())
	}
}
