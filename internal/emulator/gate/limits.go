package gate

import (
	"sync/atomic"
	"time"
)

// Limits configures how an emulated stage behaves at the HTTP level, in front
// of GraphQL: authentication, request caps, rate limiting, latency and
// injected faults. The zero value means no limits, no faults and no auth.
type Limits struct {
	// Token is the bearer token with full access. Auth is on when Token or
	// ReadToken is set; with both empty every request is accepted.
	Token string
	// ReadToken is a bearer token that may query but gets 403 on mutations.
	ReadToken string
	// MaxBody caps the request body in bytes (413 above it); 0 means no cap.
	MaxBody int64
	// MaxQueryBody and MaxMutationBody cap the body of a query and of a
	// mutation request (413 above it), as Hygraph's plans do (Growth: 15 KB
	// and 70 KB); 0 means only MaxBody applies.
	MaxQueryBody, MaxMutationBody int64
	// ConcurrentQueries and ConcurrentMutations cap the operations in flight
	// at once: every root field of every request being served counts, so a
	// request of 40 aliased mutations is 40 operations. A request that
	// would take the count above the cap is answered 429 "Too many
	// requests", as Hygraph does. 0 means no cap.
	ConcurrentQueries, ConcurrentMutations int
	// ServiceTime is how long one operation takes once admitted: the query
	// fields of a request run side by side (one ServiceTime), its mutation
	// fields one after another (one ServiceTime each, each leaving the
	// count of operations in flight when it is done). 0 means no wait.
	ServiceTime time.Duration
	// MaxQueryCost refuses a query whose estimated number of objects is
	// larger (every list of objects counts its first/last, or the default
	// page, per parent object), with a request error and HTTP 400, before
	// anything is read; 0 means no cap.
	MaxQueryCost int64
	// MaxResponseBytes stops building a query's response once it is larger
	// and answers a request error with HTTP 400; 0 means no cap.
	MaxResponseBytes int
	// Rate is the sustained requests per second (token bucket); 0 means no limit.
	Rate float64
	// Burst is the bucket size; 0 means max(1, Rate).
	Burst int
	// RetryAfter adds a Retry-After header to 429 responses. Hygraph
	// documents none, so it is off by default.
	RetryAfter bool
	// Latency is added to every request before it is handled.
	Latency time.Duration
	// FailRate is the probability (0..1) that a request fails with a 5xx
	// before it is handled.
	FailRate float64
	// DropRate is the probability (0..1) that the connection is closed
	// without a response before the request is handled.
	DropRate float64
	// Seed makes the injected faults deterministic.
	Seed int64
}

// Counters count what a stage has served. The gate counts the requests,
// refusals and operations it lets through; the stage behind it counts the
// rest (Queries, Mutations, EntriesWritten). Safe for concurrent use.
type Counters struct {
	Requests  atomic.Int64 // HTTP requests received
	Rejected  atomic.Int64 // requests answered 401/403/413/429 or failed by injected faults
	Throttled atomic.Int64 // requests answered 429 (rate or concurrent operations), also in Rejected
	TooLarge  atomic.Int64 // requests answered 413, also in Rejected
	// QueryOperations and MutationOperations count the operations (root
	// fields) of the requests the gate let through to GraphQL.
	QueryOperations, MutationOperations atomic.Int64
	Queries                             atomic.Int64 // GraphQL query operations executed
	Mutations                           atomic.Int64 // root mutation fields executed
	EntriesWritten                      atomic.Int64 // documents created, updated, deleted, published or unpublished
}

// CountersSnapshot is a copy of Counters at one moment.
type CountersSnapshot struct {
	Requests, Rejected, Throttled, TooLarge, Queries, Mutations, EntriesWritten int64
	QueryOperations, MutationOperations                                         int64
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() CountersSnapshot {
	return CountersSnapshot{
		Requests:           c.Requests.Load(),
		Rejected:           c.Rejected.Load(),
		Throttled:          c.Throttled.Load(),
		TooLarge:           c.TooLarge.Load(),
		QueryOperations:    c.QueryOperations.Load(),
		MutationOperations: c.MutationOperations.Load(),
		Queries:            c.Queries.Load(),
		Mutations:          c.Mutations.Load(),
		EntriesWritten:     c.EntriesWritten.Load(),
	}
}
