package filestack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/filestack/filestacktest"
)

var handleRE = regexp.MustCompile(`^[A-Za-z0-9]{20}$`)

// TestStoreAndUploadRoundTrip stores the same bytes every way the client
// can and checks each copy byte for byte, through the CDN, the metadata
// call and the emulator's own record.
func TestStoreAndUploadRoundTrip(t *testing.T) {
	ctx := context.Background()
	fs := filestacktest.NewServer(t)
	data := pattern(300_000) // several pipe and buffer lengths
	want := sha(data)
	src := fs.Bucket("SOURCE").Put("source.png", "image/png", data)
	c := fs.Client("DEST")

	path := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		store     func() (*filestack.File, error)
		wantName  string
		wantType  string
		wantPath  string
		container string
	}{
		{
			name: "StoreURL",
			store: func() (*filestack.File, error) {
				return c.StoreURL(ctx, src.URL, filestack.StoreOptions{Filename: "copy.png"})
			},
			wantName: "copy.png", wantType: "image/png",
		},
		{
			name:     "StoreURL named after the URL, typed by the source",
			store:    func() (*filestack.File, error) { return c.StoreURL(ctx, src.URL, filestack.StoreOptions{}) },
			wantName: src.Handle, wantType: "image/png",
		},
		{
			name: "StoreURL into a path and container",
			store: func() (*filestack.File, error) {
				return c.StoreURL(ctx, src.URL, filestack.StoreOptions{Filename: "p.png", Path: "assets/", Container: "bucket-2"})
			},
			wantName: "p.png", wantType: "image/png", wantPath: "assets/", container: "bucket-2",
		},
		{
			name: "Upload of a bytes.Reader",
			store: func() (*filestack.File, error) {
				return c.Upload(ctx, bytes.NewReader(data), filestack.StoreOptions{Filename: "b.png"})
			},
			wantName: "b.png", wantType: "image/png",
		},
		{
			name: "Upload of a plain reader with a MIME type",
			store: func() (*filestack.File, error) {
				return c.Upload(ctx, onlyReader{bytes.NewReader(data)}, filestack.StoreOptions{Filename: "c", MimeType: "image/webp"})
			},
			wantName: "c", wantType: "image/webp",
		},
		{
			name: "Upload of a plain reader with no name sniffs the type",
			store: func() (*filestack.File, error) {
				return c.Upload(ctx, onlyReader{bytes.NewReader(data)}, filestack.StoreOptions{})
			},
			wantName: "file", wantType: "application/octet-stream",
		},
		{
			name: "Upload of an *os.File takes its name",
			store: func() (*filestack.File, error) {
				f, err := os.Open(path)
				if err != nil {
					return nil, err
				}
				defer f.Close()
				return c.Upload(ctx, f, filestack.StoreOptions{})
			},
			wantName: "photo.jpg", wantType: "image/jpeg",
		},
		{
			name: "UploadFunc",
			store: func() (*filestack.File, error) {
				return c.UploadFunc(ctx, func() (io.ReadCloser, error) {
					return io.NopCloser(bytes.NewReader(data)), nil
				}, filestack.StoreOptions{Filename: "d.gif", MimeType: "image/gif"})
			},
			wantName: "d.gif", wantType: "image/gif",
		},
		{
			name:     "UploadFile",
			store:    func() (*filestack.File, error) { return c.UploadFile(ctx, path, filestack.StoreOptions{}) },
			wantName: "photo.jpg", wantType: "image/jpeg",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.store()
			if err != nil {
				t.Fatal(err)
			}
			if !handleRE.MatchString(f.Handle) || f.URL != fs.CDNURL()+"/"+f.Handle {
				t.Errorf("handle %q, url %q", f.Handle, f.URL)
			}
			if f.Size != int64(len(data)) || f.Filename != tt.wantName || f.Type != tt.wantType {
				t.Errorf("got size %d name %q type %q, want %d %q %q", f.Size, f.Filename, f.Type, len(data), tt.wantName, tt.wantType)
			}
			if tt.wantPath != "" && (!strings.HasPrefix(f.Key, tt.wantPath) || f.Container != tt.container) {
				t.Errorf("key %q container %q, want under %q in %q", f.Key, f.Container, tt.wantPath, tt.container)
			}

			body, err := c.Download(ctx, f.Handle)
			if err != nil {
				t.Fatal(err)
			}
			got, n := hashOf(t, body)
			body.Close()
			if got != want || n != int64(len(data)) {
				t.Errorf("downloaded %d bytes with sha256 %s, want %d %s", n, got, len(data), want)
			}

			stored, ok := fs.File(f.Handle)
			if !ok || stored.APIKey != "DEST" || stored.SHA256 != want {
				t.Errorf("emulator holds %+v", stored)
			}
			m, err := c.Metadata(ctx, f.Handle)
			if err != nil {
				t.Fatal(err)
			}
			wantMeta := &filestack.Metadata{
				Size: int64(len(data)), MimeType: tt.wantType, Filename: tt.wantName,
				Uploaded: stored.Uploaded.UTC(), Writeable: true, Container: stored.Container,
				Path: tt.wantPath, Key: f.Key, Location: "S3", MD5: stored.MD5, SHA256: want,
			}
			if diff := cmp.Diff(wantMeta, m, cmp.Comparer(func(a, b time.Time) bool {
				return a.Sub(b).Abs() < time.Millisecond
			})); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}

	cs := fs.Counters()
	if cs.Stores != 3 || cs.Uploads != 6 || cs.BytesUploaded != 9*int64(len(data)) || cs.Failures != 0 {
		t.Errorf("counters %+v", cs)
	}
	if got := len(fs.Files("DEST")); got != 9 {
		t.Errorf("DEST holds %d files, want 9", got)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	fs := filestacktest.NewServer(t)
	c := fs.Client("K")
	f := fs.Bucket("K").Put("a.txt", "", []byte("hello"))
	other := fs.Bucket("OTHER").Put("b.txt", "", []byte("other"))

	if err := c.Delete(ctx, f.Handle); err != nil {
		t.Fatal(err)
	}
	if files := fs.Files("K"); len(files) != 0 {
		t.Errorf("files left: %+v", files)
	}
	for name, call := range map[string]func() error{
		"Delete":   func() error { return c.Delete(ctx, f.Handle) },
		"Metadata": func() error { _, err := c.Metadata(ctx, f.Handle); return err },
		"Download": func() error { _, err := c.Download(ctx, f.Handle); return err },
	} {
		err := call()
		if !errors.Is(err, filestack.ErrNotFound) {
			t.Errorf("%s of a deleted file: %v, want ErrNotFound", name, err)
		}
		if fe := asError(t, err); fe.Handle != f.Handle || fe.Temporary() {
			t.Errorf("%s: %+v", name, fe)
		}
	}

	err := c.Delete(ctx, other.Handle)
	if fe := asError(t, err); fe.Status != http.StatusForbidden || errors.Is(err, filestack.ErrNotFound) {
		t.Errorf("deleting another application's file: %v", err)
	}
	if _, ok := fs.File(other.Handle); !ok {
		t.Error("another application's file was deleted")
	}
}

func TestDownloadURL(t *testing.T) {
	ctx := context.Background()
	fs := filestacktest.NewServer(t)
	data := pattern(70_000)
	f := fs.Bucket("K").Put("a.png", "image/png", data)
	c := fs.Client("K")
	for _, u := range []string{f.URL, fs.CDNURL() + "/resize=w:100/" + f.Handle, fs.APIURL() + "/api/file/" + f.Handle} {
		body, err := c.DownloadURL(ctx, u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		got, _ := hashOf(t, body)
		body.Close()
		if got != sha(data) {
			t.Errorf("%s: wrong bytes", u)
		}
	}
	_, err := c.DownloadURL(ctx, fs.CDNURL()+"/NoSuchHandle00000000")
	if fe := asError(t, err); !errors.Is(err, filestack.ErrNotFound) || fe.Handle != "NoSuchHandle00000000" {
		t.Errorf("missing file: %v", err)
	}
	if _, err := c.DownloadURL(ctx, "ftp://example.com/x"); err == nil {
		t.Error("ftp URL: no error")
	}
}

func TestInvalidHandle(t *testing.T) {
	ctx := context.Background()
	c := filestack.New("K", filestack.WithHTTPClient(&http.Client{Transport: failTransport{t}}))
	for _, h := range []string{"", "a/b", "a?b", "a#b"} {
		if _, err := c.Metadata(ctx, h); err == nil {
			t.Errorf("Metadata(%q): no error", h)
		}
		if err := c.Delete(ctx, h); err == nil {
			t.Errorf("Delete(%q): no error", h)
		}
		if _, err := c.Download(ctx, h); err == nil {
			t.Errorf("Download(%q): no error", h)
		}
	}
}

// failTransport fails the test if a request is sent.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	return nil, errors.New("no requests expected")
}

func TestHandleFromURL(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://cdn.filestackcontent.com/KW9EJhYtS6y48Whm2S6D", "KW9EJhYtS6y48Whm2S6D"},
		{"https://cdn.filestackcontent.com/KW9EJhYtS6y48Whm2S6D/", "KW9EJhYtS6y48Whm2S6D"},
		{"https://media.graphassets.com/resize=width:100/output=format:webp/KW9EJhYtS6y48Whm2S6D", "KW9EJhYtS6y48Whm2S6D"},
		{"https://cdn.filestackcontent.com/KW9EJhYtS6y48Whm2S6D?dl=true", "KW9EJhYtS6y48Whm2S6D"},
		{"https://cdn.filestackcontent.com", ""},
		{"://bad", ""},
	}
	for _, tt := range tests {
		if got := filestack.HandleFromURL(tt.url); got != tt.want {
			t.Errorf("HandleFromURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	c := filestack.New("KEY")
	if c.APIKey() != "KEY" || c.CDNURL("h") != filestack.DefaultCDNURL+"/h" {
		t.Errorf("APIKey %q, CDNURL %q", c.APIKey(), c.CDNURL("h"))
	}
	c = filestack.New("KEY", filestack.WithCDNURL("https://media.graphassets.com/"))
	if got := c.CDNURL("h"); got != "https://media.graphassets.com/h" {
		t.Errorf("CDNURL = %q", got)
	}
}
