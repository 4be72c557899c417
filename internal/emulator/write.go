package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// mutate runs one root mutation field in its own tx.
func (s *Stage) mutate(_ context.Context, rf *rootField, field *ast.Field, args map[string]any) (any, error) {
	t := s.begin()
	m := rf.model
	draft := s.cat.draft
	ci := ctxInfo{stage: draft, locales: s.cat.locales}
	var (
		result []view
		many   bool
		sel    selection
		err    error
		upload *uploadJob // an Asset's uploadUrl to fetch once committed
	)
	switch rf.op {
	case opCreate:
		var d *document
		d, err = t.create(m, asMap(args["data"]))
		if err == nil {
			result = []view{{d: d}}
			upload = t.assetUpload(d, asMap(args["data"]), true)
		}
	case opUpdate:
		var d *document
		d, err = t.mustFind(m, asMap(args["where"]), draft)
		if err == nil {
			err = t.update(d, asMap(args["data"]))
			result = []view{{d: d}}
		}
		if err == nil {
			upload = t.assetUpload(d, asMap(args["data"]), false)
		}
	case opUpsert:
		up := asMap(args["upsert"])
		var d *document
		d, err = t.upsert(m, asMap(args["where"]), asMap(up["create"]), asMap(up["update"]))
		if err == nil {
			result = []view{{d: d}}
			if t.isCreated(d) {
				upload = t.assetUpload(d, asMap(up["create"]), true)
			} else {
				upload = t.assetUpload(d, asMap(up["update"]), false)
			}
		}
	case opDelete:
		var d *document
		d, err = s.findUnique(m, asMap(args["where"]), draft, t)
		if err == nil && d == nil {
			return nil, nil // Hygraph answers null for an entry that does not exist
		}
		if err == nil {
			result = []view{{d: d, v: d.versions[draft]}}
			t.remove(d)
		}
	case opPublish:
		var d *document
		d, err = t.mustFind(m, asMap(args["where"]), draft)
		if err == nil {
			var st int
			st, err = t.publish(d, args)
			result = []view{{d: d}}
			ci.stage = st
		}
	case opUnpublish:
		var d *document
		d, err = t.mustFind(m, asMap(args["where"]), -1)
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
		t.rollback()
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
		vw.v = vw.d.versions[ci.stage]
		if vw.v == nil {
			ci.stage = draft
			vw.v = vw.d.versions[draft]
		}
		if vw.v == nil {
			return nil, nil
		}
	}
	vw.loc = s.cat.locales[0]
	return s.entry(vw, ci), nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// mustFind finds the entry of m identified by a unique where input in
// stage st (any stage when st < 0), or fails naming model and where.
func (t *tx) mustFind(m *modelInfo, where map[string]any, st int) (*document, error) {
	if st < 0 {
		for i := range t.s.cat.stages {
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
func notFoundError(m *modelInfo, where map[string]any) error {
	return &notFoundErr{msg: fmt.Sprintf("could not find %s with %s", m.name, describeWhere(where))}
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
func (t *tx) create(m *modelInfo, data map[string]any) (*document, error) {
	if m.createInput == "" {
		return nil, fmt.Errorf("%s entries cannot be created through the content API", m.name)
	}
	d := t.newDoc(m)
	v := &version{createdAt: t.now, updatedAt: t.now, vals: make(map[string]any, len(data))}
	if m.localized {
		v.locs = map[string]*locData{t.s.cat.locales[0]: {createdAt: t.now, updatedAt: t.now, vals: map[string]any{}}}
	}
	if x, ok := data["createdAt"].(string); ok {
		v.createdAt = canonicalTime(x).(string)
		if m.localized {
			v.locs[t.s.cat.locales[0]].createdAt = v.createdAt
		}
	}
	if x, ok := data["updatedAt"].(string); ok {
		v.updatedAt = canonicalTime(x).(string)
		if m.localized {
			v.locs[t.s.cat.locales[0]].updatedAt = v.updatedAt
		}
	}
	t.set(d, t.s.cat.draft, v)
	if err := t.applyData(d, data, true); err != nil {
		return nil, err
	}
	return d, nil
}

// update changes an entry's DRAFT version with an update input.
func (t *tx) update(d *document, data map[string]any) error {
	v := t.mut(d, t.s.cat.draft)
	if v == nil {
		return fmt.Errorf("%s %q has no DRAFT version to update", d.model.name, d.id)
	}
	v.updatedAt = t.now
	if v.locs != nil {
		for _, f := range d.model.fields {
			if _, ok := data[f.name]; ok && f.localized {
				if ld := v.locs[t.s.cat.locales[0]]; ld != nil {
					ld.updatedAt = t.now
				}
				break
			}
		}
	}
	return t.applyData(d, data, false)
}

// upsert updates the entry matching where, or creates one.
func (t *tx) upsert(m *modelInfo, where, create, update map[string]any) (*document, error) {
	d, err := t.s.findUnique(m, where, t.s.cat.draft, t)
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
func (t *tx) applyData(d *document, data map[string]any, create bool) error {
	m := d.model
	for _, f := range m.fields {
		x, ok := data[f.name]
		if !ok || f.kind == kindSystem {
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
func (t *tx) applyField(d *document, f *fieldInfo, x any, create bool) error {
	draft := t.s.cat.draft
	switch f.kind {
	case kindRelation:
		return t.relationInput(docHolder{t: t, d: d, f: f}, f, x, create)
	case kindComponent:
		v := t.mut(d, draft)
		comps, err := t.componentInput(f, asComps(v.vals[f.name]), x, create)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", d.model.name, f.name, err)
		}
		setVal(v.vals, f.name, compsValue(comps))
		return nil
	}
	val, err := storedValue(f, x)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", d.model.name, f.name, err)
	}
	v := t.mut(d, draft)
	if f.localized && v.locs != nil {
		ld := v.locs[t.s.cat.locales[0]]
		setVal(ld.vals, f.name, val)
		return nil
	}
	setVal(v.vals, f.name, val)
	return nil
}

func setVal(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

func compsValue(c []*comp) any {
	if len(c) == 0 {
		return nil
	}
	return c
}

// storedValue converts an input value of a scalar, enum, rich-text,
// location or color field to its stored form.
func storedValue(f *fieldInfo, x any) (any, error) {
	if x == nil {
		return nil, nil
	}
	switch f.kind {
	case kindRichText:
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
	case kindLocation:
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
	case kindColor:
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
func (t *tx) applyLocalizations(d *document, in map[string]any) error {
	v := t.mut(d, t.s.cat.draft)
	if v.locs == nil {
		return fmt.Errorf("%s has no localized fields", d.model.name)
	}
	def := t.s.cat.locales[0]
	for _, x := range asList(in["delete"]) {
		l, _ := x.(string)
		if l == def {
			return fmt.Errorf("%s %q: the default locale %s cannot be deleted", d.model.name, d.id, l)
		}
		delete(v.locs, l)
	}
	apply := func(l string, data map[string]any, create bool) error {
		ld := v.locs[l]
		if ld == nil {
			ld = &locData{createdAt: t.now, vals: map[string]any{}}
			v.locs[l] = ld
		}
		ld.updatedAt = t.now
		if x, ok := data["createdAt"].(string); ok && create {
			ld.createdAt = canonicalTime(x).(string)
		}
		if x, ok := data["updatedAt"].(string); ok {
			ld.updatedAt = canonicalTime(x).(string)
		}
		for _, f := range d.model.fields {
			x, ok := data[f.name]
			if !ok || !f.localized {
				continue
			}
			val, err := storedValue(f, x)
			if err != nil {
				return fmt.Errorf("%s.%s (%s): %w", d.model.name, f.name, l, err)
			}
			setVal(ld.vals, f.name, val)
		}
		return nil
	}
	for _, x := range asList(in["create"]) {
		e := asMap(x)
		l, _ := e["locale"].(string)
		if v.locs[l] != nil && !t.isCreated(d) {
			return fmt.Errorf("%s %q already has a localization for locale %s", d.model.name, d.id, l)
		}
		if err := apply(l, asMap(e["data"]), true); err != nil {
			return err
		}
	}
	for _, x := range asList(in["update"]) {
		e := asMap(x)
		l, _ := e["locale"].(string)
		if v.locs[l] == nil {
			return fmt.Errorf("%s %q has no localization for locale %s to update", d.model.name, d.id, l)
		}
		if err := apply(l, asMap(e["data"]), false); err != nil {
			return err
		}
	}
	for _, x := range asList(in["upsert"]) {
		e := asMap(x)
		l, _ := e["locale"].(string)
		var err error
		if v.locs[l] == nil {
			err = apply(l, asMap(e["create"]), true)
		} else {
			err = apply(l, asMap(e["update"]), false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
