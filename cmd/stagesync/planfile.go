package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stagesync/stagesync/internal/sqlitefile"
	"github.com/stagesync/stagesync/stagesync"
)

// A plan file (`stagesync plan -o FILE`) is an SQLite database holding the
// flags of the plan (never a token: only the names of the variables that
// hold them) and every entry the plan changes, so that `stagesync apply
// FILE` runs exactly that sync and can tell whether the stages changed
// since.
const planFileSchema = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE models(name TEXT PRIMARY KEY, pos INTEGER NOT NULL, counts TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE entries(model TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL, body TEXT NOT NULL,
	PRIMARY KEY(model, src, dst)) WITHOUT ROWID;
`

// planFileVersion is the format version of plan files.
const planFileVersion = "1"

func openPlanFile(path string, create bool) (*sql.DB, error) {
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
	}
	return sqlitefile.Open(path)
}

// planArgs returns the flags set on cmd as arguments, without the plan
// file's own and the output-only ones.
func planArgs(cmd *cobra.Command) []string {
	var args []string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "out", "plan", "report", "json", "quiet", "pair":
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+fl.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+fl.Name+"="+fl.Value.String())
	})
	return args
}

// writePlanFile writes a plan and the flags that made it to path,
// replacing what was there.
func writePlanFile(path string, args []string, p *stagesync.Plan) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	db, err := openPlanFile(path, true)
	if err != nil {
		return fmt.Errorf("plan file %s: %w", path, err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(planFileSchema); err != nil {
		return fmt.Errorf("plan file %s: %w", path, err)
	}
	argsJSON, _ := json.Marshal(args)
	if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES ('version', ?), ('args', ?)`, planFileVersion, string(argsJSON)); err != nil {
		return err
	}
	ins, err := tx.Prepare(`INSERT OR REPLACE INTO entries(model, src, dst, body) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for i, m := range p.Models() {
		m.Entries, m.Omitted = nil, 0
		counts, _ := json.Marshal(m)
		if _, err := tx.Exec(`INSERT INTO models(name, pos, counts) VALUES (?, ?, ?)`, m.Name, i, string(counts)); err != nil {
			return err
		}
		for e, err := range p.Entries(m.Name) {
			if err != nil {
				return err
			}
			body, _ := json.Marshal(e)
			if _, err := ins.Exec(m.Name, e.SourceID, e.DestID, string(body)); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// readPlanArgs returns the flags a plan file was made with.
func readPlanArgs(db *sql.DB, path string) ([]string, error) {
	var version, argsJSON string
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'version'`).Scan(&version); err != nil {
		return nil, fmt.Errorf("%s is not a stagesync plan file (make one with stagesync plan -o FILE): %w", path, err)
	}
	if version != planFileVersion {
		return nil, fmt.Errorf("plan file %s has version %s, want %s: make the plan again", path, version, planFileVersion)
	}
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'args'`).Scan(&argsJSON); err != nil {
		return nil, err
	}
	var args []string
	if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return args, nil
}

// staleEntries compares a plan made now with the plan file's and returns
// one line for each entry whose plan differs (at most limit, then a count):
// the source or the destination changed since the file was made.
func staleEntries(db *sql.DB, now *stagesync.Plan, limit int) ([]string, error) {
	var out []string
	n := 0
	add := func(s string) {
		if n++; n <= limit {
			out = append(out, s)
		}
	}
	// The entries of the file also planned now, counted per model; the
	// file is only read, and the plan now may be too large to hold.
	found := map[string]int{}
	for _, m := range now.Models() {
		var one int
		err := db.QueryRow(`SELECT 1 FROM models WHERE name = ?`, m.Name).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			n := 0
			for range now.Entries(m.Name) {
				n++
			}
			if n > 0 {
				add(fmt.Sprintf("%s: %d entries to change now, none in the plan", m.Name, n))
			}
			continue
		case err != nil:
			return nil, err
		}
		for e, err := range now.Entries(m.Name) {
			if err != nil {
				return nil, err
			}
			var body string
			err := db.QueryRow(`SELECT body FROM entries WHERE model = ? AND src = ? AND dst = ?`, m.Name, e.SourceID, e.DestID).Scan(&body)
			if errors.Is(err, sql.ErrNoRows) {
				add(fmt.Sprintf("%s %s: now %s, unchanged in the plan", m.Name, entryName(e), describe(e)))
				continue
			}
			if err != nil {
				return nil, err
			}
			var was stagesync.EntryPlan
			if err := json.Unmarshal([]byte(body), &was); err != nil {
				return nil, err
			}
			if !sameEntryPlan(was, e) {
				add(fmt.Sprintf("%s %s: now %s, in the plan %s", m.Name, entryName(e), describe(e), describe(was)))
			}
			found[m.Name]++
		}
	}
	// The file's entries not planned now: only in a model whose entries
	// in the file outnumber those found, whose keys now are gathered then.
	counts, err := db.Query(`SELECT model, count(*) FROM entries GROUP BY model ORDER BY model`)
	if err != nil {
		return nil, err
	}
	var short []string
	for counts.Next() {
		var model string
		var c int
		if err := counts.Scan(&model, &c); err != nil {
			counts.Close()
			return nil, err
		}
		if c > found[model] {
			short = append(short, model)
		}
	}
	counts.Close()
	if err := counts.Err(); err != nil {
		return nil, err
	}
	for _, model := range short {
		planned := map[[2]string]bool{}
		for e, err := range now.Entries(model) {
			if err != nil {
				return nil, err
			}
			planned[[2]string{e.SourceID, e.DestID}] = true
		}
		if err := gone(db, model, planned, add); err != nil {
			return nil, err
		}
	}
	if n > limit {
		out = append(out, fmt.Sprintf("... and %d more", n-limit))
	}
	return out, nil
}

// gone adds a line for each entry of model in the plan file that planned
// does not have.
func gone(db *sql.DB, model string, planned map[[2]string]bool, add func(string)) error {
	rows, err := db.Query(`SELECT src, dst, body FROM entries WHERE model = ? ORDER BY src, dst`, model)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var src, dst, body string
		if err := rows.Scan(&src, &dst, &body); err != nil {
			return err
		}
		if planned[[2]string{src, dst}] {
			continue
		}
		var was stagesync.EntryPlan
		if err := json.Unmarshal([]byte(body), &was); err != nil {
			return err
		}
		add(fmt.Sprintf("%s %s: in the plan %s, now unchanged", model, entryName(was), describe(was)))
	}
	return rows.Err()
}

func sameEntryPlan(a, b stagesync.EntryPlan) bool {
	return a.Op == b.Op && a.Publish == b.Publish && a.PublishedDiffers == b.PublishedDiffers &&
		slices.Equal(a.Changed, b.Changed)
}

func entryName(e stagesync.EntryPlan) string {
	switch {
	case e.SourceID != "" && e.DestID != "":
		return e.SourceID + "→" + e.DestID
	case e.SourceID != "":
		return e.SourceID
	}
	return "→" + e.DestID
}

func describe(e stagesync.EntryPlan) string {
	s := string(e.Op)
	if len(e.Changed) > 0 {
		s += " " + strings.Join(e.Changed, ",")
	}
	if e.Publish != "" {
		s += ", " + e.Publish
	}
	return s
}
