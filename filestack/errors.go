package filestack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrNotFound reports that Filestack has no file with the handle (an HTTP
// 404 answer). Test for it with errors.Is.
var ErrNotFound = errors.New("filestack: file not found")

// Error is a failed Filestack call: an HTTP answer other than 2xx, a
// transport error, or an answer that could not be read. It never contains
// the API key, a policy or a signature.
type Error struct {
	// Op is the call that failed: "store", "upload", "metadata", "delete"
	// or "download".
	Op string
	// Status is the HTTP status of the answer, or 0 when there was none
	// (a transport error, a cancelled context, a body that could not be
	// read or reopened).
	Status int
	// Message is the start of the answer's body (Filestack answers errors
	// in plain text), or a description of what went wrong.
	Message string
	// Handle is the file concerned, when the call names one.
	Handle string
	// Err is the underlying cause, if any: a transport error, a context
	// error, the error of the caller's reader.
	Err error

	transient bool // for Status 0: the cause is worth a retry
}

// Error describes the failure: the call, the handle and what went wrong.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("filestack: ")
	b.WriteString(e.Op)
	if e.Handle != "" {
		b.WriteString(" ")
		b.WriteString(e.Handle)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether the error is ErrNotFound (a 404 answer).
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// Temporary reports whether the failure is transient, so that the same
// call may succeed later: a 429 or 5xx answer, or a network error. A
// cancelled or expired context is not temporary.
func (e *Error) Temporary() bool {
	if e.Status != 0 {
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	return e.transient
}

// transportError wraps an error of http.Client.Do, with the request's
// credentials redacted from the URL it names.
func transportError(op, handle string, err error) *Error {
	if ue, ok := err.(*url.Error); ok {
		cp := *ue
		cp.URL = redactURL(ue.URL)
		err = &cp
	}
	return &Error{Op: op, Handle: handle, Err: err, transient: transientTransport(err)}
}

// transientTransport reports whether a transport error is worth a retry:
// anything but a context error or a certificate problem.
func transientTransport(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	return !errors.As(err, &verr) && !errors.As(err, &uerr) && !errors.As(err, &herr) && !errors.As(err, &cerr)
}

// secretParams are the query parameters redacted from URLs in errors.
var secretParams = []string{"key", "policy", "signature"}

// redactURL replaces the credentials in a URL's query with REDACTED.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	changed := false
	for _, k := range secretParams {
		if q.Has(k) {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
