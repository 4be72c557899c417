package stagesync

import "github.com/stagesync/stagesync/hygraph"

// The stages' transport is package hygraph (Stage, its scheduler and
// retries, Batcher, Paginate), which a program can use without the engine
// (and without linking SQLite). These are its names a sync's
// configuration needs, so that a program that syncs needs this package
// alone; they are documented there.

type (
	// Stage is a Hygraph content API endpoint; see hygraph.Stage.
	Stage = hygraph.Stage
	// StageOption configures a Stage; see hygraph.NewStage.
	StageOption = hygraph.StageOption
	// StageStats counts a Stage's traffic; see hygraph.StageStats.
	StageStats = hygraph.StageStats
	// RateLimit is a Stage's request rate; see hygraph.RateLimit.
	RateLimit = hygraph.RateLimit
	// PlanLimits are a Hygraph plan's limits; see hygraph.PlanLimits.
	PlanLimits = hygraph.PlanLimits
	// HTTPError is a stage's answer other than 200; see hygraph.HTTPError.
	HTTPError = hygraph.HTTPError
	// GraphQLError is a stage's GraphQL errors; see hygraph.GraphQLError.
	GraphQLError = hygraph.GraphQLError
	// RateLimitError is a request still throttled after its retries; see
	// hygraph.RateLimitError.
	RateLimitError = hygraph.RateLimitError
)

// DefaultPageSize is the read page size of a sync unless
// SyncConfig.PageSize says otherwise.
const DefaultPageSize = hygraph.DefaultPageSize

// DefaultTimeout is a Stage's HTTP timeout per attempt; see
// hygraph.DefaultTimeout.
const DefaultTimeout = hygraph.DefaultTimeout

// ErrMaybeApplied marks the error of a write that may have been applied;
// see hygraph.ErrMaybeApplied.
var ErrMaybeApplied = hygraph.ErrMaybeApplied

// PlanNames lists the plans LookupPlanLimits knows.
var PlanNames = hygraph.PlanNames

// The Stage constructor and its options; see package hygraph.
var (
	NewStage           = hygraph.NewStage
	LookupPlanLimits   = hygraph.LookupPlanLimits
	WithHTTPClient     = hygraph.WithHTTPClient
	WithHeader         = hygraph.WithHeader
	WithLogger         = hygraph.WithLogger
	WithMaxConcurrency = hygraph.WithMaxConcurrency
	WithPlanLimits     = hygraph.WithPlanLimits
	WithRateLimit      = hygraph.WithRateLimit
	WithRetryAfterCap  = hygraph.WithRetryAfterCap
	WithRetryMax       = hygraph.WithRetryMax
	WithRetryWait      = hygraph.WithRetryWait
)
