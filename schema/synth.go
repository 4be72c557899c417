package schema

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Synthesize returns a complete Hygraph content-API SDL for the content model
// p, in the shapes Hygraph generates (see fixtures/hygraph/blog.graphql):
// Node, Stage and Locale; the shared scalars, types and inputs; the system
// models Asset (legacy or new asset system, as p's Asset model says), User,
// ScheduledOperation and ScheduledRelease; per model its object type with the
// system fields, connection and edge types, every create, update, upsert,
// localization, inline relation, where and order-by input, and its Query and
// Mutation fields; per component its type, inputs and <Component>Parent
// union; per union relation or modular component field its union inputs.
//
// p is what ParseDescription or Discover returns. Only the content fields
// (System false) of non-system models and components are read; of the system
// model Asset, the presence of an "upload" field selects the new asset
// system, and fields that are not Hygraph's own are kept as custom fields.
// A relation with no Reverse is one-way: like Hygraph, Synthesize gives its
// target a hidden reverse field (a cuid-like name) in the create and update
// inputs only.
//
// The output is deterministic, loads with LoadString and is fit for
// genqlient. Synthesize fails when p is inconsistent (a field whose target
// does not exist, a name Hygraph would generate twice); errors name the model
// and field.
func Synthesize(p *Project) (string, error) {
	if p == nil {
		return "", errors.New("schema: synthesize: nil project")
	}
	s := &synthesizer{p: p, defs: map[string]string{}, byName: map[string]*synthModel{}, unions: map[string]*Union{}, enums: map[string]bool{}}
	if err := s.prepare(); err != nil {
		return "", fmt.Errorf("schema: synthesize: %w", err)
	}
	s.generate()
	if s.err != nil {
		return "", fmt.Errorf("schema: synthesize: %w", s.err)
	}
	names := make([]string, 0, len(s.defs))
	for n := range s.defs {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("# Hygraph content API, synthesized by stagesync. DO NOT EDIT.\n")
	for _, n := range names {
		b.WriteString("\n")
		b.WriteString(s.defs[n])
	}
	out := b.String()
	if _, err := LoadString("synthesized", out); err != nil {
		return "", fmt.Errorf("schema: synthesize: output does not load: %w", err)
	}
	return out, nil
}

// SynthesizeDescription parses a model description (see ParseDescription)
// and synthesizes its SDL.
func SynthesizeDescription(data []byte) (string, error) {
	p, err := ParseDescription(data)
	if err != nil {
		return "", err
	}
	return Synthesize(p)
}

// synthesizer holds the state of one Synthesize call.
type synthesizer struct {
	p       *Project
	locales []string
	upload  bool
	models  []*synthModel // document models, Asset included, sorted by name
	comps   []*synthModel // components, sorted by name
	byName  map[string]*synthModel
	unions  map[string]*Union
	enums   map[string]bool
	defs    map[string]string // type name -> printed definition
	err     error
}

// synthModel is a model or component as the generator sees it.
type synthModel struct {
	name      string
	api       *ModelAPI
	fields    []*synthField
	component bool
	asset     bool
	localized bool
	parents   []string      // models and components holding this component
	hidden    []synthHidden // hidden reverse fields of one-way relations
}

// synthField is a content field with what the generator needs to know.
type synthField struct {
	*Field
	base       string // the named type: String, Hotel, Address, HotelRelated, ...
	objectOnly bool   // on the object type and in filters, not in create/update inputs
	inputOnly  bool   // in create/update inputs only (Asset uploadUrl)
	noMany     bool   // not in the UpdateManyInput though not unique (Asset handle)
}

// synthHidden is the hidden reverse side of a one-way relation.
type synthHidden struct {
	name  string // cuid-like field name
	model string // the model holding the one-way relation
}

// valueKind reports whether a field holds a value rather than a reference
// (these go in UpdateManyInput and can be localized).
func (f *synthField) valueKind() bool {
	switch f.Kind {
	case KindScalar, KindEnum, KindJSON, KindRichText, KindLocation, KindColor:
		return true
	}
	return false
}

// prepare checks p and builds the generator's view of it.
func (s *synthesizer) prepare() error {
	s.locales = s.p.Locales
	if len(s.locales) == 0 {
		s.locales = []string{"en"}
	}
	for _, e := range s.p.Enums {
		s.enums[e.Name] = true
	}
	for _, u := range s.p.Unions {
		s.unions[u.Name] = u
	}
	asset := s.p.Model("Asset")
	s.upload = asset != nil && asset.Field("upload") != nil
	for _, m := range s.p.Models {
		if m.System || m.Component {
			continue
		}
		sm := &synthModel{name: m.Name, api: m.API}
		if sm.api == nil || sm.api.Single == "" || sm.api.List == "" {
			sm.api = descModelAPI(m.Name, false)
		}
		s.models = append(s.models, sm)
		s.byName[m.Name] = sm
	}
	for _, m := range s.p.Components {
		sm := &synthModel{name: m.Name, component: true}
		s.comps = append(s.comps, sm)
		s.byName[m.Name] = sm
	}
	am := &synthModel{name: "Asset", asset: true, localized: true, api: descModelAPI("Asset", true)}
	s.byName["Asset"] = am
	s.models = append(s.models, am)
	for _, m := range append(append([]*Model{}, s.p.Models...), s.p.Components...) {
		sm := s.byName[m.Name]
		if sm == nil || sm.asset {
			continue
		}
		for _, f := range m.Fields {
			if f.System {
				continue
			}
			sf, err := s.field(sm, f)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", m.Name, f.Name, err)
			}
			sm.fields = append(sm.fields, sf)
			sm.localized = sm.localized || f.Localized
		}
	}
	if err := s.prepareAsset(asset, am); err != nil {
		return err
	}
	byName := func(a, b *synthModel) int { return strings.Compare(a.name, b.name) }
	slices.SortFunc(s.models, byName)
	slices.SortFunc(s.comps, byName)
	// Parents of components, hidden reverse fields and asset reverse fields.
	for _, sm := range append(append([]*synthModel{}, s.models...), s.comps...) {
		if sm.asset {
			continue
		}
		for _, f := range sm.fields {
			switch f.Kind {
			case KindComponent, KindUnionComponent:
				for _, t := range f.Targets {
					c := s.byName[t]
					if !slices.Contains(c.parents, sm.name) {
						c.parents = append(c.parents, sm.name)
					}
				}
			case KindRelation:
				if f.Reverse == "" && !sm.component {
					t := s.byName[f.Targets[0]]
					t.hidden = append(t.hidden, synthHidden{name: hiddenFieldName(sm.name, f.Name), model: sm.name})
				}
			case KindAsset:
				if !sm.component {
					name := assetReverseName(sm.name, f.Name)
					if am.field(name) != nil {
						return fmt.Errorf("Asset.%s: the reverse field of %s.%s clashes with an Asset field", name, sm.name, f.Name)
					}
					am.fields = append(am.fields, &synthField{
						Field: &Field{Name: name, Type: "[" + sm.name + "!]!", Kind: KindRelation, List: true, Targets: []string{sm.name}, Reverse: f.Name},
						base:  sm.name,
					})
				}
			}
		}
	}
	for _, c := range s.comps {
		slices.Sort(c.parents)
	}
	return nil
}

// field checks one content field and works out its named type.
func (s *synthesizer) field(sm *synthModel, f *Field) (*synthField, error) {
	sf := &synthField{Field: f}
	target := func() (string, error) {
		if len(f.Targets) == 0 {
			return "", fmt.Errorf("%s field has no target", f.Kind)
		}
		return f.Targets[0], nil
	}
	switch f.Kind {
	case KindScalar:
		sf.base = strings.Trim(f.Type, "[]!")
		if sf.base == "" {
			return nil, errors.New("scalar field has no type")
		}
	case KindJSON:
		sf.base = "Json"
	case KindRichText:
		sf.base = "RichText"
	case KindLocation:
		sf.base = "Location"
	case KindColor:
		sf.base = "Color"
	case KindAsset:
		sf.base = "Asset"
	case KindEnum:
		t, err := target()
		if err != nil {
			return nil, err
		}
		if !s.enums[t] {
			return nil, fmt.Errorf("unknown enum %s", t)
		}
		sf.base = t
	case KindRelation:
		t, err := target()
		if err != nil {
			return nil, err
		}
		if tm := s.byName[t]; tm == nil || tm.component || tm.asset {
			return nil, fmt.Errorf("unknown model %s", t)
		}
		if f.Reverse != "" && s.p.Model(t).Field(f.Reverse) == nil {
			return nil, fmt.Errorf("reverse field %s.%s does not exist", t, f.Reverse)
		}
		sf.base = t
	case KindComponent:
		t, err := target()
		if err != nil {
			return nil, err
		}
		if tm := s.byName[t]; tm == nil || !tm.component {
			return nil, fmt.Errorf("unknown component %s", t)
		}
		sf.base = t
	case KindUnionRelation, KindUnionComponent:
		if f.Union == "" {
			return nil, errors.New("union field has no union name")
		}
		u := s.unions[f.Union]
		if u == nil {
			u = &Union{Name: f.Union, Members: f.Targets}
			s.unions[f.Union] = u
		}
		if len(u.Members) == 0 {
			return nil, fmt.Errorf("union %s has no members", u.Name)
		}
		for _, mem := range u.Members {
			tm := s.byName[mem]
			if tm == nil || tm.asset || tm.component != (f.Kind == KindUnionComponent) {
				return nil, fmt.Errorf("union %s: %s is not a %s", u.Name, mem, map[bool]string{true: "component", false: "model"}[f.Kind == KindUnionComponent])
			}
		}
		sf.base = f.Union
	default:
		return nil, fmt.Errorf("kind %q cannot be synthesized", f.Kind)
	}
	if sm.asset && !sf.valueKind() {
		return nil, fmt.Errorf("custom Asset fields hold values, not %s", f.Kind)
	}
	return sf, nil
}

// prepareAsset sets up the fields of the system model Asset.
func (s *synthesizer) prepareAsset(asset *Model, am *synthModel) error {
	builtin := func(name, typ string, required bool) *synthField {
		return &synthField{Field: &Field{Name: name, Type: typ, Kind: KindScalar, Required: required, Localized: true, Targets: []string{}}, base: strings.Trim(typ, "!")}
	}
	am.fields = []*synthField{
		builtin("handle", "String!", !s.upload),
		builtin("fileName", "String!", !s.upload),
		builtin("height", "Float", false),
		builtin("width", "Float", false),
		builtin("size", "Float", false),
		builtin("mimeType", "String", false),
	}
	am.fields[0].noMany = true
	if s.upload {
		for _, f := range am.fields {
			f.objectOnly = f.Name != "fileName"
		}
		am.fields[1].Required = false
		up := builtin("uploadUrl", "String", false)
		up.inputOnly, up.noMany, up.Localized = true, true, true
		am.fields = append(am.fields, up,
			&synthField{Field: &Field{Name: "upload", Type: "AssetUpload", Kind: KindSystem, Targets: []string{}}, base: "AssetUpload", objectOnly: true})
	}
	if asset == nil {
		return nil
	}
	for _, f := range asset.Fields {
		if f.System || descAssetFields[f.Name] || f.Kind == KindRelation {
			continue // Hygraph's own fields and reverse fields are generated
		}
		sf, err := s.field(am, f)
		if err != nil {
			return fmt.Errorf("Asset.%s: %w", f.Name, err)
		}
		am.fields = append(am.fields, sf)
	}
	return nil
}

func (sm *synthModel) field(name string) *synthField {
	for _, f := range sm.fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// hiddenFieldName returns the cuid-like name Hygraph gives the hidden reverse
// side of the one-way relation model.field; it is stable across runs.
func hiddenFieldName(model, field string) string {
	sum := sha256.Sum256([]byte("stagesync hidden reverse " + model + "." + field))
	s := new(big.Int).SetBytes(sum[:]).Text(36)
	for len(s) < 24 {
		s = "0" + s
	}
	return "c" + s[:24]
}

// add records a definition, reporting a name generated twice.
func (s *synthesizer) add(name, text string) {
	if _, dup := s.defs[name]; dup {
		if s.err == nil {
			s.err = fmt.Errorf("type %s would be defined twice (a model, component, enum or union name clashes with a generated name)", name)
		}
		return
	}
	s.defs[name] = text
}

// generate emits every definition.
func (s *synthesizer) generate() {
	for _, def := range strings.Split(strings.TrimSpace(synthSystemSDL), "\n\n") {
		def = strings.TrimSpace(def)
		s.add(strings.Fields(def)[1], def+"\n")
	}
	s.enum("Locale", s.locales)
	for _, e := range s.p.Enums {
		s.enum(e.Name, e.Values)
	}
	if s.upload {
		s.assetUploadTypes()
	}
	affected := []string{}
	for _, m := range s.models {
		affected = append(affected, m.name)
		s.model(m)
	}
	s.union("ScheduledOperationAffectedDocument", affected)
	for _, c := range s.comps {
		s.model(c)
		if len(c.parents) > 0 {
			s.union(c.name+"Parent", c.parents)
			s.unionInputs(c.name+"Parent", c.parents, false)
		}
	}
	unionNames := make([]string, 0, len(s.unions))
	for n := range s.unions {
		unionNames = append(unionNames, n)
	}
	slices.Sort(unionNames)
	for _, n := range unionNames {
		u := s.unions[n]
		s.union(u.Name, u.Members)
		s.unionInputs(u.Name, u.Members, s.byName[u.Members[0]].component)
	}
	s.query()
	s.mutation()
}

// assetUploadTypes emits the upload state types of the new asset system.
func (s *synthesizer) assetUploadTypes() {
	s.object("AssetUpload", "", "Asset Upload", []gqlField{
		{name: "status", typ: "AssetUploadStatus", desc: "Asset Upload Status"},
		{name: "expiresAt", typ: "DateTime", desc: "Asset Upload Expiration Date"},
		{name: "error", typ: "AssetUploadError", desc: "Asset Upload Error"},
		{name: "requestPostData", typ: "AssetUploadRequestPostData", desc: "Asset Request Data for upload"},
	})
	s.object("AssetUploadError", "", "", []gqlField{{name: "code", typ: "String!"}, {name: "message", typ: "String!"}})
	s.object("AssetUploadRequestPostData", "", "", []gqlField{
		{name: "url", typ: "String!"}, {name: "date", typ: "String!"}, {name: "key", typ: "String!"},
		{name: "signature", typ: "String!"}, {name: "algorithm", typ: "String!"}, {name: "policy", typ: "String!"},
		{name: "credential", typ: "String!"}, {name: "securityToken", typ: "String"},
	})
	s.enum("AssetUploadStatus", []string{"ASSET_CREATE_PENDING", "ASSET_ERROR_UPLOAD", "ASSET_UPDATE_PENDING", "ASSET_UPLOAD_COMPLETE"})
}
