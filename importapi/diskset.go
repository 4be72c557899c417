package importapi

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stagesync/stagesync/internal/sqlitefile"
)

// diskSet is a set of strings in a scratch SQLite file, for sets that grow
// with a snapshot (the list values and relations a legacy import has seen).
// It is not safe for concurrent use.
type diskSet struct {
	dir  string
	db   *sql.DB
	tx   *sql.Tx
	ins  *sql.Stmt // of tx
	rows int
}

func newDiskSet() (*diskSet, error) {
	dir, err := os.MkdirTemp("", "stagesync-set-")
	if err != nil {
		return nil, fmt.Errorf("importapi: scratch set: %w", err)
	}
	db, err := sqlitefile.Open(filepath.Join(dir, "set.db"), "journal_mode(OFF)", "synchronous(OFF)", "cache_size(-4000)")
	if err == nil {
		db.SetMaxOpenConns(1)
		if _, err = db.Exec("CREATE TABLE s(k TEXT PRIMARY KEY) WITHOUT ROWID"); err != nil {
			db.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("importapi: scratch set: %w", err)
	}
	return &diskSet{dir: dir, db: db}, nil
}

// add adds k to the set and reports whether it was not in it.
func (s *diskSet) add(k string) (bool, error) {
	if s.tx == nil {
		tx, err := s.db.Begin()
		if err != nil {
			return false, fmt.Errorf("importapi: scratch set: %w", err)
		}
		ins, err := tx.Prepare("INSERT OR IGNORE INTO s(k) VALUES(?)")
		if err != nil {
			_ = tx.Rollback()
			return false, fmt.Errorf("importapi: scratch set: %w", err)
		}
		s.tx, s.ins = tx, ins
	}
	res, err := s.ins.Exec(k)
	if err != nil {
		return false, fmt.Errorf("importapi: scratch set: %w", err)
	}
	n, _ := res.RowsAffected()
	if s.rows++; s.rows >= indexCommitEvery {
		s.ins.Close()
		err := s.tx.Commit()
		s.tx, s.ins, s.rows = nil, nil, 0
		if err != nil {
			return false, fmt.Errorf("importapi: scratch set: %w", err)
		}
	}
	return n == 1, nil
}

// close removes the set.
func (s *diskSet) close() error {
	if s.tx != nil {
		s.ins.Close()
		_ = s.tx.Rollback()
	}
	err := s.db.Close()
	os.RemoveAll(s.dir)
	return err
}
