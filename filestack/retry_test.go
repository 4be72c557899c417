package filestack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/filestack/filestacktest"
)

// opCase is one client call, run against a server holding one file.
type opCase struct {
	name string
	op   filestacktest.Op
	run  func(ctx context.Context, c *filestack.Client, f filestacktest.StoredFile) error
}

var data = pattern(100_000)

var opCases = []opCase{
	{"StoreURL", filestacktest.OpStore, func(ctx context.Context, c *filestack.Client, f filestacktest.StoredFile) error {
		_, err := c.StoreURL(ctx, f.URL, filestack.StoreOptions{Filename: "copy.png"})
		return err
	}},
	{"Upload seekable", filestacktest.OpUpload, func(ctx context.Context, c *filestack.Client, _ filestacktest.StoredFile) error {
		_, err := c.Upload(ctx, bytes.NewReader(data), filestack.StoreOptions{Filename: "up.png"})
		return err
	}},
	{"UploadFunc", filestacktest.OpUpload, func(ctx context.Context, c *filestack.Client, _ filestacktest.StoredFile) error {
		_, err := c.UploadFunc(ctx, func() (io.ReadCloser, error) {
			return io.NopCloser(onlyReader{bytes.NewReader(data)}), nil
		}, filestack.StoreOptions{Filename: "up.png"})
		return err
	}},
	{"Metadata", filestacktest.OpMetadata, func(ctx context.Context, c *filestack.Client, f filestacktest.StoredFile) error {
		_, err := c.Metadata(ctx, f.Handle)
		return err
	}},
	{"Delete", filestacktest.OpDelete, func(ctx context.Context, c *filestack.Client, f filestacktest.StoredFile) error {
		return c.Delete(ctx, f.Handle)
	}},
	{"Download", filestacktest.OpDownload, func(ctx context.Context, c *filestack.Client, f filestacktest.StoredFile) error {
		body, err := c.Download(ctx, f.Handle)
		if err != nil {
			return err
		}
		defer body.Close()
		got, err := io.ReadAll(body)
		if err == nil && !bytes.Equal(got, data) {
			err = errors.New("downloaded bytes differ")
		}
		return err
	}},
}

// TestRetries injects failures into every call and checks which are
// retried, how often, and what the caller gets.
func TestRetries(t *testing.T) {
	scenarios := []struct {
		name         string
		fault        func(n int) int // status for attempt n, 0 to serve
		wantAttempts int
		wantStatus   int // 0: the call succeeds
		temporary    bool
	}{
		{"503 once", func(n int) int { return when(n == 1, 503) }, 2, 0, false},
		{"429 twice", func(n int) int { return when(n <= 2, 429) }, 3, 0, false},
		{"500 always gives up", func(int) int { return 500 }, 4, 500, true},
		{"400 is not retried", func(int) int { return 400 }, 1, 400, false},
		{"403 is not retried", func(int) int { return 403 }, 1, 403, false},
		{"404 is not retried", func(int) int { return 404 }, 1, 404, false},
	}
	for _, oc := range opCases {
		for _, sc := range scenarios {
			t.Run(oc.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				var attempts atomic.Int64
				fs := filestacktest.NewServer(t, filestacktest.WithFault(func(c filestacktest.Call) int {
					if c.Op != oc.op {
						return 0
					}
					attempts.Store(int64(c.N))
					return sc.fault(c.N)
				}))
				f := fs.Bucket("K").Put("a.png", "image/png", data)
				err := oc.run(context.Background(), fs.Client("K"), f)
				if got := attempts.Load(); got != int64(sc.wantAttempts) {
					t.Errorf("%d attempts, want %d", got, sc.wantAttempts)
				}
				if sc.wantStatus == 0 {
					if err != nil {
						t.Fatalf("error %v, want success", err)
					}
					return
				}
				fe := asError(t, err)
				if fe.Status != sc.wantStatus || fe.Temporary() != sc.temporary || fe.Op == "" {
					t.Errorf("error %+v (temporary %v), want status %d temporary %v", fe, fe.Temporary(), sc.wantStatus, sc.temporary)
				}
				if got := fs.Counters().Faults; got != int64(sc.wantAttempts) {
					t.Errorf("%d faults served, want %d", got, sc.wantAttempts)
				}
			})
		}
	}
}

func when(cond bool, status int) int {
	if cond {
		return status
	}
	return 0
}

// TestUploadUnseekableIsNotRetried checks that a reader that cannot be
// rewound gets exactly one attempt, and that the error still says the
// failure was temporary.
func TestUploadUnseekableIsNotRetried(t *testing.T) {
	var attempts atomic.Int64
	fs := filestacktest.NewServer(t, filestacktest.WithFault(func(c filestacktest.Call) int {
		attempts.Store(int64(c.N))
		return 503
	}))
	_, err := fs.Client("K").Upload(context.Background(), onlyReader{bytes.NewReader(data)}, filestack.StoreOptions{Filename: "x"})
	if fe := asError(t, err); fe.Status != 503 || !fe.Temporary() || attempts.Load() != 1 {
		t.Errorf("error %v after %d attempts, want one 503", err, attempts.Load())
	}
}

// TestUploadReopensForEachAttempt checks that UploadFunc opens a fresh body
// for each attempt and closes every body it opened.
func TestUploadReopensForEachAttempt(t *testing.T) {
	fs := filestacktest.NewServer(t, filestacktest.WithFault(func(c filestacktest.Call) int {
		return when(c.N <= 2, 502)
	}))
	var opened, closed atomic.Int64
	f, err := fs.Client("K").UploadFunc(context.Background(), func() (io.ReadCloser, error) {
		opened.Add(1)
		return &closeCounter{Reader: onlyReader{bytes.NewReader(data)}, closed: &closed}, nil
	}, filestack.StoreOptions{Filename: "x.bin"})
	if err != nil {
		t.Fatal(err)
	}
	if opened.Load() != 3 || closed.Load() != 3 {
		t.Errorf("opened %d, closed %d, want 3 and 3", opened.Load(), closed.Load())
	}
	if stored, _ := fs.File(f.Handle); stored.SHA256 != sha(data) {
		t.Error("stored bytes differ")
	}
}

type closeCounter struct {
	io.Reader
	closed *atomic.Int64
}

func (c *closeCounter) Close() error { c.closed.Add(1); return nil }

// TestUploadOpenError checks that a body that cannot be opened ends the
// call at once, with the cause.
func TestUploadOpenError(t *testing.T) {
	fs := filestacktest.NewServer(t)
	boom := errors.New("boom")
	_, err := fs.Client("K").UploadFunc(context.Background(), func() (io.ReadCloser, error) { return nil, boom }, filestack.StoreOptions{})
	if !errors.Is(err, boom) || asError(t, err).Temporary() {
		t.Errorf("error %v, want boom, not temporary", err)
	}
	if fs.Counters().Requests != 0 {
		t.Error("a request was sent")
	}
}

// TestUploadReaderError checks that a failing reader is reported as such
// and not retried.
func TestUploadReaderError(t *testing.T) {
	fs := filestacktest.NewServer(t)
	boom := errors.New("disk on fire")
	opened := 0
	_, err := fs.Client("K").UploadFunc(context.Background(), func() (io.ReadCloser, error) {
		opened++
		return io.NopCloser(io.MultiReader(bytes.NewReader(data), errReader{boom})), nil
	}, filestack.StoreOptions{})
	if !errors.Is(err, boom) || opened != 1 {
		t.Errorf("error %v after %d opens, want %v after 1", err, opened, boom)
	}
	if len(fs.Files("K")) != 0 {
		t.Error("a truncated file was stored")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestDeleteLostAnswer checks that a delete whose first answer was lost,
// and whose retry finds the file gone, succeeds.
func TestDeleteLostAnswer(t *testing.T) {
	fs := filestacktest.NewServer(t)
	f := fs.Bucket("K").Put("a.txt", "", []byte("x"))
	var once sync.Once
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := fs.HTTPClient().Transport.RoundTrip(r)
		lost := false
		once.Do(func() { lost = true })
		if lost && err == nil {
			resp.Body.Close()
			return nil, errors.New("connection reset by peer")
		}
		return resp, err
	})}
	if err := fs.Client("K", filestack.WithHTTPClient(hc)).Delete(context.Background(), f.Handle); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if cs := fs.Counters(); cs.Deletes != 1 || cs.Failures != 1 {
		t.Errorf("counters %+v, want one delete and one 404", cs)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTransportErrorsAreRetried checks that network errors are retried and
// reported as temporary once the retries run out.
func TestTransportErrorsAreRetried(t *testing.T) {
	var calls atomic.Int64
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		return nil, errors.New("connection refused")
	})}
	c := filestack.New("K", filestack.WithAPIURL("http://filestack.invalid"), filestack.WithHTTPClient(hc),
		filestack.WithRetry(2, time.Microsecond, time.Microsecond))
	_, err := c.Upload(context.Background(), bytes.NewReader(data), filestack.StoreOptions{})
	if fe := asError(t, err); !fe.Temporary() || fe.Status != 0 || calls.Load() != 3 {
		t.Errorf("error %v (temporary %v) after %d calls, want temporary after 3", err, fe.Temporary(), calls.Load())
	}
}

// TestCancelInFlight cancels the context while the server holds each call
// and checks that the call returns the context's error, not retried.
func TestCancelInFlight(t *testing.T) {
	for _, oc := range opCases {
		t.Run(oc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var attempts atomic.Int64
			fs := filestacktest.NewServer(t, filestacktest.WithFault(func(c filestacktest.Call) int {
				if c.Op != oc.op {
					return 0
				}
				attempts.Add(1)
				cancel()
				<-c.Request.Context().Done() // the client leaves, or the server closes
				return 503
			}))
			f := fs.Bucket("K").Put("a.png", "image/png", data)
			err := oc.run(ctx, fs.Client("K"), f)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			if fe := asError(t, err); fe.Temporary() || attempts.Load() != 1 {
				t.Errorf("error %+v after %d attempts", fe, attempts.Load())
			}
		})
	}
}

// TestCancelDuringBackoff cancels the context once a 503 is in and checks
// that the client stops waiting for its (hour-long) backoff.
func TestCancelDuringBackoff(t *testing.T) {
	fs := filestacktest.NewServer(t, filestacktest.WithFault(func(filestacktest.Call) int { return 503 }))
	f := fs.Bucket("K").Put("a.txt", "", []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := fs.HTTPClient().Transport.RoundTrip(r)
		cancel() // the answer is in; now the client would wait
		return resp, err
	})}
	c := fs.Client("K", filestack.WithHTTPClient(hc), filestack.WithRetry(3, time.Hour, time.Hour))
	_, err := c.Metadata(ctx, f.Handle)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if fs.Counters().Faults != 1 {
		t.Errorf("%d attempts, want 1", fs.Counters().Faults)
	}
}

// TestCancelDuringDownload cancels the context while a download is being
// read.
func TestCancelDuringDownload(t *testing.T) {
	fs := filestacktest.NewServer(t)
	f := fs.Bucket("K").Put("big.bin", "", pattern(8<<20))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, err := fs.Client("K").Download(ctx, f.Handle)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if _, err := io.ReadFull(body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	n, err := io.Copy(io.Discard, body)
	if err == nil || n >= 8<<20-1000 {
		t.Errorf("read %d more bytes and %v after cancel, want an error", n, err)
	}
}

// TestExpiredContext checks that nothing is sent with a done context.
func TestExpiredContext(t *testing.T) {
	fs := filestacktest.NewServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fs.Client("K").StoreURL(ctx, "http://example.com/a.png", filestack.StoreOptions{})
	if !errors.Is(err, context.Canceled) || asError(t, err).Temporary() {
		t.Errorf("error %v", err)
	}
	if fs.Counters().Requests != 0 {
		t.Error("a request was sent")
	}
}
