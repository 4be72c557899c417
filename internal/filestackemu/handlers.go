package filestackemu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/stagesync/stagesync/filestack"
)

// handler routes the API and the CDN.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/store/{location}", s.serveStore)
	mux.HandleFunc("GET /api/file/{handle}/metadata", s.serveMetadata)
	mux.HandleFunc("DELETE /api/file/{handle}", s.serveDelete)
	mux.HandleFunc("GET /api/file/{handle}", s.serveDownload)
	mux.HandleFunc("GET /cdn/{path...}", s.serveDownload)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(func(c *Counters) { c.Requests++ })
		sw := &statusWriter{ResponseWriter: w, s: s}
		if d := s.cfg.latency; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				http.Error(sw, "filestacktest: server closing or client gone", http.StatusServiceUnavailable)
				return
			}
		}
		mux.ServeHTTP(sw, r)
	})
}

// statusWriter counts the failures, before the client can see them.
type statusWriter struct {
	http.ResponseWriter
	s      *Server
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if code >= 400 {
			w.s.count(func(c *Counters) { c.Failures++ })
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// fail answers with an error, after reading what is left of the request
// body so that the client sees the answer rather than a reset connection.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	io.Copy(io.Discard, r.Body)
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	http.Error(w, msg, status)
}

// fault runs the fault hooks for a call and answers for them if one
// decides a status; it reports whether it did.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, c Call) bool {
	name := c.Handle
	if c.Op == OpStore || c.Op == OpUpload {
		name = c.Filename
	}
	k := attemptKey{op: c.Op, apiKey: c.APIKey, name: name}
	s.mu.Lock()
	s.attempts[k]++
	c.N = s.attempts[k]
	s.mu.Unlock()
	c.Request = r
	for _, f := range s.cfg.faults {
		if status := f(c); status != 0 {
			s.count(func(c *Counters) { c.Faults++ })
			s.fail(w, r, status, fmt.Sprintf("filestacktest: injected fault on %s of %q (attempt %d)", c.Op, name, c.N))
			return true
		}
	}
	return false
}

// authorize checks the policy and signature of a call on bucket b, when b
// has a secret; it answers and returns false when they do not allow it.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, b *Bucket, call, handle string) bool {
	secret := b.Secret()
	if secret == "" {
		return true
	}
	q := r.URL.Query()
	policy, sig := q.Get("policy"), q.Get("signature")
	if policy == "" || sig == "" {
		s.fail(w, r, http.StatusForbidden, "security: this application requires a policy and a signature")
		return false
	}
	p, err := filestack.Verify(secret, policy, sig)
	if err == nil {
		err = p.Allows(call, handle, s.cfg.now())
	}
	if err != nil {
		s.fail(w, r, http.StatusForbidden, "security: "+strings.TrimPrefix(err.Error(), "filestack: "))
		return false
	}
	return true
}

// storeParams are the query parameters of a store or upload.
type storeParams struct {
	filename, mimeType, path, container string
}

// storeAnswer is the JSON answer of a store or upload.
type storeAnswer struct {
	URL       string `json:"url"`
	Size      int64  `json:"size"`
	Type      string `json:"type"`
	Filename  string `json:"filename"`
	Key       string `json:"key"`
	Container string `json:"container,omitempty"`
}

// serveStore serves POST /api/store/{location}: store by URL for a form
// body, upload for a multipart body, and raw upload for anything else.
func (s *Server) serveStore(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("key")
	b := s.bucket(key)
	if key == "" || b == nil {
		s.fail(w, r, http.StatusForbidden, "invalid application key")
		return
	}
	if !s.authorize(w, r, b, filestack.CallStore, "") {
		return
	}
	p := storeParams{filename: q.Get("filename"), mimeType: q.Get("mimetype"), path: q.Get("path"), container: q.Get("container")}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		s.storeURL(w, r, b, p)
	case "multipart/form-data":
		s.uploadMultipart(w, r, b, p)
	default:
		name := orDefault(p.filename, "file")
		if !s.fault(w, r, Call{Op: OpUpload, APIKey: b.apiKey, Filename: name}) {
			s.upload(w, r, b, p, OpUpload, name, r.Header.Get("Content-Type"), r.Body, r.ContentLength)
		}
	}
}

func (s *Server) storeURL(w http.ResponseWriter, r *http.Request, b *Bucket, p storeParams) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "reading the form: "+err.Error())
		return
	}
	src := r.PostForm.Get("url")
	u, err := url.Parse(src)
	if src == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		s.fail(w, r, http.StatusBadRequest, "invalid url")
		return
	}
	name := p.filename
	if name == "" {
		if base := path.Base(u.Path); base != "/" && base != "." {
			name = base
		}
	}
	name = orDefault(name, "file")
	if s.fault(w, r, Call{Op: OpStore, APIKey: b.apiKey, Filename: name, URL: src}) {
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, src, nil)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "invalid url")
		return
	}
	resp, err := s.fetch.Do(req)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "could not fetch url: "+err.Error())
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("could not fetch url: HTTP %d", resp.StatusCode))
		return
	}
	s.upload(w, r, b, p, OpStore, name, resp.Header.Get("Content-Type"), resp.Body, resp.ContentLength)
}

func (s *Server) uploadMultipart(w http.ResponseWriter, r *http.Request, b *Bucket, p storeParams) {
	mr, err := r.MultipartReader()
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "reading the upload: "+err.Error())
		return
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "no fileUpload field in the upload")
			return
		}
		if part.FormName() != "fileUpload" {
			continue
		}
		name := orDefault(p.filename, orDefault(part.FileName(), "file"))
		if !s.fault(w, r, Call{Op: OpUpload, APIKey: b.apiKey, Filename: name}) {
			s.upload(w, r, b, p, OpUpload, name, part.Header.Get("Content-Type"), part, r.ContentLength)
		}
		return
	}
}

// upload stores the bytes of body, the file of a store (op OpStore) or an
// upload (OpUpload), and answers.
// sizeHint is at least the file's size, or -1 when unknown.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, b *Bucket, p storeParams, op Op, name, typeHint string, body io.Reader, sizeHint int64) {
	mimeType, body := streamType(p.mimeType, typeHint, name, body)
	wr, err := s.writeBlob(body, sizeHint)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "reading the file: "+err.Error())
		return
	}
	io.Copy(io.Discard, r.Body) // the rest of a multipart body
	f := s.add(b.apiKey, wr, name, mimeType, p.path, p.container)
	s.count(func(c *Counters) {
		if op == OpStore {
			c.Stores++
		} else {
			c.Uploads++
		}
		c.BytesUploaded += f.Size
	})
	a := storeAnswer{URL: f.URL, Size: f.Size, Type: f.MimeType, Filename: f.Filename, Key: f.Key}
	if p.path != "" || p.container != "" {
		a.Container = f.Container
	}
	writeJSON(w, a)
}

// lookup returns the file with the handle and its bucket, or answers 404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, handle string) (*entry, *Bucket, bool) {
	s.mu.Lock()
	e, ok := s.files[handle]
	var b *Bucket
	if ok {
		b = s.buckets[e.APIKey]
	}
	s.mu.Unlock()
	if !ok || b == nil {
		s.fail(w, r, http.StatusNotFound, "file not found")
		return nil, nil, false
	}
	return e, b, true
}

// defaultMetadata are the fields of a metadata answer when none is asked
// for.
var defaultMetadata = []string{"size", "mimetype", "filename", "uploaded", "writeable", "container", "path", "location", "key"}

var metadataFields = append(append([]string(nil), defaultMetadata...), "md5", "sha256")

func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	handle := r.PathValue("handle")
	e, b, ok := s.lookup(w, r, handle)
	if !ok || !s.authorize(w, r, b, filestack.CallStat, handle) {
		return
	}
	if s.fault(w, r, Call{Op: OpMetadata, APIKey: b.apiKey, Filename: e.Filename, Handle: handle}) {
		return
	}
	q := r.URL.Query()
	var fields []string
	for _, f := range metadataFields {
		if q.Get(f) == "true" {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		fields = defaultMetadata
	}
	all := map[string]any{
		"size":      e.Size,
		"mimetype":  e.MimeType,
		"filename":  e.Filename,
		"uploaded":  float64(e.Uploaded.UnixMicro()) / 1e3,
		"writeable": true,
		"container": e.Container,
		"path":      e.Path,
		"location":  "S3",
		"key":       e.Key,
		"md5":       e.MD5,
		"sha256":    e.SHA256,
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		out[f] = all[f]
	}
	s.count(func(c *Counters) { c.Metadata++ })
	writeJSON(w, out)
}

func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request) {
	handle := r.PathValue("handle")
	e, b, ok := s.lookup(w, r, handle)
	if !ok {
		return
	}
	if r.URL.Query().Get("key") != e.APIKey {
		s.fail(w, r, http.StatusForbidden, "the key does not own this file")
		return
	}
	if !s.authorize(w, r, b, filestack.CallRemove, handle) {
		return
	}
	if s.fault(w, r, Call{Op: OpDelete, APIKey: b.apiKey, Filename: e.Filename, Handle: handle}) {
		return
	}
	s.mu.Lock()
	_, still := s.files[handle]
	delete(s.files, handle)
	s.mu.Unlock()
	if !still {
		s.fail(w, r, http.StatusNotFound, "file not found")
		return
	}
	e.blob.remove()
	s.count(func(c *Counters) { c.Deletes++ })
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "success")
}

// serveDownload serves a file's bytes, from /cdn/<handle> (the last
// segment, so that transformation URLs work and serve the original) or
// /api/file/<handle>.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	handle := r.PathValue("handle")
	if handle == "" {
		p := strings.TrimRight(r.PathValue("path"), "/")
		handle = p[strings.LastIndexByte(p, '/')+1:]
	}
	e, b, ok := s.lookup(w, r, handle)
	if !ok {
		return
	}
	if s.fault(w, r, Call{Op: OpDownload, APIKey: b.apiKey, Filename: e.Filename, Handle: handle}) {
		return
	}
	rs, err := e.blob.open()
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "file not found")
		return
	}
	defer rs.Close()
	w.Header().Set("Content-Type", e.MimeType)
	s.count(func(c *Counters) { c.Downloads++ })
	http.ServeContent(&countingWriter{ResponseWriter: w, s: s}, r, "", e.Uploaded, rs)
}

// countingWriter counts the body bytes of an answer in BytesDownloaded,
// before the client can see them.
type countingWriter struct {
	http.ResponseWriter
	s *Server
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.s.count(func(c *Counters) { c.BytesDownloaded += int64(len(p)) })
	n, err := w.ResponseWriter.Write(p)
	if n < len(p) {
		w.s.count(func(c *Counters) { c.BytesDownloaded -= int64(len(p) - n) })
	}
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// streamType decides the type of a file being stored: the type asked for,
// else the type it was sent with (unless application/octet-stream), else
// the type of its name's extension, else the type its first bytes sniff
// as. It returns a reader of the whole file.
func streamType(given, hint, name string, r io.Reader) (string, io.Reader) {
	if given != "" {
		return given, r
	}
	if t := mediaType(hint); t != "" && t != "application/octet-stream" {
		return t, r
	}
	if t := mediaType(mime.TypeByExtension(filepath.Ext(name))); t != "" {
		return t, r
	}
	br := bufio.NewReaderSize(r, 512)
	head, _ := br.Peek(512)
	return mediaType(http.DetectContentType(head)), br
}

// detectType is streamType for bytes at hand.
func detectType(name, hint string, data []byte) string {
	t, _ := streamType("", hint, name, strings.NewReader(string(data[:min(len(data), 512)])))
	return t
}

// mediaType returns the media type of a Content-Type, without parameters.
func mediaType(ct string) string {
	t, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return t
}
