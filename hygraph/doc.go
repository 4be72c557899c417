// Package hygraph is the transport to Hygraph (GraphCMS) content-API
// stages on which package hygraph's sync engine sits, usable on its own:
// it links neither the engine nor SQLite.
//
//   - Stage is one content-API endpoint and its token: HTTP with retries
//     (hashicorp/go-retryablehttp) and a scheduler that keeps the stage's
//     request rate, query and mutation operations in flight and body sizes
//     under the limits it learns from 429 answers (see PlanLimits). Stage.Client is the graphql.Client that
//     genqlient-generated functions take; Stage.Do sends a raw operation.
//   - Batcher is a graphql.Client that merges concurrent requests into one
//     HTTP request (aliased root fields, renamed variables and fragments)
//     within a byte budget, and splits the response and its errors back per
//     caller. Under a strict rate limit it is what makes a sync fast.
//   - Paginate reads a cursor-paginated list as an iter.Seq2, reporting each
//     page's end cursor for checkpoints and resuming after one.
//
// Errors are typed for errors.As: *HTTPError (non-200 answers, naming the
// stage), *RateLimitError (429 after every retry), *GraphQLError (errors in a
// delivered response, with paths relative to the caller's own operation).
// A write that is not marked Idempotent and might have been applied before
// it failed matches ErrMaybeApplied, so the engine reconciles instead of
// creating a duplicate. Tokens never appear in errors, logs or formatted
// values.
package hygraph
