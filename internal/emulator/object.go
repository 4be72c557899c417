package emulator

import (
	"context"
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/vektah/gqlparser/v2/ast"
)

// entryObj is an entry as the executor resolves it.
type entryObj struct {
	s  *Stage
	vw view
	ci ctxInfo // stage and locale fallback list the entry was read with
}

func (s *Stage) entry(vw view, ci ctxInfo) *entryObj {
	for i, v := range vw.d.Versions {
		if v == vw.v {
			ci.stage = i
			break
		}
	}
	return &entryObj{s: s, vw: vw, ci: ci}
}

// TypeName is the entry's model.
func (e *entryObj) TypeName() string { return e.vw.d.Model.Name }

// ResolveField returns one field of the entry.
func (e *entryObj) ResolveField(_ context.Context, field *ast.Field, args map[string]any) (any, error) {
	m := e.vw.d.Model
	f := m.ByName[field.Name]
	if f == nil {
		return nil, nil
	}
	if f.Kind == store.KindSystem {
		return e.system(f, args)
	}
	val := e.s.fieldOf(e.vw, f, "")
	if m.Name == "Asset" {
		if val == nil {
			return e.assetDefault(f), nil
		}
		if f.Name == "upload" {
			return val, nil
		}
	}
	return e.s.resolveValue(f, val, args, e.ci)
}

// assetDefault answers the Asset fields Hygraph derives when they are not
// stored. The file fields of a locale that has none are the default
// locale's; handle falls back to the id and fileName to the handle; url is
// the asset CDN's URL of the handle (the Filestack emulator's, see
// WithAssets); and upload, on the new asset system, is complete.
func (e *entryObj) assetDefault(f *store.Field) any {
	s, d := e.s, e.vw.d
	switch f.Name {
	case "handle", "fileName", "mimeType", "size", "width", "height":
		if v := s.assetValue(d.Model, e.vw.v, f.Name); v != nil {
			return v
		}
		if f.Name == "handle" || f.Name == "fileName" {
			return e.assetHandle()
		}
		return nil
	case "url":
		return s.assetURL(e.assetHandle())
	case "upload":
		return map[string]any{"status": UploadComplete, "expiresAt": nil, "error": nil, "requestPostData": nil}
	}
	if f.List {
		return []any{}
	}
	return nil
}

// assetHandle returns the handle of an Asset in the entry's locale, else
// in the default locale, else its id.
func (e *entryObj) assetHandle() string {
	d := e.vw.d
	if f := d.Model.ByName["handle"]; f != nil {
		if h, _ := e.s.fieldOf(e.vw, f, "").(string); h != "" {
			return h
		}
	}
	if h, _ := e.s.assetValue(d.Model, e.vw.v, "handle").(string); h != "" {
		return h
	}
	return d.ID
}

// system answers the system fields of an entry.
func (e *entryObj) system(f *store.Field, args map[string]any) (any, error) {
	s := e.s
	switch f.Name {
	case "id":
		return e.vw.d.ID, nil
	case "stage":
		return s.cat.Stages[e.ci.stage], nil
	case "locale":
		return e.vw.loc, nil
	case "createdAt", "updatedAt", "publishedAt":
		variation, _ := args["variation"].(string)
		return s.systemDate(e.vw, f.Name, variation), nil
	case "history", "scheduledIn":
		return []any{}, nil
	case "localizations":
		out := []any{}
		if e.vw.v.Locs == nil {
			return out, nil
		}
		include, _ := args["includeCurrent"].(bool)
		for _, l := range localesArg(args, s.cat.Locales) {
			if l == e.vw.loc && !include {
				continue
			}
			if e.vw.v.Locs[l] != nil {
				out = append(out, s.entry(view{d: e.vw.d, v: e.vw.v, loc: l}, ctxInfo{stage: e.ci.stage, locales: []string{l}}))
			}
		}
		return out, nil
	case "documentInStages":
		out := []any{}
		include, _ := args["includeCurrent"].(bool)
		inherit, _ := args["inheritLocale"].(bool)
		locales := e.ci.locales
		if inherit {
			locales = []string{e.vw.loc}
		}
		for _, x := range store.AsList(args["stages"]) {
			name, _ := x.(string)
			st, ok := s.cat.StageIdx[name]
			if !ok || (st == e.ci.stage && !include) {
				continue
			}
			if vw, ok := s.viewOf(e.vw.d, st, locales); ok {
				out = append(out, s.entry(vw, ctxInfo{stage: st, locales: locales}))
			}
		}
		return out, nil
	}
	// createdBy, updatedBy, publishedBy: the emulator has no users.
	if f.List {
		return []any{}, nil
	}
	return nil, nil
}

// resolveValue renders a stored value of field f, applying the field's
// arguments (where, orderBy, pagination, locales) to relations and
// components.
func (s *Stage) resolveValue(f *store.Field, val any, args map[string]any, ci ctxInfo) (any, error) {
	switch f.Kind {
	case store.KindScalar, store.KindEnum:
		if val == nil && f.List {
			return []any{}, nil
		}
		return val, nil
	case store.KindRichText:
		if val == nil {
			return nil, nil
		}
		return richTextObj{ast: val}, nil
	case store.KindLocation:
		if val == nil {
			return nil, nil
		}
		return locationObj{v: val}, nil
	case store.KindColor:
		if val == nil {
			return nil, nil
		}
		return colorObj(val), nil
	case store.KindRelation:
		ci.locales = localesArg(args, ci.locales)
		var views []view
		for _, r := range store.AsRefs(val) {
			if vw, ok := s.viewOf(s.st.ByID[r.ID], ci.stage, ci.locales); ok {
				views = append(views, vw)
			}
		}
		if !f.List {
			if len(views) == 0 {
				return nil, nil
			}
			return s.entry(views[0], ci), nil
		}
		var m *store.Model
		if !f.Union && len(f.Targets) == 1 {
			m = s.cat.Models[f.Targets[0]]
		} else {
			args = withoutKeys(args, "where", "orderBy")
		}
		sel, err := s.selectViews(m, views, args, ci, false)
		if err != nil {
			return nil, err
		}
		return s.entries(sel.page, ci), nil
	case store.KindComponent:
		comps := asComps(val)
		if !f.List {
			if len(comps) == 0 {
				return nil, nil
			}
			return &compObj{s: s, c: comps[0], ci: ci}, nil
		}
		out := make([]any, 0, len(comps))
		for _, c := range comps {
			out = append(out, &compObj{s: s, c: c, ci: ci})
		}
		return s.pageComponents(f, out, args, ci)
	}
	if f.List {
		return []any{}, nil
	}
	return nil, nil
}

// pageComponents applies where/orderBy/pagination to component values.
func (s *Stage) pageComponents(f *store.Field, comps []any, args map[string]any, ci ctxInfo) (any, error) {
	pa, err := s.pageArgs(nil, args)
	if err != nil {
		return nil, err
	}
	where, _ := args["where"].(map[string]any)
	var views []view
	byID := map[string]*compObj{}
	for _, x := range comps {
		co := x.(*compObj)
		m := s.cat.Models[co.c.Type]
		if m == nil {
			continue
		}
		if len(where) > 0 && !f.Union {
			ok, err := record{s: s, m: m, c: co.c, ci: ci}.match(where)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		byID[co.c.ID] = co
		views = append(views, view{d: &store.Document{Model: m, ID: co.c.ID}})
	}
	if ob, ok := args["orderBy"].(string); ok && ob != "" && !f.Union && len(views) > 0 {
		keyed := make([]view, len(views))
		copy(keyed, views)
		m := views[0].d.Model
		if err := s.orderComponents(m, keyed, byID, ob); err != nil {
			return nil, err
		}
		views = keyed
	}
	if pa.first < 0 && pa.last < 0 {
		pa.first = len(views) // components are values: all of them by default
	}
	sel := s.paginate(views, pa)
	out := make([]any, len(sel.page))
	for i, vw := range sel.page {
		out[i] = byID[vw.d.ID]
	}
	return out, nil
}

// orderComponents sorts component views by an orderBy value.
func (s *Stage) orderComponents(m *store.Model, views []view, byID map[string]*compObj, orderBy string) error {
	i := strings.LastIndexByte(orderBy, '_')
	if i <= 0 {
		return fmt.Errorf("invalid orderBy value %q", orderBy)
	}
	f := m.ByName[orderBy[:i]]
	if f == nil {
		return fmt.Errorf("%s cannot be ordered by %q", m.Name, orderBy[:i])
	}
	desc := orderBy[i+1:] == "DESC"
	val := func(v view) any {
		if f.Name == "id" {
			return v.d.ID
		}
		return byID[v.d.ID].c.Vals[f.Name]
	}
	sortViews(views, func(a, b view) int {
		c := compareNullsLast(val(a), val(b))
		if desc {
			c = -c
		}
		return c
	})
	return nil
}

func withoutKeys(args map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func asComps(v any) []*store.Comp {
	c, _ := v.([]*store.Comp)
	return c
}

// compObj is a component value as the executor resolves it.
type compObj struct {
	s  *Stage
	c  *store.Comp
	ci ctxInfo
}

// TypeName is the component's type.
func (o *compObj) TypeName() string { return o.c.Type }

// ResolveField returns one field of the component.
func (o *compObj) ResolveField(_ context.Context, field *ast.Field, args map[string]any) (any, error) {
	m := o.s.cat.Models[o.c.Type]
	if m == nil {
		return nil, nil
	}
	f := m.ByName[field.Name]
	if f == nil {
		return nil, nil
	}
	if f.Kind == store.KindSystem {
		switch f.Name {
		case "id":
			return o.c.ID, nil
		case "stage":
			return o.s.cat.Stages[o.ci.stage], nil
		case "locale":
			if len(o.ci.locales) > 0 {
				return o.ci.locales[0], nil
			}
			return o.s.cat.Locales[0], nil
		}
		if f.List {
			return []any{}, nil
		}
		return nil, nil
	}
	return o.s.resolveValue(f, o.c.Vals[f.Name], args, o.ci)
}

// richTextObj renders a stored rich-text AST.
type richTextObj struct{ ast any }

// TypeName is RichText.
func (richTextObj) TypeName() string { return "RichText" }

// ResolveField renders the AST as raw/json, html, markdown or text.
func (r richTextObj) ResolveField(_ context.Context, field *ast.Field, _ map[string]any) (any, error) {
	switch field.Name {
	case "raw", "json":
		return r.ast, nil
	case "html":
		return renderRichText(r.ast, "html"), nil
	case "markdown":
		return renderRichText(r.ast, "markdown"), nil
	case "text":
		return renderRichText(r.ast, "text"), nil
	case "references":
		return []any{}, nil
	}
	return nil, nil
}

var htmlTags = map[string]string{
	"paragraph": "p", "heading-one": "h1", "heading-two": "h2", "heading-three": "h3",
	"heading-four": "h4", "heading-five": "h5", "heading-six": "h6", "bulleted-list": "ul",
	"numbered-list": "ol", "list-item": "li", "block-quote": "blockquote", "code-block": "pre",
	"table": "table", "table_row": "tr", "table_cell": "td",
}

var mdPrefix = map[string]string{
	"heading-one": "# ", "heading-two": "## ", "heading-three": "### ", "heading-four": "#### ",
	"heading-five": "##### ", "heading-six": "###### ", "block-quote": "> ", "list-item": "- ",
}

// renderRichText renders a Slate AST ({"children": [...]}) as html,
// markdown or plain text. Unknown node types render their children.
func renderRichText(root any, format string) string {
	var b strings.Builder
	var walk func(n any, top bool)
	walk = func(n any, top bool) {
		switch x := n.(type) {
		case []any:
			for _, c := range x {
				walk(c, top)
			}
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				switch format {
				case "html":
					s := html.EscapeString(t)
					for _, m := range [][2]string{{"code", "code"}, {"bold", "b"}, {"italic", "i"}, {"underline", "u"}} {
						if on, _ := x[m[0]].(bool); on {
							s = "<" + m[1] + ">" + s + "</" + m[1] + ">"
						}
					}
					b.WriteString(s)
				case "markdown":
					s := t
					if on, _ := x["bold"].(bool); on && s != "" {
						s = "**" + s + "**"
					}
					if on, _ := x["italic"].(bool); on && s != "" {
						s = "_" + s + "_"
					}
					b.WriteString(s)
				default:
					b.WriteString(t)
				}
				return
			}
			typ, _ := x["type"].(string)
			switch format {
			case "html":
				if typ == "link" {
					href, _ := x["href"].(string)
					b.WriteString(`<a href="` + html.EscapeString(href) + `">`)
					walk(x["children"], false)
					b.WriteString("</a>")
					return
				}
				tag := htmlTags[typ]
				if tag != "" {
					b.WriteString("<" + tag + ">")
				}
				walk(x["children"], false)
				if tag != "" {
					b.WriteString("</" + tag + ">")
				}
			case "markdown":
				b.WriteString(mdPrefix[typ])
				if typ == "link" {
					href, _ := x["href"].(string)
					b.WriteString("[")
					walk(x["children"], false)
					b.WriteString("](" + href + ")")
					return
				}
				walk(x["children"], false)
				if htmlTags[typ] != "" && typ != "bulleted-list" && typ != "numbered-list" {
					b.WriteString("\n\n")
				}
			default:
				walk(x["children"], false)
				if htmlTags[typ] != "" && typ != "bulleted-list" && typ != "numbered-list" {
					b.WriteString("\n")
				}
			}
		}
	}
	if m, ok := root.(map[string]any); ok {
		walk(m["children"], true)
	} else {
		walk(root, true)
	}
	return strings.TrimRight(b.String(), "\n")
}

// locationObj is a stored Location.
type locationObj struct{ v any }

// TypeName is Location.
func (locationObj) TypeName() string { return "Location" }

// ResolveField returns latitude, longitude, or the distance in meters from
// another point.
func (l locationObj) ResolveField(_ context.Context, field *ast.Field, args map[string]any) (any, error) {
	m, _ := l.v.(map[string]any)
	switch field.Name {
	case "latitude", "longitude":
		f, _ := toFloat(m[field.Name])
		return f, nil
	case "distance":
		from, _ := args["from"].(map[string]any)
		lat1, _ := toFloat(m["latitude"])
		lon1, _ := toFloat(m["longitude"])
		lat2, _ := toFloat(from["latitude"])
		lon2, _ := toFloat(from["longitude"])
		return haversine(lat1, lon1, lat2, lon2), nil
	}
	return nil, nil
}

// haversine is the great-circle distance in meters.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// colorObj renders a stored color {hex, rgba}.
func colorObj(v any) map[string]any {
	m, _ := v.(map[string]any)
	hex, _ := m["hex"].(string)
	rgba, _ := m["rgba"].(map[string]any)
	css := ""
	if rgba != nil {
		css = fmt.Sprintf("rgba(%v,%v,%v,%v)", rgba["r"], rgba["g"], rgba["b"], rgba["a"])
	}
	return map[string]any{"__typename": "Color", "hex": hex, "rgba": map[string]any{"__typename": "RGBA", "r": rgba["r"], "g": rgba["g"], "b": rgba["b"], "a": rgba["a"]}, "css": css}
}
