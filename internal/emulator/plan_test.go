package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/internal/emulator/gate"
)

// TestWithPlan: a plan preset sets the limits of the plan (see package
// gate) and its page sizes, each value set on its own wins whatever the
// order of the options, and an unknown plan is an error.
func TestWithPlan(t *testing.T) {
	s := conformanceSchema(t)
	growth := gate.Limits{Rate: 25, ConcurrentQueries: 30, ConcurrentMutations: 10, MaxQueryBody: 15_000, MaxMutationBody: 70_000, MaxQueryCost: 1_000_000}
	cases := []struct {
		name    string
		opts    []Option
		want    gate.Limits
		maxPage int
		defPage int
	}{
		{"plan alone", []Option{WithPlan("Growth")}, growth, 100, 10},
		{"own values win, before or after the plan",
			[]Option{WithLimits(gate.Limits{Rate: 7, ConcurrentMutations: 3, ServiceTime: 5}), WithPlan("growth"), WithMaxPage(50)},
			gate.Limits{Rate: 7, ConcurrentQueries: 30, ConcurrentMutations: 3, MaxQueryBody: 15_000, MaxMutationBody: 70_000, MaxQueryCost: 1_000_000, ServiceTime: 5}, 50, 10},
		{"own page size before the plan", []Option{WithDefaultPage(25), WithPlan("growth")}, growth, 100, 25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := NewStage(s, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if st.cfg.limits != tc.want {
				t.Errorf("limits\n%+v, want\n%+v", st.cfg.limits, tc.want)
			}
			if st.cfg.maxPage != tc.maxPage || st.cfg.defaultPage != tc.defPage {
				t.Errorf("pages: max %d default %d, want %d and %d", st.cfg.maxPage, st.cfg.defaultPage, tc.maxPage, tc.defPage)
			}
		})
	}
	if _, err := NewStage(s, WithPlan("scale")); err == nil || !strings.Contains(err.Error(), "hobby, growth, enterprise") {
		t.Errorf("unknown plan: error %v, want one naming the plans", err)
	}
}

// TestServerWithPlan: NewServer takes the plan too, and the limits apply
// over HTTP: a hobby stage refuses a request of 6 mutations (cap 5) with
// 429 and no Retry-After.
func TestServerWithPlan(t *testing.T) {
	srv := NewServer(t, conformanceSchema(t), WithPlan("hobby"))
	var q strings.Builder
	for i := range 6 {
		fmt.Fprintf(&q, ` m%d: createPost(data: {title: \"x\"}) { id }`, i)
	}
	res, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(`{"query":"mutation {`+q.String()+` }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "" {
		t.Errorf("status %d, Retry-After %q; want 429 without it", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if got := srv.Stage.Counters().Throttled; got != 1 {
		t.Errorf("Counters.Throttled = %d, want 1", got)
	}
}
