package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/stagesync/stagesync/internal/emulator/store"
)

// The legacy import/export API of GraphCMS v1 (Prisma 1's Normalized Data
// Format), answered at <endpoint>/import and <endpoint>/export on every
// stage:
//
//   - POST /import {"valueType": "nodes"|"lists"|"relations", "values": [...]}
//     answers 200 with the failures only, [{"index": i, "message": ...}]. Each
//     value is applied on its own: a failing value changes nothing, the
//     others are applied. Nodes are upserts by id (the node's fields are
//     set); list values are appended to the list; a relation pair is
//     appended to both sides. Like the legacy platform, lists and relations
//     are not idempotent: importing a relation twice links it twice.
//   - POST /export {"fileType": ..., "cursor": {"table", "row", "field", "array"}}
//     answers {"out": {"jsonElements": [...], "size": N}, "cursor": {...},
//     "isFull": bool}: the DRAFT content in the default locale, one chunk of
//     at most LegacyChunkSize bytes; the client repeats with the returned
//     cursor until its four values are -1. A relation is exported once, from
//     the side whose "Model.field" sorts first (one-way relations from the
//     side that has the field).
//
// Besides legacy values, the import accepts stagesync's NDF extensions
// (see package importapi): "_stage" (DRAFT or PUBLISHED) and "_locale" on
// nodes and lists, components as objects with "__typename" inside nodes
// (their relations as {"_typeName", "id"}), and relation pairs whose first
// side carries "_position", which link that side only.

// LegacyChunkSize is the most bytes of elements one /export answer holds.
const LegacyChunkSize = 1 << 20

// LegacyMaxImport is the legacy import's hard cap on a request body (its
// soft cap, which clients keep to, is 1 MB); larger bodies get 413.
const LegacyMaxImport = 10 << 20

// LegacyFailure is one failed value of a legacy import.
type LegacyFailure struct {
	Index   int    `json:"index"`
	Message string `json:"message"`
}

// LegacyCursor is the position of a legacy export.
type LegacyCursor struct {
	Table int `json:"table"`
	Row   int `json:"row"`
	Field int `json:"field"`
	Array int `json:"array"`
}

// legacyDone is the cursor of a finished export.
var legacyDone = LegacyCursor{-1, -1, -1, -1}

// isLegacyPath reports whether a request goes to /import or /export: a
// POST to a path ending in one of them.
func isLegacyPath(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(p, "/import"):
		return "import", true
	case strings.HasSuffix(p, "/export"):
		return "export", true
	}
	return "", false
}

// serveHTTP routes a request behind the gate: the legacy endpoints or
// GraphQL.
func (s *Stage) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if kind, ok := isLegacyPath(r); ok {
		s.serveLegacy(kind, w, r)
		return
	}
	s.serveGraphQL(w, r)
}

func (s *Stage) serveLegacy(kind string, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, LegacyMaxImport+1))
	if err != nil {
		writeLegacyError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	if len(body) > LegacyMaxImport {
		writeLegacyError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Payload too large: the legacy %s takes at most %d bytes (send at most 1 MB per request)", kind, LegacyMaxImport))
		return
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		writeLegacyError(w, http.StatusServiceUnavailable, "stage is closed")
		return
	}
	var out any
	switch kind {
	case "import":
		var req struct {
			ValueType string            `json:"valueType"`
			Values    []json.RawMessage `json:"values"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeLegacyError(w, http.StatusBadRequest, "the body is not an import request {valueType, values}: "+err.Error())
			return
		}
		failures, err := s.Import(req.ValueType, req.Values)
		if err != nil {
			writeLegacyError(w, http.StatusBadRequest, err.Error())
			return
		}
		if failures == nil {
			failures = []LegacyFailure{}
		}
		s.counters.Mutations.Add(1)
		out = failures
	default:
		var req struct {
			FileType string        `json:"fileType"`
			Cursor   *LegacyCursor `json:"cursor"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeLegacyError(w, http.StatusBadRequest, "the body is not an export request {fileType, cursor}: "+err.Error())
			return
		}
		var c LegacyCursor
		if req.Cursor != nil {
			c = *req.Cursor
		}
		elems, next, full, err := s.Export(req.FileType, c, LegacyChunkSize)
		if err != nil {
			writeLegacyError(w, http.StatusBadRequest, err.Error())
			return
		}
		size := 0
		for _, e := range elems {
			size += len(e)
		}
		if elems == nil {
			elems = []json.RawMessage{}
		}
		s.counters.Queries.Add(1)
		out = map[string]any{"out": map[string]any{"jsonElements": elems, "size": size}, "cursor": next, "isFull": full}
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeLegacyError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func writeLegacyError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{"message": msg}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Import applies the values of one legacy import request (see above) and
// returns the failures. An error is for a request that is wrong as a
// whole (an unknown valueType).
func (s *Stage) Import(valueType string, values []json.RawMessage) ([]LegacyFailure, error) {
	var apply func(t *tx, raw json.RawMessage) error
	switch valueType {
	case "nodes":
		apply = func(t *tx, raw json.RawMessage) error { return t.importObject(raw, false) }
	case "lists":
		apply = func(t *tx, raw json.RawMessage) error { return t.importObject(raw, true) }
	case "relations":
		apply = (*tx).importRelation
	default:
		return nil, fmt.Errorf("valueType %q is not nodes, lists or relations", valueType)
	}
	var failures []LegacyFailure
	for i, raw := range values {
		if err := s.inTx(func(t *tx) error { return apply(t, raw) }); err != nil {
			failures = append(failures, LegacyFailure{Index: i, Message: err.Error()})
		}
	}
	return failures, nil
}

// importObject applies a node (or with list, a list object).
func (t *tx) importObject(raw json.RawMessage, list bool) error {
	obj, err := decodeRequestVars(raw)
	if err != nil || obj == nil {
		return fmt.Errorf("the value is not a JSON object")
	}
	typ, _ := obj["_typeName"].(string)
	id, _ := obj["id"].(string)
	m := t.s.cat.DocModel(typ)
	switch {
	case typ == "":
		return errors.New("the value has no _typeName")
	case m == nil:
		return fmt.Errorf("unknown _typeName %q: the schema has no such model", typ)
	case id == "":
		return fmt.Errorf("%s: the value has no id", typ)
	case len(id) > 25:
		return fmt.Errorf("%s %q: ids have at most 25 characters", typ, id)
	}
	stName, _ := obj["_stage"].(string)
	if stName == "" {
		stName = "DRAFT"
	}
	st, ok := t.s.cat.StageIdx[stName]
	if !ok {
		return fmt.Errorf("%s %q: unknown _stage %q", typ, id, stName)
	}
	locale, _ := obj["_locale"].(string)
	def := t.s.cat.Locales[0]
	if locale == def {
		locale = ""
	}
	if locale != "" && !slices.Contains(t.s.cat.Locales, locale) {
		return fmt.Errorf("%s %q: unknown _locale %q", typ, id, locale)
	}
	d := t.Doc(id)
	if d != nil && d.Model != m {
		return fmt.Errorf("%s %q: the id belongs to a %s", typ, id, d.Model.Name)
	}
	if list && (d == nil || d.Versions[st] == nil) {
		return fmt.Errorf("%s %q has no %s node: import its node before its lists", typ, id, stName)
	}
	if d == nil {
		d = &store.Document{Model: m, ID: id, Versions: make([]*store.Version, len(t.s.cat.Stages))}
		t.Touch(d)
		t.Created[id] = d
	}
	v := t.Mut(d, st)
	if v == nil {
		v = &store.Version{CreatedAt: t.Now, UpdatedAt: t.Now, Vals: map[string]any{}}
		if m.Localized {
			v.Locs = map[string]*store.Loc{def: {CreatedAt: t.Now, UpdatedAt: t.Now, Vals: map[string]any{}}}
		}
		if st != t.s.cat.Draft {
			v.PublishedAt = t.Now
		}
		t.Set(d, st, v)
	}
	var ld *store.Loc
	if locale != "" {
		if v.Locs == nil {
			return fmt.Errorf("%s %q: _locale %s, but %s has no localized fields", typ, id, locale, typ)
		}
		if ld = v.Locs[locale]; ld == nil {
			ld = &store.Loc{CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, PublishedAt: v.PublishedAt, Vals: map[string]any{}}
			v.Locs[locale] = ld
		}
	}
	for k, x := range obj {
		switch k {
		case "_typeName", "id", "_stage", "_locale":
			continue
		case "createdAt", "updatedAt", "publishedAt":
			s, _ := canonicalTime(x).(string)
			if s == "" || list || (k == "createdAt" && ld == nil && st == t.s.cat.Draft && !t.IsCreated(d)) {
				// An entry's creation time is its default order: set
				// when the entry is created, never moved after.
				continue
			}
			target := &v.CreatedAt
			if ld != nil {
				target = &ld.CreatedAt
			}
			switch k {
			case "updatedAt":
				target = &v.UpdatedAt
				if ld != nil {
					target = &ld.UpdatedAt
				}
			case "publishedAt":
				if st == t.s.cat.Draft {
					continue
				}
				target = &v.PublishedAt
				if ld != nil {
					target = &ld.PublishedAt
				}
			}
			*target = s
			if ld == nil && v.Locs != nil && v.Locs[def] != nil {
				dl := v.Locs[def]
				switch k {
				case "createdAt":
					dl.CreatedAt = s
				case "updatedAt":
					dl.UpdatedAt = s
				case "publishedAt":
					dl.PublishedAt = s
				}
			}
			continue
		}
		f := m.ByName[k]
		if f == nil || f.Kind == store.KindSystem {
			return fmt.Errorf("%s %q: %s has no field %q", typ, id, typ, k)
		}
		scalarList := f.List && (f.Kind == store.KindScalar || f.Kind == store.KindEnum)
		switch {
		case f.Kind == store.KindRelation:
			return fmt.Errorf("%s %q: %s.%s is a relation; it goes in a relations value", typ, id, typ, k)
		case list && !scalarList:
			return fmt.Errorf("%s %q: %s.%s is not a list of scalars; it goes in a node", typ, id, typ, k)
		}
		if locale != "" && !f.Localized {
			return fmt.Errorf("%s %q: %s.%s is not localized, but the value has _locale %s", typ, id, typ, k, locale)
		}
		var val any
		if f.Kind == store.KindComponent {
			comps, err := t.importComponents(f, x)
			if err != nil {
				return fmt.Errorf("%s %q: %s.%s: %w", typ, id, typ, k, err)
			}
			val = compsValue(comps)
		} else {
			val, err = storedValue(f, x)
			if err != nil {
				return fmt.Errorf("%s %q: %s.%s: %w", typ, id, typ, k, err)
			}
		}
		vals := v.Vals
		switch {
		case ld != nil:
			vals = ld.Vals
		case f.Localized && v.Locs != nil:
			vals = v.Locs[def].Vals
		}
		if list {
			old, _ := vals[k].([]any)
			add, _ := val.([]any)
			val = append(append([]any(nil), old...), add...)
		}
		setVal(vals, k, val)
	}
	return nil
}

// importComponents converts a component value (an object or a list of
// them, each with "__typename") to stored components.
func (t *tx) importComponents(f *store.Field, x any) ([]*store.Comp, error) {
	var items []any
	switch v := x.(type) {
	case nil:
		return nil, nil
	case []any:
		items = v
	default:
		items = []any{v}
	}
	out := make([]*store.Comp, 0, len(items))
	for i, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("component %d is not an object", i)
		}
		typ, _ := obj["__typename"].(string)
		if typ == "" && len(f.Targets) == 1 {
			typ = f.Targets[0]
		}
		cm := t.s.cat.Models[typ]
		if cm == nil || !cm.Component || !slices.Contains(f.Targets, typ) {
			return nil, fmt.Errorf("component %d: %q is not one of %v", i, typ, f.Targets)
		}
		c := &store.Comp{Type: typ, Vals: map[string]any{}}
		if c.ID, _ = obj["id"].(string); c.ID == "" {
			c.ID = t.s.st.NewID()
		}
		for k, val := range obj {
			if k == "__typename" || k == "id" || k == "_typeName" {
				continue
			}
			cf := cm.ByName[k]
			if cf == nil || cf.Kind == store.KindSystem {
				return nil, fmt.Errorf("component %d: %s has no field %q", i, typ, k)
			}
			switch cf.Kind {
			case store.KindRelation:
				var refs []store.Ref
				for _, r := range store.AsList(val) {
					rm, _ := r.(map[string]any)
					rt, _ := rm["_typeName"].(string)
					if rt == "" {
						rt, _ = rm["__typename"].(string)
					}
					rid, _ := rm["id"].(string)
					if rt == "" && len(cf.Targets) == 1 {
						rt = cf.Targets[0]
					}
					if rid == "" || !slices.Contains(cf.Targets, rt) {
						return nil, fmt.Errorf("component %d: %s.%s: a relation target is {\"_typeName\", \"id\"} of %v", i, typ, k, cf.Targets)
					}
					refs = append(refs, store.Ref{Type: rt, ID: rid})
				}
				setVal(c.Vals, k, refsValue(refs))
			case store.KindComponent:
				sub, err := t.importComponents(cf, val)
				if err != nil {
					return nil, fmt.Errorf("component %d: %s.%s: %w", i, typ, k, err)
				}
				setVal(c.Vals, k, compsValue(sub))
			default:
				sv, err := storedValue(cf, val)
				if err != nil {
					return nil, fmt.Errorf("component %d: %s.%s: %w", i, typ, k, err)
				}
				setVal(c.Vals, k, sv)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// importRelation applies a relation pair.
func (t *tx) importRelation(raw json.RawMessage) error {
	var pair []struct {
		TypeName  string `json:"_typeName"`
		ID        string `json:"id"`
		FieldName string `json:"fieldName"`
		Stage     string `json:"_stage"`
		Position  *int   `json:"_position"`
	}
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return errors.New("a relation is a pair [{_typeName, id, fieldName}, {_typeName, id, fieldName}]")
	}
	stName := pair[0].Stage
	if stName == "" {
		stName = "DRAFT"
	}
	st, ok := t.s.cat.StageIdx[stName]
	if !ok {
		return fmt.Errorf("unknown _stage %q", stName)
	}
	var docs [2]*store.Document
	var fields [2]*store.Field
	for i, side := range pair {
		m := t.s.cat.DocModel(side.TypeName)
		if m == nil {
			return fmt.Errorf("side %d: unknown _typeName %q", i+1, side.TypeName)
		}
		d := t.Doc(side.ID)
		if d == nil || d.Model != m || d.Versions[st] == nil {
			return fmt.Errorf("side %d: no %s node with id %q in %s", i+1, side.TypeName, side.ID, stName)
		}
		docs[i] = d
		if side.FieldName != "" {
			f := m.ByName[side.FieldName]
			if f == nil || f.Kind != store.KindRelation {
				return fmt.Errorf("side %d: %s has no relation field %q", i+1, side.TypeName, side.FieldName)
			}
			other := pair[1-i].TypeName
			if !slices.Contains(f.Targets, other) {
				return fmt.Errorf("side %d: %s.%s does not relate to %s", i+1, side.TypeName, side.FieldName, other)
			}
			fields[i] = f
		}
	}
	if fields[0] == nil && fields[1] == nil {
		return errors.New("neither side has a fieldName")
	}
	if pair[0].Position != nil && fields[0] == nil {
		return errors.New("a pair with a _position needs the first side's fieldName")
	}
	for i := range 2 {
		if fields[i] == nil || (i == 1 && pair[0].Position != nil) {
			continue
		}
		a, b := docs[i], docs[1-i]
		v := t.Mut(a, st)
		r := store.Ref{Type: b.Model.Name, ID: b.ID}
		if !fields[i].List {
			v.Vals[fields[i].Name] = []store.Ref{r}
			continue
		}
		// Appended whether or not it is linked already: the legacy import
		// duplicates a relation imported twice. A one-sided pair goes to
		// its _position (the end, when the pairs come in order).
		if p := pair[0].Position; p != nil && *p < len(store.AsRefs(v.Vals[fields[i].Name])) {
			old := store.AsRefs(v.Vals[fields[i].Name])
			at := max(0, *p)
			refs := make([]store.Ref, 0, len(old)+1)
			refs = append(append(append(refs, old[:at]...), r), old[at:]...)
			t.Disown(a, st, fields[i].Name)
			v.Vals[fields[i].Name] = refs
			continue
		}
		t.AppendRef(a, st, v, fields[i].Name, r)
	}
	return nil
}

// Export returns the elements of one chunk of a legacy export of fileType
// ("nodes", "lists" or "relations") from cursor c, at most maxBytes of
// them (at least one), the cursor to continue from (all -1 at the end) and
// whether the chunk is full.
func (s *Stage) Export(fileType string, c LegacyCursor, maxBytes int) ([]json.RawMessage, LegacyCursor, bool, error) {
	if fileType != "nodes" && fileType != "lists" && fileType != "relations" {
		return nil, c, false, fmt.Errorf("fileType %q is not nodes, lists or relations", fileType)
	}
	if c == legacyDone {
		return nil, legacyDone, false, nil
	}
	if c.Table < 0 || c.Row < 0 || c.Field < 0 || c.Array < 0 {
		return nil, c, false, fmt.Errorf("cursor %+v: every value is -1 or none is", c)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	draft := s.cat.Draft
	def := s.cat.Locales[0]
	var out []json.RawMessage
	size := 0
	add := func(v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return true
		}
		out = append(out, b)
		size += len(b)
		return size < maxBytes
	}
	for ; c.Table < len(s.cat.Order); c.Table, c.Row = c.Table+1, 0 {
		m := s.cat.Order[c.Table]
		docs := s.st.ByModel[m.Name].Sorted
		for ; c.Row < len(docs); c.Row, c.Field, c.Array = c.Row+1, 0, 0 {
			d := docs[c.Row]
			v := d.Versions[draft]
			if v == nil {
				continue
			}
			switch fileType {
			case "nodes":
				n := map[string]any{"_typeName": m.Name, "id": d.ID, "createdAt": v.CreatedAt, "updatedAt": v.UpdatedAt}
				for k, x := range v.Vals {
					if f := m.ByName[k]; f != nil && f.Kind != store.KindRelation && f.Kind != store.KindComponent && !(f.List && (f.Kind == store.KindScalar || f.Kind == store.KindEnum)) {
						n[k] = x
					}
				}
				if v.Locs != nil && v.Locs[def] != nil {
					for k, x := range v.Locs[def].Vals {
						if f := m.ByName[k]; f != nil && !f.List {
							n[k] = x
						}
					}
				}
				if !add(n) {
					c.Row++
					return out, s.exportNext(c), true, nil
				}
			default:
				for ; c.Field < len(m.Fields); c.Field, c.Array = c.Field+1, 0 {
					f := m.Fields[c.Field]
					if fileType == "lists" {
						if !f.List || (f.Kind != store.KindScalar && f.Kind != store.KindEnum) || c.Array > 0 {
							continue
						}
						x := v.Vals[f.Name]
						if f.Localized && v.Locs != nil && v.Locs[def] != nil {
							x = v.Locs[def].Vals[f.Name]
						}
						if x == nil {
							continue
						}
						c.Array = 1
						if !add(map[string]any{"_typeName": m.Name, "id": d.ID, f.Name: x}) {
							c.Field, c.Array = c.Field+1, 0
							return out, s.exportNext(c), true, nil
						}
						continue
					}
					if f.Kind != store.KindRelation {
						continue
					}
					refs := store.AsRefs(v.Vals[f.Name])
					for ; c.Array < len(refs); c.Array++ {
						r := refs[c.Array]
						if !exportsRelation(m, f, r.Type) || f.Reverse[r.Type] == f.Name && r.Type == m.Name && r.ID < d.ID {
							continue // exported from the other side
						}
						if td := s.st.ByID[r.ID]; td == nil || td.Versions[draft] == nil {
							continue // a deleted entry, which the API does not show either
						}
						pair := []map[string]any{
							{"_typeName": m.Name, "id": d.ID, "fieldName": f.Name},
							{"_typeName": r.Type, "id": r.ID, "fieldName": f.Reverse[r.Type]},
						}
						if !add(pair) {
							c.Array++
							return out, s.exportNext(c), true, nil
						}
					}
				}
			}
		}
	}
	return out, legacyDone, false, nil
}

// exportNext returns c, or the finished cursor when c is past the end.
func (s *Stage) exportNext(c LegacyCursor) LegacyCursor {
	if c.Table >= len(s.cat.Order) {
		return legacyDone
	}
	return c
}

// exportsRelation reports whether a relation of field f of m to a target
// of model typ is exported from m's side: one-way relations always, two-way
// ones from the side whose "Model.field" sorts first (a field that is its
// own other side: from the entry with the smaller id, see Export).
func exportsRelation(m *store.Model, f *store.Field, typ string) bool {
	g := f.Reverse[typ]
	return g == "" || m.Name+"."+f.Name <= typ+"."+g
}
