package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// ErrNoModels is returned (wrapped) by Discover for a schema that has no
// Hygraph models.
var ErrNoModels = errors.New("no Hygraph models found")

// Discover reads the Hygraph content model out of a content-API schema.
//
// The rules, each checked against real Hygraph schemas:
//
//   - A model is an object type that implements Node and has a `stage: Stage!`
//     field. Asset, User, ScheduledOperation and ScheduledRelease are system
//     models (System is true); they are included.
//   - A component is an object type that does not implement Node, has
//     `id: ID!` and `stage: Stage!`, and has a <Name>CreateInput or a
//     <Name>Parent union (which keeps Version and DocumentVersion out).
//   - A model is Writable when the Mutation type has both its create and its
//     update field.
//   - ModelAPI names come from the root fields: what a field returns (the
//     model, a list of it, its connection type) and which arguments it takes
//     (data, where, upsert, to, from) decide its role, so irregular plurals are
//     found as they are. Input type names come from those fields' arguments;
//     for components, which have no root fields, and for anything the root
//     fields do not name, <Name>CreateInput and the like are used when the
//     schema has them.
//   - Field facts: Required is "non-null in the create input"; Localized is
//     "present in <Name>CreateLocalizationDataInput" (faithfully, so on
//     localized models the timestamps createdAt/updatedAt are Localized too);
//     Unique is "present in the WhereUniqueInput", id included (id is Unique
//     and System, so ContentFields never returns it).
//   - System fields are id, stage, locale, createdAt, updatedAt, publishedAt,
//     createdBy, updatedBy, publishedBy, localizations, documentInStages,
//     history and scheduledIn on every model; every field of User,
//     ScheduledOperation and ScheduledRelease (they cannot have custom
//     fields); and the fields of Asset that are not in AssetCreateInput,
//     because Hygraph derives them (url, and upload on the new asset system).
//     Asset's own stored fields (handle, fileName, mimeType, size, width,
//     height) are not system: a sync copies them, and the legacy asset system
//     requires handle.
//   - Enums are the user-defined ones; see isSystemEnum for the rule. Unions
//     are the user-defined ones: ScheduledOperationAffectedDocument and the
//     <Component>Parent unions are left out.
//
// Discover fails with an error wrapping ErrNoModels when no type qualifies.
func Discover(s *ast.Schema) (*Project, error) {
	if s == nil {
		return nil, fmt.Errorf("schema: %w: nil schema", ErrNoModels)
	}
	d := &discoverer{s: s, models: map[string]bool{}, components: map[string]bool{}}
	d.classify()
	if len(d.models) == 0 {
		why := "no object type implements Node with a `stage: Stage!` field"
		if s.Types["Node"] == nil {
			why = "the schema has no Node interface"
		}
		return nil, fmt.Errorf("schema: %w: %s", ErrNoModels, why)
	}
	d.indexConnections()

	p := &Project{
		Models:     []*Model{},
		Components: []*Model{},
		Enums:      []*Enum{},
		Locales:    enumValues(s.Types["Locale"]),
		Stages:     enumValues(s.Types["Stage"]),
	}
	for _, name := range sortedKeys(d.models) {
		p.Models = append(p.Models, d.model(name, false))
	}
	for _, name := range sortedKeys(d.components) {
		p.Components = append(p.Components, d.model(name, true))
	}
	d.setReverses(p)

	for _, name := range sortedTypeNames(s, ast.Enum) {
		if d.isSystemEnum(p, name) {
			continue
		}
		p.Enums = append(p.Enums, &Enum{Name: name, Values: enumValues(s.Types[name])})
	}
	for _, name := range sortedTypeNames(s, ast.Union) {
		if d.isSystemUnion(name) {
			continue
		}
		p.Unions = append(p.Unions, &Union{Name: name, Members: append([]string{}, s.Types[name].Types...)})
	}
	return p, nil
}

// systemModels are the models every Hygraph project has.
var systemModels = map[string]bool{
	"Asset": true, "User": true, "ScheduledOperation": true, "ScheduledRelease": true,
}

// closedSystemModels are system models that cannot have custom fields: all
// their fields are system fields.
var closedSystemModels = map[string]bool{
	"User": true, "ScheduledOperation": true, "ScheduledRelease": true,
}

// systemFieldNames are the fields Hygraph adds to every model.
var systemFieldNames = map[string]bool{
	"id": true, "stage": true, "locale": true,
	"createdAt": true, "updatedAt": true, "publishedAt": true,
	"createdBy": true, "updatedBy": true, "publishedBy": true,
	"localizations": true, "documentInStages": true, "history": true, "scheduledIn": true,
}

// assetDerivedFields are Asset fields Hygraph derives; they are system
// fields even when the schema has no AssetCreateInput to tell.
var assetDerivedFields = map[string]bool{"url": true, "upload": true}

// systemRelationFields are system fields that point at documents; their kind
// is KindSystem whatever type they have.
var systemRelationFields = map[string]bool{
	"createdBy": true, "updatedBy": true, "publishedBy": true,
	"localizations": true, "documentInStages": true, "history": true, "scheduledIn": true,
}

// systemEnums are the enums Hygraph generates in every schema.
var systemEnums = map[string]bool{
	"Stage": true, "Locale": true, "SystemDateTimeFieldVariation": true,
	"ImageFit": true, "DocumentFileTypes": true, "UserKind": true,
	"ScheduledOperationStatus": true, "ScheduledReleaseStatus": true,
	"AssetUploadStatus": true, "EntityTypeName": true,
}

// scalarTypes are the GraphQL and Hygraph scalars that are KindScalar.
var scalarTypes = map[string]bool{
	"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true,
	"Date": true, "DateTime": true, "Long": true,
}

type discoverer struct {
	s          *ast.Schema
	models     map[string]bool
	components map[string]bool
	// connection maps a model or component to its connection type.
	connection map[string]string
}

// classify finds the models and components.
func (d *discoverer) classify() {
	for name, t := range d.s.Types {
		if t.Kind != ast.Object || strings.HasPrefix(name, "__") {
			continue
		}
		if !hasField(t, "stage", "Stage!") {
			continue
		}
		if implements(t, "Node") {
			d.models[name] = true
			continue
		}
		if !hasField(t, "id", "ID!") {
			continue
		}
		if d.isInput(name+"CreateInput") || d.isUnion(name+"Parent") {
			d.components[name] = true
		}
	}
}

// indexConnections maps each model to the object type whose edges hold it.
func (d *discoverer) indexConnections() {
	d.connection = map[string]string{}
	for _, name := range sortedTypeNames(d.s, ast.Object) {
		t := d.s.Types[name]
		edges := t.Fields.ForName("edges")
		if edges == nil || t.Fields.ForName("pageInfo") == nil || edges.Type.Elem == nil {
			continue
		}
		edge := d.s.Types[edges.Type.Name()]
		if edge == nil {
			continue
		}
		node := edge.Fields.ForName("node")
		if node == nil {
			continue
		}
		m := node.Type.Name()
		// Prefer the conventional name when more than one type qualifies.
		if cur, ok := d.connection[m]; !ok || (cur != m+"Connection" && name == m+"Connection") {
			d.connection[m] = name
		}
	}
}

// model builds one model or component.
func (d *discoverer) model(name string, component bool) *Model {
	t := d.s.Types[name]
	m := &Model{
		Name:      name,
		System:    systemModels[name],
		Component: component,
		API:       d.api(name),
		Fields:    []*Field{},
	}
	m.Writable = m.API.Create != "" && m.API.Update != ""
	create := d.inputFields(m.API.CreateInput)
	loc := d.inputFields(m.API.LocalizationInput)
	unique := d.inputFields(m.API.WhereUnique)
	for _, f := range t.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		in, inCreate := create[f.Name]
		_, localized := loc[f.Name]
		_, isUnique := unique[f.Name]
		fd := &Field{
			Name:      f.Name,
			Type:      f.Type.String(),
			List:      f.Type.Elem != nil,
			Required:  inCreate && in.Type.NonNull,
			Localized: localized,
			Unique:    isUnique,
			Targets:   []string{},
		}
		fd.System = systemFieldNames[f.Name] || closedSystemModels[name] ||
			(name == "Asset" && (assetDerivedFields[f.Name] || create != nil && !inCreate))
		d.kind(fd, f)
		m.Fields = append(m.Fields, fd)
	}
	return m
}

// kind sets Kind, Targets and Union of fd from the field's type.
func (d *discoverer) kind(fd *Field, f *ast.FieldDefinition) {
	tn := f.Type.Name()
	t := d.s.Types[tn]
	switch {
	case systemRelationFields[f.Name] && !scalarTypes[tn]:
		fd.Kind = KindSystem
	case scalarTypes[tn]:
		fd.Kind = KindScalar
	case tn == "Json":
		fd.Kind = KindJSON
	case tn == "RichText":
		fd.Kind = KindRichText
	case tn == "Location":
		fd.Kind = KindLocation
	case tn == "Color":
		fd.Kind = KindColor
	case tn == "Asset":
		fd.Kind, fd.Targets = KindAsset, []string{tn}
	case tn == "User":
		fd.Kind = KindSystem
	case d.models[tn]:
		fd.Kind, fd.Targets = KindRelation, []string{tn}
	case d.components[tn]:
		fd.Kind, fd.Targets = KindComponent, []string{tn}
	case t != nil && t.Kind == ast.Enum:
		if systemEnums[tn] || strings.HasPrefix(tn, "_") {
			fd.Kind = KindSystem
		} else {
			fd.Kind, fd.Targets = KindEnum, []string{tn}
		}
	case t != nil && t.Kind == ast.Union && len(t.Types) > 0:
		allModels, allComponents := true, true
		for _, m := range t.Types {
			allModels = allModels && d.models[m]
			allComponents = allComponents && d.components[m]
		}
		switch {
		case allModels:
			fd.Kind = KindUnionRelation
		case allComponents:
			fd.Kind = KindUnionComponent
		default:
			fd.Kind = KindSystem
			return
		}
		fd.Targets = append([]string{}, t.Types...)
		fd.Union = tn
	case t != nil && t.Kind == ast.Scalar:
		// Other custom scalars (Hex, RGBAHue, ...) hold plain values.
		fd.Kind = KindScalar
	default:
		// Version, DocumentVersion, RGBA, Asset upload state and the like.
		fd.Kind = KindSystem
	}
}

// api finds the root fields and input types of a model or component.
func (d *discoverer) api(name string) *ModelAPI {
	a := &ModelAPI{ConnectionType: d.connection[name]}
	if q := d.s.Query; q != nil {
		for _, f := range q.Fields {
			rt := f.Type
			switch {
			case rt.Elem == nil && rt.NamedType == name && f.Arguments.ForName("where") != nil:
				setOnce(&a.Single, f.Name)
				setOnce(&a.WhereUnique, argType(f, "where"))
			case rt.Elem != nil && rt.Elem.Name() == name:
				setOnce(&a.List, f.Name)
				setOnce(&a.WhereInput, argType(f, "where"))
				setOnce(&a.OrderByInput, argType(f, "orderBy"))
			case a.ConnectionType != "" && rt.Elem == nil && rt.NamedType == a.ConnectionType:
				setOnce(&a.Connection, f.Name)
			}
		}
	}
	if mu := d.s.Mutation; mu != nil {
		for _, f := range mu.Fields {
			rt := f.Type
			// schedulePublish<Name> and scheduleUnpublish<Name> look like
			// publish and unpublish but take a release.
			if rt.Elem != nil || f.Arguments.ForName("releaseAt") != nil || f.Arguments.ForName("releaseId") != nil {
				continue
			}
			has := func(arg string) bool { return f.Arguments.ForName(arg) != nil }
			switch {
			case rt.NamedType == name:
				switch {
				case has("data") && !has("where"):
					setOnce(&a.Create, f.Name)
					setOnce(&a.CreateInput, argType(f, "data"))
				case has("data"):
					setOnce(&a.Update, f.Name)
					setOnce(&a.UpdateInput, argType(f, "data"))
					setOnce(&a.WhereUnique, argType(f, "where"))
				case has("upsert"):
					setOnce(&a.Upsert, f.Name)
					setOnce(&a.UpsertInput, argType(f, "upsert"))
				case has("to"):
					setOnce(&a.Publish, f.Name)
				case has("from"):
					setOnce(&a.Unpublish, f.Name)
				case has("where"):
					setOnce(&a.Delete, f.Name)
				}
			case a.ConnectionType != "" && rt.NamedType == a.ConnectionType:
				switch {
				case has("data"):
					setOnce(&a.UpdateMany, f.Name)
				case has("to"):
					setOnce(&a.PublishMany, f.Name)
				case has("from"):
					setOnce(&a.UnpublishMany, f.Name)
				default:
					setOnce(&a.DeleteMany, f.Name)
				}
			}
		}
	}
	// Components have no root fields; fall back on the conventional names of
	// input types the schema actually has.
	d.byName(&a.CreateInput, name+"CreateInput")
	d.byName(&a.UpdateInput, name+"UpdateInput")
	d.byName(&a.UpsertInput, name+"UpsertInput")
	d.byName(&a.WhereInput, name+"WhereInput")
	d.byName(&a.WhereUnique, name+"WhereUniqueInput")
	d.byName(&a.OrderByInput, name+"OrderByInput")
	a.LocalizationInput = d.localizationInput(a.CreateInput)
	d.byName(&a.LocalizationInput, name+"CreateLocalizationDataInput")
	return a
}

// localizationInput follows create.localizations.create[].data to the
// localization data input type.
func (d *discoverer) localizationInput(create string) string {
	step := func(typ, field string) string {
		t := d.s.Types[typ]
		if t == nil || t.Kind != ast.InputObject {
			return ""
		}
		f := t.Fields.ForName(field)
		if f == nil {
			return ""
		}
		return f.Type.Name()
	}
	return step(step(step(create, "localizations"), "create"), "data")
}

// byName sets *dst to name when *dst is empty and name is an input type or
// enum of the schema.
func (d *discoverer) byName(dst *string, name string) {
	if *dst != "" {
		return
	}
	if t := d.s.Types[name]; t != nil && (t.Kind == ast.InputObject || t.Kind == ast.Enum) {
		*dst = name
	}
}

// inputFields returns the fields of an input type by name; nil when there is
// no such type.
func (d *discoverer) inputFields(name string) map[string]*ast.FieldDefinition {
	t := d.s.Types[name]
	if name == "" || t == nil || t.Kind != ast.InputObject {
		return nil
	}
	out := make(map[string]*ast.FieldDefinition, len(t.Fields))
	for _, f := range t.Fields {
		out[f.Name] = f
	}
	return out
}

// setReverses pairs the two sides of two-way relations by setting
// Field.Reverse. The SDL does not say which fields are two sides of one
// relation, so discovery pairs a relation (or asset) field f of model M
// targeting T with a plain relation field g of T targeting M when each is
// the other's only candidate; when a side has several candidates, the one
// named after the other model as Hygraph names reverse fields by default
// (lower-case, singular or plural: "books" or "book" for Book) is chosen,
// and none when no name fits. Union relations are relations of their own
// and never paired. The SDL cannot tell two one-way relations in opposite
// directions from one two-way relation; such fields are paired.
func (d *discoverer) setReverses(p *Project) {
	cands := map[*Field][]*Field{}
	owner := map[*Field]string{}
	for _, m := range p.Models {
		for _, f := range m.Fields {
			owner[f] = m.Name
			if f.System || (f.Kind != KindRelation && f.Kind != KindAsset) {
				continue
			}
			target := p.Model(f.Targets[0])
			if target == nil {
				continue
			}
			for _, g := range target.Fields {
				if g == f || g.System || (g.Kind != KindRelation && g.Kind != KindAsset) {
					continue
				}
				if g.Targets[0] == m.Name {
					cands[f] = append(cands[f], g)
				}
			}
		}
	}
	// choice is the candidate f pairs with, or nil.
	choice := func(f *Field) *Field {
		cs := cands[f]
		if len(cs) == 1 {
			return cs[0]
		}
		var picked *Field
		for _, g := range cs {
			if reverseName(g.Name, owner[f]) {
				if picked != nil {
					return nil
				}
				picked = g
			}
		}
		return picked
	}
	for _, m := range p.Models {
		for _, f := range m.Fields {
			g := choice(f)
			if g != nil && choice(g) == f {
				f.Reverse = g.Name
			}
		}
	}
}

// reverseName reports whether a relation field named name is named after
// model as Hygraph names reverse fields by default.
func reverseName(name, model string) bool {
	if model == "" {
		return false
	}
	base := strings.ToLower(model[:1]) + model[1:]
	plural := base + "s"
	if strings.HasSuffix(base, "y") {
		plural = base[:len(base)-1] + "ies"
	}
	return name == base || name == plural
}

// isSystemEnum reports whether an enum is generated by Hygraph rather than
// defined by the user. System enums are: those named in systemEnums (Stage,
// Locale, SystemDateTimeFieldVariation, ImageFit, DocumentFileTypes,
// UserKind, ScheduledOperationStatus, ScheduledReleaseStatus, ...), those
// starting with "_" (_FilterKind, _MutationKind, ...), those ending in
// "OrderByInput", and any enum that object fields use only on system fields
// (e.g. a status enum of a system model that is not in the list yet).
func (d *discoverer) isSystemEnum(p *Project, name string) bool {
	if systemEnums[name] || strings.HasPrefix(name, "_") || strings.HasSuffix(name, "OrderByInput") {
		return true
	}
	usedBySystem, usedByContent := false, false
	for _, list := range [][]*Model{p.Models, p.Components} {
		for _, m := range list {
			for _, f := range m.Fields {
				if strings.Trim(f.Type, "[]!") == name {
					if f.System {
						usedBySystem = true
					} else {
						usedByContent = true
					}
				}
			}
		}
	}
	return usedBySystem && !usedByContent
}

// isSystemUnion reports whether a union is generated by Hygraph:
// ScheduledOperationAffectedDocument and the <Component>Parent unions.
func (d *discoverer) isSystemUnion(name string) bool {
	if name == "ScheduledOperationAffectedDocument" {
		return true
	}
	base, ok := strings.CutSuffix(name, "Parent")
	return ok && d.components[base]
}

func (d *discoverer) isInput(name string) bool {
	t := d.s.Types[name]
	return t != nil && t.Kind == ast.InputObject
}

func (d *discoverer) isUnion(name string) bool {
	t := d.s.Types[name]
	return t != nil && t.Kind == ast.Union
}

func hasField(t *ast.Definition, name, typ string) bool {
	f := t.Fields.ForName(name)
	return f != nil && f.Type.String() == typ
}

func implements(t *ast.Definition, iface string) bool {
	for _, i := range t.Interfaces {
		if i == iface {
			return true
		}
	}
	return false
}

func argType(f *ast.FieldDefinition, arg string) string {
	a := f.Arguments.ForName(arg)
	if a == nil {
		return ""
	}
	return a.Type.Name()
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func enumValues(t *ast.Definition) []string {
	out := []string{}
	if t == nil || t.Kind != ast.Enum {
		return out
	}
	for _, v := range t.EnumValues {
		out = append(out, v.Name)
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sortedTypeNames lists the schema's types of one kind, built-ins excluded.
func sortedTypeNames(s *ast.Schema, kind ast.DefinitionKind) []string {
	var out []string
	for name, t := range s.Types {
		if t.Kind == kind && !t.BuiltIn && !strings.HasPrefix(name, "__") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
