package filestackemu

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"
)

// Bucket is the storage of one Filestack application, known by its API
// key. Stores and uploads with a key that has no bucket are refused.
type Bucket struct {
	s      *Server
	apiKey string
	secret string // guarded by s.mu
}

// StoredFile describes a file held by the emulator.
type StoredFile struct {
	// APIKey is the application the file belongs to.
	APIKey string
	// Handle is the file's handle: 20 letters and digits.
	Handle string
	// URL is the file's CDN URL.
	URL string
	// Filename and MimeType are the file's name and type.
	Filename string
	MimeType string
	// Size is the file's size in bytes.
	Size int64
	// SHA256 and MD5 are the hex-encoded hashes of its bytes.
	SHA256 string
	MD5    string
	// Path, Container and Key say where the file was stored.
	Path      string
	Container string
	Key       string
	// Uploaded is when the file was stored.
	Uploaded time.Time
}

// defaultContainer is the container of files stored without one.
const defaultContainer = "filestacktest"

// Bucket returns the bucket of the API key, creating it if needed.
func (s *Server) Bucket(apiKey string) *Bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[apiKey]
	if !ok {
		b = &Bucket{s: s, apiKey: apiKey}
		s.buckets[apiKey] = b
	}
	return b
}

// bucket returns the bucket of the API key, or nil.
func (s *Server) bucket(apiKey string) *Bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buckets[apiKey]
}

// APIKey returns the bucket's API key.
func (b *Bucket) APIKey() string { return b.apiKey }

// SetSecret enables security for the bucket: from now on every call on it
// must carry a policy signed with secret that allows the call (an empty
// secret disables security again). It returns b.
func (b *Bucket) SetSecret(secret string) *Bucket {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	b.secret = secret
	return b
}

// Secret returns the bucket's app secret, empty when security is off.
func (b *Bucket) Secret() string {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	return b.secret
}

// Put stores data in the bucket directly, as if it had been uploaded, and
// returns the stored file. It changes no counter.
func (b *Bucket) Put(filename, mimeType string, data []byte) StoredFile {
	w, err := b.s.writeBlob(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		panic(fmt.Sprintf("filestacktest: Put %s: %v", filename, err))
	}
	if mimeType == "" {
		mimeType = detectType(filename, "", data)
	}
	return b.s.add(b.apiKey, w, filename, mimeType, "", "")
}

// Files returns the files of the bucket, ordered by name and then handle.
func (b *Bucket) Files() []StoredFile { return b.s.Files(b.apiKey) }

// Files returns the files of the application with the API key, ordered by
// name and then handle; none when it has no bucket.
func (s *Server) Files(apiKey string) []StoredFile {
	s.mu.Lock()
	var out []StoredFile
	for _, e := range s.files {
		if e.APIKey == apiKey {
			out = append(out, e.StoredFile)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b StoredFile) int {
		return cmp.Or(cmp.Compare(a.Filename, b.Filename), cmp.Compare(a.Handle, b.Handle))
	})
	return out
}

// File returns the file with the handle, in whichever bucket it is.
func (s *Server) File(handle string) (StoredFile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.files[handle]
	if !ok {
		return StoredFile{}, false
	}
	return e.StoredFile, true
}

// Open returns the bytes of the file with the handle.
func (s *Server) Open(handle string) (io.ReadCloser, error) {
	s.mu.Lock()
	e, ok := s.files[handle]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("filestacktest: no file %q", handle)
	}
	return e.blob.open()
}

// add records a written blob as a new file and returns it.
func (s *Server) add(apiKey string, w written, filename, mimeType, path, container string) StoredFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.newHandle()
	if container == "" {
		container = defaultContainer
	}
	key := randomText(8) + "_" + filename
	switch {
	case path != "" && path[len(path)-1] == '/':
		key = path + key
	case path != "":
		key = path
	}
	f := StoredFile{
		APIKey:    apiKey,
		Handle:    h,
		URL:       s.CDNURL() + "/" + h,
		Filename:  filename,
		MimeType:  mimeType,
		Size:      w.size,
		SHA256:    w.sha256,
		MD5:       w.md5,
		Path:      path,
		Container: container,
		Key:       key,
		Uploaded:  s.cfg.now(),
	}
	if s.closed {
		w.blob.remove()
		return f
	}
	s.files[h] = &entry{StoredFile: f, blob: w.blob}
	return f
}
