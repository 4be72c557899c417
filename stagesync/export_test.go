package stagesync

import (
	"testing"

	"github.com/stagesync/stagesync/internal/pgtest"
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
	return pgtest.SchemaURL(t, "the PostgreSQL state")
}
