package filestack

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"time"
)

// Metadata describes a stored file, as the metadata call answers.
type Metadata struct {
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// MimeType is the file's MIME type.
	MimeType string `json:"mimetype"`
	// Filename is the file's name.
	Filename string `json:"filename"`
	// Uploaded is when the file was stored.
	Uploaded time.Time `json:"-"`
	// Writeable reports whether the file can be overwritten.
	Writeable bool `json:"writeable"`
	// Container is the storage container holding the file.
	Container string `json:"container"`
	// Path is the path the file was stored under, if one was given.
	Path string `json:"path"`
	// Key is the file's key in the container.
	Key string `json:"key"`
	// Location is the storage provider, e.g. "S3".
	Location string `json:"location"`
	// MD5 and SHA256 are the hex-encoded hashes of the file's bytes, when
	// the service provides them (empty otherwise).
	MD5    string `json:"md5"`
	SHA256 string `json:"sha256"`
}

// UnmarshalJSON reads Filestack's metadata, whose uploaded field is a
// number of milliseconds since the Unix epoch.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	type plain Metadata
	var v struct {
		plain
		Uploaded *float64 `json:"uploaded"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Metadata(v.plain)
	if v.Uploaded != nil {
		ms := *v.Uploaded
		sec, frac := math.Modf(ms / 1000)
		m.Uploaded = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	return nil
}

// metadataFields are the fields the metadata call asks for.
var metadataFields = []string{"size", "mimetype", "filename", "uploaded", "writeable", "container", "path", "key", "location", "md5", "sha256"}

// Metadata returns the metadata of the file with the handle, with its MD5
// and SHA-256 hashes when the service provides them. It is retried on
// transient failures. A missing file is ErrNotFound.
func (c *Client) Metadata(ctx context.Context, handle string) (*Metadata, error) {
	const op = "metadata"
	if err := checkHandle(op, handle); err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, f := range metadataFields {
		q.Set(f, "true")
	}
	if err := c.sign(q, CallStat, handle); err != nil {
		return nil, &Error{Op: op, Handle: handle, Err: err}
	}
	endpoint := c.apiEndpoint("/api/file/"+url.PathEscape(handle)+"/metadata", q)
	resp, release, err := c.send(ctx, op, handle, true, getRequest(endpoint))
	if err != nil {
		return nil, err
	}
	defer release()
	defer resp.Body.Close()
	var m Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m); err != nil {
		return nil, &Error{Op: op, Handle: handle, Status: resp.StatusCode, Message: "decoding the answer", Err: err}
	}
	return &m, nil
}

// Delete removes the file with the handle. It is retried on transient
// failures; when a retried attempt finds the file gone, an earlier attempt
// deleted it and Delete succeeds. Otherwise a missing file is ErrNotFound.
func (c *Client) Delete(ctx context.Context, handle string) error {
	const op = "delete"
	if err := checkHandle(op, handle); err != nil {
		return err
	}
	q := url.Values{"key": {c.apiKey}}
	if err := c.sign(q, CallRemove, handle); err != nil {
		return &Error{Op: op, Handle: handle, Err: err}
	}
	endpoint := c.apiEndpoint("/api/file/"+url.PathEscape(handle), q)
	retried := false
	resp, release, err := c.send(ctx, op, handle, true, func(ctx context.Context, n int) (*http.Request, func() error, error) {
		retried = n > 0
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, endpoint, nil)
		return req, noRelease, err
	})
	if err != nil {
		if retried && isNotFound(err) {
			return nil
		}
		return err
	}
	defer release()
	resp.Body.Close()
	return nil
}

func isNotFound(err error) bool {
	fe, ok := err.(*Error)
	return ok && fe.Status == http.StatusNotFound
}

// getRequest builds a GET of u for every attempt.
func getRequest(u string) attempt {
	return func(ctx context.Context, _ int) (*http.Request, func() error, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		return req, noRelease, err
	}
}
