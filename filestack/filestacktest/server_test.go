package filestacktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/filestack/filestacktest"
)

var ctx = context.Background()

func TestHandles(t *testing.T) {
	fs := filestacktest.NewServer(t)
	b := fs.Bucket("K")
	re := regexp.MustCompile(`^[A-Za-z0-9]{20}$`)
	seen := map[string]bool{}
	for i := range 200 {
		f := b.Put(fmt.Sprintf("f%03d.txt", i), "", []byte("x"))
		if !re.MatchString(f.Handle) || seen[f.Handle] {
			t.Fatalf("handle %q: malformed or repeated", f.Handle)
		}
		seen[f.Handle] = true
		if f.URL != fs.CDNURL()+"/"+f.Handle {
			t.Errorf("URL %q", f.URL)
		}
	}
	if got := len(fs.Files("K")); got != 200 {
		t.Errorf("%d files", got)
	}
}

func TestPutDetectsTypes(t *testing.T) {
	fs := filestacktest.NewServer(t)
	b := fs.Bucket("K")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	tests := []struct {
		name, mimeType string
		data           []byte
		want           string
	}{
		{"a.png", "", []byte("x"), "image/png"},
		{"noext", "", png, "image/png"},
		{"noext", "", []byte("plain words"), "text/plain"},
		{"a.png", "image/webp", png, "image/webp"},
	}
	for _, tt := range tests {
		if got := b.Put(tt.name, tt.mimeType, tt.data).MimeType; got != tt.want {
			t.Errorf("Put(%q, %q) type %q, want %q", tt.name, tt.mimeType, got, tt.want)
		}
	}
}

func TestUnknownKeyIsForbidden(t *testing.T) {
	fs := filestacktest.NewServer(t)
	f := fs.Bucket("K").Put("a.txt", "", []byte("x"))
	c := filestack.New("NOPE", filestack.WithAPIURL(fs.APIURL()), filestack.WithCDNURL(fs.CDNURL()))
	_, err := c.StoreURL(ctx, f.URL, filestack.StoreOptions{})
	checkStatus(t, "StoreURL", err, http.StatusForbidden)
	_, err = c.Upload(ctx, bytes.NewReader(make([]byte, 1<<20)), filestack.StoreOptions{})
	checkStatus(t, "Upload", err, http.StatusForbidden)
	if cs := fs.Counters(); cs.Failures != 2 || cs.Stores != 0 || cs.Uploads != 0 {
		t.Errorf("counters %+v", cs)
	}
	if fs.Files("NOPE") != nil {
		t.Error("a bucket appeared for an unknown key")
	}
}

func TestStoreURLFailures(t *testing.T) {
	fs := filestacktest.NewServer(t)
	c := fs.Client("K")
	for _, src := range []string{fs.CDNURL() + "/NoSuchHandle", "ftp://example.com/a.png", ""} {
		_, err := c.StoreURL(ctx, src, filestack.StoreOptions{})
		checkStatus(t, "StoreURL "+src, err, http.StatusBadRequest)
	}
}

// TestStoreURLFromAnotherServer copies a file between two emulators, as a
// sync between two projects would.
func TestStoreURLFromAnotherServer(t *testing.T) {
	a, b := filestacktest.NewServer(t), filestacktest.NewServer(t)
	src := a.Bucket("A").Put("photo.jpg", "image/jpeg", bytes.Repeat([]byte("jpeg"), 5000))
	f, err := b.Client("B").StoreURL(ctx, src.URL, filestack.StoreOptions{Filename: "photo.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := b.File(f.Handle)
	if got.SHA256 != src.SHA256 || got.MimeType != "image/jpeg" || got.APIKey != "B" {
		t.Errorf("copy %+v of %+v", got, src)
	}
	if a.Counters().Downloads != 1 || b.Counters().Stores != 1 || b.Counters().BytesUploaded != 20000 {
		t.Errorf("counters %+v and %+v", a.Counters(), b.Counters())
	}
}

func TestRawUpload(t *testing.T) {
	fs := filestacktest.NewServer(t)
	fs.Bucket("K")
	resp, err := fs.HTTPClient().Post(fs.APIURL()+"/api/store/S3?key=K&filename=x.bin", "image/gif", strings.NewReader("GIF89a"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f filestack.File
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if f.Filename != "x.bin" || f.Type != "image/gif" || f.Size != 6 || f.Container != "" {
		t.Errorf("answer %+v", f)
	}
}

func TestMultipartWithoutFile(t *testing.T) {
	fs := filestacktest.NewServer(t)
	fs.Bucket("K")
	body := "--B\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--B--\r\n"
	resp, err := fs.HTTPClient().Post(fs.APIURL()+"/api/store/S3?key=K", "multipart/form-data; boundary=B", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}

func TestMetadataFields(t *testing.T) {
	fs := filestacktest.NewServer(t)
	f := fs.Bucket("K").Put("a.txt", "", []byte("hello"))
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"container", "filename", "key", "location", "mimetype", "path", "size", "uploaded", "writeable"}},
		{"?md5=true", []string{"md5"}},
		{"?sha256=true&size=true&bogus=true", []string{"sha256", "size"}},
	}
	for _, tt := range tests {
		resp, err := fs.HTTPClient().Get(fs.APIURL() + "/api/file/" + f.Handle + "/metadata" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, tt.want) {
			t.Errorf("%q: fields %v, want %v", tt.query, got, tt.want)
		}
		if h, ok := m["sha256"]; ok && h != f.SHA256 {
			t.Errorf("sha256 %v, want %s", h, f.SHA256)
		}
	}
}

func TestDeleteNeedsOwnerKey(t *testing.T) {
	fs := filestacktest.NewServer(t)
	f := fs.Bucket("K").Put("a.txt", "", []byte("x"))
	for _, q := range []string{"", "?key=OTHER"} {
		req, _ := http.NewRequest(http.MethodDelete, fs.APIURL()+"/api/file/"+f.Handle+q, nil)
		resp, err := fs.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("delete%s: status %d, want 403", q, resp.StatusCode)
		}
	}
	if _, ok := fs.File(f.Handle); !ok {
		t.Error("file deleted")
	}
}

func TestCDN(t *testing.T) {
	fs := filestacktest.NewServer(t)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	f := fs.Bucket("K").Put("a.csv", "text/csv", data)
	hc := fs.HTTPClient()

	resp, err := hc.Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "text/csv" || resp.ContentLength != int64(len(data)) {
		t.Errorf("GET: %d, %d bytes, type %q, length %d", resp.StatusCode, len(got), resp.Header.Get("Content-Type"), resp.ContentLength)
	}

	req, _ := http.NewRequest(http.MethodGet, f.URL, nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(got) != "0123456789" {
		t.Errorf("range: %d %q", resp.StatusCode, got)
	}

	resp, err = hc.Head(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(data)) {
		t.Errorf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}

	resp, err = hc.Get(fs.CDNURL() + "/NoSuchHandle")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown handle: %d", resp.StatusCode)
	}

	cs := fs.Counters()
	if cs.Downloads != 3 || cs.BytesDownloaded != int64(len(data))+10 || cs.Failures != 1 || cs.Requests != 4 {
		t.Errorf("counters %+v", cs)
	}
	fs.ResetCounters()
	if cs := fs.Counters(); cs != (filestacktest.Counters{}) {
		t.Errorf("after reset: %+v", cs)
	}
}

// TestFailRateIsDeterministic uploads the same files concurrently to two
// servers with the same seed and checks that the same files fail.
func TestFailRateIsDeterministic(t *testing.T) {
	failed := func(seed uint64) []string {
		fs := filestacktest.NewServer(t, filestacktest.WithFailRate(0.3, seed))
		c := fs.Client("K", filestack.WithRetry(0, 0, 0))
		var (
			mu  sync.Mutex
			out []string
		)
		var g errgroup.Group
		g.SetLimit(8)
		for i := range 60 {
			name := fmt.Sprintf("file-%02d.png", i)
			g.Go(func() error {
				_, err := c.Upload(ctx, strings.NewReader(name), filestack.StoreOptions{Filename: name})
				if err != nil {
					var fe *filestack.Error
					if !errors.As(err, &fe) || fe.Status != http.StatusServiceUnavailable {
						return err
					}
					mu.Lock()
					out = append(out, name)
					mu.Unlock()
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if cs := fs.Counters(); cs.Faults != int64(len(out)) || cs.Uploads != int64(60-len(out)) {
			t.Errorf("counters %+v with %d failures", cs, len(out))
		}
		slices.Sort(out)
		return out
	}
	first, again, other := failed(7), failed(7), failed(8)
	if !slices.Equal(first, again) {
		t.Errorf("seed 7 failed %v, then %v", first, again)
	}
	if slices.Equal(first, other) {
		t.Errorf("seeds 7 and 8 failed the same files %v", first)
	}
	if len(first) < 6 || len(first) > 30 {
		t.Errorf("%d of 60 failed at rate 0.3", len(first))
	}
}

// TestFaultStory is the scenario engine tests need: a fifth of the files
// fail once, two fail every time, everything else gets through on retry.
func TestFaultStory(t *testing.T) {
	const seed = 42
	broken := map[string]bool{"broken-1.png": true, "broken-2.png": true}
	flaky := func(name string) bool { return filestacktest.Chance(seed, name) < 0.2 }
	fs := filestacktest.NewServer(t, filestacktest.WithFault(func(c filestacktest.Call) int {
		switch {
		case c.Op != filestacktest.OpUpload:
			return 0
		case broken[c.Filename]:
			return http.StatusInternalServerError
		case c.N == 1 && flaky(c.Filename):
			return http.StatusServiceUnavailable
		}
		return 0
	}))
	c := fs.Client("K")
	names := slices.Sorted(maps.Keys(broken))
	wantFlaky := 0
	for i := range 40 {
		name := fmt.Sprintf("photo-%02d.png", i)
		names = append(names, name)
		if flaky(name) {
			wantFlaky++
		}
	}
	var (
		mu     sync.Mutex
		failed []string
	)
	var g errgroup.Group
	g.SetLimit(6)
	for _, name := range names {
		g.Go(func() error {
			_, err := c.Upload(ctx, strings.NewReader("bytes of "+name), filestack.StoreOptions{Filename: name})
			if err != nil {
				mu.Lock()
				failed = append(failed, name)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	slices.Sort(failed)
	if want := slices.Sorted(maps.Keys(broken)); !slices.Equal(failed, want) {
		t.Errorf("failed %v, want %v", failed, want)
	}
	if wantFlaky == 0 || wantFlaky == 40 {
		t.Fatalf("%d flaky files: a useless seed", wantFlaky)
	}
	cs := fs.Counters()
	if cs.Uploads != 40 || cs.Faults != int64(wantFlaky+2*4) || cs.Failures != cs.Faults {
		t.Errorf("counters %+v, want 40 uploads and %d faults", cs, wantFlaky+8)
	}
	if got := len(fs.Files("K")); got != 40 {
		t.Errorf("%d files stored", got)
	}
}

func TestChance(t *testing.T) {
	if filestacktest.Chance(1, "a") != filestacktest.Chance(1, "a") {
		t.Error("not deterministic")
	}
	under := 0
	for i := range 10000 {
		c := filestacktest.Chance(3, fmt.Sprint(i))
		if c < 0 || c >= 1 {
			t.Fatalf("Chance = %v", c)
		}
		if c < 0.25 {
			under++
		}
	}
	if under < 2300 || under > 2700 {
		t.Errorf("%d of 10000 under 0.25", under)
	}
}

// TestLatency checks that WithLatency delays calls by at least its
// duration.
func TestLatency(t *testing.T) {
	const d = 30 * time.Millisecond
	fs := filestacktest.NewServer(t, filestacktest.WithLatency(d))
	f := fs.Bucket("K").Put("a.txt", "", []byte("x"))
	start := time.Now()
	if _, err := fs.Client("K").Metadata(ctx, f.Handle); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < d {
		t.Errorf("took %v, want at least %v", took, d)
	}
}

// TestCloseAbandonsCalls closes a server while a call is held and checks
// that Close returns and the client gets an error.
func TestCloseAbandonsCalls(t *testing.T) {
	arrived := make(chan struct{})
	fs := filestacktest.New(filestacktest.WithFault(func(c filestacktest.Call) int {
		close(arrived)
		<-c.Request.Context().Done()
		return http.StatusServiceUnavailable
	}))
	f := fs.Bucket("K").Put("a.txt", "", []byte("x"))
	errc := make(chan error, 1)
	go func() {
		_, err := fs.Client("K", filestack.WithRetry(0, 0, 0)).Metadata(ctx, f.Handle)
		errc <- err
	}()
	<-arrived
	fs.Close()
	if err := <-errc; err == nil {
		t.Error("no error from a call abandoned by Close")
	}
	fs.Close() // again: no effect
}

// TestConcurrentUse runs every call at once, for the race detector.
func TestConcurrentUse(t *testing.T) {
	fs := filestacktest.NewServer(t, filestacktest.WithMemoryThreshold(1000), filestacktest.WithFailRate(0.1, 1))
	c := fs.Client("K")
	var g errgroup.Group
	for i := range 16 {
		g.Go(func() error {
			data := bytes.Repeat([]byte{byte(i)}, 500*i)
			f, err := c.Upload(ctx, bytes.NewReader(data), filestack.StoreOptions{Filename: fmt.Sprintf("f%d", i)})
			if err != nil {
				return err
			}
			g, err := c.StoreURL(ctx, f.URL, filestack.StoreOptions{Filename: fmt.Sprintf("copy%d", i)})
			if err != nil {
				return err
			}
			body, err := c.Download(ctx, g.Handle)
			if err != nil {
				return err
			}
			got, err := io.ReadAll(body)
			body.Close()
			if err != nil || !bytes.Equal(got, data) {
				return fmt.Errorf("file %d: %v, equal %v", i, err, bytes.Equal(got, data))
			}
			if _, err := c.Metadata(ctx, f.Handle); err != nil {
				return err
			}
			_ = fs.Files("K")
			_ = fs.Counters()
			return c.Delete(ctx, f.Handle)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := len(fs.Files("K")); got != 16 {
		t.Errorf("%d files left, want 16 copies", got)
	}
}

// TestStoreQuery checks the parameters a store honours.
func TestStoreQuery(t *testing.T) {
	fs := filestacktest.NewServer(t)
	fs.Bucket("K")
	q := url.Values{"key": {"K"}, "filename": {"n.txt"}, "mimetype": {"text/markdown"}, "path": {"docs/readme.md"}}
	resp, err := fs.HTTPClient().Post(fs.APIURL()+"/api/store/S3?"+q.Encode(), "application/octet-stream", strings.NewReader("# hi"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f filestack.File
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if f.Filename != "n.txt" || f.Type != "text/markdown" || f.Key != "docs/readme.md" || f.Container != "filestacktest" {
		t.Errorf("answer %+v", f)
	}
}

func checkStatus(t *testing.T, call string, err error, status int) {
	t.Helper()
	var fe *filestack.Error
	if !errors.As(err, &fe) || fe.Status != status {
		t.Errorf("%s: error %v, want HTTP %d", call, err, status)
	}
}

func TestWithListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := filestacktest.NewServer(t, filestacktest.WithListener(l))
	if want := "http://" + l.Addr().String(); fs.URL() != want || fs.CDNURL() != want+"/cdn" {
		t.Errorf("URL %q, CDNURL %q, want %q", fs.URL(), fs.CDNURL(), want)
	}
	f := fs.Bucket("K").Put("a.txt", "", []byte("x"))
	if _, err := fs.Client("K").Metadata(ctx, f.Handle); err != nil {
		t.Fatal(err)
	}
}
