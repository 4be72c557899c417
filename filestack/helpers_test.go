package filestack_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stagesync/stagesync/filestack"
)

// block is the pattern patternReader repeats; its length is prime so that
// chunks read at different offsets differ.
var block = func() []byte {
	b := make([]byte, 65521)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// patternReader generates n bytes without holding them: block, repeated.
// It has Len, so an upload of it carries a Content-Length.
type patternReader struct {
	n, off int64
}

func newPattern(n int64) *patternReader { return &patternReader{n: n} }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rest := p.n - p.off; int64(len(b)) > rest {
		b = b[:rest]
	}
	total := 0
	for len(b) > 0 {
		n := copy(b, block[p.off%int64(len(block)):])
		b = b[n:]
		p.off += int64(n)
		total += n
	}
	return total, nil
}

func (p *patternReader) Len() int { return int(p.n - p.off) }

// pattern returns the first n bytes of the pattern.
func pattern(n int) []byte {
	b, _ := io.ReadAll(newPattern(int64(n)))
	return b
}

// onlyReader hides everything of a reader but Read (no Len, no Seek).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// hashOf reads r to its end and returns the hex SHA-256 of its bytes and
// their count.
func hashOf(t testing.TB, r io.Reader) (string, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// asError returns err as a *filestack.Error or fails the test.
func asError(t testing.TB, err error) *filestack.Error {
	t.Helper()
	var fe *filestack.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v, want *filestack.Error", err, err)
	}
	return fe
}
