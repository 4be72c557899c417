// # Model descriptions
//
// A model description is a compact YAML document that says what a Hygraph
// project's content model is — locales, asset system, enums, components and
// models with their fields — and nothing else. ParseDescription turns it into
// the same *Project that Discover finds in an SDL, and Synthesize turns that
// *Project into a complete Hygraph-convention content-API SDL, so that
// Discover(Synthesize(ParseDescription(d))), restricted to non-system models
// and fields, equals ParseDescription(d).
//
//	locales: [en, de]          # Locale enum values, the default first (default: [en])
//	assets: legacy             # legacy (Filestack, default) | upload (new asset system)
//	enums:
//	  Rating: [ONE, TWO, THREE]
//	components:
//	  Address:
//	    street: String!
//	    city: String
//	models:
//	  Destination:
//	    name: String! unique
//	    hotels: "[Hotel] <- destination"   # the other side of Hotel.destination
//	  Hotel:
//	    name: String! unique
//	    description: String localized
//	    destination: Destination -> hotels # two-way relation, reverse field Destination.hotels
//	    photos: "[Asset]"
//	    parent: Hotel                      # one-way (the reverse side is hidden)
//	    related: "[HotelRelated: Destination | Review]"  # union relation named HotelRelated
//	    address: Address                   # component
//	    blocks: "[HotelBlock: Address | Gallery]"        # modular (union) component
//	    rating: Rating                     # enum
//	    body: RichText
//	    tags: "[String]"                   # scalar list
//
// Field order is kept: fields appear in the SDL, and in Discover's result, in
// the order they are written. Each field value is a spec: a type, then
// optional words.
//
// The type is one of
//   - a scalar: String, Int, Float, Boolean, ID, Date, DateTime, Long;
//   - Json, RichText, Location, Color, Asset;
//   - the name of an enum, a model (a relation) or a component;
//   - a union, written "Name: A | B": a union relation when A, B are models,
//     a modular component field when they are components. The same union may
//     be used again by name alone once it has been spelled out.
//
// "[T]" makes a list (Hygraph lists never hold nulls, so "[T!]" means the same),
// a trailing "!" makes the field required (non-null in the create input).
// YAML needs the quotes around specs that start with "[" or contain ": ".
//
// The words are
//   - unique: the field can identify an entry (it is in <Model>WhereUniqueInput);
//     only non-list scalars other than Boolean can be unique;
//   - localized: the field has a value per locale; not for relations, assets,
//     components or unions;
//   - "-> f" / "<- f": the relation is two-way and f is the field on the
//     target model that is its other side. Both sides are written, each naming
//     the other; by convention the side that owns the relation uses "->".
//     A relation with no arrow is one-way: Hygraph hides its reverse side.
//
// The asset system may also be written as a mapping to give the Asset model
// custom fields:
//
//	assets:
//	  system: upload
//	  fields:
//	    alt: String localized

package schema

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Asset systems a description can ask for.
const (
	// AssetsLegacy is the Filestack asset system: AssetCreateInput requires
	// handle and fileName.
	AssetsLegacy = "legacy"
	// AssetsUpload is the asset system of projects created since 2024:
	// AssetCreateInput takes uploadUrl and the asset reports upload { status }.
	AssetsUpload = "upload"
)

// DescriptionError is returned by ParseDescription for a description that does
// not parse or is inconsistent. It names the model (or component, enum) and
// field concerned and the YAML line.
type DescriptionError struct {
	File  string // the description's file name; ParseDescription leaves it empty for callers to fill
	Line  int    // 1-based YAML line, 0 when unknown
	Model string // model, component or enum name; empty for top-level problems
	Field string // field name; empty when the problem is not about one field
	Msg   string
}

// Error formats the error as "file:line: Model.field: message".
func (e *DescriptionError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("description")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	switch {
	case e.Model != "" && e.Field != "":
		fmt.Fprintf(&b, "%s.%s: ", e.Model, e.Field)
	case e.Model != "":
		fmt.Fprintf(&b, "%s: ", e.Model)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// descScalarTypes are the built-in scalar type names a field spec may use.
var descScalarTypes = map[string]bool{
	"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true,
	"Date": true, "DateTime": true, "Long": true,
}

// descSpecialKinds are the Hygraph field types with their own kind.
var descSpecialKinds = map[string]Kind{
	"Json": KindJSON, "RichText": KindRichText, "Location": KindLocation,
	"Color": KindColor, "Asset": KindAsset,
}

// descReservedTypes cannot be used for user models, components, enums or unions.
var descReservedTypes = map[string]bool{
	"Query": true, "Mutation": true, "Subscription": true, "Node": true, "Stage": true, "Locale": true,
	"Asset": true, "User": true, "ScheduledOperation": true, "ScheduledRelease": true,
	"Aggregate": true, "BatchPayload": true, "Color": true, "RGBA": true, "Location": true,
	"RichText": true, "PageInfo": true, "Version": true, "DocumentVersion": true,
	"Json": true, "RichTextAST": true, "Hex": true, "RGBAHue": true, "RGBATransparency": true,
	"Date": true, "DateTime": true, "Long": true, "String": true, "Int": true, "Float": true,
	"Boolean": true, "ID": true, "ImageFit": true, "DocumentFileTypes": true,
	"SystemDateTimeFieldVariation": true, "UserKind": true,
	"ScheduledOperationStatus": true, "ScheduledReleaseStatus": true,
	"ScheduledOperationAffectedDocument": true,
	"AssetUpload":                        true, "AssetUploadStatus": true, "AssetUploadError": true,
	"AssetUploadRequestPostData": true,
}

// descSystemFields are Hygraph's own fields; content fields cannot use them.
var descSystemFields = map[string]bool{
	"id": true, "stage": true, "locale": true, "localizations": true, "documentInStages": true,
	"createdAt": true, "updatedAt": true, "publishedAt": true, "createdBy": true,
	"updatedBy": true, "publishedBy": true, "history": true, "scheduledIn": true,
}

var (
	descNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	descTypeRE  = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]*$`)
	descFieldRE = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)
	// descSpecRE splits a spec into list bracket, union name, members, closing
	// bracket, required mark and the remaining words.
	descSpecRE = regexp.MustCompile(`^(\[)?\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*:\s*)?([A-Za-z_][A-Za-z0-9_]*(?:\s*\|\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*(!)?\s*(\])?\s*(!)?(?:\s+(.*))?$`)
)

// ParseDescription parses a model description into the content model it
// describes, in the shape Discover returns.
//
// A description is compact YAML (the comment at the top of describe.go has
// the long form):
//
//	locales: [en, de]        # default first; default [en]
//	assets: legacy           # legacy (Filestack) | upload (new asset system)
//	enums:
//	  Rating: [ONE, TWO, THREE]
//	components:
//	  Address:
//	    street: String!
//	models:
//	  Destination:
//	    hotels: "[Hotel] <- destination"
//	  Hotel:
//	    name: String! unique
//	    description: String localized
//	    destination: Destination -> hotels
//	    parent: Hotel                                    # one-way relation
//	    photos: "[Asset]"
//	    related: "[HotelRelated: Destination | Hotel]"   # union relation
//	    address: Address                                 # component
//	    rating: Rating
//	    tags: "[String]"
//
// A field spec is a type — a scalar (String, Int, Float, Boolean, ID, Date,
// DateTime, Long), Json, RichText, Location, Color, Asset, an enum, a model,
// a component, or a union "Name: A | B" of models or of components (later
// fields may name the union alone) — in "[...]" for a list and with "!" when
// required, then the words unique, localized, and "-> f" or "<- f" for a
// two-way relation whose other side is the field f of the target (both sides
// are written and name each other; no arrow means one-way). Quote specs that
// start with "[" or hold ": ". "assets" may also be a mapping with "system"
// and "fields" (custom Asset fields such as alt).
//
// The result:
//
//   - Models holds the user models, Writable, with their content fields
//     (System false) and API names, and the system model Asset (System true)
//     whose fields say which asset system is used (a field "upload" marks the
//     new asset system), with the custom asset fields and the reverse fields
//     Hygraph adds to Asset for every asset field of a model
//     (<field><Model>, e.g. photosHotel);
//   - Components holds the components (Component true) with their fields;
//   - Enums, Unions, Locales (default first) and Stages (DRAFT, PUBLISHED).
//
// Models, components, enums and unions are sorted by name, as Discover
// returns them; fields keep the order of the description.
//
// Each field has its printed GraphQL Type as it appears on the object type
// ("String!", "[Hotel!]!", "Asset"), its Kind, List, Required (non-null in the
// create input), Localized, Unique, Targets (never nil), Union and Reverse.
//
// Errors are *DescriptionError values naming the model, the field and the
// YAML line.
func ParseDescription(data []byte) (*Project, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &DescriptionError{Msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, &DescriptionError{Msg: "empty description"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &DescriptionError{Line: root.Line, Msg: "description must be a mapping with locales, assets, enums, components and models"}
	}
	d := &describer{
		p:       &Project{Models: []*Model{}, Components: []*Model{}, Enums: []*Enum{}, Locales: []string{"en"}, Stages: []string{"DRAFT", "PUBLISHED"}},
		assets:  AssetsLegacy,
		kinds:   map[string]Kind{},
		decl:    map[string]int{},
		unions:  map[string]*Union{},
		fieldAt: map[*Field]int{},
	}
	if err := d.parse(root); err != nil {
		return nil, err
	}
	return d.p, nil
}

// describer holds the state of one ParseDescription call.
type describer struct {
	p      *Project
	assets string
	// assetFields are the custom Asset fields, raw until types are known.
	assetFields *yaml.Node
	kinds       map[string]Kind   // type name -> KindEnum, KindRelation (model), KindComponent
	decl        map[string]int    // type name -> line of declaration
	unions      map[string]*Union // union name -> union
	fieldAt     map[*Field]int    // field -> YAML line
	arrows      []descArrow
}

// descArrow is a two-way relation end to check once every model is known.
type descArrow struct {
	model *Model
	field *Field
	out   bool // "->" rather than "<-"
	line  int
}

func (d *describer) parse(root *yaml.Node) error {
	sections := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "locales", "assets", "enums", "components", "models":
		default:
			return &DescriptionError{Line: k.Line, Msg: fmt.Sprintf("unknown key %q (want locales, assets, enums, components, models)", k.Value)}
		}
		if sections[k.Value] != nil {
			return &DescriptionError{Line: k.Line, Msg: fmt.Sprintf("duplicate key %q", k.Value)}
		}
		sections[k.Value] = v
	}
	if n := sections["locales"]; n != nil {
		if err := d.parseLocales(n); err != nil {
			return err
		}
	}
	if n := sections["assets"]; n != nil {
		if err := d.parseAssets(n); err != nil {
			return err
		}
	}
	if n := sections["enums"]; n != nil {
		if err := d.parseEnums(n); err != nil {
			return err
		}
	}
	// Declare every model and component before reading fields, so fields
	// may refer to types declared later.
	type pending struct {
		m      *Model
		fields *yaml.Node
	}
	var todo []pending
	for _, sec := range []string{"components", "models"} {
		n := sections[sec]
		if n == nil {
			continue
		}
		if n.Kind != yaml.MappingNode {
			return &DescriptionError{Line: n.Line, Msg: sec + " must be a mapping of type name to fields"}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if err := d.declare(k.Value, k.Line); err != nil {
				return err
			}
			m := &Model{Name: k.Value, Fields: []*Field{}}
			if sec == "components" {
				m.Component = true
				d.kinds[m.Name] = KindComponent
				d.p.Components = append(d.p.Components, m)
			} else {
				m.Writable = true
				m.API = descModelAPI(m.Name, false)
				d.kinds[m.Name] = KindRelation
				d.p.Models = append(d.p.Models, m)
			}
			if v.Kind != yaml.MappingNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				return &DescriptionError{Line: v.Line, Model: m.Name, Msg: "fields must be a mapping of field name to spec"}
			}
			todo = append(todo, pending{m, v})
		}
	}
	for _, t := range todo {
		if err := d.parseFields(t.m, t.fields); err != nil {
			return err
		}
	}
	asset := descAssetModel(d.assets)
	if d.assetFields != nil {
		if err := d.parseFields(asset, d.assetFields); err != nil {
			return err
		}
	}
	if err := d.checkArrows(); err != nil {
		return err
	}
	d.finish(asset)
	return nil
}

func (d *describer) parseLocales(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return &DescriptionError{Line: n.Line, Msg: "locales must be a non-empty list, the default locale first"}
	}
	seen := map[string]bool{}
	d.p.Locales = nil
	for _, v := range n.Content {
		if v.Kind != yaml.ScalarNode || !descNameRE.MatchString(v.Value) {
			return &DescriptionError{Line: v.Line, Msg: fmt.Sprintf("bad locale %q", v.Value)}
		}
		if seen[v.Value] {
			return &DescriptionError{Line: v.Line, Msg: fmt.Sprintf("duplicate locale %q", v.Value)}
		}
		seen[v.Value] = true
		d.p.Locales = append(d.p.Locales, v.Value)
	}
	return nil
}

func (d *describer) parseAssets(n *yaml.Node) error {
	sys := n
	if n.Kind == yaml.MappingNode {
		sys = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "system":
				sys = v
			case "fields":
				d.assetFields = v
			default:
				return &DescriptionError{Line: k.Line, Model: "Asset", Msg: fmt.Sprintf("unknown key %q (want system, fields)", k.Value)}
			}
		}
		if sys == nil {
			return nil
		}
	}
	if sys.Kind != yaml.ScalarNode || (sys.Value != AssetsLegacy && sys.Value != AssetsUpload) {
		return &DescriptionError{Line: sys.Line, Model: "Asset", Msg: fmt.Sprintf("assets must be %q or %q", AssetsLegacy, AssetsUpload)}
	}
	d.assets = sys.Value
	return nil
}

func (d *describer) parseEnums(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &DescriptionError{Line: n.Line, Msg: "enums must be a mapping of enum name to values"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := d.declare(k.Value, k.Line); err != nil {
			return err
		}
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return &DescriptionError{Line: v.Line, Model: k.Value, Msg: "enum values must be a non-empty list"}
		}
		e := &Enum{Name: k.Value}
		seen := map[string]bool{}
		for _, val := range v.Content {
			if val.Kind != yaml.ScalarNode || !descNameRE.MatchString(val.Value) || val.Value == "true" || val.Value == "false" || val.Value == "null" {
				return &DescriptionError{Line: val.Line, Model: e.Name, Msg: fmt.Sprintf("bad enum value %q", val.Value)}
			}
			if seen[val.Value] {
				return &DescriptionError{Line: val.Line, Model: e.Name, Msg: fmt.Sprintf("duplicate enum value %q", val.Value)}
			}
			seen[val.Value] = true
			e.Values = append(e.Values, val.Value)
		}
		d.kinds[e.Name] = KindEnum
		d.p.Enums = append(d.p.Enums, e)
	}
	return nil
}

// declare records a new type name, rejecting bad, reserved and duplicate names.
func (d *describer) declare(name string, line int) error {
	switch {
	case !descTypeRE.MatchString(name):
		return &DescriptionError{Line: line, Model: name, Msg: "type names must start with an upper-case letter and hold only letters, digits and _"}
	case descReservedTypes[name] || strings.HasPrefix(name, "_"):
		return &DescriptionError{Line: line, Model: name, Msg: "name is reserved by Hygraph"}
	}
	if prev, ok := d.decl[name]; ok {
		return &DescriptionError{Line: line, Model: name, Msg: fmt.Sprintf("type already declared on line %d", prev)}
	}
	d.decl[name] = line
	return nil
}

func (d *describer) parseFields(m *Model, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nil // an empty model
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		fail := func(format string, args ...any) error {
			return &DescriptionError{Line: k.Line, Model: m.Name, Field: name, Msg: fmt.Sprintf(format, args...)}
		}
		if prev, ok := seen[name]; ok {
			return fail("duplicate field (first on line %d)", prev)
		}
		seen[name] = k.Line
		if !descFieldRE.MatchString(name) {
			return fail("field names must start with a lower-case letter and hold only letters, digits and _")
		}
		if descSystemFields[name] || (m.Name == "Asset" && descAssetFields[name]) {
			return fail("%q is a system field", name)
		}
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			return fail("spec must be a string such as \"String!\" or \"[Hotel] -> hotels\"")
		}
		f, err := d.parseSpec(m, name, v.Value)
		if err != nil {
			return fail("%s", err.Error())
		}
		d.fieldAt[f] = k.Line
		m.Fields = append(m.Fields, f)
	}
	return nil
}

// parseSpec parses one field spec of model m.
func (d *describer) parseSpec(m *Model, name, spec string) (*Field, error) {
	spec = strings.TrimSpace(spec)
	sm := descSpecRE.FindStringSubmatch(spec)
	if sm == nil {
		return nil, fmt.Errorf("cannot parse spec %q", spec)
	}
	open, unionName, members, innerBang, closeBr, bang, rest := sm[1] != "", sm[2], sm[3], sm[4] != "", sm[5] != "", sm[6] != "", sm[7]
	if open != closeBr {
		return nil, fmt.Errorf("unbalanced brackets in spec %q", spec)
	}
	if innerBang && !open {
		if bang {
			return nil, fmt.Errorf("cannot parse spec %q", spec)
		}
		bang = true
	}
	f := &Field{Name: name, List: open, Required: bang, Targets: []string{}}
	var base string
	parts := strings.Split(members, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	switch {
	case unionName != "" || len(parts) > 1:
		k, err := d.union(unionName, parts)
		if err != nil {
			return nil, err
		}
		base = unionName
		if base == "" {
			base = parts[0]
		}
		f.Kind, f.Union = k, base
		f.Targets = append(f.Targets, d.unions[base].Members...)
	default:
		base = parts[0]
		switch {
		case descScalarTypes[base]:
			f.Kind = KindScalar
		case descSpecialKinds[base] != "":
			f.Kind = descSpecialKinds[base]
			if base == "Asset" {
				f.Targets = append(f.Targets, "Asset")
			}
		case d.unions[base] != nil:
			f.Kind, f.Union = d.unionKind(base), base
			f.Targets = append(f.Targets, d.unions[base].Members...)
		case d.kinds[base] != "":
			f.Kind = d.kinds[base]
			f.Targets = append(f.Targets, base)
		default:
			return nil, fmt.Errorf("unknown type %q (not a scalar, enum, model, component or union)", base)
		}
	}
	if f.List {
		f.Type = "[" + base + "!]!"
	} else {
		f.Type = base
		if f.Required {
			f.Type += "!"
		}
	}
	words := strings.Fields(rest)
	for i := 0; i < len(words); i++ {
		switch w := words[i]; w {
		case "unique":
			if f.Kind != KindScalar || f.List || base == "Boolean" {
				return nil, fmt.Errorf("only single String, Int, Float, Long, ID, Date or DateTime fields can be unique")
			}
			f.Unique = true
		case "localized":
			switch f.Kind {
			case KindScalar, KindEnum, KindJSON, KindRichText, KindLocation, KindColor:
			default:
				return nil, fmt.Errorf("%s fields cannot be localized", f.Kind)
			}
			f.Localized = true
		case "->", "<-":
			if f.Kind != KindRelation || m.Component {
				return nil, fmt.Errorf("%s is only for relations between models", w)
			}
			if i+1 >= len(words) || !descFieldRE.MatchString(words[i+1]) {
				return nil, fmt.Errorf("%s needs the name of the reverse field on %s", w, base)
			}
			if f.Reverse != "" {
				return nil, fmt.Errorf("more than one reverse field")
			}
			i++
			f.Reverse = words[i]
			d.arrows = append(d.arrows, descArrow{model: m, field: f, out: w == "->"})
		default:
			if strings.HasPrefix(w, "->") || strings.HasPrefix(w, "<-") {
				return nil, fmt.Errorf("write %q as %q", w, w[:2]+" "+w[2:])
			}
			return nil, fmt.Errorf("bad spec word %q (want unique, localized, -> field or <- field)", w)
		}
	}
	if m.Name == "Asset" {
		switch f.Kind {
		case KindScalar, KindEnum, KindJSON, KindRichText, KindLocation, KindColor:
		default:
			return nil, fmt.Errorf("custom Asset fields hold values, not %s", f.Kind)
		}
	}
	if f.Kind == KindComponent || f.Kind == KindUnionComponent {
		if f.Kind == KindComponent && f.Targets[0] == m.Name {
			return nil, fmt.Errorf("component %s cannot contain itself", m.Name)
		}
	}
	return f, nil
}

// union returns the kind of the union field with the given name and members,
// declaring the union on first use.
func (d *describer) union(name string, members []string) (Kind, error) {
	if name == "" {
		return "", fmt.Errorf("a union needs a name: write %q", "Name: "+strings.Join(members, " | "))
	}
	if len(members) < 1 {
		return "", fmt.Errorf("union %s has no members", name)
	}
	if u := d.unions[name]; u != nil {
		if strings.Join(u.Members, "|") != strings.Join(members, "|") {
			return "", fmt.Errorf("union %s was declared with members %s", name, strings.Join(u.Members, " | "))
		}
		return d.unionKind(name), nil
	}
	if !descTypeRE.MatchString(name) || descReservedTypes[name] {
		return "", fmt.Errorf("bad union name %q", name)
	}
	if _, ok := d.decl[name]; ok {
		return "", fmt.Errorf("union name %s is already a type", name)
	}
	var kind Kind
	seen := map[string]bool{}
	for _, mem := range members {
		var k Kind
		switch d.kinds[mem] {
		case KindRelation:
			k = KindUnionRelation
		case KindComponent:
			k = KindUnionComponent
		default:
			return "", fmt.Errorf("union %s member %q is not a model or component", name, mem)
		}
		if kind != "" && k != kind {
			return "", fmt.Errorf("union %s mixes models and components", name)
		}
		if seen[mem] {
			return "", fmt.Errorf("union %s lists %s twice", name, mem)
		}
		seen[mem] = true
		kind = k
	}
	u := &Union{Name: name, Members: append([]string(nil), members...)}
	d.unions[name] = u
	d.decl[name] = 0
	d.kinds[name] = kind
	d.p.Unions = append(d.p.Unions, u)
	return kind, nil
}

func (d *describer) unionKind(name string) Kind { return d.kinds[name] }

// checkArrows checks that both ends of every two-way relation name each other.
func (d *describer) checkArrows() error {
	for _, a := range d.arrows {
		line := d.fieldAt[a.field]
		fail := func(format string, args ...any) error {
			return &DescriptionError{Line: line, Model: a.model.Name, Field: a.field.Name, Msg: fmt.Sprintf(format, args...)}
		}
		target := d.p.Model(a.field.Targets[0])
		other := target.Field(a.field.Reverse)
		arrowWord, back := "->", "<-"
		if !a.out {
			arrowWord, back = "<-", "->"
		}
		switch {
		case target == a.model && a.field.Reverse == a.field.Name:
			return fail("a relation cannot be its own reverse field")
		case other == nil:
			return fail("%s %s: %s has no field %q; add %s: \"%s %s %s\"", arrowWord, a.field.Reverse, target.Name, a.field.Reverse,
				a.field.Reverse, a.model.Name, back, a.field.Name)
		case other.Kind != KindRelation || other.Targets[0] != a.model.Name:
			return fail("%s %s: %s.%s is not a relation to %s", arrowWord, a.field.Reverse, target.Name, other.Name, a.model.Name)
		case other.Reverse != a.field.Name:
			return fail("%s %s: %s.%s does not point back (want %q on it)", arrowWord, a.field.Reverse, target.Name, other.Name, back+" "+a.field.Name)
		}
	}
	return nil
}

// descAssetFields are the fields of the system model Asset.
var descAssetFields = map[string]bool{
	"handle": true, "fileName": true, "height": true, "width": true, "size": true,
	"mimeType": true, "url": true, "upload": true, "uploadUrl": true,
}

// descAssetModel returns the system model Asset of the given asset system,
// with its fields classified as Discover classifies them: the stored fields
// that AssetCreateInput takes are content fields, the derived ones (url, and
// upload on the new asset system) are system fields.
func descAssetModel(system string) *Model {
	field := func(name, typ string, kind Kind, sys bool) *Field {
		return &Field{Name: name, Type: typ, Kind: kind, System: sys, Localized: !sys, Targets: []string{}}
	}
	up := system == AssetsUpload
	m := &Model{Name: "Asset", System: true, Writable: true, API: descModelAPI("Asset", true)}
	m.Fields = []*Field{
		field("handle", "String!", KindScalar, up),
		field("fileName", "String!", KindScalar, false),
		field("height", "Float", KindScalar, up),
		field("width", "Float", KindScalar, up),
		field("size", "Float", KindScalar, up),
		field("mimeType", "String", KindScalar, up),
	}
	if up {
		m.Fields = append(m.Fields, field("upload", "AssetUpload", KindSystem, true))
	} else {
		m.Fields[0].Required, m.Fields[1].Required = true, true
	}
	m.Fields = append(m.Fields, field("url", "String!", KindScalar, true))
	return m
}

// assetReverseName is the name of the field Hygraph adds to Asset for the
// asset field f of model m: the field name followed by the model name.
func assetReverseName(m, f string) string { return f + m }

// finish adds the asset reverse fields, sets the localization input names and
// sorts models, components, enums and unions by name as Discover does.
func (d *describer) finish(asset *Model) {
	for _, m := range d.p.Models {
		loc := false
		for _, f := range m.Fields {
			loc = loc || f.Localized
			if f.Kind != KindAsset {
				continue
			}
			f.Reverse = assetReverseName(m.Name, f.Name)
			asset.Fields = append(asset.Fields, &Field{
				Name: f.Reverse, Type: "[" + m.Name + "!]!", Kind: KindRelation, List: true,
				Targets: []string{m.Name}, Reverse: f.Name,
			})
		}
		if loc {
			m.API.LocalizationInput = m.Name + "CreateLocalizationDataInput"
		}
	}
	d.p.Models = append(d.p.Models, asset)
	byName := func(a, b *Model) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(d.p.Models, byName)
	slices.SortFunc(d.p.Components, byName)
	slices.SortFunc(d.p.Enums, func(a, b *Enum) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(d.p.Unions, func(a, b *Union) int { return strings.Compare(a.Name, b.Name) })
}

// descModelAPI returns the names Hygraph gives the root fields and inputs of a model.
func descModelAPI(name string, localized bool) *ModelAPI {
	single := descLowerFirst(name)
	list := descPlural(single)
	many := descUpperFirst(list)
	api := &ModelAPI{
		Single: single, List: list, Connection: list + "Connection",
		Create: "create" + name, Update: "update" + name, Upsert: "upsert" + name,
		Delete: "delete" + name, Publish: "publish" + name, Unpublish: "unpublish" + name,
		UpdateMany: "updateMany" + many + "Connection", DeleteMany: "deleteMany" + many + "Connection",
		PublishMany: "publishMany" + many + "Connection", UnpublishMany: "unpublishMany" + many + "Connection",
		CreateInput: name + "CreateInput", UpdateInput: name + "UpdateInput", UpsertInput: name + "UpsertInput",
		WhereInput: name + "WhereInput", WhereUnique: name + "WhereUniqueInput",
		OrderByInput: name + "OrderByInput", ConnectionType: name + "Connection",
	}
	if localized {
		api.LocalizationInput = name + "CreateLocalizationDataInput"
	}
	return api
}

func descLowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func descUpperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// descPlural returns the English plural Hygraph uses for a model's API ID.
func descPlural(s string) string {
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "z"),
		strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return s + "es"
	case strings.HasSuffix(lower, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}
