package filestack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// StoreOptions are the optional parameters of a store or upload. The zero
// value stores the file under its own name and type in the application's
// default S3 container.
type StoreOptions struct {
	// Filename names the stored file (default: the last segment of the URL
	// for StoreURL, the file's base name for UploadFile, else "file").
	Filename string
	// MimeType sets the file's type instead of letting Filestack detect it.
	MimeType string
	// Path is the S3 key to store under; a path ending in "/" is a folder
	// that Filestack adds a unique name to.
	Path string
	// Container is the S3 bucket to store into.
	Container string
	// Access is "public" or "private".
	Access string
	// Location is the storage provider (default "S3").
	Location string
}

// File is a stored file, as Filestack answers a store or upload.
type File struct {
	// URL is the file's CDN URL.
	URL string `json:"url"`
	// Handle is the last path segment of URL: the file's identity, which a
	// Hygraph Asset keeps in its handle field.
	Handle string `json:"-"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Type is the file's MIME type.
	Type string `json:"type"`
	// Filename is the file's name.
	Filename string `json:"filename"`
	// Key is the file's key in the storage container.
	Key string `json:"key"`
	// Container is the storage container, when Filestack names it (it does
	// when a path is given).
	Container string `json:"container,omitempty"`
}

// storeQuery returns the query of a store or upload.
func (c *Client) storeQuery(opts StoreOptions) (url.Values, error) {
	q := url.Values{"key": {c.apiKey}}
	for k, v := range map[string]string{
		"filename":  opts.Filename,
		"mimetype":  opts.MimeType,
		"path":      opts.Path,
		"container": opts.Container,
		"access":    opts.Access,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q, c.sign(q, CallStore, "")
}

func (c *Client) storePath(opts StoreOptions) string {
	loc := opts.Location
	if loc == "" {
		loc = "S3"
	}
	return "/api/store/" + url.PathEscape(loc)
}

// StoreURL asks Filestack to fetch the file at the public URL src and store
// it. It is retried on transient failures.
func (c *Client) StoreURL(ctx context.Context, src string, opts StoreOptions) (*File, error) {
	const op = "store"
	q, err := c.storeQuery(opts)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	endpoint := c.apiEndpoint(c.storePath(opts), q)
	form := url.Values{"url": {src}}.Encode()
	resp, release, err := c.send(ctx, op, "", true, func(ctx context.Context, _ int) (*http.Request, func() error, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, noRelease, nil
	})
	if err != nil {
		return nil, err
	}
	return decodeFile(op, resp, release)
}

// Upload streams the bytes of r to Filestack as a multipart upload; the
// file is never held whole in memory. When r is an io.Seeker, a transient
// failure is retried from r's current offset; any other reader gets a
// single attempt (use UploadFunc to retry those). When r can tell its
// length (Len, or Stat and Seek, as *os.File, *bytes.Reader and
// *strings.Reader can), the request carries a Content-Length; otherwise it
// is sent chunked.
func (c *Client) Upload(ctx context.Context, r io.Reader, opts StoreOptions) (*File, error) {
	if opts.Filename == "" {
		opts.Filename = readerName(r)
	}
	if s, ok := r.(io.Seeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			return c.upload(ctx, func() (io.ReadCloser, error) {
				if _, err := s.Seek(start, io.SeekStart); err != nil {
					return nil, err
				}
				return readCloser{r}, nil
			}, true, opts)
		}
	}
	used := false
	return c.upload(ctx, func() (io.ReadCloser, error) {
		if used {
			return nil, errors.New("filestack: upload body cannot be reopened")
		}
		used = true
		return readCloser{r}, nil
	}, false, opts)
}

// UploadFunc is Upload for a body that open produces afresh for each
// attempt, so that every transient failure can be retried. The client
// closes each body it opens.
func (c *Client) UploadFunc(ctx context.Context, open func() (io.ReadCloser, error), opts StoreOptions) (*File, error) {
	return c.upload(ctx, open, true, opts)
}

// UploadFile uploads the file at path, reopening it for each attempt. The
// stored file is named after the path's base name unless opts says
// otherwise.
func (c *Client) UploadFile(ctx context.Context, path string, opts StoreOptions) (*File, error) {
	if opts.Filename == "" {
		opts.Filename = filepath.Base(path)
	}
	return c.upload(ctx, func() (io.ReadCloser, error) { return os.Open(path) }, true, opts)
}

// readCloser hides everything of a caller's reader but Read, and does not
// close it.
type readCloser struct{ r io.Reader }

func (r readCloser) Read(p []byte) (int, error) { return r.r.Read(p) }
func (readCloser) Close() error                 { return nil }

// readerName returns the base name of a reader that has one (an *os.File).
func readerName(r io.Reader) string {
	if n, ok := r.(interface{ Name() string }); ok {
		if b := filepath.Base(n.Name()); b != "." && b != string(filepath.Separator) {
			return b
		}
	}
	return ""
}

// sizeOf returns how many bytes r has left to read, or -1 when it cannot
// tell.
func sizeOf(r io.Reader) int64 {
	if rc, ok := r.(readCloser); ok {
		r = rc.r
	}
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface {
		Stat() (fs.FileInfo, error)
		io.Seeker
	}:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil || cur > fi.Size() {
			return -1
		}
		return fi.Size() - cur
	case io.Seeker:
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		end, err := v.Seek(0, io.SeekEnd)
		if _, err2 := v.Seek(cur, io.SeekStart); err != nil || err2 != nil || end < cur {
			return -1
		}
		return end - cur
	}
	return -1
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// partHeader is the header of the fileUpload part.
func partHeader(filename, mimeType string) textproto.MIMEHeader {
	if filename == "" {
		filename = "file"
	}
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="fileUpload"; filename="%s"`, quoteEscaper.Replace(filename)))
	h.Set("Content-Type", mimeType)
	return h
}

// countWriter counts what is written to it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// multipartOverhead returns how many bytes a multipart body with one part
// of header h adds to the part's content.
func multipartOverhead(boundary string, h textproto.MIMEHeader) int64 {
	var cw countWriter
	mw := multipart.NewWriter(&cw)
	if err := mw.SetBoundary(boundary); err != nil {
		return -1
	}
	if _, err := mw.CreatePart(h); err != nil {
		return -1
	}
	if err := mw.Close(); err != nil {
		return -1
	}
	return cw.n
}

// srcReader reads the caller's body and keeps its first error other than
// io.EOF, so that a failing body is told apart from a failing network.
type srcReader struct {
	r   io.Reader
	err *error
}

func (s srcReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && *s.err == nil {
		*s.err = err
	}
	return n, err
}

// errReleased ends the writing side of an upload's pipe once the answer is
// in.
var errReleased = errors.New("filestack: upload finished")

// upload sends the bodies open produces, one per attempt, as multipart
// uploads streamed through a pipe.
func (c *Client) upload(ctx context.Context, open func() (io.ReadCloser, error), retry bool, opts StoreOptions) (*File, error) {
	const op = "upload"
	q, err := c.storeQuery(opts)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	endpoint := c.apiEndpoint(c.storePath(opts), q)
	hdr := partHeader(opts.Filename, opts.MimeType)
	resp, release, err := c.send(ctx, op, "", retry, func(ctx context.Context, n int) (*http.Request, func() error, error) {
		body, err := open()
		if err != nil {
			return nil, nil, &Error{Op: op, Message: "opening the file", Err: err}
		}
		size := sizeOf(body)
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		length := int64(-1)
		if size >= 0 {
			if o := multipartOverhead(mw.Boundary(), hdr); o >= 0 {
				length = size + o
			}
		}
		var srcErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer body.Close()
			part, err := mw.CreatePart(hdr)
			if err == nil {
				_, err = io.Copy(part, srcReader{body, &srcErr})
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		release := func() error {
			pr.CloseWithError(errReleased)
			<-done
			return srcErr
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, pr)
		if err != nil {
			release()
			return nil, nil, err
		}
		req.ContentLength = length
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return req, release, nil
	})
	if err != nil {
		return nil, err
	}
	return decodeFile(op, resp, release)
}

// decodeFile reads the answer of a store or upload.
func decodeFile(op string, resp *http.Response, release func() error) (*File, error) {
	defer release()
	defer resp.Body.Close()
	var f File
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&f); err != nil {
		return nil, &Error{Op: op, Status: resp.StatusCode, Message: "decoding the answer", Err: err}
	}
	f.Handle = HandleFromURL(f.URL)
	if f.Handle == "" {
		return nil, &Error{Op: op, Status: resp.StatusCode, Message: fmt.Sprintf("answer has no file URL (url %q)", f.URL)}
	}
	return &f, nil
}
