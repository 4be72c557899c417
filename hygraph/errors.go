package hygraph

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ErrMaybeApplied reports that a write which is not marked idempotent failed
// after its request may have reached the stage: a transport error once the
// request was written, a 5xx answer, or a cancellation while it was in
// flight. The write may or may not have been applied; the caller must
// reconcile (look the entry up) rather than repeat it. Test with errors.Is;
// the error also wraps the underlying cause.
var ErrMaybeApplied = errors.New("stagesync: write may have been applied")

// maxErrorBody bounds the response body kept in an HTTPError.
const maxErrorBody = 4 << 10

// HTTPError is a non-200 answer from a stage. Errors holds the GraphQL errors
// of the body when it was a GraphQL response.
type HTTPError struct {
	// Stage is the name of the stage that answered.
	Stage string
	// StatusCode is the HTTP status.
	StatusCode int
	// Body is the start of the response body (at most 4 KiB), with the
	// stage's token redacted should the server echo it.
	Body string
	// Errors are the GraphQL errors of the body, if it had any.
	Errors gqlerror.List
}

// Error names the stage and the status, never the token.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stage %q: HTTP %d %s", e.Stage, e.StatusCode, http.StatusText(e.StatusCode))
	switch e.StatusCode {
	case http.StatusUnauthorized:
		b.WriteString(": the stage rejected the token (is it a valid Permanent Auth Token for this environment?)")
	case http.StatusForbidden:
		b.WriteString(": the token is not allowed to do this (does it have mutation permissions for this stage?)")
	case http.StatusRequestEntityTooLarge:
		b.WriteString(": request body too large for the stage's plan")
	}
	switch {
	case len(e.Errors) > 0:
		b.WriteString(": ")
		b.WriteString(summarize(e.Errors))
	case e.Body != "" && e.StatusCode != http.StatusUnauthorized && e.StatusCode != http.StatusForbidden:
		body := e.Body
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		b.WriteString(": ")
		b.WriteString(body)
	}
	return b.String()
}

// RateLimitError is returned when a stage kept answering 429 Too Many
// Requests after every retry. It unwraps to the *HTTPError of the last
// answer.
type RateLimitError struct {
	// Stage is the name of the stage that answered.
	Stage string
	// RetryAfter is the wait the stage asked for in its last answer (its
	// Retry-After header, uncapped), or zero when it named none.
	RetryAfter time.Duration
	// Err is the last 429 answer.
	Err *HTTPError
}

// Error names the stage and the wait it asked for.
func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("stage %q: rate limited (HTTP 429), retry after %s", e.Stage, e.RetryAfter)
	}
	return fmt.Sprintf("stage %q: rate limited (HTTP 429)", e.Stage)
}

// Unwrap returns the last 429 answer.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// GraphQLError carries the errors of a GraphQL response that was delivered
// (HTTP 200). The response data, possibly partial, has been decoded into the
// caller's value; each error keeps its path, relative to the caller's own
// operation (also when the request was batched with others). It unwraps to
// the gqlerror.List, so code written against genqlient's plain client keeps
// working.
type GraphQLError struct {
	// Stage is the name of the stage that answered ("" when unknown).
	Stage string
	// Errors are the errors of the response, in order.
	Errors gqlerror.List
}

// Error names the stage and summarizes the errors with their paths.
func (e *GraphQLError) Error() string {
	if e.Stage == "" {
		return "graphql: " + summarize(e.Errors)
	}
	return fmt.Sprintf("stage %q: graphql: %s", e.Stage, summarize(e.Errors))
}

// Unwrap returns the error list.
func (e *GraphQLError) Unwrap() error { return e.Errors }

// summarize renders up to three errors with their paths.
func summarize(errs gqlerror.List) string {
	var b strings.Builder
	for i, err := range errs {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(errs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		if err == nil {
			b.WriteString("<nil>")
			continue
		}
		b.WriteString(err.Message)
		if len(err.Path) > 0 {
			fmt.Fprintf(&b, " (at %s)", err.Path.String())
		}
	}
	return b.String()
}

// maybeApplied wraps cause so that it matches ErrMaybeApplied too.
func maybeApplied(cause error) error {
	return fmt.Errorf("%w: %w", ErrMaybeApplied, cause)
}
