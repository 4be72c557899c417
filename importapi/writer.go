package importapi

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// DefaultMaxFileSize is the largest NDF file a Writer cuts by default: the
// legacy import's soft cap of 1 MB per request, so that each file can be
// sent as one request.
const DefaultMaxFileSize = 1 << 20

// FileInfo describes one NDF file a Writer wrote.
type FileInfo struct {
	// Path is relative to the snapshot directory, with slashes
	// ("nodes/000001.json").
	Path   string    `json:"path"`
	Type   ValueType `json:"valueType"`
	Values int       `json:"values"`
	Bytes  int64     `json:"bytes"`
	SHA256 string    `json:"sha256"`
}

// Writer writes values of one type as numbered NDF files
// (dir/<valueType>/000001.json, 000002.json, ...), each at most MaxSize
// bytes, one value per line, as the legacy export cut them. Only the
// current file's buffer is held in memory.
type Writer struct {
	dir     string
	vt      ValueType
	maxSize int64

	n     int // number of the open file
	f     *os.File
	bw    *bufio.Writer
	h     hash.Hash
	size  int64
	count int
	files []FileInfo
	err   error
}

// NewWriter returns a Writer of values of type vt into dir/<vt>/; maxSize
// <= 0 means DefaultMaxFileSize. Files are created as values come; Close
// finishes the last one.
func NewWriter(dir string, vt ValueType, maxSize int64) *Writer {
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	return &Writer{dir: dir, vt: vt, maxSize: maxSize}
}

var fileFooter = []byte("\n]}\n")

func (w *Writer) header() []byte {
	return []byte(`{"valueType":"` + string(w.vt) + `","values":[` + "\n")
}

// Write appends one value (a Node, a Relation, or anything that marshals
// to an NDF value).
func (w *Writer) Write(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("importapi: encoding a %s value: %w", w.vt, err)
	}
	return w.WriteRaw(raw)
}

// WriteRaw appends one value given as JSON. A value that does not fit in
// the current file starts the next; a value larger than the maximum on its
// own gets a file of its own (the cap is soft, as the legacy import's).
func (w *Writer) WriteRaw(raw []byte) error {
	if w.err != nil {
		return w.err
	}
	sep := int64(2) // ",\n"
	if w.f != nil && w.count > 0 && w.size+sep+int64(len(raw))+int64(len(fileFooter)) > w.maxSize {
		if err := w.finish(); err != nil {
			return err
		}
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	if w.count > 0 {
		w.put([]byte(",\n"))
	}
	w.put(raw)
	w.count++
	return w.err
}

func (w *Writer) put(b []byte) {
	if w.err != nil {
		return
	}
	_, w.err = w.bw.Write(b)
	w.size += int64(len(b))
}

func (w *Writer) path() string {
	return filepath.Join(w.dir, string(w.vt), fmt.Sprintf("%06d.json", w.n))
}

func (w *Writer) open() error {
	w.n++
	if err := os.MkdirAll(filepath.Join(w.dir, string(w.vt)), 0o755); err != nil {
		w.err = err
		return err
	}
	f, err := os.Create(w.path())
	if err != nil {
		w.err = err
		return err
	}
	w.f, w.h, w.size, w.count = f, sha256.New(), 0, 0
	w.bw = bufio.NewWriterSize(io.MultiWriter(f, w.h), 64<<10)
	w.put(w.header())
	return w.err
}

func (w *Writer) finish() error {
	if w.f == nil {
		return w.err
	}
	w.put(fileFooter)
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	if w.err == nil {
		w.files = append(w.files, FileInfo{
			Path:   filepath.ToSlash(filepath.Join(string(w.vt), filepath.Base(w.path()))),
			Type:   w.vt,
			Values: w.count,
			Bytes:  w.size,
			SHA256: hex.EncodeToString(w.h.Sum(nil)),
		})
	}
	w.f, w.bw = nil, nil
	return w.err
}

// Close finishes the last file. A Writer that was given no value writes
// no file.
func (w *Writer) Close() error {
	err := w.finish()
	if w.err == nil {
		w.err = errClosed
	}
	return err
}

var errClosed = errors.New("importapi: the writer is closed")

// Files lists the files written so far, in order.
func (w *Writer) Files() []FileInfo { return w.files }
