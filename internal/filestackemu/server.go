package filestackemu

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/stagesync/stagesync/filestack"
)

// Server is an emulated Filestack: the API and the CDN of any number of
// applications, served from one local port. It is safe for concurrent use.
type Server struct {
	cfg    config
	ts     *httptest.Server
	fetch  *http.Client
	ctx    context.Context // requests' base context, cancelled by Close
	cancel context.CancelFunc

	mu       sync.Mutex
	buckets  map[string]*Bucket
	files    map[string]*entry // by handle
	attempts map[attemptKey]int
	counters Counters
	dir      string // where files on disk go, once needed
	ownDir   bool   // dir was created by the server
	closed   bool
}

// entry is a stored file and its bytes.
type entry struct {
	StoredFile
	blob blob
}

type attemptKey struct {
	op     Op
	apiKey string
	name   string
}

// New starts a server on a free loopback port (or the listener of
// WithListener). Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		cfg:      defaults(),
		buckets:  make(map[string]*Bucket),
		files:    make(map[string]*entry),
		attempts: make(map[attemptKey]int),
	}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.fetch = s.cfg.fetch
	if s.fetch == nil {
		s.fetch = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.ts = httptest.NewUnstartedServer(s.handler())
	s.ts.Config.BaseContext = func(net.Listener) context.Context { return s.ctx }
	if s.cfg.listener != nil {
		s.ts.Listener.Close()
		s.ts.Listener = s.cfg.listener
	}
	s.ts.Start()
	return s
}

// Close stops the server, abandons the calls in flight and removes the
// files it wrote to disk. It is safe to call more than once.
func (s *Server) Close() {
	s.cancel()
	s.ts.Close()
	if tr, ok := s.fetch.Transport.(*http.Transport); ok && s.cfg.fetch == nil {
		tr.CloseIdleConnections()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, e := range s.files {
		e.blob.remove()
	}
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}

// URL returns the server's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.ts.URL }

// APIURL returns the base URL of the API, for filestack.WithAPIURL.
func (s *Server) APIURL() string { return s.ts.URL }

// CDNURL returns the base URL of the CDN, for filestack.WithCDNURL: a
// file is served at CDNURL()/<handle>.
func (s *Server) CDNURL() string { return s.ts.URL + "/cdn" }

// HTTPClient returns an HTTP client for the server.
func (s *Server) HTTPClient() *http.Client { return s.ts.Client() }

// Client returns a filestack.Client for the application with the API key,
// creating its bucket if needed and signing with the bucket's secret if it
// has one. It retries quickly (three retries, 1–10ms apart), so that fault
// tests run fast. For a key with no bucket, use filestack.New with APIURL
// and CDNURL.
func (s *Server) Client(apiKey string, opts ...filestack.Option) *filestack.Client {
	b := s.Bucket(apiKey)
	o := []filestack.Option{
		filestack.WithAPIURL(s.APIURL()),
		filestack.WithCDNURL(s.CDNURL()),
		filestack.WithHTTPClient(s.HTTPClient()),
		filestack.WithRetry(3, time.Millisecond, 10*time.Millisecond),
	}
	if sec := b.Secret(); sec != "" {
		o = append(o, filestack.WithSecret(sec))
	}
	return filestack.New(apiKey, append(o, opts...)...)
}

// Counters count what a server has done since it started or since
// ResetCounters.
type Counters struct {
	// Requests counts every request.
	Requests int64
	// Stores and Uploads count files stored by URL and by upload.
	Stores  int64
	Uploads int64
	// BytesUploaded counts the bytes of every file stored, by upload or by
	// URL.
	BytesUploaded int64
	// Downloads counts requests for a file the CDN found (HEAD and range
	// requests included); BytesDownloaded the bytes it sent.
	Downloads       int64
	BytesDownloaded int64
	// Metadata and Deletes count successful metadata and delete calls.
	Metadata int64
	Deletes  int64
	// Failures counts requests answered with an error status, injected
	// or not; Faults counts those a fault hook decided.
	Failures int64
	Faults   int64
}

// Counters returns a copy of the counters.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// ResetCounters sets every counter to zero; the attempt numbers that fault
// hooks see are kept.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters = Counters{}
}

// count applies f to the counters under the lock.
func (s *Server) count(f func(*Counters)) {
	s.mu.Lock()
	f(&s.counters)
	s.mu.Unlock()
}

const handleAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomText returns n random characters of handleAlphabet.
func randomText(n int) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, c := range buf {
			if c < 248 && len(out) < n { // 248 = 4*62: no modulo bias
				out = append(out, handleAlphabet[c%62])
			}
		}
	}
	return string(out)
}

// newHandle returns an unused handle; the caller holds s.mu.
func (s *Server) newHandle() string {
	for {
		h := randomText(20)
		if _, ok := s.files[h]; !ok {
			return h
		}
	}
}
