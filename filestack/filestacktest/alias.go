package filestacktest

// The emulator lives in internal/filestackemu, so that `stagesync serve`
// does not link package testing (checked by cmd/stagesync's
// TestBinaryDoesNotLinkTesting); filestacktest is its front door for tests
// and programs: these are its names, documented there
// (go doc github.com/stagesync/stagesync/internal/filestackemu).

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stagesync/stagesync/internal/filestackemu"
)

// NewServer starts a server for a test and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := New(opts...)
	tb.Cleanup(s.Close)
	return s
}

const (
	OpDelete   = filestackemu.OpDelete
	OpDownload = filestackemu.OpDownload
	OpMetadata = filestackemu.OpMetadata
	OpStore    = filestackemu.OpStore
	OpUpload   = filestackemu.OpUpload
)

type (
	// Bucket is the storage of one Filestack application, known by its API key.
	Bucket = filestackemu.Bucket
	// Call is what a fault hook is told about a call.
	Call = filestackemu.Call
	// Counters count what a server has done since it started or since
	// ResetCounters.
	Counters = filestackemu.Counters
	// Op names a call of the API or the CDN.
	Op = filestackemu.Op
	// Option configures a Server.
	Option = filestackemu.Option
	// Server is an emulated Filestack: the API and the CDN of any number of
	// applications, served from one local port.
	Server = filestackemu.Server
	// StoredFile describes a file held by the emulator.
	StoredFile = filestackemu.StoredFile
)

// Chance returns a number in [0, 1) determined by seed and key alone, for
// fault hooks that must pick the same calls on every run:
//
//	if c.N == 1 && filestacktest.Chance(seed, c.Filename) < 0.2 {
//		return http.StatusServiceUnavailable // a fifth of the files fail once
//	}
func Chance(seed uint64, key string) float64 { return filestackemu.Chance(seed, key) }

// New starts a server on a free loopback port (or the listener of
// WithListener). Close it when done.
func New(opts ...Option) *Server { return filestackemu.New(opts...) }

// WithClock sets the clock for upload times and policy expiry.
func WithClock(now func() time.Time) Option { return filestackemu.WithClock(now) }

// WithDir sets the directory that files written to disk go to. By default
// the server creates a temporary directory when it first needs one and
// removes it on Close; a directory given here is left in place, but the
// server removes the files it wrote.
func WithDir(dir string) Option { return filestackemu.WithDir(dir) }

// WithFailRate makes a fraction p of store and upload calls fail with 503
// Service Unavailable. Which calls fail is decided by seed, the API key,
// the file's name and the call's attempt number N, never by arrival order,
// so that a run is reproducible even with concurrent uploads; a retry of a
// failed call gets a fresh draw.
func WithFailRate(p float64, seed uint64) Option { return filestackemu.WithFailRate(p, seed) }

// WithFault adds a fault hook. It is called for every call once the
// emulator knows what the call concerns (for an upload, once the part
// header has been read), and answers with the status it returns, or
// handles the call normally when it returns 0. Hooks run in the order they
// were added; the first non-zero status wins. A hook may be called
// concurrently and must not read the request's body.
func WithFault(f func(Call) int) Option { return filestackemu.WithFault(f) }

// WithHTTPClient sets the client that store-by-URL fetches with (default:
// a client of its own with no timeout; the call's context bounds it).
func WithHTTPClient(hc *http.Client) Option { return filestackemu.WithHTTPClient(hc) }

// WithLatency delays every request by d before it is handled (a request
// whose client goes away stops waiting).
func WithLatency(d time.Duration) Option { return filestackemu.WithLatency(d) }

// WithListener serves on l instead of a new listener on a free loopback
// port, for a server that must be reachable at a known address. The server
// closes l.
func WithListener(l net.Listener) Option { return filestackemu.WithListener(l) }

// WithMemoryThreshold keeps files of up to n bytes in memory and writes
// larger ones to disk (default 4 MiB), so that a large upload does not
// stay in RAM. 0 puts every file on disk; a negative n keeps every file in
// memory.
func WithMemoryThreshold(n int64) Option { return filestackemu.WithMemoryThreshold(n) }
