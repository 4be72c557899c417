package filestack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Default endpoints of the Filestack API and CDN.
const (
	DefaultAPIURL = "https://www.filestackapi.com"
	DefaultCDNURL = "https://cdn.filestackcontent.com"
)

const (
	defaultRetries   = 3
	defaultMinWait   = 250 * time.Millisecond
	defaultMaxWait   = 8 * time.Second
	maxRetryAfter    = time.Minute
	policyTTL        = time.Hour
	maxErrorBodySize = 512
)

// Client calls the Filestack API of one application (one API key). It is
// safe for concurrent use.
type Client struct {
	apiKey  string
	apiURL  string
	cdnURL  string
	hc      *http.Client
	secret  string
	retries int
	minWait time.Duration
	maxWait time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithAPIURL sets the base URL of the API (default DefaultAPIURL); calls go
// to <u>/api/....
func WithAPIURL(u string) Option {
	return func(c *Client) { c.apiURL = strings.TrimRight(u, "/") }
}

// WithCDNURL sets the base URL of the CDN (default DefaultCDNURL); files
// are downloaded from <u>/<handle>.
func WithCDNURL(u string) Option {
	return func(c *Client) { c.cdnURL = strings.TrimRight(u, "/") }
}

// WithHTTPClient sets the HTTP client (default http.DefaultClient). Its
// Timeout, if any, bounds every attempt including a streamed download;
// prefer contexts.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithSecret sets the application's secret. When set, every call carries a
// policy limited to that call (and file) for an hour, and its signature.
func WithSecret(secret string) Option {
	return func(c *Client) { c.secret = secret }
}

// WithRetry sets how many times a transient failure is retried (default 3;
// 0 disables retries) and the backoff between attempts: it starts around
// minWait, doubles each time and is capped at maxWait (defaults 250ms and
// 8s). A Retry-After answer waits longer, up to a minute.
func WithRetry(retries int, minWait, maxWait time.Duration) Option {
	return func(c *Client) {
		c.retries = max(retries, 0)
		c.minWait = max(minWait, 0)
		c.maxWait = max(maxWait, c.minWait)
	}
}

// New returns a client for the Filestack application with the API key.
func New(apiKey string, opts ...Option) *Client {
	c := &Client{
		apiKey:  apiKey,
		apiURL:  DefaultAPIURL,
		cdnURL:  DefaultCDNURL,
		hc:      http.DefaultClient,
		retries: defaultRetries,
		minWait: defaultMinWait,
		maxWait: defaultMaxWait,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// APIKey returns the application's API key.
func (c *Client) APIKey() string { return c.apiKey }

// CDNURL returns the URL of the file with the handle on the CDN.
func (c *Client) CDNURL(handle string) string {
	return c.cdnURL + "/" + url.PathEscape(handle)
}

// HandleFromURL returns the handle of a Filestack file URL: its last path
// segment, so that transformation URLs such as
// https://cdn.filestackcontent.com/resize=w:100/HANDLE work too. It
// returns "" for a URL without a path.
func HandleFromURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	path := strings.TrimRight(p.Path, "/")
	return path[strings.LastIndexByte(path, '/')+1:]
}

// sign adds key, policy and signature for call (and handle) to q.
func (c *Client) sign(q url.Values, call, handle string) error {
	if c.secret == "" {
		return nil
	}
	p := Policy{Expiry: time.Now().Add(policyTTL).Unix(), Call: []string{call}, Handle: handle}
	policy, sig, err := Sign(c.secret, p)
	if err != nil {
		return err
	}
	q.Set("policy", policy)
	q.Set("signature", sig)
	return nil
}

// checkHandle rejects handles that cannot name a file.
func checkHandle(op, handle string) error {
	if handle == "" || strings.ContainsAny(handle, "/?#") {
		return &Error{Op: op, Handle: handle, Message: "invalid handle"}
	}
	return nil
}

// attempt builds the request of one attempt. release is called once the
// answer has been dealt with (its body read or closed); it returns the
// error of the caller's body, if reading it failed.
type attempt func(ctx context.Context, n int) (req *http.Request, release func() error, err error)

func noRelease() error { return nil }

// send runs a call, retrying transient failures while retry allows. It
// returns a 2xx answer, which the caller must close and then release.
func (c *Client) send(ctx context.Context, op, handle string, retry bool, build attempt) (*http.Response, func() error, error) {
	for n := 0; ; n++ {
		req, release, err := build(ctx, n)
		if err != nil {
			var fe *Error
			if errors.As(err, &fe) {
				return nil, nil, fe
			}
			return nil, nil, &Error{Op: op, Handle: handle, Err: err}
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			release()
			return nil, nil, &Error{Op: op, Handle: handle, Message: fmt.Sprintf("unsupported URL scheme %q", req.URL.Scheme)}
		}
		var (
			fail       *Error
			retryAfter time.Duration
		)
		resp, err := c.hc.Do(req)
		switch {
		case err != nil:
			berr := release()
			if cerr := ctx.Err(); cerr != nil {
				return nil, nil, &Error{Op: op, Handle: handle, Err: cerr}
			}
			if berr != nil {
				return nil, nil, &Error{Op: op, Handle: handle, Message: "reading the file", Err: berr}
			}
			fail = transportError(op, handle, err)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp, release, nil
		default:
			fail = statusError(op, handle, resp)
			retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			release()
		}
		if !retry || !fail.Temporary() || n >= c.retries {
			return nil, nil, fail
		}
		if err := sleep(ctx, c.backoff(n, retryAfter)); err != nil {
			return nil, nil, &Error{Op: op, Handle: handle, Message: "waiting to retry after " + fail.Error(), Err: err}
		}
	}
}

// statusError reads the start of a non-2xx answer and closes it.
func statusError(op, handle string, resp *http.Response) *Error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodySize))
	msg := strings.TrimSpace(string(body))
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		msg = strings.Join(strings.Fields(msg), " ")
	} else {
		msg = ""
	}
	return &Error{Op: op, Handle: handle, Status: resp.StatusCode, Message: msg}
}

// backoff returns the wait before retry n+1: exponential from minWait,
// capped at maxWait, jittered to between half and all of it, and no less
// than what the server asked for (up to a minute).
func (c *Client) backoff(n int, retryAfter time.Duration) time.Duration {
	d := c.maxWait
	if n < 30 {
		if e := c.minWait << n; e > 0 && e < d {
			d = e
		}
	}
	if d > 1 {
		d = d/2 + rand.N(d/2+1)
	}
	if retryAfter > d {
		d = min(retryAfter, maxRetryAfter)
	}
	return d
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// apiEndpoint returns the URL of an API path with the query q.
func (c *Client) apiEndpoint(path string, q url.Values) string {
	u := c.apiURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}
