package filestack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/filestack"
)

func TestErrorIsAndTemporary(t *testing.T) {
	tests := []struct {
		err       *filestack.Error
		notFound  bool
		temporary bool
	}{
		{&filestack.Error{Op: "metadata", Status: 404}, true, false},
		{&filestack.Error{Op: "store", Status: 400}, false, false},
		{&filestack.Error{Op: "store", Status: 403}, false, false},
		{&filestack.Error{Op: "store", Status: 429}, false, true},
		{&filestack.Error{Op: "store", Status: 500}, false, true},
		{&filestack.Error{Op: "store", Status: 503}, false, true},
		{&filestack.Error{Op: "store", Err: context.Canceled}, false, false},
	}
	for _, tt := range tests {
		wrapped := fmt.Errorf("copying asset: %w", tt.err)
		if got := errors.Is(wrapped, filestack.ErrNotFound); got != tt.notFound {
			t.Errorf("%v: Is(ErrNotFound) = %v", tt.err, got)
		}
		if got := tt.err.Temporary(); got != tt.temporary {
			t.Errorf("%v: Temporary() = %v", tt.err, got)
		}
	}
	e := &filestack.Error{Op: "delete", Handle: "H", Status: 404, Message: "file not found"}
	if got, want := e.Error(), "filestack: delete H: HTTP 404 Not Found: file not found"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestErrorsRedactCredentials checks that a transport error, which names
// the request's URL, carries neither the key nor the policy nor the
// signature.
func TestErrorsRedactCredentials(t *testing.T) {
	const key, secret = "APIKEY123", "app-secret"
	var sent string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r.URL.RawQuery
		return nil, errors.New("connection reset")
	})}
	c := filestack.New(key, filestack.WithSecret(secret), filestack.WithHTTPClient(hc), filestack.WithRetry(0, 0, 0))
	err := c.Delete(context.Background(), "HANDLE")
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(sent, "signature=") || !strings.Contains(sent, "policy=") {
		t.Fatalf("request query %q is not signed", sent)
	}
	msg := err.Error()
	for _, leak := range []string{key, "policy=ey", "signature=" + sent[strings.Index(sent, "signature=")+10:][:8], secret} {
		if strings.Contains(msg, leak) {
			t.Errorf("error %q contains %q", msg, leak)
		}
	}
	if !strings.Contains(msg, "REDACTED") || !strings.Contains(msg, "connection reset") {
		t.Errorf("error %q does not show the redacted URL and the cause", msg)
	}
}

// TestErrorMessage checks what an answer's body becomes in an error.
func TestErrorMessage(t *testing.T) {
	tests := []struct {
		contentType, body, want string
	}{
		{"text/plain", "Invalid application\n  key", "Invalid application key"},
		{"text/html", "<html><body>Bad gateway</body></html>", ""},
		{"text/plain", strings.Repeat("x", 2000), strings.Repeat("x", 512)},
	}
	for _, tt := range tests {
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{
				StatusCode: http.StatusBadRequest,
				Header:     http.Header{"Content-Type": {tt.contentType}},
				Body:       io.NopCloser(strings.NewReader(tt.body)),
				Request:    r,
			}, nil
		})}
		c := filestack.New("K", filestack.WithHTTPClient(hc))
		_, err := c.Metadata(context.Background(), "H")
		if fe := asError(t, err); fe.Message != tt.want || fe.Status != 400 {
			t.Errorf("body %.20q: message %q, want %q", tt.body, fe.Message, tt.want)
		}
	}
}

// TestRetryAfter checks that a 429's Retry-After is honoured even when it
// is longer than the client's own backoff: with an hour to wait, the call
// ends with its context rather than with a second attempt a millisecond
// later.
func TestRetryAfter(t *testing.T) {
	calls := 0
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3600"}}, Body: http.NoBody, Request: r}, nil
		}
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"size":1}`)), Request: r}, nil
	})}
	c := filestack.New("K", filestack.WithHTTPClient(hc), filestack.WithRetry(1, time.Millisecond, time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Metadata(ctx, "H")
	if !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Errorf("error %v after %d calls, want the deadline after 1", err, calls)
	}
}
