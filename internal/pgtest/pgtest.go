// Package pgtest gives tests a PostgreSQL schema of their own in the
// database STAGESYNC_TEST_POSTGRES names (.ci/run starts a throwaway
// server and sets it); without the variable the tests skip, naming it.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable that enables the PostgreSQL tests: a postgres://
// URL of a database the tests may create schemas in.
const Env = "STAGESYNC_TEST_POSTGRES"

// SchemaURL creates a schema in the database of Env, dropped when the test
// ends, and returns Env's URL with that schema as its search_path; what
// names what the tests use it for, in the skip message.
func SchemaURL(t testing.TB, what string) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skipf("set %s=postgres://USER@HOST/DB to run the tests of %s", Env, what)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("stagesync_test_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
