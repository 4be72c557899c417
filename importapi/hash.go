package importapi

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/stagesync/stagesync/internal/sqlitefile"
)

// ContentHashes returns hashes of what an NDF directory holds that do not
// depend on ids or timestamps, so that two snapshots of stages holding
// the same content (say, a stage and the stage a snapshot of it was
// imported into) have the same hashes although their ids differ:
//
//   - "Model/STAGE" and "Model/STAGE/locale": the nodes, each without its
//     id, createdAt, updatedAt and publishedAt, component ids and the ids
//     of relations inside components;
//   - "lists Model/STAGE[/locale]": the list objects, their entry named by
//     its node's hash;
//   - "relations Model.field/STAGE": the relation pairs, each side named by
//     the hash of its node's DRAFT version in the default locale, with the
//     position.
//
// Each hash is order-independent (a sum of the values' SHA-256s) and ends
// with the number of values: "<hex>/<n>". Entries with the same content
// are indistinguishable, which is what "up to ids" means here. The ids
// (with 16 bytes of hash each) are kept in a scratch SQLite file, so that
// memory does not grow with the snapshot.
func ContentHashes(dir string) (_ map[string]string, err error) {
	sums := map[string]*multisetHash{}
	add := func(key string, h [32]byte) {
		s := sums[key]
		if s == nil {
			s = &multisetHash{}
			sums[key] = s
		}
		s.add(h)
	}
	idHash, err := newIDHashes()
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := idHash.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for _, vt := range []ValueType{Nodes, Lists} {
		for v, err := range ReadDir(dir, vt) {
			if err != nil {
				return nil, err
			}
			n, err := ParseNode(v.Raw)
			if err != nil {
				return nil, v.errorf("", "%v", err)
			}
			for _, k := range []string{"createdAt", "updatedAt", "publishedAt"} {
				delete(n.Fields, k)
			}
			key := n.TypeName + "/" + n.Stage
			if n.Locale != "" {
				key += "/" + n.Locale
			}
			b, err := json.Marshal(withoutIDs(n.Fields))
			if err != nil {
				return nil, v.errorf(entryName(n.TypeName, n.ID), "%v", err)
			}
			if vt == Lists {
				own, err := idHash.lookup(n.ID)
				if err != nil {
					return nil, err
				}
				add("lists "+key, sha256.Sum256(append(append([]byte(n.TypeName+"\x00"), own[:]...), b...)))
				continue
			}
			h := sha256.Sum256(append([]byte(key+"\x00"), b...))
			add(key, h)
			if n.Stage == StageDraft && n.Locale == "" {
				if err := idHash.add(n.ID, h[:16]); err != nil {
					return nil, err
				}
			}
		}
	}
	for v, err := range ReadDir(dir, Relations) {
		if err != nil {
			return nil, err
		}
		r, err := ParseRelation(v.Raw)
		if err != nil {
			return nil, v.errorf("", "%v", err)
		}
		pos := -1
		if r[0].Position != nil {
			pos = *r[0].Position
		}
		a, err := idHash.lookup(r[0].ID)
		if err != nil {
			return nil, err
		}
		b, err := idHash.lookup(r[1].ID)
		if err != nil {
			return nil, err
		}
		var buf []byte
		buf = fmt.Appendf(buf, "%s\x00%s\x00%s\x00%d\x00%s\x00%s\x00", r.Stage(), r[0].TypeName, r[0].FieldName, pos, r[1].TypeName, r[1].FieldName)
		buf = append(append(buf, a[:]...), b[:]...)
		add("relations "+r[0].TypeName+"."+r[0].FieldName+"/"+r.Stage(), sha256.Sum256(buf))
	}
	out := make(map[string]string, len(sums))
	for k, s := range sums {
		out[k] = s.String()
	}
	return out, nil
}

// multisetHash sums SHA-256s (their first 16 bytes, as two 64-bit words),
// so that the order of the values does not matter.
type multisetHash struct {
	a, b uint64
	n    int
}

func (m *multisetHash) add(h [32]byte) {
	m.a += binary.BigEndian.Uint64(h[:8])
	m.b += binary.BigEndian.Uint64(h[8:16])
	m.n++
}

func (m *multisetHash) String() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], m.a)
	binary.BigEndian.PutUint64(b[8:], m.b)
	return hex.EncodeToString(b[:]) + "/" + strconv.Itoa(m.n)
}

// withoutIDs drops the ids inside component values: "id" keys of
// objects, and relation targets ({"_typeName", "id"}) keep their model only.
func withoutIDs(x any) any {
	switch v := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if k == "id" {
				continue
			}
			out[k] = withoutIDs(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = withoutIDs(e)
		}
		return out
	}
	return x
}

// idHashes maps the ids of a snapshot's nodes to the first 16 bytes of
// their hash, in a scratch SQLite file.
type idHashes struct {
	dir      string
	db       *sql.DB
	tx       *sql.Tx
	put, get *sql.Stmt // of tx
	rows     int
}

func newIDHashes() (*idHashes, error) {
	dir, err := os.MkdirTemp("", "stagesync-hashes-")
	if err != nil {
		return nil, fmt.Errorf("importapi: hashing: %w", err)
	}
	db, err := sqlitefile.Open(filepath.Join(dir, "ids.db"), "journal_mode(OFF)", "synchronous(OFF)", "cache_size(-4000)")
	if err == nil {
		db.SetMaxOpenConns(1)
		_, err = db.Exec("CREATE TABLE h(id TEXT PRIMARY KEY, hash BLOB NOT NULL) WITHOUT ROWID")
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("importapi: hashing: %w", err)
	}
	return &idHashes{dir: dir, db: db}, nil
}

func (h *idHashes) begin() error {
	if h.tx != nil {
		return nil
	}
	tx, err := h.db.Begin()
	if err != nil {
		return fmt.Errorf("importapi: hashing: %w", err)
	}
	h.tx = tx
	if h.put, err = tx.Prepare("INSERT OR REPLACE INTO h(id, hash) VALUES(?, ?)"); err == nil {
		h.get, err = tx.Prepare("SELECT hash FROM h WHERE id = ?")
	}
	if err != nil {
		return fmt.Errorf("importapi: hashing: %w", err)
	}
	return nil
}

func (h *idHashes) add(id string, sum []byte) error {
	if err := h.begin(); err != nil {
		return err
	}
	if _, err := h.put.Exec(id, sum); err != nil {
		return fmt.Errorf("importapi: hashing: %w", err)
	}
	if h.rows++; h.rows >= indexCommitEvery {
		h.put.Close()
		h.get.Close()
		err := h.tx.Commit()
		h.tx, h.rows = nil, 0
		if err != nil {
			return fmt.Errorf("importapi: hashing: %w", err)
		}
	}
	return nil
}

// lookup returns the hash of id, zero when id has none.
func (h *idHashes) lookup(id string) ([16]byte, error) {
	var out [16]byte
	if err := h.begin(); err != nil {
		return out, err
	}
	var b []byte
	err := h.get.QueryRow(id).Scan(&b)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("importapi: hashing: %w", err)
	}
	copy(out[:], b)
	return out, nil
}

func (h *idHashes) close() error {
	if h.tx != nil {
		_ = h.tx.Rollback()
	}
	err := h.db.Close()
	os.RemoveAll(h.dir)
	return err
}
