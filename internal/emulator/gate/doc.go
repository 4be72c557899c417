// Package gate is the HTTP front of an emulated Hygraph stage: an
// http middleware (Gate.Wrap) that puts Hygraph's request limits in front
// of any handler. It owns the bearer tokens (full and read-only), the
// requests-per-second token bucket, the concurrent query and mutation
// operations counted per root field, the request body caps (overall and per
// kind), the query cost and response size caps the stage's executor is
// given (Limits), the injected faults (5xx and dropped connections) and
// latency, the plan presets (Plan, LookupPlan), and the Counters a stage
// reports. Refusals are answered with Hygraph's status codes and error
// body (WriteError). It knows GraphQL only as far as counting a request's
// root fields (DocumentShape); the stage behind it may tell it more
// precisely (the shape function given to New).
package gate
