// Package sqlitefile opens the project's SQLite files (state databases,
// scratch indexes, plan files) with the pure-Go driver.
package sqlitefile

import (
	"database/sql"
	"net/url"

	_ "modernc.org/sqlite" // the driver
)

// Open opens the SQLite database file at path (created when missing) with
// a 10 s busy timeout and pragmas; a file that is not an SQLite database
// is an error.
func Open(path string, pragmas ...string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range append([]string{"busy_timeout(10000)"}, pragmas...) {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
