package synctest

import (
	"math"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// Spec is a sync of one typed model for SyncModel to run.
type Spec[T any] struct {
	// Model is the typed model under test, with its transform (e.g. the
	// HotelModel(transformHotel) of `stagesync gen` glue).
	Model stagesync.TypedModel[T]
	// Fixtures are the model's source entries, as its read operation reads
	// them (see LoadFixtures); they are seeded into the source stage.
	Fixtures []T
	// SourceSchema is the source stage's content-API schema; DestSchema
	// the destination's (default: the source's).
	SourceSchema, DestSchema *ast.Schema
	// Seed, when set, seeds the source stage before the fixtures, e.g.
	// with the entries the fixtures' relations point at (see SeedStage).
	// Sync those models too (Configure: cfg.Models or cfg.Typed), so that
	// the relations have targets in the destination.
	Seed func(t testing.TB, source *stagetest.Stage)
	// Configure, when set, adjusts the sync before it runs: Handled,
	// Defaults, Match, more Typed models, a Transform.
	Configure func(cfg *stagesync.SyncConfig)
}

// Synced is what SyncModel did.
type Synced struct {
	// Source and Dest are the emulated stages, running until the test
	// ends: inspect them through their Stage.
	Source, Dest *stagetest.Server
	// Config is the sync that ran; run it again with stagesync.Sync (its
	// State holds the identity map).
	Config stagesync.SyncConfig
	// Report and Plan are what stagesync.Sync returned.
	Report *stagesync.Report
	Plan   *stagesync.Plan
}

// SyncModel runs the whole sync of one typed model in a test: it starts
// an emulated source and destination stage, seeds the source with
// s.Fixtures (see SeedStage), syncs with stagesync.Sync and returns the
// stages, report and plan. It stops the test when the sync stops (a
// refused pre-flight, a failed read); entries that fail are in the report,
// for the test to check.
func SyncModel[T any](t testing.TB, s Spec[T]) *Synced {
	t.Helper()
	if s.SourceSchema == nil {
		t.Fatal("synctest: SyncModel needs Spec.SourceSchema")
	}
	if s.DestSchema == nil {
		s.DestSchema = s.SourceSchema
	}
	src := stagetest.NewServer(t, s.SourceSchema)
	dst := stagetest.NewServer(t, s.DestSchema)
	if s.Seed != nil {
		s.Seed(t, src.Stage)
	}
	SeedStage(t, src.Stage, s.Model.Name, s.Fixtures)

	source, dest := localStage("source", src), localStage("destination", dst)
	cfg := stagesync.SyncConfig{
		Source: source, Dest: dest,
		SourceSchema: s.SourceSchema, DestSchema: s.DestSchema,
		Typed: []stagesync.Model{s.Model},
		State: stagesync.NewState(source.Endpoint(), dest.Endpoint()),
	}
	if s.Configure != nil {
		s.Configure(&cfg)
	}
	report, plan, err := stagesync.Sync(t.Context(), cfg)
	if err != nil {
		t.Fatalf("synctest: sync %s: %v", s.Model.Name, err)
	}
	return &Synced{Source: src, Dest: dst, Config: cfg, Report: report, Plan: plan}
}

// Differences compares the synced models in both stages (see
// stagesync.Compare) and returns every way the destination differs from
// the source: what the transforms changed, and nothing else when the sync
// is right.
func (s *Synced) Differences(t testing.TB) []stagesync.Difference {
	t.Helper()
	var models []string
	for _, m := range s.Config.Typed {
		models = append(models, m.ModelName())
	}
	diffs, err := stagesync.Compare(t.Context(), stagesync.CompareConfig{
		Source: s.Config.Source, Dest: s.Config.Dest,
		SourceSchema: s.Config.SourceSchema, DestSchema: s.Config.DestSchema,
		Models: append(models, s.Config.Models...),
		State:  s.Config.State,
	})
	if err != nil {
		t.Fatalf("synctest: compare: %v", err)
	}
	return diffs
}

// localStage is a Stage for an emulated stage: no rate limit, quick
// retries.
func localStage(name string, s *stagetest.Server) *stagesync.Stage {
	return stagesync.NewStage(name, s.URL, s.Token,
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}),
		stagesync.WithRetryWait(time.Millisecond, 20*time.Millisecond),
		stagesync.WithMaxConcurrency(8))
}
