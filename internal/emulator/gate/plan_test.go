package gate

import (
	"strings"
	"testing"
)

// TestLookupPlan: each preset fills every limit of its plan, a limit set on
// its own wins, and an unknown plan is an error naming the plans.
func TestLookupPlan(t *testing.T) {
	cases := []struct {
		name    string
		own     Limits
		want    Limits
		maxPage int
		defPage int
		plan    string
	}{
		{"hobby", Limits{},
			Limits{Rate: 5, ConcurrentQueries: 10, ConcurrentMutations: 5, MaxQueryBody: 10_000, MaxMutationBody: 30_000, MaxQueryCost: presetQueryCost}, 100, 10, "hobby"},
		{"Growth", Limits{},
			Limits{Rate: 25, ConcurrentQueries: 30, ConcurrentMutations: 10, MaxQueryBody: 15_000, MaxMutationBody: 70_000, MaxQueryCost: presetQueryCost}, 100, 10, "growth"},
		{" enterprise ", Limits{},
			Limits{Rate: 100, ConcurrentQueries: 60, ConcurrentMutations: 20, MaxQueryBody: 20_000, MaxMutationBody: 80_000, MaxQueryCost: presetQueryCost}, 100, 10, "enterprise"},
		{"growth", Limits{Rate: 7, ConcurrentMutations: 3, ServiceTime: 5},
			Limits{Rate: 7, ConcurrentQueries: 30, ConcurrentMutations: 3, MaxQueryBody: 15_000, MaxMutationBody: 70_000, MaxQueryCost: presetQueryCost, ServiceTime: 5}, 100, 10, "growth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := LookupPlan(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			l := tc.own
			ApplyPlan(&l, p)
			if l != tc.want {
				t.Errorf("limits\n%+v, want\n%+v", l, tc.want)
			}
			if p.Name != tc.plan || p.MaxPage != tc.maxPage || p.DefaultPage != tc.defPage {
				t.Errorf("plan %q pages: max %d default %d, want %q, %d and %d", p.Name, p.MaxPage, p.DefaultPage, tc.plan, tc.maxPage, tc.defPage)
			}
		})
	}
	if _, err := LookupPlan("scale"); err == nil || !strings.Contains(err.Error(), "hobby, growth, enterprise") {
		t.Errorf("unknown plan: error %v, want one naming the plans", err)
	}
}
