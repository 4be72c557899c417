package filestackemu

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestStorageTiers checks where files go: memory up to the threshold, disk
// beyond it, and that Close removes what it wrote.
func TestStorageTiers(t *testing.T) {
	small := bytes.Repeat([]byte("s"), 100)
	large := bytes.Repeat([]byte("L"), 5000)
	tests := []struct {
		name     string
		opts     []Option
		wantDisk int // files on disk after storing small and large
		givenDir bool
	}{
		{"threshold between", []Option{WithMemoryThreshold(1000)}, 1, false},
		{"everything on disk", []Option{WithMemoryThreshold(0)}, 2, false},
		{"everything in memory", []Option{WithMemoryThreshold(-1)}, 0, false},
		{"given directory", []Option{WithMemoryThreshold(0), WithDir(t.TempDir())}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.opts...)
			b := s.Bucket("K")
			fs, fl := b.Put("s", "", small), b.Put("l", "", large)
			for _, f := range []struct {
				sf   StoredFile
				want []byte
			}{{fs, small}, {fl, large}} {
				r, err := s.Open(f.sf.Handle)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(r)
				r.Close()
				if !bytes.Equal(got, f.want) {
					t.Errorf("%s: wrong bytes", f.sf.Filename)
				}
			}
			dir := s.dir
			if n := countFiles(t, dir); n != tt.wantDisk {
				t.Errorf("%d files on disk in %q, want %d", n, dir, tt.wantDisk)
			}
			s.Close()
			if dir == "" {
				return
			}
			_, err := os.Stat(dir)
			switch {
			case tt.givenDir && (err != nil || countFiles(t, dir) != 0):
				t.Errorf("given directory after Close: %v, %d files", err, countFiles(t, dir))
			case !tt.givenDir && !os.IsNotExist(err):
				t.Errorf("temporary directory %q left after Close", dir)
			}
		})
	}
}

func TestDeleteRemovesFromDisk(t *testing.T) {
	s := New(WithMemoryThreshold(0))
	defer s.Close()
	f := s.Bucket("K").Put("a", "", []byte("x"))
	c := s.Client("K")
	if err := c.Delete(t.Context(), f.Handle); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, s.dir); n != 0 {
		t.Errorf("%d files left on disk", n)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	if dir == "" {
		return 0
	}
	m, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}
