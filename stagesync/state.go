package stagesync

import (
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stagesync/stagesync/internal/sqlitefile"
)

// stateVersion is the format version written into state databases.
const stateVersion = 2

// State is what a sync remembers between runs: the identity map, per-model
// high-water marks for delta sync, and the creates in flight (see
// setPending) so that a killed run resumes without duplicating them. It is
// safe for concurrent use.
//
// A State is either in memory (NewState) or a database file (LoadState, an
// SQLite database). A database state keeps only the changes since its last
// Save in memory and looks everything else up on disk, so its memory does
// not grow with the identity map; Save commits those changes in one
// transaction, so a crash leaves either the old or the new state on disk,
// never a torn one, and a checkpoint costs what changed, not the whole map.
// (SQLite rather than bbolt: SQLite reads pages into a bounded cache, where
// bbolt's memory map would count every page it touches as resident.)
type State struct {
	mu sync.Mutex
	// ids and rev are the identity map (model → source id → destination
	// id) and its reverse. In memory they are the whole map; for a
	// database or an overlay they are the changes since the last Save, ""
	// marking a forgotten id, and rev entries are hints checked against
	// ids.
	ids, rev  map[string]map[string]string
	highWater map[string]time.Time                // model -> max source updatedAt fully synced
	pending   map[string]map[string]pendingCreate // model -> source id -> a create in flight
	source    string
	dest      string

	dirty  bool       // changed since the last Save
	db     *sql.DB    // nil in memory
	pg     bool       // db is PostgreSQL (LoadState with a postgres:// URL)
	path   string     // the file, or the URL without its password
	lock   *stateLock // of a database state, released by Close
	parent *State     // an overlay's base: read through, never written
}

// NewState returns an empty state in memory for a sync from source to dest
// (endpoint URLs or any names that identify the stages; they guard against
// resuming a state against the wrong stages). Its identity map lives in
// memory; use LoadState for a state that persists, or for projects whose
// identity map is too large to keep in memory.
func NewState(source, dest string) *State {
	return &State{
		ids:       map[string]map[string]string{},
		rev:       map[string]map[string]string{},
		highWater: map[string]time.Time{},
		pending:   map[string]map[string]pendingCreate{},
		source:    source,
		dest:      dest,
	}
}

// stateSchema creates the tables of a state database.
const stateSchema = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ids(model TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL, PRIMARY KEY(model, src)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ids_dst ON ids(model, dst);
CREATE TABLE IF NOT EXISTS high_water(model TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending(model TEXT NOT NULL, src TEXT NOT NULL, created TEXT NOT NULL, sent TEXT NOT NULL DEFAULT '', PRIMARY KEY(model, src)) WITHOUT ROWID;
`

// addSentColumn adds the pending table's sent column to a state database
// written before it existed; its creates in flight have no content digest.
func addSentColumn(db *sql.DB) error {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('pending') WHERE name = 'sent'`).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err := db.Exec(`ALTER TABLE pending ADD COLUMN sent TEXT NOT NULL DEFAULT ''`)
	return err
}

// LoadState opens the state database at path, creating it when it does
// not exist. A database written for other stages is an error, so a state
// is never applied to the wrong destination. Close it when done.
//
// The state is locked from LoadState to Close (see the file path+".lock"):
// while one run holds it, LoadState elsewhere, in this process or another,
// fails at once with an error matching ErrStateInUse that names the
// holder's process, host and start. The OS drops the lock of a process
// that ends, however it ends, so a killed run never leaves it held.
//
// A postgres:// (or postgresql://) URL as path keeps the state in that
// PostgreSQL database instead (in the schema of its search_path), so that
// runs on several machines share one identity map: `stagesync listen`
// processes sharing a PostgreSQL queue, say. The lock is then a session
// advisory lock of that database, which PostgreSQL drops when the holder's
// connection ends, however it ends. One database (or schema) holds the
// state of one pair of stages.
func LoadState(path, source, dest string) (*State, error) {
	if isPostgresURL(path) {
		return loadPostgresState(path, source, dest)
	}
	var lock *stateLock
	if path != "" {
		var err error
		if lock, err = lockState(path); err != nil {
			return nil, err
		}
	}
	// A page cache of 1 MB per connection (SQLite's default is 2 MB):
	// the identity map is looked up by key, and the run's memory, not
	// the cache, should bound what a large project costs.
	db, err := sqlitefile.Open(path, "journal_mode(WAL)", "synchronous(FULL)", "cache_size(-1024)")
	if err != nil {
		lock.release()
		if strings.Contains(err.Error(), "not a database") {
			return nil, fmt.Errorf("stagesync: state file %s is not a stagesync state database: %w", path, err)
		}
		return nil, fmt.Errorf("stagesync: open state %s: %w", path, err)
	}
	// Each connection has its own page cache (2 MB): a few are enough for
	// the lookups, and bound the memory.
	db.SetMaxOpenConns(4)
	s, err := loadState(db, false, path, source, dest)
	if err != nil {
		db.Close()
		lock.release()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func loadState(db *sql.DB, pg bool, path, source, dest string) (*State, error) {
	if pg {
		if _, err := db.Exec(postgresStateSchema); err != nil {
			return nil, fmt.Errorf("stagesync: state %s: create its tables: %w", path, err)
		}
	} else {
		if _, err := db.Exec(stateSchema); err != nil {
			return nil, fmt.Errorf("stagesync: state file %s is not a stagesync state database: %w", path, err)
		}
		if err := addSentColumn(db); err != nil {
			return nil, fmt.Errorf("stagesync: state file %s: %w", path, err)
		}
	}
	meta := map[string]string{}
	rows, err := db.Query(`SELECT key, value FROM meta WHERE key IN ('version', 'source', 'dest')`)
	if err != nil {
		return nil, fmt.Errorf("stagesync: read state %s: %w", path, err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("stagesync: read state %s: %w", path, err)
		}
		meta[k] = v
	}
	rows.Close()
	if len(meta) == 0 {
		// A new database.
		_, err := db.Exec(rebind(pg, `INSERT INTO meta(key, value) VALUES ('version', ?), ('source', ?), ('dest', ?)`),
			strconv.Itoa(stateVersion), source, dest)
		if err != nil {
			return nil, fmt.Errorf("stagesync: write state %s: %w", path, err)
		}
		meta = map[string]string{"version": strconv.Itoa(stateVersion), "source": source, "dest": dest}
	}
	if v := meta["version"]; v != strconv.Itoa(stateVersion) {
		return nil, fmt.Errorf("stagesync: state file %s has version %s, want %d", path, v, stateVersion)
	}
	if (source != "" && meta["source"] != source) || (dest != "" && meta["dest"] != dest) {
		return nil, fmt.Errorf("stagesync: state file %s belongs to a sync from %q to %q, not from %q to %q",
			path, meta["source"], meta["dest"], source, dest)
	}
	s := NewState(meta["source"], meta["dest"])
	s.db, s.pg, s.path = db, pg, path
	if err := s.scan(`SELECT model, at FROM high_water`, func(c ...string) error {
		t, err := time.Parse(time.RFC3339Nano, c[1])
		s.highWater[c[0]] = t
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.scan(`SELECT model, src, created, sent FROM pending`, func(c ...string) error {
		if s.pending[c[0]] == nil {
			s.pending[c[0]] = map[string]pendingCreate{}
		}
		s.pending[c[0]][c[1]] = pendingCreate{created: c[2], sent: c[3]}
		return nil
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// scan runs a query of text columns on the database and calls fn with
// each row's values.
func (s *State) scan(query string, fn func(cols ...string) error, args ...any) error {
	rows, err := s.db.Query(rebind(s.pg, query), args...)
	if err != nil {
		return fmt.Errorf("stagesync: read state %s: %w", s.path, err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("stagesync: read state %s: %w", s.path, err)
	}
	cols := make([]string, len(names))
	ptrs := make([]any, len(cols))
	for i := range cols {
		ptrs[i] = &cols[i]
	}
	for rows.Next() {
		if err = rows.Scan(ptrs...); err == nil {
			err = fn(cols...)
		}
		if err != nil {
			return fmt.Errorf("stagesync: read state %s: %w", s.path, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("stagesync: read state %s: %w", s.path, err)
	}
	return nil
}

// Save commits the changes since the last Save to the state database in
// one transaction. A state in memory has nothing to save.
func (s *State) Save() error {
	if s.db == nil || s.parent != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return nil
	}
	if err := s.commit(); err != nil {
		return fmt.Errorf("stagesync: save state %s: %w", s.path, err)
	}
	clear(s.ids)
	clear(s.rev)
	s.dirty = false
	return nil
}

// commit writes the changes to the database; s.mu must be held.
func (s *State) commit() error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	put, err := tx.Prepare(rebind(s.pg, `INSERT INTO ids(model, src, dst) VALUES (?, ?, ?) ON CONFLICT(model, src) DO UPDATE SET dst = excluded.dst`))
	if err != nil {
		return err
	}
	defer put.Close()
	del, err := tx.Prepare(rebind(s.pg, `DELETE FROM ids WHERE model = ? AND src = ?`))
	if err != nil {
		return err
	}
	defer del.Close()
	for model, ids := range s.ids {
		for src, dst := range ids {
			if dst == "" {
				_, err = del.Exec(model, src)
			} else {
				_, err = put.Exec(model, src, dst)
			}
			if err != nil {
				return err
			}
		}
	}
	if _, err := tx.Exec(`DELETE FROM high_water`); err != nil {
		return err
	}
	for m, t := range s.highWater {
		if _, err := tx.Exec(rebind(s.pg, `INSERT INTO high_water(model, at) VALUES (?, ?)`), m, t.Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`DELETE FROM pending`); err != nil {
		return err
	}
	for m, p := range s.pending {
		for src, c := range p {
			if _, err := tx.Exec(rebind(s.pg, `INSERT INTO pending(model, src, created, sent) VALUES (?, ?, ?, ?)`), m, src, c.created, c.sent); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// Close closes the state database (without saving) and releases its lock.
// Closing a state in memory does nothing.
func (s *State) Close() error {
	if s.db == nil || s.parent != nil {
		return nil
	}
	s.lock.release() // before the pool closes: a PostgreSQL lock is one of its connections
	s.lock = nil
	return s.db.Close()
}

// overlay returns a state that reads through s and keeps its own changes:
// a dry run matches entries like a real run without changing s.
func (s *State) overlay() *State {
	o := NewState(s.source, s.dest)
	o.parent = s
	s.mu.Lock()
	defer s.mu.Unlock()
	for m, t := range s.highWater {
		o.highWater[m] = t
	}
	for m, p := range s.pending {
		o.pending[m] = maps.Clone(p)
	}
	return o
}

// buffered reports whether ids holds changes over a base (a database or
// an overlay's parent) rather than the whole map.
func (s *State) buffered() bool { return s.db != nil || s.parent != nil }

// baseDestID looks up a source id in the base of a buffered state.
func (s *State) baseDestID(model, sourceID string) (string, bool) {
	if s.parent != nil {
		return s.parent.DestID(model, sourceID)
	}
	var d string
	err := s.db.QueryRow(rebind(s.pg, `SELECT dst FROM ids WHERE model = ? AND src = ?`), model, sourceID).Scan(&d)
	return d, err == nil
}

// DestID returns the destination id mapped to a source id of model.
func (s *State) DestID(model, sourceID string) (string, bool) {
	s.mu.Lock()
	id, ok := s.ids[model][sourceID]
	s.mu.Unlock()
	switch {
	case ok:
		return id, id != ""
	case s.buffered():
		return s.baseDestID(model, sourceID)
	}
	return "", false
}

// SourceID returns the source id of model mapped to a destination id.
func (s *State) SourceID(model, destID string) (string, bool) {
	s.mu.Lock()
	src, ok := s.rev[model][destID]
	s.mu.Unlock()
	if !ok && s.buffered() {
		switch {
		case s.parent != nil:
			src, ok = s.parent.SourceID(model, destID)
		default:
			ok = s.db.QueryRow(rebind(s.pg, `SELECT src FROM ids WHERE model = ? AND dst = ?`), model, destID).Scan(&src) == nil
		}
	}
	if !ok {
		return "", false
	}
	// The reverse entry is a hint: the source id may have been remapped
	// or forgotten since.
	if d, ok := s.DestID(model, src); !ok || d != destID {
		return "", false
	}
	return src, true
}

// setDestID records that the source entry sourceID of model is destID in the
// destination.
func (s *State) setDestID(model, sourceID, destID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids[model] == nil {
		s.ids[model], s.rev[model] = map[string]string{}, map[string]string{}
	}
	s.ids[model][sourceID] = destID
	s.rev[model][destID] = sourceID
	s.dirty = true
}

// forgetID removes a mapping, e.g. after the destination entry was deleted.
func (s *State) forgetID(model, sourceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.buffered() {
		delete(s.ids[model], sourceID)
		return
	}
	if s.ids[model] == nil {
		s.ids[model], s.rev[model] = map[string]string{}, map[string]string{}
	}
	s.ids[model][sourceID] = ""
	s.dirty = true
}

// IDs returns a copy of the identity map of model, source id → destination
// id. It holds the whole map in memory: for tests and small models.
func (s *State) IDs(model string) map[string]string {
	out := map[string]string{}
	switch {
	case s.parent != nil:
		out = s.parent.IDs(model)
	case s.db != nil:
		_ = s.scan(`SELECT src, dst FROM ids WHERE model = ?`, func(c ...string) error {
			out[c[0]] = c[1]
			return nil
		}, model)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.ids[model] {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Models returns the models that have identity-map entries, sorted.
func (s *State) Models() []string {
	var out []string
	switch {
	case s.parent != nil:
		out = s.parent.Models()
	case s.db != nil:
		_ = s.scan(`SELECT DISTINCT model FROM ids`, func(c ...string) error {
			out = append(out, c[0])
			return nil
		})
	}
	s.mu.Lock()
	for m := range s.ids {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	s.mu.Unlock()
	// A model whose every mapping was forgotten is not listed.
	out = slices.DeleteFunc(out, func(m string) bool { return len(s.IDs(m)) == 0 })
	sort.Strings(out)
	return out
}

// HighWater returns the updatedAt up to which model was fully synced; the
// zero time when it never was.
func (s *State) HighWater(model string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.highWater[model]
}

// setHighWater records that every source entry of model updated at or before
// t has been synced. It never moves the mark backwards.
func (s *State) setHighWater(model string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.After(s.highWater[model]) {
		s.highWater[model] = t.UTC()
		s.dirty = true
	}
}

// clearHighWater forgets the high-water mark of model: its next delta
// sync reads every entry (see engine.run).
func (s *State) clearHighWater(model string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.highWater[model]; ok {
		delete(s.highWater, model)
		s.dirty = true
	}
}

// pendingCreate is a create in flight: sent to the destination, its
// answer not yet known.
type pendingCreate struct {
	// created is the creation time sent in the create input ("" when the
	// input has none).
	created string
	// sent is the digest of the content sent (see contentDigest), which
	// the destination entry holds if the create happened ("" when
	// unknown, as in state files written before it was recorded).
	sent string
}

// setPending records that an entry of model is being created in the
// destination for the source entry sourceID. A create whose response never
// arrives (the run was killed or cancelled, the connection dropped) may
// still have happened; the next run adopts the destination entry only
// when what was recorded identifies it (see engine.adopt).
func (s *State) setPending(model, sourceID string, c pendingCreate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[model] == nil {
		s.pending[model] = map[string]pendingCreate{}
	}
	s.pending[model][sourceID] = c
	s.dirty = true
}

// pendingOf returns the create in flight recorded by setPending.
func (s *State) pendingOf(model, sourceID string) (pendingCreate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.pending[model][sourceID]
	return c, ok
}

// clearPending forgets a create in flight: it is known to have happened
// (and its id is mapped) or known not to have.
func (s *State) clearPending(model, sourceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[model][sourceID]; ok {
		s.dirty = true
	}
	delete(s.pending[model], sourceID)
	if len(s.pending[model]) == 0 {
		delete(s.pending, model)
	}
}

// hasPending reports whether creates of model are in flight (see
// setPending).
func (s *State) hasPending(model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending[model]) > 0
}

// countIDs returns the number of source entries of model the identity map
// holds, or -1 when the state database cannot be read.
func (s *State) countIDs(model string) int {
	n := 0
	switch {
	case s.parent != nil:
		if n = s.parent.countIDs(model); n < 0 {
			return n
		}
	case s.db != nil:
		if err := s.db.QueryRow(rebind(s.pg, `SELECT COUNT(*) FROM ids WHERE model = ?`), model).Scan(&n); err != nil {
			return -1
		}
	}
	s.mu.Lock()
	changes := maps.Clone(s.ids[model])
	s.mu.Unlock()
	for src, dst := range changes {
		if !s.buffered() {
			if dst != "" {
				n++
			}
			continue
		}
		_, inBase := s.baseDestID(model, src)
		switch {
		case dst == "" && inBase:
			n--
		case dst != "" && !inBase:
			n++
		}
	}
	return n
}

// pendingSharing counts the creates in flight of model recorded with the
// creation time created.
func (s *State) pendingSharing(model, created string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.pending[model] {
		if c.created == created {
			n++
		}
	}
	return n
}

// Adopt records, as the user's decision, that the source entry sourceID
// of model is the destination entry destID: it resolves a create reported
// as ambiguous (op "adopt") and forgets that create in flight. It refuses
// a destination entry the identity map gives another source entry. Save
// makes it last.
func (s *State) Adopt(model, sourceID, destID string) error {
	if other, ok := s.SourceID(model, destID); ok && other != sourceID {
		return fmt.Errorf("stagesync: %s %s is already the destination entry of source entry %s", model, destID, other)
	}
	if cur, ok := s.DestID(model, sourceID); ok && cur != destID {
		return fmt.Errorf("stagesync: source entry %s of %s is already mapped to destination entry %s", sourceID, model, cur)
	}
	s.setDestID(model, sourceID, destID)
	s.clearPending(model, sourceID)
	return nil
}
