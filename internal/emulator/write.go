package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/vektah/gqlparser/v2/ast"
)

// mutate runs one root mutation field in its own tx.
func (s *Stage) mutate(_ context.Context, rf *rootField, field *ast.Field, args map[string]any) (any, error) {
	t := s.begin()
	m := rf.model
	draft := s.cat.Draft
	ci := ctxInfo{stage: draft, locales: s.cat.Locales}
	var (
		result []view
		many   bool
		sel    selection
		err    error
		upload *uploadJob // an Asset's uploadUrl to fetch once committed
	)
	switch rf.op {
	case opCreate:
		var d *store.Document
		d, err = t.create(m, store.AsMap(args["data"]))
		if err == nil {
			result = []view{{d: d}}
			upload = t.assetUpload(d, store.AsMap(args["data"]), true)
		}
	case opUpdate:
		var d *store.Document
		d, err = t.mustFind(m, store.AsMap(args["where"]), draft)
		if err == nil {
			err = t.update(d, store.AsMap(args["data"]))
			result = []view{{d: d}}
		}
		if err == nil {
			upload = t.assetUpload(d, store.AsMap(args["data"]), false)
		}
	case opUpsert:
		up := store.AsMap(args["upsert"])
		var d *store.Document
		d, err = t.upsert(m, store.AsMap(args["where"]), store.AsMap(up["create"]), store.AsMap(up["update"]))
		if err == nil {
			result = []view{{d: d}}
			if t.IsCreated(d) {
				upload = t.assetUpload(d, store.AsMap(up["create"]), true)
			} else {
				upload = t.assetUpload(d, store.AsMap(up["update"]), false)
			}
		}
	case opDelete:
		var d *store.Document
		d, err = s.findUnique(m, store.AsMap(args["where"]), draft, t)
		if err == nil && d == nil {
			return nil, nil // Hygraph answers null for an entry that does not exist
		}
		if err == nil {
			result = []view{{d: d, v: d.Versions[draft]}}
			t.Remove(d)
		}
	case opPublish:
		var d *store.Document
		d, err = t.mustFind(m, store.AsMap(args["where"]), draft)
		if err == nil {
			var st int
			st, err = t.publish(d, args)
			result = []view{{d: d}}
			ci.stage = st
		}
	case opUnpublish:
		var d *store.Document
		d, err = t.mustFind(m, store.AsMap(args["where"]), -1)
		if err == nil {
			err = t.unpublish(d, args)
			result = []view{{d: d}}
		}
	case opUpdateMany, opDeleteMany, opPublishMany, opUnpublishMany:
		many = true
		sel, err = t.many(rf, args, &ci)
	case opSchedule:
		err = fmt.Errorf("%s: scheduled publishing is not supported by the stage emulator", field.Name)
	default:
		err = fmt.Errorf("%s is not supported by the stage emulator", field.Name)
	}
	if err != nil {
		t.Rollback()
		return nil, err
	}
	if err := t.commit(); err != nil {
		return nil, err
	}
	if upload != nil {
		s.dispatchUpload(upload)
	}
	if many {
		if !rf.connection {
			return map[string]any{"count": int64(sel.total)}, nil
		}
		return s.connection(sel, ci), nil
	}
	if len(result) == 0 {
		return nil, nil
	}
	vw := result[0]
	if vw.v == nil {
		// Read the entry back in the stage it was written to (DRAFT, or
		// the first stage published to), falling back to DRAFT.
		vw.v = vw.d.Versions[ci.stage]
		if vw.v == nil {
			ci.stage = draft
			vw.v = vw.d.Versions[draft]
		}
		if vw.v == nil {
			return nil, nil
		}
	}
	vw.loc = s.cat.Locales[0]
	return s.entry(vw, ci), nil
}

// mustFind finds the entry of m identified by a unique where input in
// stage st (any stage when st < 0), or fails naming model and where.
func (t *tx) mustFind(m *store.Model, where map[string]any, st int) (*store.Document, error) {
	if st < 0 {
		for i := range t.s.cat.Stages {
			if d, err := t.s.findUnique(m, where, i, t); err != nil || d != nil {
				return d, err
			}
		}
		return nil, notFoundError(m, where)
	}
	d, err := t.s.findUnique(m, where, st, t)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, notFoundError(m, where)
	}
	return d, nil
}

// notFoundError names the model and the unique where that found nothing.
func notFoundError(m *store.Model, where map[string]any) error {
	return &notFoundErr{msg: fmt.Sprintf("could not find %s with %s", m.Name, describeWhere(where))}
}

// notFoundErr is an entry that does not exist; it matches errNotFound.
type notFoundErr struct{ msg string }

func (e *notFoundErr) Error() string        { return e.msg }
func (e *notFoundErr) Is(target error) bool { return target == errNotFound }

func describeWhere(where map[string]any) string {
	keys := make([]string, 0, len(where))
	for k := range where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		b, _ := json.Marshal(where[k])
		parts = append(parts, k+" "+string(b))
	}
	if len(parts) == 0 {
		return "an empty where input"
	}
	return strings.Join(parts, " and ")
}

// create makes a new entry of m from a create input.
func (t *tx) create(m *store.Model, data map[string]any) (*store.Document, error) {
	if m.CreateInput == "" {
		return nil, fmt.Errorf("%s entries cannot be created through the content API", m.Name)
	}
	d := t.NewDoc(m)
	v := &store.Version{CreatedAt: t.Now, UpdatedAt: t.Now, Vals: make(map[string]any, len(data))}
	if m.Localized {
		v.Locs = map[string]*store.Loc{t.s.cat.Locales[0]: {CreatedAt: t.Now, UpdatedAt: t.Now, Vals: map[string]any{}}}
	}
	if x, ok := data["createdAt"].(string); ok {
		v.CreatedAt = canonicalTime(x).(string)
		if m.Localized {
			v.Locs[t.s.cat.Locales[0]].CreatedAt = v.CreatedAt
		}
	}
	if x, ok := data["updatedAt"].(string); ok {
		v.UpdatedAt = canonicalTime(x).(string)
		if m.Localized {
			v.Locs[t.s.cat.Locales[0]].UpdatedAt = v.UpdatedAt
		}
	}
	t.Set(d, t.s.cat.Draft, v)
	if err := t.applyData(d, data, true); err != nil {
		return nil, err
	}
	return d, nil
}

// update changes an entry's DRAFT version with an update input.
func (t *tx) update(d *store.Document, data map[string]any) error {
	v := t.Mut(d, t.s.cat.Draft)
	if v == nil {
		return fmt.Errorf("%s %q has no DRAFT version to update", d.Model.Name, d.ID)
	}
	v.UpdatedAt = t.Now
	if v.Locs != nil {
		for _, f := range d.Model.Fields {
			if _, ok := data[f.Name]; ok && f.Localized {
				if ld := v.Locs[t.s.cat.Locales[0]]; ld != nil {
					ld.UpdatedAt = t.Now
				}
				break
			}
		}
	}
	return t.applyData(d, data, false)
}

// upsert updates the entry matching where, or creates one.
func (t *tx) upsert(m *store.Model, where, create, update map[string]any) (*store.Document, error) {
	d, err := t.s.findUnique(m, where, t.s.cat.Draft, t)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return t.create(m, create)
	}
	return d, t.update(d, update)
}

// applyData writes the fields of a create or update input to d's DRAFT
// version, in the order of the model's fields (so generated ids are
// deterministic).
func (t *tx) applyData(d *store.Document, data map[string]any, create bool) error {
	m := d.Model
	for _, f := range m.Fields {
		x, ok := data[f.Name]
		if !ok || f.Kind == store.KindSystem {
			continue
		}
		if err := t.applyField(d, f, x, create); err != nil {
			return err
		}
	}
	if loc, ok := data["localizations"].(map[string]any); ok {
		if err := t.applyLocalizations(d, loc); err != nil {
			return err
		}
	}
	return nil
}

// applyField writes one input field of d.
func (t *tx) applyField(d *store.Document, f *store.Field, x any, create bool) error {
	draft := t.s.cat.Draft
	switch f.Kind {
	case store.KindRelation:
		return t.relationInput(docHolder{t: t, d: d, f: f}, f, x, create)
	case store.KindComponent:
		v := t.Mut(d, draft)
		comps, err := t.componentInput(f, asComps(v.Vals[f.Name]), x, create)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", d.Model.Name, f.Name, err)
		}
		setVal(v.Vals, f.Name, compsValue(comps))
		return nil
	}
	val, err := storedValue(f, x)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", d.Model.Name, f.Name, err)
	}
	v := t.Mut(d, draft)
	if f.Localized && v.Locs != nil {
		ld := v.Locs[t.s.cat.Locales[0]]
		setVal(ld.Vals, f.Name, val)
		return nil
	}
	setVal(v.Vals, f.Name, val)
	return nil
}

func setVal(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

func compsValue(c []*store.Comp) any {
	if len(c) == 0 {
		return nil
	}
	return c
}

// storedValue converts an input value of a scalar, enum, rich-text,
// location or color field to its stored form.
func storedValue(f *store.Field, x any) (any, error) {
	if x == nil {
		return nil, nil
	}
	switch f.Kind {
	case store.KindRichText:
		if s, ok := x.(string); ok {
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, fmt.Errorf("rich text must be a RichTextAST object: %w", err)
			}
			x = v
		}
		switch x.(type) {
		case map[string]any, []any:
		default:
			return nil, fmt.Errorf("rich text must be a RichTextAST object like {\"children\": [...]}")
		}
		if l, ok := x.([]any); ok {
			x = map[string]any{"children": l}
		}
		return x, nil
	case store.KindLocation:
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a location needs latitude and longitude")
		}
		lat, ok1 := toFloat(m["latitude"])
		lon, ok2 := toFloat(m["longitude"])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("a location needs latitude and longitude")
		}
		if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			return nil, fmt.Errorf("location (%v, %v) is out of range", lat, lon)
		}
		return map[string]any{"latitude": lat, "longitude": lon}, nil
	case store.KindColor:
		return colorValue(x)
	}
	return canonical(f, x), nil
}

// colorValue normalizes a ColorInput ({hex} or {rgba}) to {hex, rgba}.
func colorValue(x any) (any, error) {
	m, ok := x.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a color needs hex or rgba")
	}
	if hex, ok := m["hex"].(string); ok && hex != "" {
		h := strings.TrimPrefix(hex, "#")
		if len(h) == 3 {
			h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
		}
		a := 1.0
		if len(h) == 8 {
			n, err := strconv.ParseUint(h[6:], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("invalid hex color %q", hex)
			}
			a = float64(n) / 255
			h = h[:6]
		}
		n, err := strconv.ParseUint(h, 16, 32)
		if len(h) != 6 || err != nil {
			return nil, fmt.Errorf("invalid hex color %q", hex)
		}
		return map[string]any{
			"hex":  "#" + strings.ToLower(h),
			"rgba": map[string]any{"r": int64(n >> 16), "g": int64(n >> 8 & 0xff), "b": int64(n & 0xff), "a": a},
		}, nil
	}
	rgba, ok := m["rgba"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a color needs hex or rgba")
	}
	var c [3]int64
	for i, k := range []string{"r", "g", "b"} {
		f, ok := toFloat(rgba[k])
		if !ok || f < 0 || f > 255 {
			return nil, fmt.Errorf("rgba.%s must be between 0 and 255", k)
		}
		c[i] = int64(f)
	}
	a, ok := toFloat(rgba["a"])
	if !ok {
		a = 1
	}
	return map[string]any{
		"hex":  fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2]),
		"rgba": map[string]any{"r": c[0], "g": c[1], "b": c[2], "a": a},
	}, nil
}

// applyLocalizations applies a localizations input:
// {create, update, upsert: [{locale, ...}], delete: [Locale]}.
func (t *tx) applyLocalizations(d *store.Document, in map[string]any) error {
	v := t.Mut(d, t.s.cat.Draft)
	if v.Locs == nil {
		return fmt.Errorf("%s has no localized fields", d.Model.Name)
	}
	def := t.s.cat.Locales[0]
	for _, x := range store.AsList(in["delete"]) {
		l, _ := x.(string)
		if l == def {
			return fmt.Errorf("%s %q: the default locale %s cannot be deleted", d.Model.Name, d.ID, l)
		}
		delete(v.Locs, l)
	}
	apply := func(l string, data map[string]any, create bool) error {
		ld := v.Locs[l]
		if ld == nil {
			ld = &store.Loc{CreatedAt: t.Now, Vals: map[string]any{}}
			v.Locs[l] = ld
		}
		ld.UpdatedAt = t.Now
		if x, ok := data["createdAt"].(string); ok && create {
			ld.CreatedAt = canonicalTime(x).(string)
		}
		if x, ok := data["updatedAt"].(string); ok {
			ld.UpdatedAt = canonicalTime(x).(string)
		}
		for _, f := range d.Model.Fields {
			x, ok := data[f.Name]
			if !ok || !f.Localized {
				continue
			}
			val, err := storedValue(f, x)
			if err != nil {
				return fmt.Errorf("%s.%s (%s): %w", d.Model.Name, f.Name, l, err)
			}
			setVal(ld.Vals, f.Name, val)
		}
		return nil
	}
	for _, x := range store.AsList(in["create"]) {
		e := store.AsMap(x)
		l, _ := e["locale"].(string)
		if v.Locs[l] != nil && !t.IsCreated(d) {
			return fmt.Errorf("%s %q already has a localization for locale %s", d.Model.Name, d.ID, l)
		}
		if err := apply(l, store.AsMap(e["data"]), true); err != nil {
			return err
		}
	}
	for _, x := range store.AsList(in["update"]) {
		e := store.AsMap(x)
		l, _ := e["locale"].(string)
		if v.Locs[l] == nil {
			return fmt.Errorf("%s %q has no localization for locale %s to update", d.Model.Name, d.ID, l)
		}
		if err := apply(l, store.AsMap(e["data"]), false); err != nil {
			return err
		}
	}
	for _, x := range store.AsList(in["upsert"]) {
		e := store.AsMap(x)
		l, _ := e["locale"].(string)
		var err error
		if v.Locs[l] == nil {
			err = apply(l, store.AsMap(e["create"]), true)
		} else {
			err = apply(l, store.AsMap(e["update"]), false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
