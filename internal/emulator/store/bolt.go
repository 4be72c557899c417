package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltFile is the name of the database file OpenBolt keeps in its directory.
const BoltFile = "stage.db"

// boltLockTimeout is how long OpenBolt waits for another process to release
// the database file before giving up.
const boltLockTimeout = 2 * time.Second

// BoltBackend is a Backend that keeps a stage's documents in an embedded
// bbolt database, one bbolt bucket per Write.Bucket. Every Apply is one
// transaction, synced to disk before it returns, so a write the stage has
// acknowledged survives a crash of the process (kill -9) or of the machine.
//
// A BoltBackend is safe for concurrent use; only one process at a time can
// open a given directory.
type BoltBackend struct {
	db        *bolt.DB
	path      string
	closeOnce sync.Once
	closeErr  error
}

var _ Backend = (*BoltBackend)(nil)

// OpenBolt opens, or creates, the database file stage.db in dir, creating
// dir if needed. It fails after a short wait, rather than hanging, when
// another process holds the file, and with an error rather than a panic when
// the file is not a valid database.
func OpenBolt(dir string) (*BoltBackend, error) {
	return openBolt(dir, boltLockTimeout)
}

func openBolt(dir string, lockTimeout time.Duration) (b *BoltBackend, err error) {
	if dir == "" {
		return nil, errors.New("stagetest: bolt: no data directory given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("stagetest: bolt: %w", err)
	}
	path := filepath.Join(dir, BoltFile)
	// bbolt panics on some kinds of corruption, and reading a page past the
	// end of a truncated file faults; report both as errors.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("stagetest: bolt: %s is corrupt: %v", path, p)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("stagetest: bolt: %s is locked by another process (is another stage serving this data directory?): %w", path, err)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch):
		return nil, fmt.Errorf("stagetest: bolt: %s is not a stage database or is corrupt: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("stagetest: bolt: open %s: %w", path, err)
	}
	return &BoltBackend{db: db, path: path}, nil
}

// Path is the database file.
func (b *BoltBackend) Path() string { return b.path }

// boltRecord is one stored key/value, copied out of a read transaction.
type boltRecord struct {
	bucket, key string
	value       []byte
}

// Load calls fn for every stored record, bucket by bucket in byte order of
// names and keys. The records are copied out of the database first, so fn
// may keep the value and may call Apply.
func (b *BoltBackend) Load(fn func(bucket, key string, value []byte) error) (err error) {
	var recs []boltRecord
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("stagetest: bolt: %s is corrupt: %v", b.path, p)
		}
	}()
	err = b.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			return bk.ForEach(func(k, v []byte) error {
				if v == nil { // a nested bucket; the stage never makes them
					return nil
				}
				recs = append(recs, boltRecord{string(name), string(k), append([]byte{}, v...)})
				return nil
			})
		})
	})
	if err != nil {
		return fmt.Errorf("stagetest: bolt: load %s: %w", b.path, err)
	}
	for _, r := range recs {
		if err := fn(r.bucket, r.key, r.value); err != nil {
			return err
		}
	}
	return nil
}

// Apply stores writes in one transaction and syncs it to disk before it
// returns: all of them are stored or none. A nil Value deletes the record.
func (b *BoltBackend) Apply(writes []Write) error {
	if len(writes) == 0 {
		return nil
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		for _, w := range writes {
			if err := applyWrite(tx, w); err != nil {
				return fmt.Errorf("%s/%s: %w", w.Bucket, w.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("stagetest: bolt: apply to %s: %w", b.path, err)
	}
	return nil
}

func applyWrite(tx *bolt.Tx, w Write) error {
	if w.Value == nil {
		bk := tx.Bucket([]byte(w.Bucket))
		if bk == nil {
			return nil
		}
		return bk.Delete([]byte(w.Key))
	}
	bk, err := tx.CreateBucketIfNotExists([]byte(w.Bucket))
	if err != nil {
		return err
	}
	return bk.Put([]byte(w.Key), w.Value)
}

// Close closes the database; it waits for running transactions. Closing
// twice is harmless.
func (b *BoltBackend) Close() error {
	b.closeOnce.Do(func() {
		if err := b.db.Close(); err != nil {
			b.closeErr = fmt.Errorf("stagetest: bolt: close %s: %w", b.path, err)
		}
	})
	return b.closeErr
}

// CheckBolt verifies the consistency of b's whole database file (bbolt's
// own check). It is a function, not a method, so that BoltBackend's
// method set (which package stagetest re-exports) stays Backend's and Path.
func CheckBolt(b *BoltBackend) error {
	return b.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}
