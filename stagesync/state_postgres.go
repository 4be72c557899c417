package stagesync

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// postgresStateSchema creates the tables of a state in PostgreSQL: those
// of stateSchema.
const postgresStateSchema = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ids(model TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL, PRIMARY KEY(model, src));
CREATE INDEX IF NOT EXISTS ids_dst ON ids(model, dst);
CREATE TABLE IF NOT EXISTS high_water(model TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending(model TEXT NOT NULL, src TEXT NOT NULL, created TEXT NOT NULL, sent TEXT NOT NULL DEFAULT '', PRIMARY KEY(model, src));
`

// postgresLockKey is the advisory lock of the state in the connection's
// database and schema.
const postgresLockKey = `hashtext('stagesync-state:' || current_database() || '.' || current_schema())`

// isPostgresURL reports whether a state path is a PostgreSQL URL.
func isPostgresURL(path string) bool {
	return strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://")
}

// redactURL hides the password of a URL, for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// rebind turns the ? placeholders of query into PostgreSQL's $1, $2, ...
// when pg is set. (The state's queries have no ? in literals.)
func rebind(pg bool, query string) string {
	if !pg || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// loadPostgresState is LoadState for a postgres:// URL: the lock is taken
// first (a session advisory lock, held on a connection of its own until
// Close), then the tables are created when missing and checked as a
// state file's are.
func loadPostgresState(raw, source, dest string) (*State, error) {
	where := redactURL(raw)
	db, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, fmt.Errorf("stagesync: open state %s: %w", where, err)
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lock, err := lockPostgres(ctx, db, where)
	if err != nil {
		db.Close()
		return nil, err
	}
	s, err := loadState(db, true, where, source, dest)
	if err == nil {
		err = lock.record(ctx)
	}
	if err != nil {
		lock.release()
		db.Close()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// lockPostgres takes the state's advisory lock on a connection of db's,
// or fails at once with a *stateInUseError naming the holder (as the
// holder recorded itself in the meta table).
func lockPostgres(ctx context.Context, db *sql.DB, where string) (*stateLock, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("stagesync: open state %s: %w", where, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(`+postgresLockKey+`)`).Scan(&ok); err != nil {
		conn.Close()
		return nil, fmt.Errorf("stagesync: lock state %s: %w", where, err)
	}
	if !ok {
		defer conn.Close()
		e := &stateInUseError{path: where, advisory: true}
		var raw string
		var h lockHolder
		if conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'holder'`).Scan(&raw) == nil && json.Unmarshal([]byte(raw), &h) == nil && h.PID != 0 {
			e.holder = &h
		}
		return nil, e
	}
	return &stateLock{pg: conn}, nil
}

// record writes the holder of a PostgreSQL lock into the meta table, for
// the error of the next run that finds the state in use.
func (l *stateLock) record(ctx context.Context) error {
	host, _ := os.Hostname()
	b, _ := json.Marshal(lockHolder{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
	_, err := l.pg.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('holder', $1) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, string(b))
	return err
}
