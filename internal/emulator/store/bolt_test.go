package store

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// boltLoadAll reads a backend into bucket/key → value.
func boltLoadAll(t *testing.T, b Backend) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := b.Load(func(bucket, key string, value []byte) error {
		got[bucket+"/"+key] = string(value)
		return nil
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return got
}

func openTestBolt(t *testing.T, dir string) *BoltBackend {
	t.Helper()
	b, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestBoltApplyAndReload(t *testing.T) {
	cases := []struct {
		name    string
		batches [][]Write
		want    map[string]string
	}{
		{
			name:    "empty",
			batches: nil,
			want:    map[string]string{},
		},
		{
			name: "puts in several buckets",
			batches: [][]Write{{
				{Bucket: "Post", Key: "p1", Value: []byte(`{"title":"a"}`)},
				{Bucket: "Tag", Key: "t1", Value: []byte(`{"slug":"x"}`)},
				{Bucket: "_meta", Key: "version", Value: []byte(`1`)},
			}},
			want: map[string]string{
				"Post/p1":       `{"title":"a"}`,
				"Tag/t1":        `{"slug":"x"}`,
				"_meta/version": `1`,
			},
		},
		{
			name: "overwrite and delete",
			batches: [][]Write{
				{{Bucket: "Post", Key: "p1", Value: []byte(`1`)}, {Bucket: "Post", Key: "p2", Value: []byte(`2`)}},
				{{Bucket: "Post", Key: "p1", Value: []byte(`1b`)}, {Bucket: "Post", Key: "p2"}},
			},
			want: map[string]string{"Post/p1": `1b`},
		},
		{
			name: "delete of a missing key or bucket",
			batches: [][]Write{
				{{Bucket: "Post", Key: "p1", Value: []byte(`1`)}},
				{{Bucket: "Post", Key: "nope"}, {Bucket: "Nope", Key: "p1"}},
			},
			want: map[string]string{"Post/p1": `1`},
		},
		{
			name: "later write in a batch wins",
			batches: [][]Write{
				{{Bucket: "Post", Key: "p1", Value: []byte(`1`)}, {Bucket: "Post", Key: "p1"}, {Bucket: "Post", Key: "p1", Value: []byte(`3`)}},
			},
			want: map[string]string{"Post/p1": `3`},
		},
		{
			name:    "empty value is not a delete",
			batches: [][]Write{{{Bucket: "Post", Key: "p1", Value: []byte{}}}},
			want:    map[string]string{"Post/p1": ``},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nested", "data")
			b, err := OpenBolt(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range tc.batches {
				if err := b.Apply(batch); err != nil {
					t.Fatal(err)
				}
			}
			if got := boltLoadAll(t, b); !maps.Equal(got, tc.want) {
				t.Errorf("before reopen: %v, want %v", got, tc.want)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}

			b = openTestBolt(t, dir)
			if got := boltLoadAll(t, b); !maps.Equal(got, tc.want) {
				t.Errorf("after reopen: %v, want %v", got, tc.want)
			}
			if err := CheckBolt(b); err != nil {
				t.Errorf("check: %v", err)
			}
		})
	}
}

// TestBoltApplyIsAtomic: a batch with one bad write stores nothing.
func TestBoltApplyIsAtomic(t *testing.T) {
	b := openTestBolt(t, t.TempDir())
	err := b.Apply([]Write{
		{Bucket: "Post", Key: "p1", Value: []byte(`1`)},
		{Bucket: "Post", Key: "", Value: []byte(`no key`)},
	})
	if err == nil {
		t.Fatal("Apply with an empty key succeeded")
	}
	if !strings.Contains(err.Error(), b.Path()) {
		t.Errorf("error %q does not name the file", err)
	}
	if got := boltLoadAll(t, b); len(got) != 0 {
		t.Errorf("stored %v after a failed batch, want nothing", got)
	}
}

// TestBoltLoadValuesAreCopies: values handed to Load's fn stay valid and fn
// may write to the backend.
func TestBoltLoadValuesAreCopies(t *testing.T) {
	b := openTestBolt(t, t.TempDir())
	if err := b.Apply([]Write{{Bucket: "A", Key: "k", Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	var kept []byte
	err := b.Load(func(bucket, key string, value []byte) error {
		kept = value
		return b.Apply([]Write{{Bucket: "B", Key: key, Value: value}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(kept) != "v" {
		t.Errorf("kept value %q, want v", kept)
	}
	if got := boltLoadAll(t, b); got["B/k"] != "v" {
		t.Errorf("got %v, want B/k = v", got)
	}
}

func TestBoltLoadStopsOnError(t *testing.T) {
	b := openTestBolt(t, t.TempDir())
	if err := b.Apply([]Write{{Bucket: "A", Key: "1", Value: []byte("x")}, {Bucket: "A", Key: "2", Value: []byte("y")}}); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err := b.Load(func(string, string, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Load = %v after %d calls, want stop after 1", err, calls)
	}
}

func TestBoltConcurrentApply(t *testing.T) {
	dir := t.TempDir()
	b, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				batch := []Write{
					{Bucket: "Post", Key: key, Value: []byte(key)},
					{Bucket: "_log", Key: key, Value: []byte("1")},
				}
				if i%4 == 3 { // delete an earlier one
					batch = append(batch, Write{Bucket: "_log", Key: fmt.Sprintf("w%d-%d", w, i-1)})
				}
				if err := b.Apply(batch); err != nil {
					t.Error(err)
					return
				}
			}
			// Readers run alongside writers.
			if err := b.Load(func(string, string, []byte) error { return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	got := boltLoadAll(t, openTestBolt(t, dir))
	var posts, logs int
	for k := range got {
		switch {
		case strings.HasPrefix(k, "Post/"):
			posts++
		case strings.HasPrefix(k, "_log/"):
			logs++
		}
	}
	if posts != workers*each || logs != workers*each*3/4 {
		t.Errorf("posts %d, logs %d; want %d, %d", posts, logs, workers*each, workers*each*3/4)
	}
}

func TestBoltLocked(t *testing.T) {
	dir := t.TempDir()
	openTestBolt(t, dir)
	// flock conflicts between two opens of the file even in one process.
	_, err := openBolt(dir, 1) // 1ns: fail at the first try
	if err == nil {
		t.Fatal("second open of a locked database succeeded")
	}
	if !errors.Is(err, bolt.ErrTimeout) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("error %v, want a 'locked' error wrapping bolt.ErrTimeout", err)
	}
}

func TestBoltCorruptFile(t *testing.T) {
	// A real database with some content, to damage.
	valid := func(t *testing.T) []byte {
		dir := t.TempDir()
		b, err := OpenBolt(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			w := Write{Bucket: "Post", Key: fmt.Sprintf("post-%04d", i), Value: []byte(strings.Repeat("x", 300))}
			if err := b.Apply([]Write{w}); err != nil {
				t.Fatal(err)
			}
		}
		b.Close()
		data, err := os.ReadFile(filepath.Join(dir, BoltFile))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}

	cases := []struct {
		name   string
		damage func(t *testing.T) []byte
	}{
		{"garbage", func(*testing.T) []byte { return garbage }},
		{"text", func(*testing.T) []byte { return []byte("this is not a database\n") }},
		{"zeros", func(*testing.T) []byte { return make([]byte, 16<<10) }},
		{"first meta page only", func(t *testing.T) []byte { return valid(t)[:4096] }},
		{"torn in the middle", func(t *testing.T) []byte { d := valid(t); return d[:len(d)/3] }},
		{"meta pages wiped", func(t *testing.T) []byte {
			d := valid(t)
			clear(d[:8192])
			return d
		}},
		{"data pages scrambled", func(t *testing.T) []byte {
			d := valid(t)
			copy(d[8192:], garbage)
			return d
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, BoltFile), tc.damage(t), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := OpenBolt(dir)
			if err == nil {
				// Some damage only shows when the pages are read.
				err = b.Load(func(string, string, []byte) error { return nil })
				if err == nil {
					err = CheckBolt(b)
				}
				b.Close()
			}
			if err == nil {
				t.Fatal("a damaged database opened, loaded and checked cleanly")
			}
			if !strings.Contains(err.Error(), BoltFile) {
				t.Errorf("error %q does not name the database file", err)
			}
		})
	}
}
