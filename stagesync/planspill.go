package stagesync

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/stagesync/stagesync/internal/sqlitefile"
)

// planMemory is the most entries of one model a plan holds in memory. A
// plan that lists more (a dry run lists every entry) keeps the rest in a
// scratch SQLite file, so that the memory of planning a large project
// does not grow with its plan; Plan.Entries and Plan.WriteJSON read them
// back.
const planMemory = 1000

// planSpill is the scratch file of a plan's entries beyond planMemory.
// The plan removes it when it is collected.
type planSpill struct {
	dir  string
	db   *sql.DB
	buf  []spillRow // not yet written
	seq  int
	full bool // the file failed: the plan keeps its entries in memory
}

type spillRow struct {
	model string
	seq   int
	body  []byte
}

// spillBatch is the number of entries written to the file at a time.
const spillBatch = 500

// spillTo returns the scratch file of p, opening it at the first entry
// over planMemory; nil when it cannot be made (the plan keeps its entries
// in memory then). p.mu is held.
func (p *Plan) spillTo() *planSpill {
	if p.spill != nil {
		if p.spill.full {
			return nil
		}
		return p.spill
	}
	s := &planSpill{}
	p.spill = s
	var err error
	if s.dir, err = os.MkdirTemp("", "stagesync-plan-"); err == nil {
		if s.db, err = sqlitefile.Open(filepath.Join(s.dir, "plan.db"), "journal_mode(OFF)", "synchronous(OFF)"); err == nil {
			_, err = s.db.Exec(`CREATE TABLE entries(model TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(model, seq)) WITHOUT ROWID`)
		}
	}
	runtime.AddCleanup(p, func(s *planSpill) { s.close() }, s)
	if err != nil {
		s.full = true
		return nil
	}
	return s
}

// add keeps e of model in the file; false when the file failed (the
// caller keeps it in memory then: nothing of a plan is lost).
func (s *planSpill) add(model string, e EntryPlan) bool {
	body, err := json.Marshal(e)
	if err != nil {
		return false
	}
	s.seq++
	s.buf = append(s.buf, spillRow{model: model, seq: s.seq, body: body})
	if len(s.buf) >= spillBatch {
		// Should the file fail, the buffer keeps what it holds (and
		// the plan the entries after it).
		_ = s.flush()
	}
	return true
}

// flush writes the buffered entries.
func (s *planSpill) flush() error {
	if len(s.buf) == 0 || s.full {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return s.fail(err)
	}
	defer tx.Rollback()
	for _, r := range s.buf {
		if _, err := tx.Exec(`INSERT INTO entries(model, seq, body) VALUES (?, ?, ?)`, r.model, r.seq, string(r.body)); err != nil {
			return s.fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.fail(err)
	}
	s.buf = s.buf[:0]
	return nil
}

// fail marks the file failed; its buffered entries stay readable.
func (s *planSpill) fail(err error) error {
	s.full = true
	return err
}

// entries yields the entries of model in the file and its buffer, in the
// order they were planned.
func (s *planSpill) entries(model string) iter.Seq2[EntryPlan, error] {
	return func(yield func(EntryPlan, error) bool) {
		if s.db != nil {
			rows, err := s.db.Query(`SELECT body FROM entries WHERE model = ? ORDER BY seq`, model)
			if err != nil {
				yield(EntryPlan{}, err)
				return
			}
			defer rows.Close()
			for rows.Next() {
				var body []byte
				var e EntryPlan
				err := rows.Scan(&body)
				if err == nil {
					err = json.Unmarshal(body, &e)
				}
				if !yield(e, err) || err != nil {
					return
				}
			}
			if err := rows.Err(); err != nil {
				yield(EntryPlan{}, err)
				return
			}
		}
		for _, r := range s.buf { // left when the file failed
			if r.model != model {
				continue
			}
			var e EntryPlan
			err := json.Unmarshal(r.body, &e)
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

func (s *planSpill) close() {
	if s.db != nil {
		_ = s.db.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// Entries iterates over the entries of model the plan lists, in the order
// they were planned: ModelPlan.Entries (at most 1,000), then those a plan
// that lists more keeps on disk. Read it after the sync returned.
func (p *Plan) Entries(model string) iter.Seq2[EntryPlan, error] {
	return func(yield func(EntryPlan, error) bool) {
		p.mu.Lock()
		m := p.byName[model]
		var mem []EntryPlan
		if m != nil {
			mem = slices.Clone(m.Entries)
		}
		s, n := p.spill, p.spilled[model]
		if n > 0 {
			_ = s.flush() // a failed file keeps its buffer
		}
		p.mu.Unlock()
		for _, e := range mem {
			if !yield(e, nil) {
				return
			}
		}
		if n == 0 {
			return
		}
		for e, err := range s.entries(model) {
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// WriteJSON writes the plan as indented JSON, {"models":[...]}, every
// listed entry included (read back from disk, one at a time).
func (p *Plan) WriteJSON(w io.Writer) error {
	if _, err := io.WriteString(w, "{\n  \"models\": ["); err != nil {
		return err
	}
	for i, m := range p.Models() {
		if i > 0 {
			io.WriteString(w, ",")
		}
		name := m.Name
		m.Entries = []EntryPlan{}
		b, err := json.MarshalIndent(m, "    ", "  ")
		if err != nil {
			return err
		}
		head, tail, _ := bytes.Cut(b, []byte(`"entries": []`))
		if _, err := w.Write(append([]byte("\n    "), head...)); err != nil {
			return err
		}
		io.WriteString(w, `"entries": [`)
		n := 0
		for e, err := range p.Entries(name) {
			if err != nil {
				return err
			}
			eb, err := json.MarshalIndent(e, "        ", "  ")
			if err != nil {
				return err
			}
			if n > 0 {
				io.WriteString(w, ",")
			}
			io.WriteString(w, "\n        ")
			if _, err := w.Write(eb); err != nil {
				return err
			}
			n++
		}
		if n > 0 {
			io.WriteString(w, "\n      ")
		}
		io.WriteString(w, "]")
		if _, err := w.Write(tail); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n  ]\n}\n")
	return err
}
