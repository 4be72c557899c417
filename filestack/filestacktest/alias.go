package filestacktest

// The emulator lives in internal/filestackemu, so that `stagesync serve`
// does not link package testing; filestacktest is its front door for tests
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
	Bucket     = filestackemu.Bucket
	Call       = filestackemu.Call
	Counters   = filestackemu.Counters
	Op         = filestackemu.Op
	Option     = filestackemu.Option
	Server     = filestackemu.Server
	StoredFile = filestackemu.StoredFile
)

// Chance is filestackemu.Chance.
func Chance(seed uint64, key string) float64 { return filestackemu.Chance(seed, key) }

// New is filestackemu.New.
func New(opts ...Option) *Server { return filestackemu.New(opts...) }

// WithClock is filestackemu.WithClock.
func WithClock(now func() time.Time) Option { return filestackemu.WithClock(now) }

// WithDir is filestackemu.WithDir.
func WithDir(dir string) Option { return filestackemu.WithDir(dir) }

// WithFailRate is filestackemu.WithFailRate.
func WithFailRate(p float64, seed uint64) Option { return filestackemu.WithFailRate(p, seed) }

// WithFault is filestackemu.WithFault.
func WithFault(f func(Call) int) Option { return filestackemu.WithFault(f) }

// WithHTTPClient is filestackemu.WithHTTPClient.
func WithHTTPClient(hc *http.Client) Option { return filestackemu.WithHTTPClient(hc) }

// WithLatency is filestackemu.WithLatency.
func WithLatency(d time.Duration) Option { return filestackemu.WithLatency(d) }

// WithListener is filestackemu.WithListener.
func WithListener(l net.Listener) Option { return filestackemu.WithListener(l) }

// WithMemoryThreshold is filestackemu.WithMemoryThreshold.
func WithMemoryThreshold(n int64) Option { return filestackemu.WithMemoryThreshold(n) }
