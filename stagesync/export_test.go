package stagesync

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"
)

// DestSpillAt lets the external tests run with spilled destination indexes.
var DestSpillAt = &destSpillAt

// Redacted is redactURL for a URL, else the path itself: how a state's
// messages name it.
func Redacted(path string) string {
	if isPostgresURL(path) {
		return redactURL(path)
	}
	return path
}

// PostgresStateURL returns a postgres:// state URL in a new schema of the
// database STAGESYNC_TEST_POSTGRES names (dropped at the end), or skips
// the test without the variable.
func PostgresStateURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("STAGESYNC_TEST_POSTGRES")
	if base == "" {
		t.Skip("set STAGESYNC_TEST_POSTGRES=postgres://USER@HOST/DB to run the tests of the PostgreSQL state")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("STAGESYNC_TEST_POSTGRES: %v", err)
	}
	defer db.Close()
	name := fmt.Sprintf("stagesync_state_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("STAGESYNC_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", base); err == nil {
			_, _ = db.Exec("DROP SCHEMA " + name + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
