package emulator

import (
	"net/http"
	"strings"
	"testing"
)

// TestWithPlan: a plan preset sets every limit of the plan, each limit set
// on its own wins whatever the order of the options, and an unknown plan
// is an error.
func TestWithPlan(t *testing.T) {
	s := conformanceSchema(t)
	cases := []struct {
		name     string
		opts     []Option
		want     Limits
		maxPage  int
		defPage  int
		planName string
	}{
		{"hobby", []Option{WithPlan("hobby")},
			Limits{Rate: 5, ConcurrentQueries: 10, ConcurrentMutations: 5, MaxQueryBody: 10_000, MaxMutationBody: 30_000, MaxQueryCost: presetQueryCost}, 100, 10, "hobby"},
		{"growth", []Option{WithPlan("Growth")},
			Limits{Rate: 25, ConcurrentQueries: 30, ConcurrentMutations: 10, MaxQueryBody: 15_000, MaxMutationBody: 70_000, MaxQueryCost: presetQueryCost}, 100, 10, "growth"},
		{"enterprise", []Option{WithPlan("enterprise")},
			Limits{Rate: 100, ConcurrentQueries: 60, ConcurrentMutations: 20, MaxQueryBody: 20_000, MaxMutationBody: 80_000, MaxQueryCost: presetQueryCost}, 100, 10, "enterprise"},
		{"own values win, before or after the plan",
			[]Option{WithLimits(Limits{Rate: 7, ConcurrentMutations: 3, ServiceTime: 5}), WithPlan("growth"), WithMaxPage(50)},
			Limits{Rate: 7, ConcurrentQueries: 30, ConcurrentMutations: 3, MaxQueryBody: 15_000, MaxMutationBody: 70_000, MaxQueryCost: presetQueryCost, ServiceTime: 5}, 50, 10, "growth"},
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
	res, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(mutationsBody(6)))
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
