package importapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Value is one element of the values array of an NDF file, as raw JSON,
// with where it was found.
type Value struct {
	// File is the file's path; Line the line the value starts on (from 1);
	// Index the value's place in the file's values array (from 0).
	File        string
	Line, Index int
	Raw         json.RawMessage
}

// InputError is bad input in an NDF file or snapshot: it names the file,
// the line and index of the value, and the entry when known.
type InputError struct {
	File  string
	Line  int // 0 when unknown
	Index int // -1 when the error is not about one value
	Entry string
	Err   error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": value %d", e.Index)
	}
	if e.Entry != "" {
		fmt.Fprintf(&b, " (%s)", e.Entry)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *InputError) Unwrap() error { return e.Err }

// errorf returns an InputError about v.
func (v Value) errorf(entry string, format string, args ...any) *InputError {
	return &InputError{File: v.File, Line: v.Line, Index: v.Index, Entry: entry, Err: fmt.Errorf(format, args...)}
}

// Files returns the NDF files of one value type of a snapshot directory
// (dir/<valueType>/*.json), in the order they were cut.
func Files(dir string, vt ValueType) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(dir, string(vt), "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// ReadDir reads every value of one value type of a snapshot directory, file
// after file (see ReadFile).
func ReadDir(dir string, vt ValueType) iter.Seq2[Value, error] {
	return func(yield func(Value, error) bool) {
		files, err := Files(dir, vt)
		if err != nil {
			yield(Value{}, err)
			return
		}
		for _, f := range files {
			for v, err := range ReadFile(f, vt) {
				if !yield(v, err) || err != nil {
					return
				}
			}
		}
	}
}

// ReadFile streams the values of one NDF file, a JSON object
// {"valueType": ..., "values": [...]}, one value at a time: memory stays
// bounded by the largest value, not by the file. With want set, the file's
// valueType must be want. A file that is truncated, malformed or of
// another value type yields an *InputError naming the file, the line and
// the value, and ends the sequence.
func ReadFile(path string, want ValueType) iter.Seq2[Value, error] {
	return func(yield func(Value, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(Value{}, err)
			return
		}
		defer f.Close()
		for v, err := range Read(path, f, want) {
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// Read streams the values of an NDF document read from r; name is the
// file name errors carry. See ReadFile.
func Read(name string, r io.Reader, want ValueType) iter.Seq2[Value, error] {
	return func(yield func(Value, error) bool) {
		lr := &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
		dec := json.NewDecoder(lr)
		dec.UseNumber()
		index := -1
		fail := func(err error) {
			line := lr.line(dec.InputOffset())
			var se *json.SyntaxError
			switch {
			case errors.As(err, &se):
				line = lr.line(se.Offset)
				err = fmt.Errorf("malformed JSON: %v", se)
			case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
				line = lr.line(lr.off)
				err = errors.New("the file is truncated: it ends before the values array and the object are closed")
			}
			yield(Value{}, &InputError{File: name, Line: line, Index: index, Err: err})
		}
		if err := expectDelim(dec, '{'); err != nil {
			fail(err)
			return
		}
		var vt ValueType
		sawValues := false
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				fail(err)
				return
			}
			key, _ := tok.(string)
			switch key {
			case "valueType":
				var s string
				if err := dec.Decode(&s); err != nil {
					fail(err)
					return
				}
				vt = ValueType(s)
				if !vt.valid() {
					fail(fmt.Errorf("valueType %q is not nodes, lists or relations", s))
					return
				}
				if want != "" && vt != want {
					fail(fmt.Errorf("the file holds %s, expected %s", vt, want))
					return
				}
			case "values":
				if vt == "" {
					fail(errors.New(`"valueType" must come before "values"`))
					return
				}
				if err := expectDelim(dec, '['); err != nil {
					fail(err)
					return
				}
				for dec.More() {
					index++
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						fail(err)
						return
					}
					start := dec.InputOffset() - int64(len(raw))
					if !yield(Value{File: name, Line: lr.line(start), Index: index, Raw: raw}, nil) {
						return
					}
				}
				index = -1
				if err := expectDelim(dec, ']'); err != nil {
					fail(err)
					return
				}
				sawValues = true
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					fail(err)
					return
				}
			}
		}
		if err := expectDelim(dec, '}'); err != nil {
			fail(err)
			return
		}
		if !sawValues {
			fail(errors.New(`the file has no "values" array`))
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			if err == nil {
				err = errors.New("unexpected data after the closing brace")
			}
			fail(err)
		}
	}
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("expected %q, found %v", string(d), tok)
	}
	return nil
}

// lineReader records where the lines of what it reads start, so that a
// decoder's offsets can be turned into line numbers.
type lineReader struct {
	r        io.Reader
	off      int64
	newlines []int64 // offsets of '\n'
}

func (l *lineReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.newlines = append(l.newlines, l.off+int64(i))
		}
	}
	l.off += int64(n)
	return n, err
}

// line returns the line (from 1) of byte offset off.
func (l *lineReader) line(off int64) int {
	i, _ := slices.BinarySearch(l.newlines, off)
	return i + 1
}
