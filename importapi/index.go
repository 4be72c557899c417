package importapi

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stagesync/stagesync/internal/sqlitefile"
	"github.com/stagesync/stagesync/schema"
)

// The snapshot index: a scratch SQLite file that holds a snapshot's values
// by entry, built from the NDF files in one streaming pass (while Check
// reads them) so that a Source answers the sync's reads from disk and
// memory does not grow with the snapshot.
//
//	node(model, id, stage, locale, updated, doc)  one row per NDF node
//	list(model, id, seq, stage, locale, field, vals)  one per list object
//	rel(model, id, seq, stage, field, pos, tmodel, tid)  one per linked side
//	ids(id, model, published)  Check's ids (see idSet)
//	cref(seq, file, line, idx, entry, tmodel, tid)  relations inside components
//
// seq is the order the values were read in: lists are appended and
// relations linked in that order, as the legacy import does.
const indexSchema = `
CREATE TABLE node(model TEXT NOT NULL, id TEXT NOT NULL, stage INTEGER NOT NULL, locale TEXT NOT NULL,
	updated INTEGER NOT NULL, doc BLOB NOT NULL, PRIMARY KEY(model, id, stage, locale)) WITHOUT ROWID;
CREATE TABLE list(model TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, stage INTEGER NOT NULL,
	locale TEXT NOT NULL, field TEXT NOT NULL, vals BLOB NOT NULL, PRIMARY KEY(model, id, seq)) WITHOUT ROWID;
CREATE TABLE rel(model TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, stage INTEGER NOT NULL,
	field TEXT NOT NULL, pos INTEGER, tmodel TEXT NOT NULL, tid TEXT NOT NULL, PRIMARY KEY(model, id, seq)) WITHOUT ROWID;
CREATE TABLE ids(id TEXT PRIMARY KEY, model TEXT NOT NULL, published INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE cref(seq INTEGER PRIMARY KEY, file TEXT, line INTEGER, idx INTEGER, entry TEXT, tmodel TEXT, tid TEXT);
`

// indexCommitEvery is how many rows a build transaction holds.
const indexCommitEvery = 20000

// Stage numbers in the index.
const (
	stageDraftN     = 0
	stagePublishedN = 1
)

func stageNum(s string) int {
	if s == StagePublished {
		return stagePublishedN
	}
	return stageDraftN
}

// snapshotIndex is a snapshot's values in a scratch SQLite file.
type snapshotIndex struct {
	dir       string // scratch directory, removed by close
	db        *sql.DB
	defLocale string
	// now stands in for the timestamps a legacy node does not carry.
	now string

	// While building: the open transaction, its statements, its rows and
	// the next seq.
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	rows  int
	seq   int64
}

// newIndex creates an empty index in a new scratch directory.
func newIndex(p *schema.Project) (*snapshotIndex, error) {
	dir, err := os.MkdirTemp("", "stagesync-snapshot-")
	if err != nil {
		return nil, fmt.Errorf("importapi: snapshot index: %w", err)
	}
	db, err := sqlitefile.Open(filepath.Join(dir, "index.db"),
		"journal_mode(OFF)", "synchronous(OFF)", "cache_size(-8000)", "temp_store(FILE)")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("importapi: snapshot index: %w", err)
	}
	// One connection while building (every statement in the build's
	// transaction); reads share a few.
	db.SetMaxOpenConns(1)
	ix := &snapshotIndex{dir: dir, db: db, now: time.Now().UTC().Format(timeFormat)}
	if len(p.Locales) > 0 {
		ix.defLocale = p.Locales[0]
	}
	if _, err := db.Exec(indexSchema); err != nil {
		ix.close()
		return nil, fmt.Errorf("importapi: snapshot index: %w", err)
	}
	return ix, nil
}

func (ix *snapshotIndex) close() error {
	err := ix.db.Close()
	os.RemoveAll(ix.dir)
	return err
}

// stmt returns query prepared in the build's transaction, which it begins
// when none is open.
func (ix *snapshotIndex) stmt(query string) (*sql.Stmt, error) {
	if ix.tx == nil {
		tx, err := ix.db.Begin()
		if err != nil {
			return nil, fmt.Errorf("importapi: snapshot index: %w", err)
		}
		ix.tx, ix.stmts = tx, map[string]*sql.Stmt{}
	}
	st := ix.stmts[query]
	if st == nil {
		var err error
		if st, err = ix.tx.Prepare(query); err != nil {
			return nil, fmt.Errorf("importapi: snapshot index: %w", err)
		}
		ix.stmts[query] = st
	}
	return st, nil
}

// exec runs a statement in the build's transaction, committing it every
// indexCommitEvery rows.
func (ix *snapshotIndex) exec(query string, args ...any) (sql.Result, error) {
	st, err := ix.stmt(query)
	if err != nil {
		return nil, err
	}
	res, err := st.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("importapi: snapshot index: %w", err)
	}
	if ix.rows++; ix.rows >= indexCommitEvery {
		return res, ix.commit()
	}
	return res, nil
}

// queryOne scans the one row of a query in the build's transaction;
// found is false when there is none.
func (ix *snapshotIndex) queryOne(query string, args []any, dest ...any) (found bool, err error) {
	st, err := ix.stmt(query)
	if err != nil {
		return false, err
	}
	err = st.QueryRow(args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("importapi: snapshot index: %w", err)
	}
	return true, nil
}

// commit ends the build's transaction.
func (ix *snapshotIndex) commit() error {
	if ix.tx == nil {
		return nil
	}
	for _, st := range ix.stmts {
		st.Close()
	}
	err := ix.tx.Commit()
	ix.tx, ix.stmts, ix.rows = nil, nil, 0
	if err != nil {
		return fmt.Errorf("importapi: snapshot index: %w", err)
	}
	return nil
}

// finish commits the build and opens the index for reading.
func (ix *snapshotIndex) finish() error {
	if err := ix.commit(); err != nil {
		return err
	}
	if _, err := ix.db.Exec("DROP TABLE ids; DROP TABLE cref;"); err != nil {
		return fmt.Errorf("importapi: snapshot index: %w", err)
	}
	ix.db.SetMaxOpenConns(4)
	return nil
}

// The idSet of Check, on disk.

func (ix *snapshotIndex) add(id, model string, published bool) (string, error) {
	var prev string
	var wasPub bool
	if _, err := ix.queryOne("SELECT model, published FROM ids WHERE id = ?", []any{id}, &prev, &wasPub); err != nil {
		return "", err
	}
	_, err := ix.exec("INSERT OR REPLACE INTO ids(id, model, published) VALUES(?, ?, ?)", id, model, published || wasPub)
	return prev, err
}

func (ix *snapshotIndex) model(id string) (string, bool, error) {
	var model string
	var pub bool
	_, err := ix.queryOne("SELECT model, published FROM ids WHERE id = ?", []any{id}, &model, &pub)
	return model, pub, err
}

func (ix *snapshotIndex) addRef(pr pendingRef) error {
	_, err := ix.exec("INSERT INTO cref(file, line, idx, entry, tmodel, tid) VALUES(?, ?, ?, ?, ?, ?)",
		pr.v.File, pr.v.Line, pr.v.Index, pr.entry, pr.ref.TypeName, pr.ref.ID)
	return err
}

func (ix *snapshotIndex) refs() iter.Seq2[pendingRef, error] {
	return func(yield func(pendingRef, error) bool) {
		// Read in slices by seq, so that no statement stays open while
		// the caller looks ids up on the one connection.
		var after int64
		for {
			st, err := ix.stmt("SELECT seq, file, line, idx, entry, tmodel, tid FROM cref WHERE seq > ? ORDER BY seq LIMIT 1000")
			if err != nil {
				yield(pendingRef{}, err)
				return
			}
			rows, err := st.Query(after)
			if err != nil {
				yield(pendingRef{}, fmt.Errorf("importapi: snapshot index: %w", err))
				return
			}
			var batch []pendingRef
			for rows.Next() {
				var pr pendingRef
				if err := rows.Scan(&after, &pr.v.File, &pr.v.Line, &pr.v.Index, &pr.entry, &pr.ref.TypeName, &pr.ref.ID); err != nil {
					rows.Close()
					yield(pendingRef{}, fmt.Errorf("importapi: snapshot index: %w", err))
					return
				}
				batch = append(batch, pr)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				yield(pendingRef{}, fmt.Errorf("importapi: snapshot index: %w", err))
				return
			}
			for _, pr := range batch {
				if !yield(pr, nil) {
					return
				}
			}
			if len(batch) < 1000 {
				return
			}
		}
	}
}

// The checkVisitor of the build.

func (ix *snapshotIndex) locale(l string) string {
	if l == "" {
		return ix.defLocale
	}
	return l
}

func (ix *snapshotIndex) node(n Node, v Value) error {
	fields := make(map[string]any, len(n.Fields)+2)
	for k, x := range n.Fields {
		fields[k] = x
	}
	for _, k := range []string{"createdAt", "updatedAt", "publishedAt"} {
		if x, ok := fields[k]; ok {
			fields[k] = canonicalTime(x)
		}
	}
	if n.Locale == "" || n.Locale == ix.defLocale {
		// Timestamps a legacy node lacks are the time of the load, as
		// the legacy import sets them.
		for _, k := range []string{"createdAt", "updatedAt"} {
			if fields[k] == nil {
				fields[k] = ix.now
			}
		}
		if n.Stage == StagePublished && fields["publishedAt"] == nil {
			fields["publishedAt"] = ix.now
		}
	}
	doc, err := json.Marshal(fields)
	if err != nil {
		return v.errorf(entryName(n.TypeName, n.ID), "%v", err)
	}
	loc := ix.locale(n.Locale)
	res, err := ix.exec("INSERT OR IGNORE INTO node(model, id, stage, locale, updated, doc) VALUES(?, ?, ?, ?, ?, ?)",
		n.TypeName, n.ID, stageNum(n.Stage), loc, updatedMillis(fields), doc)
	if err != nil {
		return err
	}
	if k, _ := res.RowsAffected(); k == 1 {
		return nil
	}
	// A node imported again (a legacy upsert): its fields are set over
	// the ones it had.
	var old []byte
	if _, err := ix.queryOne("SELECT doc FROM node WHERE model = ? AND id = ? AND stage = ? AND locale = ?",
		[]any{n.TypeName, n.ID, stageNum(n.Stage), loc}, &old); err != nil {
		return err
	}
	var merged map[string]any
	if err := unmarshal(old, &merged); err != nil {
		return fmt.Errorf("importapi: snapshot index: %w", err)
	}
	for k, x := range fields {
		if _, ok := n.Fields[k]; ok {
			merged[k] = x
		}
	}
	if doc, err = json.Marshal(merged); err != nil {
		return v.errorf(entryName(n.TypeName, n.ID), "%v", err)
	}
	_, err = ix.exec("UPDATE node SET doc = ?, updated = ? WHERE model = ? AND id = ? AND stage = ? AND locale = ?",
		doc, updatedMillis(merged), n.TypeName, n.ID, stageNum(n.Stage), loc)
	return err
}

// timeFormat is how the content API writes system timestamps.
const timeFormat = "2006-01-02T15:04:05.000000+00:00"

// canonicalTime writes a timestamp as the content API does; other values
// are returned as they are.
func canonicalTime(x any) any {
	s, ok := x.(string)
	if !ok {
		return x
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return x
	}
	return t.UTC().Format(timeFormat)
}

// updatedMillis is a node's updatedAt in milliseconds since the epoch (0
// when it has none that parses).
func updatedMillis(fields map[string]any) int64 {
	if s, ok := fields["updatedAt"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UnixMilli()
		}
	}
	return 0
}

func (ix *snapshotIndex) list(n Node, v Value) error {
	for field, x := range n.Fields {
		switch field {
		case "createdAt", "updatedAt", "publishedAt":
			continue
		}
		vals, err := json.Marshal(x)
		if err != nil {
			return v.errorf(entryName(n.TypeName, n.ID), "%v", err)
		}
		ix.seq++
		if _, err := ix.exec("INSERT INTO list(model, id, seq, stage, locale, field, vals) VALUES(?, ?, ?, ?, ?, ?, ?)",
			n.TypeName, n.ID, ix.seq, stageNum(n.Stage), ix.locale(n.Locale), field, vals); err != nil {
			return err
		}
	}
	return nil
}

func (ix *snapshotIndex) relation(r Relation, _ Value) error {
	st := stageNum(r.Stage())
	link := func(a, b RelationSide, pos *int) error {
		if a.FieldName == "" {
			return nil
		}
		ix.seq++
		var p any
		if pos != nil {
			p = *pos
		}
		_, err := ix.exec("INSERT INTO rel(model, id, seq, stage, field, pos, tmodel, tid) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
			a.TypeName, a.ID, ix.seq, st, a.FieldName, p, b.TypeName, b.ID)
		return err
	}
	if err := link(r[0], r[1], r[0].Position); err != nil {
		return err
	}
	if r.Directed() {
		return nil
	}
	return link(r[1], r[0], nil)
}

// entryData is one entry as the index holds it.
type entryData struct {
	model    *schema.Model
	id       string
	versions [2]*versionData // by stage number; nil where there is none
}

// versionData is an entry's version in one stage: its values per locale
// (nodes and lists; the default locale's holds the fields that are not
// localized) and its relations per field, in order.
type versionData struct {
	locs map[string]map[string]any
	rels map[string][]Ref
}

func (e *entryData) version(stage int) *versionData {
	v := e.versions[stage]
	if v == nil {
		v = &versionData{locs: map[string]map[string]any{}, rels: map[string][]Ref{}}
		e.versions[stage] = v
	}
	return v
}

// load reads the entries of model m with the given ids (sorted), or with
// dense set, every entry whose id is between the first and the last of ids
// (cheaper for a page of consecutive ids); entries missing from the index
// are left out.
func (ix *snapshotIndex) load(m *schema.Model, ids []string, dense bool) (map[string]*entryData, error) {
	out := make(map[string]*entryData, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var ranges [][2]string
	if dense {
		ranges = [][2]string{{ids[0], ids[len(ids)-1]}}
	} else {
		for _, id := range ids {
			ranges = append(ranges, [2]string{id, id})
		}
	}
	get := func(id string) *entryData {
		if !want[id] {
			return nil
		}
		e := out[id]
		if e == nil {
			e = &entryData{model: m, id: id}
			out[id] = e
		}
		return e
	}
	for _, rg := range ranges {
		if err := ix.each("SELECT id, stage, locale, doc FROM node WHERE model = ? AND id BETWEEN ? AND ?", []any{m.Name, rg[0], rg[1]}, func(rows *sql.Rows) error {
			var id, loc string
			var st int
			var doc []byte
			if err := rows.Scan(&id, &st, &loc, &doc); err != nil {
				return err
			}
			e := get(id)
			if e == nil || st > 1 {
				return nil
			}
			var fields map[string]any
			if err := unmarshal(doc, &fields); err != nil {
				return err
			}
			v := e.version(st)
			if old := v.locs[loc]; old != nil {
				for k, x := range fields {
					old[k] = x
				}
			} else {
				v.locs[loc] = fields
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for _, rg := range ranges {
		if err := ix.each("SELECT id, stage, locale, field, vals FROM list WHERE model = ? AND id BETWEEN ? AND ? ORDER BY id, seq", []any{m.Name, rg[0], rg[1]}, func(rows *sql.Rows) error {
			var id, loc, field string
			var st int
			var vals []byte
			if err := rows.Scan(&id, &st, &loc, &field, &vals); err != nil {
				return err
			}
			e := out[id]
			if e == nil || st > 1 || e.versions[st] == nil {
				return nil // a list of a version with no node
			}
			var add []any
			if err := unmarshal(vals, &add); err != nil {
				return err
			}
			v := e.versions[st]
			fields := v.locs[loc]
			if fields == nil {
				fields = map[string]any{}
				v.locs[loc] = fields
			}
			old, _ := fields[field].([]any)
			fields[field] = append(old, add...)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for _, rg := range ranges {
		if err := ix.each("SELECT id, stage, field, pos, tmodel, tid FROM rel WHERE model = ? AND id BETWEEN ? AND ? ORDER BY id, seq", []any{m.Name, rg[0], rg[1]}, func(rows *sql.Rows) error {
			var id, field, tmodel, tid string
			var st int
			var pos sql.NullInt64
			if err := rows.Scan(&id, &st, &field, &pos, &tmodel, &tid); err != nil {
				return err
			}
			e := out[id]
			if e == nil || st > 1 || e.versions[st] == nil {
				return nil
			}
			v := e.versions[st]
			r := Ref{TypeName: tmodel, ID: tid}
			f := m.Field(field)
			if f != nil && !f.List {
				v.rels[field] = []Ref{r}
				return nil
			}
			// As the legacy import links: at _position when it is inside
			// the list, else at its end.
			old := v.rels[field]
			if pos.Valid && int(pos.Int64) < len(old) {
				at := max(0, int(pos.Int64))
				refs := make([]Ref, 0, len(old)+1)
				v.rels[field] = append(append(append(refs, old[:at]...), r), old[at:]...)
				return nil
			}
			v.rels[field] = append(old, r)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// each runs a query and calls fn for each row.
func (ix *snapshotIndex) each(query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := ix.db.Query(query, args...)
	if err != nil {
		return fmt.Errorf("importapi: snapshot index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("importapi: snapshot index: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("importapi: snapshot index: %w", err)
	}
	return nil
}

// pageQuery selects the ids of a page of a model's entries in one stage.
type pageQuery struct {
	model    string
	stage    int
	after    string // ids after this one (id order)
	ids      []string
	hasIDs   bool  // only ids (id_in, or id)
	since    int64 // updatedAt after this (ms since the epoch), when set
	hasSince bool
	order    string // "id_ASC" (default), "id_DESC", "updatedAt_DESC", "updatedAt_ASC"
	limit    int    // < 0: no limit
	skip     int
}

// pageIDs returns the ids a pageQuery selects.
func (ix *snapshotIndex) pageIDs(q pageQuery) ([]string, error) {
	// The base node of each entry: the default locale's.
	var b strings.Builder
	args := []any{q.model, q.stage, ix.defLocale}
	b.WriteString("SELECT id FROM node WHERE model = ? AND stage = ? AND locale = ?")
	if q.after != "" {
		if q.order == "id_DESC" {
			b.WriteString(" AND id < ?")
		} else {
			b.WriteString(" AND id > ?")
		}
		args = append(args, q.after)
	}
	if q.hasIDs {
		if len(q.ids) == 0 {
			return nil, nil
		}
		b.WriteString(" AND id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(q.ids)), ",") + ")")
		for _, id := range q.ids {
			args = append(args, id)
		}
	}
	if q.hasSince {
		b.WriteString(" AND updated > ?")
		args = append(args, q.since)
	}
	switch q.order {
	case "id_DESC":
		b.WriteString(" ORDER BY id DESC")
	case "updatedAt_DESC":
		b.WriteString(" ORDER BY updated DESC, id")
	case "updatedAt_ASC":
		b.WriteString(" ORDER BY updated, id")
	default:
		b.WriteString(" ORDER BY id")
	}
	fmt.Fprintf(&b, " LIMIT %d OFFSET %d", q.limit, max(0, q.skip))
	var ids []string
	err := ix.each(b.String(), args, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}
