package gate

import (
	"fmt"
	"strings"
)

// Plan is the set of limits of one Hygraph plan: the gate's (see
// ApplyPlan) and the page sizes of the stage behind it.
type Plan struct {
	// Name is the plan's name: hobby, growth or enterprise.
	Name string
	// Rate is the requests per second (Limits.Rate).
	Rate float64
	// ConcurrentQueries and ConcurrentMutations are the operations in
	// flight at once (Limits.ConcurrentQueries, ConcurrentMutations).
	ConcurrentQueries, ConcurrentMutations int
	// MaxQueryBody and MaxMutationBody are the request body caps in bytes.
	MaxQueryBody, MaxMutationBody int64
	// DefaultPage and MaxPage are the page sizes: the entries a list
	// returns when a query gives neither `first` nor `last`, and the
	// largest `first`/`last`.
	DefaultPage, MaxPage int
	// MaxQueryCost is the emulator's query cost cap (Limits.MaxQueryCost).
	// Hygraph publishes no figure; the presets refuse what no page-by-page
	// reader asks for (ten nested lists) and let every such reader through.
	MaxQueryCost int64
}

// presetQueryCost is the query cost cap of the plan presets.
const presetQueryCost = 1_000_000

// plans are the presets LookupPlan knows, from Hygraph's "API limits" page:
// requests per second, concurrent query/mutation operations, and query and
// mutation body caps (10/30, 15/70, 20/80 KB). Enterprise rates are custom
// (up to 500 req/s); the preset takes 100. Every plan pages as projects
// created after mid-2022 do: 10 entries by default, at most 100.
var plans = map[string]Plan{
	"hobby":      {Name: "hobby", Rate: 5, ConcurrentQueries: 10, ConcurrentMutations: 5, MaxQueryBody: 10_000, MaxMutationBody: 30_000, DefaultPage: 10, MaxPage: 100, MaxQueryCost: presetQueryCost},
	"growth":     {Name: "growth", Rate: 25, ConcurrentQueries: 30, ConcurrentMutations: 10, MaxQueryBody: 15_000, MaxMutationBody: 70_000, DefaultPage: 10, MaxPage: 100, MaxQueryCost: presetQueryCost},
	"enterprise": {Name: "enterprise", Rate: 100, ConcurrentQueries: 60, ConcurrentMutations: 20, MaxQueryBody: 20_000, MaxMutationBody: 80_000, DefaultPage: 10, MaxPage: 100, MaxQueryCost: presetQueryCost},
}

// PlanNames lists the plans LookupPlan knows.
var PlanNames = []string{"hobby", "growth", "enterprise"}

// LookupPlan returns the preset of the plan named name (case-insensitive).
func LookupPlan(name string) (Plan, error) {
	p, ok := plans[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Plan{}, fmt.Errorf("unknown plan %q: want one of %s", name, strings.Join(PlanNames, ", "))
	}
	return p, nil
}

// ApplyPlan sets every limit of l that is zero to p's value, so that a
// limit set on its own wins over the plan. (A function, not a method, so
// that Plan's method set, which package stagetest re-exports, stays empty.)
func ApplyPlan(l *Limits, p Plan) {
	if l.Rate == 0 {
		l.Rate = p.Rate
	}
	if l.ConcurrentQueries == 0 {
		l.ConcurrentQueries = p.ConcurrentQueries
	}
	if l.ConcurrentMutations == 0 {
		l.ConcurrentMutations = p.ConcurrentMutations
	}
	if l.MaxQueryBody == 0 {
		l.MaxQueryBody = p.MaxQueryBody
	}
	if l.MaxMutationBody == 0 {
		l.MaxMutationBody = p.MaxMutationBody
	}
	if l.MaxQueryCost == 0 {
		l.MaxQueryCost = p.MaxQueryCost
	}
}
