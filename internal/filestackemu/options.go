package filestackemu

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	latency         time.Duration
	faults          []func(Call) int
	memoryThreshold int64
	dir             string
	fetch           *http.Client
	listener        net.Listener
	now             func() time.Time
}

// defaultMemoryThreshold is the largest file kept in memory by default.
const defaultMemoryThreshold = 4 << 20

func defaults() config {
	return config{memoryThreshold: defaultMemoryThreshold, now: time.Now}
}

// WithLatency delays every request by d before it is handled (a request
// whose client goes away stops waiting).
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.latency = d }
}

// WithFault adds a fault hook. It is called for every call once the
// emulator knows what the call concerns (for an upload, once the part
// header has been read), and answers with the status it returns, or
// handles the call normally when it returns 0. Hooks run in the order they
// were added; the first non-zero status wins. A hook may be called
// concurrently and must not read the request's body.
func WithFault(f func(Call) int) Option {
	return func(c *config) { c.faults = append(c.faults, f) }
}

// WithFailRate makes a fraction p of store and upload calls fail with 503
// Service Unavailable. Which calls fail is decided by seed, the API key,
// the file's name and the call's attempt number N, never by arrival order,
// so that a run is reproducible even with concurrent uploads; a retry of a
// failed call gets a fresh draw.
func WithFailRate(p float64, seed uint64) Option {
	return WithFault(func(c Call) int {
		if c.Op != OpStore && c.Op != OpUpload {
			return 0
		}
		if Chance(seed, fmt.Sprintf("%s\x00%s\x00%s\x00%d", c.Op, c.APIKey, c.Filename, c.N)) < p {
			return http.StatusServiceUnavailable
		}
		return 0
	})
}

// WithMemoryThreshold keeps files of up to n bytes in memory and writes
// larger ones to disk (default 4 MiB), so that a large upload does not
// stay in RAM. 0 puts every file on disk; a negative n keeps every file in
// memory.
func WithMemoryThreshold(n int64) Option {
	return func(c *config) { c.memoryThreshold = n }
}

// WithDir sets the directory that files written to disk go to. By default
// the server creates a temporary directory when it first needs one and
// removes it on Close; a directory given here is left in place, but the
// server removes the files it wrote.
func WithDir(dir string) Option {
	return func(c *config) { c.dir = dir }
}

// WithHTTPClient sets the client that store-by-URL fetches with (default:
// a client of its own with no timeout; the call's context bounds it).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.fetch = hc }
}

// WithListener serves on l instead of a new listener on a free loopback
// port, for a server that must be reachable at a known address. The server
// closes l.
func WithListener(l net.Listener) Option {
	return func(c *config) { c.listener = l }
}

// WithClock sets the clock for upload times and policy expiry.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}
