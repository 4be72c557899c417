package filestackemu

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
)

// blob holds the bytes of a stored file, in memory or on disk.
type blob interface {
	open() (io.ReadSeekCloser, error)
	remove()
}

type memBlob []byte

func (b memBlob) open() (io.ReadSeekCloser, error) { return nopCloser{bytes.NewReader(b)}, nil }
func (memBlob) remove()                            {}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

type diskBlob string

func (b diskBlob) open() (io.ReadSeekCloser, error) { return os.Open(string(b)) }
func (b diskBlob) remove()                          { os.Remove(string(b)) }

// written is a blob just written, with its size and hashes.
type written struct {
	blob   blob
	size   int64
	sha256 string
	md5    string
}

// writeBlob reads r to its end into a new blob: in memory while it is no
// larger than the memory threshold, else in a file of the server's
// directory. sizeHint, when not negative, is at least the size of the
// file (a Content-Length): a file known to be too large for memory goes
// straight to disk.
func (s *Server) writeBlob(r io.Reader, sizeHint int64) (written, error) {
	hs, hm := sha256.New(), md5.New()
	r = io.TeeReader(r, io.MultiWriter(hs, hm))
	sum := func(w written) written {
		w.sha256 = hex.EncodeToString(hs.Sum(nil))
		w.md5 = hex.EncodeToString(hm.Sum(nil))
		return w
	}
	var head []byte
	if t := s.cfg.memoryThreshold; t < 0 || (t > 0 && (sizeHint < 0 || sizeHint <= t)) {
		var buf bytes.Buffer
		if sizeHint > 0 && sizeHint <= max(t, 64<<20) {
			buf.Grow(int(sizeHint))
		}
		src := r
		if t > 0 {
			src = io.LimitReader(r, t+1)
		}
		n, err := io.Copy(&buf, src)
		if err != nil {
			return written{}, err
		}
		if t < 0 || n <= t {
			return sum(written{blob: memBlob(buf.Bytes()), size: n}), nil
		}
		head = buf.Bytes()
	}
	dir, err := s.diskDir()
	if err != nil {
		return written{}, err
	}
	f, err := os.CreateTemp(dir, "file-*")
	if err != nil {
		return written{}, err
	}
	_, err = f.Write(head)
	n := int64(len(head))
	if err == nil {
		var m int64
		m, err = io.Copy(f, r)
		n += m
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return written{}, err
	}
	return sum(written{blob: diskBlob(f.Name()), size: n}), nil
}

// diskDir returns the directory for files on disk, creating a temporary
// one on first use unless WithDir named one.
func (s *Server) diskDir() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("filestacktest: server closed")
	}
	if s.dir == "" {
		if s.cfg.dir != "" {
			s.dir = s.cfg.dir
		} else {
			d, err := os.MkdirTemp("", "filestacktest-")
			if err != nil {
				return "", err
			}
			s.dir, s.ownDir = d, true
		}
	}
	return s.dir, nil
}
