package importapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/schema"
)

// snapshotResolver answers the read queries of Hygraph's content API —
// what a sync, a plan, a compare and typed models read — from a snapshot
// index: the list and single queries of every model, with stage, locales,
// first, skip, after, orderBy by id or updatedAt and where by id, id_in or
// updatedAt_gt; every field of an entry, its localizations and
// documentInStages; relations (first, skip), components, rich text,
// locations and colors. A snapshot is read-only: mutations, connections
// and other filters are refused with an error naming them.
type snapshotResolver struct {
	ix      *snapshotIndex
	p       *schema.Project
	lists   map[string]*schema.Model // list query → model
	singles map[string]*schema.Model // single query → model
	// handles are the bucket handles of the snapshot's asset files by
	// asset id; cdn is the base URL they are served at ("" without).
	handles map[string]string
	cdn     string
}

func newResolver(ix *snapshotIndex, p *schema.Project) *snapshotResolver {
	r := &snapshotResolver{ix: ix, p: p, lists: map[string]*schema.Model{}, singles: map[string]*schema.Model{}}
	for _, m := range p.Models {
		if m.Component || m.API == nil {
			continue
		}
		if m.API.List != "" {
			r.lists[m.API.List] = m
		}
		if m.API.Single != "" {
			r.singles[m.API.Single] = m
		}
	}
	return r
}

var errReadOnly = errors.New("a snapshot source is read-only")

// defaultFirst is the page of a list query without first.
const defaultFirst = 100

// ResolveRoot answers a root field of a query.
func (r *snapshotResolver) ResolveRoot(_ context.Context, op ast.Operation, field *ast.Field, args map[string]any) (any, error) {
	if op != ast.Query {
		return nil, errReadOnly
	}
	st, err := stageArg(args)
	if err != nil {
		return nil, err
	}
	locales, err := r.localesArg(args)
	if err != nil {
		return nil, err
	}
	if m := r.lists[field.Name]; m != nil {
		q := pageQuery{model: m.Name, stage: st, limit: defaultFirst}
		for k, x := range args {
			switch k {
			case "stage", "locales":
			case "first":
				if x != nil {
					q.limit = int(toInt(x))
				}
			case "skip":
				if x != nil {
					q.skip = int(toInt(x))
				}
			case "after":
				q.after, _ = x.(string)
			case "orderBy":
				if x != nil {
					q.order, _ = x.(string)
					switch q.order {
					case "id_ASC", "id_DESC", "updatedAt_ASC", "updatedAt_DESC":
					default:
						return nil, fmt.Errorf("%s: a snapshot source orders by id or updatedAt only, not %s", field.Name, q.order)
					}
				}
			case "where":
				if x == nil {
					continue
				}
				if err := r.where(&q, x); err != nil {
					return nil, fmt.Errorf("%s: %w", field.Name, err)
				}
			default:
				if x != nil {
					return nil, fmt.Errorf("%s: a snapshot source does not take %s", field.Name, k)
				}
			}
		}
		if q.after != "" && strings.HasPrefix(q.order, "updatedAt") {
			return nil, fmt.Errorf("%s: a snapshot source pages with after in id order only", field.Name)
		}
		if q.limit < 0 {
			return nil, fmt.Errorf("%s: first is negative", field.Name)
		}
		ids, err := r.ix.pageIDs(q)
		if err != nil {
			return nil, err
		}
		loadIDs := slices.Clone(ids)
		slices.Sort(loadIDs)
		data, err := r.ix.load(m, loadIDs, !q.hasIDs)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(ids))
		for _, id := range ids {
			if o := r.entry(data[id], st, locales); o != nil {
				out = append(out, o)
			}
		}
		return out, nil
	}
	if m := r.singles[field.Name]; m != nil {
		where, _ := args["where"].(map[string]any)
		id, _ := where["id"].(string)
		if id == "" || len(where) != 1 {
			return nil, fmt.Errorf("%s: a snapshot source finds entries by id only", field.Name)
		}
		data, err := r.ix.load(m, []string{id}, false)
		if err != nil {
			return nil, err
		}
		if o := r.entry(data[id], st, locales); o != nil {
			return o, nil
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%s: a snapshot source answers the list and single queries of models only", field.Name)
}

// where narrows a page query by a model's where input.
func (r *snapshotResolver) where(q *pageQuery, x any) error {
	w, ok := x.(map[string]any)
	if !ok {
		return errors.New("where is not an object")
	}
	for k, v := range w {
		if v == nil {
			continue
		}
		switch k {
		case "id":
			id, _ := v.(string)
			q.ids, q.hasIDs = intersect(q, []string{id}), true
		case "id_in":
			var ids []string
			for _, it := range entryform.List(v) {
				if s, ok := it.(string); ok {
					ids = append(ids, s)
				}
			}
			q.ids, q.hasIDs = intersect(q, ids), true
		case "updatedAt_gt":
			s, _ := v.(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("updatedAt_gt %q is not a DateTime", s)
			}
			q.since, q.hasSince = t.UnixMilli(), true
		default:
			return fmt.Errorf("a snapshot source filters by id, id_in and updatedAt_gt only, not %s", k)
		}
	}
	return nil
}

func intersect(q *pageQuery, ids []string) []string {
	if !q.hasIDs {
		return ids
	}
	return slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(q.ids, id) })
}

func stageArg(args map[string]any) (int, error) {
	s, _ := args["stage"].(string)
	switch s {
	case "", StageDraft:
		return stageDraftN, nil
	case StagePublished:
		return stagePublishedN, nil
	}
	return 0, fmt.Errorf("a snapshot holds the DRAFT and PUBLISHED stages, not %s", s)
}

// localesArg returns the locales argument, or nil.
func (r *snapshotResolver) localesArg(args map[string]any) ([]string, error) {
	var out []string
	for _, x := range entryform.List(args["locales"]) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// entry returns the object of an entry's version in stage st, in the first
// of locales it has (the default locale when locales is empty); nil when
// it has no such version.
func (r *snapshotResolver) entry(e *entryData, st int, locales []string) *entryObj {
	if e == nil || e.versions[st] == nil {
		return nil
	}
	loc, ok := r.pickLocale(e, e.versions[st], locales)
	if !ok {
		return nil
	}
	return &entryObj{r: r, e: e, stage: st, loc: loc, locales: locales}
}

func (r *snapshotResolver) pickLocale(e *entryData, v *versionData, locales []string) (string, bool) {
	if len(locales) == 0 {
		return r.ix.defLocale, true
	}
	if !localized(e.model) {
		return locales[0], true
	}
	for _, l := range locales {
		if v.locs[l] != nil {
			return l, true
		}
	}
	return "", false
}

func localized(m *schema.Model) bool {
	for _, f := range m.Fields {
		if f.Localized {
			return true
		}
	}
	return false
}

// entryObj is an entry's version in one stage and locale.
type entryObj struct {
	r       *snapshotResolver
	e       *entryData
	stage   int
	loc     string
	locales []string // the locales the entry was read with
}

// TypeName is the entry's model.
func (o *entryObj) TypeName() string { return o.e.model.Name }

func stageName(st int) string {
	if st == stagePublishedN {
		return StagePublished
	}
	return StageDraft
}

// ResolveField returns one field of the entry.
func (o *entryObj) ResolveField(_ context.Context, field *ast.Field, args map[string]any) (any, error) {
	r, e, v := o.r, o.e, o.e.versions[o.stage]
	def := r.ix.defLocale
	base := v.locs[def]
	cur := v.locs[o.loc]
	switch field.Name {
	case "id":
		return e.id, nil
	case "stage":
		return stageName(o.stage), nil
	case "locale":
		return o.loc, nil
	case "createdAt", "updatedAt", "publishedAt":
		if o.stage == stageDraftN && field.Name == "publishedAt" {
			return nil, nil
		}
		if x := cur[field.Name]; x != nil {
			return x, nil
		}
		return base[field.Name], nil
	case "history", "scheduledIn":
		return []any{}, nil
	case "localizations":
		out := []any{}
		if !localized(e.model) {
			return out, nil
		}
		include, _ := args["includeCurrent"].(bool)
		want, _ := r.localesArg(args)
		if len(want) == 0 {
			want = r.p.Locales
		}
		for _, l := range want {
			if (l == o.loc && !include) || v.locs[l] == nil {
				continue
			}
			out = append(out, &entryObj{r: r, e: e, stage: o.stage, loc: l, locales: []string{l}})
		}
		return out, nil
	case "documentInStages":
		out := []any{}
		include, _ := args["includeCurrent"].(bool)
		inherit, _ := args["inheritLocale"].(bool)
		locales := o.locales
		if inherit {
			locales = []string{o.loc}
		}
		for _, x := range entryform.List(args["stages"]) {
			name, _ := x.(string)
			st, err := stageArg(map[string]any{"stage": name})
			if err != nil || (st == o.stage && !include) {
				continue
			}
			if eo := r.entry(e, st, locales); eo != nil {
				out = append(out, eo)
			}
		}
		return out, nil
	}
	f := e.model.Field(field.Name)
	if f == nil {
		return nil, nil
	}
	if e.model.Name == AssetModel {
		switch f.Name {
		case "handle":
			return r.assetHandle(e.id, base), nil
		case "fileName":
			if x := cur[f.Name]; x != nil {
				return x, nil
			}
			if x := base[f.Name]; x != nil {
				return x, nil
			}
			return r.assetHandle(e.id, base), nil
		case "url":
			return r.assetURL(r.assetHandle(e.id, base)), nil
		case "upload":
			if x := base[f.Name]; x != nil {
				return x, nil
			}
			return map[string]any{"status": "ASSET_UPLOAD_COMPLETE", "expiresAt": nil, "error": nil, "requestPostData": nil}, nil
		}
	}
	var x any
	if f.Localized {
		x = cur[f.Name]
	} else {
		x = base[f.Name]
	}
	if isRelationKind(f.Kind) {
		return r.refs(f, v.rels[f.Name], args, o.stage, o.locales), nil
	}
	if f.System || f.Kind == schema.KindSystem {
		if f.List {
			return []any{}, nil
		}
		return x, nil
	}
	return r.value(f, x, args, o.stage, o.locales), nil
}

func (r *snapshotResolver) assetHandle(id string, base map[string]any) string {
	if h := r.handles[id]; h != "" {
		return h
	}
	if h, _ := base["handle"].(string); h != "" {
		return h
	}
	return id
}

func (r *snapshotResolver) assetURL(handle string) string {
	if r.cdn == "" {
		return "https://eu-central-1.graphassets.com/" + handle
	}
	return r.cdn + "/" + url.PathEscape(handle)
}

// refs renders relation targets, applying first and skip.
func (r *snapshotResolver) refs(f *schema.Field, refs []Ref, args map[string]any, st int, locales []string) any {
	if !f.List {
		if len(refs) == 0 {
			return nil
		}
		return r.ref(f, refs[0], st, locales)
	}
	refs = window(refs, args)
	out := make([]any, 0, len(refs))
	for _, t := range refs {
		out = append(out, r.ref(f, t, st, locales))
	}
	return out
}

func (r *snapshotResolver) ref(f *schema.Field, t Ref, st int, locales []string) *refObj {
	typ := t.TypeName
	if typ == "" && len(f.Targets) > 0 {
		typ = f.Targets[0]
	}
	return &refObj{r: r, typ: typ, id: t.ID, stage: st, locales: locales}
}

// window applies first and skip to a list.
func window[T any](list []T, args map[string]any) []T {
	if s, ok := args["skip"]; ok && s != nil {
		list = list[min(len(list), max(0, int(toInt(s)))):]
	}
	if n, ok := args["first"]; ok && n != nil {
		list = list[:min(len(list), max(0, int(toInt(n))))]
	}
	return list
}

// refObj is a relation target, read from the index when a field other
// than its id is asked for.
type refObj struct {
	r       *snapshotResolver
	typ, id string
	stage   int
	locales []string

	once sync.Once
	obj  *entryObj
	err  error
}

func (o *refObj) TypeName() string { return o.typ }

func (o *refObj) ResolveField(ctx context.Context, field *ast.Field, args map[string]any) (any, error) {
	switch field.Name {
	case "id":
		return o.id, nil
	case "stage":
		return stageName(o.stage), nil
	}
	o.once.Do(func() {
		m := o.r.p.Model(o.typ)
		if m == nil {
			return
		}
		var data map[string]*entryData
		if data, o.err = o.r.ix.load(m, []string{o.id}, false); o.err == nil {
			o.obj = o.r.entry(data[o.id], o.stage, o.locales)
		}
	})
	if o.err != nil || o.obj == nil {
		return nil, o.err
	}
	return o.obj.ResolveField(ctx, field, args)
}

// value renders a stored NDF value of field f in the shape the content API
// returns it.
func (r *snapshotResolver) value(f *schema.Field, x any, args map[string]any, st int, locales []string) any {
	switch f.Kind {
	case schema.KindRichText:
		if x == nil {
			return nil
		}
		return map[string]any{"raw": x, "json": x, "html": "", "markdown": "", "text": richTextText(x), "references": []any{}}
	case schema.KindLocation:
		return x
	case schema.KindColor:
		c, ok := x.(map[string]any)
		if !ok {
			return x
		}
		return colorValue(c)
	case schema.KindComponent, schema.KindUnionComponent:
		if x == nil {
			if f.List {
				return []any{}
			}
			return nil
		}
		list, isList := x.([]any)
		if !isList {
			list = []any{x}
		}
		out := make([]any, 0, len(list))
		for _, c := range list {
			cm, _ := c.(map[string]any)
			if cm == nil {
				continue
			}
			typ, _ := cm["__typename"].(string)
			if typ == "" && len(f.Targets) > 0 {
				typ = f.Targets[0]
			}
			model := r.p.Model(typ)
			if model == nil {
				continue
			}
			out = append(out, &compObj{r: r, model: model, vals: cm, stage: st, locales: locales})
		}
		if !f.List {
			if len(out) == 0 {
				return nil
			}
			return out[0]
		}
		return window(out, args)
	}
	if x == nil && f.List {
		return []any{}
	}
	return x
}

// compObj is a component value.
type compObj struct {
	r       *snapshotResolver
	model   *schema.Model
	vals    map[string]any
	stage   int
	locales []string
}

func (o *compObj) TypeName() string { return o.model.Name }

func (o *compObj) ResolveField(_ context.Context, field *ast.Field, args map[string]any) (any, error) {
	switch field.Name {
	case "id":
		return o.vals["id"], nil
	case "stage":
		return stageName(o.stage), nil
	case "locale":
		return o.r.ix.defLocale, nil
	}
	f := o.model.Field(field.Name)
	if f == nil {
		return nil, nil
	}
	x := o.vals[f.Name]
	if isRelationKind(f.Kind) {
		return o.r.refs(f, refList(x), args, o.stage, o.locales), nil
	}
	if f.System || f.Kind == schema.KindSystem {
		if f.List {
			return []any{}, nil
		}
		return nil, nil
	}
	return o.r.value(f, x, args, o.stage, o.locales), nil
}

// richTextText is the text of a rich text AST: its text leaves, a line
// per block.
func richTextText(x any) string {
	var b strings.Builder
	var walk func(x any, depth int)
	walk = func(x any, depth int) {
		switch v := x.(type) {
		case map[string]any:
			if t, ok := v["text"].(string); ok {
				b.WriteString(t)
			}
			walk(v["children"], depth+1)
			if depth == 1 && v["type"] != nil {
				b.WriteString("\n")
			}
		case []any:
			for _, c := range v {
				walk(c, depth)
			}
		}
	}
	walk(x, 0)
	return strings.TrimSuffix(b.String(), "\n")
}

// colorValue completes a stored color ({"hex"}) with rgba and css.
func colorValue(c map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	hex, _ := c["hex"].(string)
	h := strings.TrimPrefix(hex, "#")
	if len(h) == 6 || len(h) == 8 {
		n, err := strconv.ParseUint(h, 16, 32)
		if err == nil {
			if len(h) == 6 {
				n = n<<8 | 0xff
			}
			rgba := map[string]any{"r": int64(n >> 24 & 0xff), "g": int64(n >> 16 & 0xff), "b": int64(n >> 8 & 0xff), "a": float64(n&0xff) / 255}
			if out["rgba"] == nil {
				out["rgba"] = rgba
			}
			if out["css"] == nil {
				out["css"] = fmt.Sprintf("rgba(%d,%d,%d,%g)", rgba["r"], rgba["g"], rgba["b"], rgba["a"])
			}
		}
	}
	return out
}

func toInt(x any) int64 {
	switch v := x.(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	n, _ := strconv.ParseInt(fmt.Sprint(x), 10, 64)
	return n
}
