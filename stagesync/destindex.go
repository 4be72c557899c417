package stagesync

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync/atomic"

	"github.com/stagesync/stagesync/internal/sqlitefile"
)

// destSpillAt is the number of destination entries of a model the engine
// indexes in memory; a larger model's index moves to a database file in
// the run's scratch directory, so that memory does not grow with the
// destination. Tests lower it to run the database index on small stages.
var destSpillAt atomic.Int64

func init() { destSpillAt.Store(1000) }

// destIndex is the index of a model's destination entries, read ahead: by
// id, by the value of the match field and by creation time, with a
// matched mark per entry. It is in memory until it grows past destSpillAt
// entries, then in an SQLite database. It is filled by one goroutine,
// then used by one goroutine after done is closed.
type destIndex struct {
	done  chan struct{}
	err   error // of the read
	model string

	// In memory.
	byID, byKey          map[string]*destEntry
	byCreated, byContent map[string][]*destEntry
	kept                 map[string]bool // candidates of ambiguous creates: never orphans
	size                 int             // entries read

	// Spilled.
	dir, path string
	db        *sql.DB
	tx        *sql.Tx
	n         int
	dbErr     error // the first error of the database, reported after the model
}

func newDestIndex(model, dir string) *destIndex {
	return &destIndex{
		done: make(chan struct{}), model: model, dir: dir,
		byID: map[string]*destEntry{}, byKey: map[string]*destEntry{},
		byCreated: map[string][]*destEntry{}, byContent: map[string][]*destEntry{},
	}
}

// destRecord is the stored form of a destEntry.
type destRecord struct {
	Draft fieldHashes         `json:"d"`
	Pub   fieldHashes         `json:"p,omitempty"`
	Comps map[string][]string `json:"c,omitempty"`
	Files map[string]string   `json:"f,omitempty"`
	State string              `json:"s,omitempty"`
}

const destSchema = `CREATE TABLE dest(id TEXT PRIMARY KEY, key TEXT, created TEXT, content TEXT, matched INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX dest_key ON dest(key) WHERE key IS NOT NULL;
CREATE INDEX dest_created ON dest(created) WHERE created IS NOT NULL;
CREATE INDEX dest_content ON dest(content);`

// fail records the first database error.
func (x *destIndex) fail(err error) {
	if err != nil && x.dbErr == nil {
		x.dbErr = fmt.Errorf("stagesync: index of %s: %w", x.model, err)
	}
}

// add indexes a destination entry.
func (x *destIndex) add(d *destEntry) error {
	x.size++
	if x.db == nil && len(x.byID) < int(destSpillAt.Load()) {
		x.byID[d.id] = d
		if d.key != "" {
			x.byKey[d.key] = d
		}
		if d.created != "" {
			x.byCreated[d.created] = append(x.byCreated[d.created], d)
		}
		x.byContent[d.content] = append(x.byContent[d.content], d)
		return nil
	}
	if x.db == nil {
		if err := x.spill(); err != nil {
			return err
		}
	}
	return x.insert(d)
}

// spill moves the index to a database.
func (x *destIndex) spill() error {
	f, err := os.CreateTemp(x.dir, "dest-*.db")
	if err != nil {
		return fmt.Errorf("stagesync: index of %s: %w", x.model, err)
	}
	f.Close()
	x.path = f.Name()
	// The index is scratch: no journal, no syncs; a page cache of 1 MB.
	if x.db, err = sqlitefile.Open(x.path, "journal_mode(OFF)", "synchronous(OFF)", "cache_size(-1024)"); err != nil {
		return fmt.Errorf("stagesync: index of %s: %w", x.model, err)
	}
	x.db.SetMaxOpenConns(1)
	if _, err := x.db.Exec(destSchema); err != nil {
		return fmt.Errorf("stagesync: index of %s: %w", x.model, err)
	}
	for _, id := range slices.Sorted(maps.Keys(x.byID)) {
		if err := x.insert(x.byID[id]); err != nil {
			return err
		}
	}
	x.byID, x.byKey, x.byCreated, x.byContent = nil, nil, nil, nil
	return nil
}

// insert writes an entry to the database, in transactions of 1,000.
func (x *destIndex) insert(d *destEntry) error {
	if x.tx == nil {
		var err error
		if x.tx, err = x.db.Begin(); err != nil {
			return fmt.Errorf("stagesync: index of %s: %w", x.model, err)
		}
	}
	body, err := json.Marshal(destRecord{Draft: d.draft, Pub: d.pub, Comps: d.comps, Files: d.files, State: d.status})
	if err != nil {
		return err
	}
	_, err = x.tx.Exec(`INSERT OR REPLACE INTO dest(id, key, created, content, matched, body) VALUES (?, ?, ?, ?, ?, ?)`,
		d.id, nullString(d.key), nullString(d.created), d.content, d.matched, body)
	if err != nil {
		return fmt.Errorf("stagesync: index of %s: %w", x.model, err)
	}
	if x.n++; x.n%1000 == 0 {
		return x.flush()
	}
	return nil
}

// flush commits the entries added so far.
func (x *destIndex) flush() error {
	if x.tx == nil {
		return nil
	}
	err := x.tx.Commit()
	x.tx = nil
	if err != nil {
		return fmt.Errorf("stagesync: index of %s: %w", x.model, err)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// load reads one entry of the database; where is a condition on the dest
// table with args.
func (x *destIndex) load(where string, args ...any) *destEntry {
	var (
		d          = &destEntry{model: x.model}
		key, cr    sql.NullString
		body       []byte
		rec        destRecord
		matchedInt int
	)
	err := x.db.QueryRow(`SELECT id, key, created, content, matched, body FROM dest WHERE `+where+` LIMIT 1`, args...).
		Scan(&d.id, &key, &cr, &d.content, &matchedInt, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err == nil {
		err = json.Unmarshal(body, &rec)
	}
	if err != nil {
		x.fail(err)
		return nil
	}
	d.key, d.created, d.matched = key.String, cr.String, matchedInt != 0
	d.draft, d.pub, d.comps = rec.Draft, rec.Pub, rec.Comps
	d.files, d.status = rec.Files, rec.State
	return d
}

// get returns the entry with a destination id.
func (x *destIndex) get(id string) *destEntry {
	if x.db == nil {
		return x.byID[id]
	}
	return x.load(`id = ?`, id)
}

// unmatchedByKey returns the entry no source entry matched yet whose
// match field has the value key.
func (x *destIndex) unmatchedByKey(key string) *destEntry {
	if x.db == nil {
		if d := x.byKey[key]; d != nil && !d.matched {
			return d
		}
		return nil
	}
	return x.load(`key = ? AND matched = 0`, key)
}

// unmatchedByCreated returns the entries no source entry matched yet
// created at created (a timeKey).
func (x *destIndex) unmatchedByCreated(created string) []*destEntry {
	return x.unmatchedBy(x.byCreated[created], `created = ?`, created)
}

// unmatchedByContent returns the entries no source entry matched yet
// whose content has the digest content (see contentDigest).
func (x *destIndex) unmatchedByContent(content string) []*destEntry {
	return x.unmatchedBy(x.byContent[content], `content = ?`, content)
}

// unmatchedBy returns the unmatched entries of mem (in memory) or of the
// condition where on the database.
func (x *destIndex) unmatchedBy(mem []*destEntry, where string, arg any) []*destEntry {
	var out []*destEntry
	if x.db == nil {
		for _, d := range mem {
			if !d.matched {
				out = append(out, d)
			}
		}
		return out
	}
	rows, err := x.db.Query(`SELECT id FROM dest WHERE `+where+` AND matched = 0 ORDER BY id`, arg)
	if err != nil {
		x.fail(err)
		return nil
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			x.fail(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if d := x.get(id); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// match marks an entry matched by a source entry.
func (x *destIndex) match(d *destEntry) {
	d.matched = true
	x.matchID(d.id)
}

// matchID marks the entry with a destination id matched, if there is one.
func (x *destIndex) matchID(id string) {
	if x.db == nil {
		if d := x.byID[id]; d != nil {
			d.matched = true
		}
		return
	}
	_, err := x.db.Exec(`UPDATE dest SET matched = 1 WHERE id = ?`, id)
	x.fail(err)
}

// keep marks an entry that must not be taken for an orphan although no
// source entry matched it.
func (x *destIndex) keep(id string) {
	if x.kept == nil {
		x.kept = map[string]bool{}
	}
	x.kept[id] = true
}

// unmatched returns the ids of the entries no source entry matched and
// none is kept, sorted.
func (x *destIndex) unmatched() []string {
	out := x.unmatchedAll()
	return slices.DeleteFunc(out, func(id string) bool { return x.kept[id] })
}

func (x *destIndex) unmatchedAll() []string { return x.idsMatched(false) }

// idsMatched returns the ids of the entries whose matched flag is matched,
// sorted.
func (x *destIndex) idsMatched(matched bool) []string {
	var out []string
	if x.db == nil {
		for id, d := range x.byID {
			if d.matched == matched {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	rows, err := x.db.Query(`SELECT id FROM dest WHERE matched = ? ORDER BY id`, matched)
	if err != nil {
		x.fail(err)
		return nil
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			x.fail(err)
			return nil
		}
		out = append(out, id)
	}
	x.fail(rows.Err())
	return out
}

// close frees the index: its memory, or its database file. Use it once the
// index is read (done is closed).
func (x *destIndex) close() {
	x.byID, x.byKey, x.byCreated, x.byContent = nil, nil, nil, nil
	if x.db != nil {
		if x.tx != nil {
			_ = x.tx.Rollback()
		}
		x.db.Close()
		_ = os.Remove(x.path)
		x.db = nil
	}
}
