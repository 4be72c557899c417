package emulator

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// catalog is what the emulator knows about a schema: the models and
// components, their fields, and what each root field does. It is derived
// from the SDL by Hygraph's naming conventions, so any Hygraph content-API
// schema works without configuration.
type catalog struct {
	schema   *ast.Schema
	models   map[string]*modelInfo // documents and components by type name
	order    []*modelInfo          // document models in SDL order
	locales  []string              // Locale enum values, default locale first
	stages   []string              // Stage enum values
	stageIdx map[string]int
	draft    int // index of DRAFT in stages
	query    map[string]*rootField
	mutation map[string]*rootField
	wheres   map[string]*whereSpec // by where input type name
}

// modelInfo describes one document model or component.
type modelInfo struct {
	name        string
	def         *ast.Definition
	component   bool
	fields      []*fieldInfo
	byName      map[string]*fieldInfo
	localized   bool // at least one localized field
	hasLocale   bool // has the system `locale` field
	unique      []string
	createInput string
	updateInput string
	whereKeys   sync.Map // where-input key -> *whereSpec
}

// fieldKind classifies stored fields.
type fieldKind int

const (
	kindScalar    fieldKind = iota // String, Int, Float, Boolean, ID, Date, DateTime, Long, Json, RichTextAST, Hex...
	kindEnum                       // user enum (stored as string)
	kindRelation                   // to document models (incl. Asset, union relations)
	kindComponent                  // components (incl. modular components)
	kindRichText                   // RichText object, stored as its AST
	kindLocation                   // Location object, stored as {latitude, longitude}
	kindColor                      // Color object, stored as {hex, rgba}
	kindSystem                     // system fields answered by the emulator
	kindUnknown                    // anything else: always null / empty
)

// fieldInfo describes one field of a model or component.
type fieldInfo struct {
	name      string
	typ       *ast.Type
	named     string
	list      bool
	kind      fieldKind
	targets   []string // models or components referenced
	union     bool     // targets come from a union type
	localized bool
	unique    bool
	// reverse maps a target model to the field on it that is the other
	// side of this two-way relation.
	reverse map[string]string
}

// rootOp is what a root field does.
type rootOp int

const (
	opNone rootOp = iota
	opList
	opSingle
	opConnection
	opNode
	opCreate
	opUpdate
	opUpsert
	opDelete
	opPublish
	opUnpublish
	opUpdateMany
	opDeleteMany
	opPublishMany
	opUnpublishMany
	opSchedule
)

// rootField is a resolved root query or mutation field.
type rootField struct {
	op         rootOp
	model      *modelInfo
	connection bool // ...Many returns a connection (else BatchPayload)
}

// systemFields are answered by the emulator on every model.
var systemFields = map[string]bool{
	"id": true, "stage": true, "locale": true, "localizations": true, "documentInStages": true,
	"createdAt": true, "updatedAt": true, "publishedAt": true, "createdBy": true,
	"updatedBy": true, "publishedBy": true, "history": true, "scheduledIn": true,
}

// newCatalog indexes s.
func newCatalog(s *ast.Schema) (*catalog, error) {
	c := &catalog{
		schema:   s,
		models:   map[string]*modelInfo{},
		stageIdx: map[string]int{},
		query:    map[string]*rootField{},
		mutation: map[string]*rootField{},
		wheres:   map[string]*whereSpec{},
	}
	if s == nil {
		return nil, fmt.Errorf("stagetest: nil schema")
	}
	if e := s.Types["Stage"]; e != nil && e.Kind == ast.Enum {
		for _, v := range e.EnumValues {
			c.stageIdx[v.Name] = len(c.stages)
			c.stages = append(c.stages, v.Name)
		}
	}
	if len(c.stages) == 0 {
		return nil, fmt.Errorf("stagetest: schema has no Stage enum; is it a Hygraph content API schema?")
	}
	d, ok := c.stageIdx["DRAFT"]
	if !ok {
		return nil, fmt.Errorf("stagetest: Stage enum has no DRAFT value")
	}
	c.draft = d
	if e := s.Types["Locale"]; e != nil && e.Kind == ast.Enum {
		for _, v := range e.EnumValues {
			c.locales = append(c.locales, v.Name)
		}
	}
	if len(c.locales) == 0 {
		c.locales = []string{"en"}
	}

	// Models implement Node and have a stage; components have id and stage
	// but are not nodes.
	names := make([]string, 0, len(s.Types))
	for n := range s.Types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		def := s.Types[n]
		if def.Kind != ast.Object || strings.HasPrefix(n, "__") || def.Fields.ForName("stage") == nil || def.Fields.ForName("id") == nil {
			continue
		}
		m := &modelInfo{name: n, def: def, byName: map[string]*fieldInfo{}}
		m.component = !implements(def, "Node")
		m.hasLocale = def.Fields.ForName("locale") != nil
		c.models[n] = m
	}
	if s.Query != nil {
		// Document models in the order their list queries appear.
		seen := map[string]bool{}
		for _, n := range names {
			if m := c.models[n]; m != nil && !m.component && !seen[n] {
				seen[n] = true
				c.order = append(c.order, m)
			}
		}
	}
	for _, m := range c.models {
		c.indexFields(m)
	}
	c.pairReverses()
	c.indexRoots()
	return c, nil
}

func implements(def *ast.Definition, iface string) bool {
	for _, i := range def.Interfaces {
		if i == iface {
			return true
		}
	}
	return false
}

// indexFields classifies the fields of m.
func (c *catalog) indexFields(m *modelInfo) {
	s := c.schema
	localized := map[string]bool{}
	for _, in := range []string{m.name + "CreateLocalizationDataInput", m.name + "UpdateLocalizationDataInput"} {
		if def := s.Types[in]; def != nil {
			for _, f := range def.Fields {
				if f.Name != "createdAt" && f.Name != "updatedAt" {
					localized[f.Name] = true
				}
			}
		}
	}
	unique := map[string]bool{}
	if def := s.Types[m.name+"WhereUniqueInput"]; def != nil {
		for _, f := range def.Fields {
			unique[f.Name] = true
			m.unique = append(m.unique, f.Name)
		}
	}
	if s.Types[m.name+"CreateInput"] != nil {
		m.createInput = m.name + "CreateInput"
	}
	if s.Types[m.name+"UpdateInput"] != nil {
		m.updateInput = m.name + "UpdateInput"
	}
	for _, fd := range m.def.Fields {
		if strings.HasPrefix(fd.Name, "__") {
			continue
		}
		f := &fieldInfo{
			name:      fd.Name,
			typ:       fd.Type,
			named:     fd.Type.Name(),
			list:      fd.Type.Elem != nil,
			localized: localized[fd.Name],
			unique:    unique[fd.Name],
		}
		if f.localized {
			m.localized = true
		}
		switch {
		case systemFields[fd.Name]:
			f.kind = kindSystem
		default:
			f.kind, f.targets, f.union = c.classify(f.named)
		}
		m.fields = append(m.fields, f)
		m.byName[f.name] = f
	}
}

// classify returns the kind and targets of a field of type named.
func (c *catalog) classify(named string) (fieldKind, []string, bool) {
	def := c.schema.Types[named]
	if def == nil {
		return kindUnknown, nil, false
	}
	switch def.Kind {
	case ast.Scalar:
		return kindScalar, nil, false
	case ast.Enum:
		return kindEnum, []string{named}, false
	case ast.Object:
		if m := c.models[named]; m != nil {
			if m.component {
				return kindComponent, []string{named}, false
			}
			return kindRelation, []string{named}, false
		}
		switch named {
		case "RichText":
			return kindRichText, nil, false
		case "Location":
			return kindLocation, nil, false
		case "Color":
			return kindColor, nil, false
		}
		return kindUnknown, nil, false
	case ast.Union:
		var targets []string
		comp, docs := 0, 0
		for _, t := range def.Types {
			if m := c.models[t]; m != nil {
				targets = append(targets, t)
				if m.component {
					comp++
				} else {
					docs++
				}
			}
		}
		switch {
		case len(targets) == 0:
			return kindUnknown, nil, true
		case comp > 0 && docs == 0:
			return kindComponent, targets, true
		case docs > 0 && comp == 0:
			return kindRelation, targets, true
		}
		return kindUnknown, nil, true
	}
	return kindUnknown, nil, false
}

// pairReverses finds the other side of two-way relations: for field f of A
// targeting B, the one relation field of B that targets A (excluding f
// itself). When several qualify, Hygraph's naming of reverse fields decides
// (`<model><Field>` or `<field><Model>`); otherwise the relation is one-way.
func (c *catalog) pairReverses() {
	for _, a := range c.models {
		if a.component {
			continue
		}
		for _, f := range a.fields {
			if f.kind != kindRelation {
				continue
			}
			for _, bn := range f.targets {
				b := c.models[bn]
				if b == nil || b.component {
					continue
				}
				var cands []*fieldInfo
				for _, g := range b.fields {
					if g.kind != kindRelation || (a == b && g == f) {
						continue
					}
					if contains(g.targets, a.name) {
						cands = append(cands, g)
					}
				}
				var pick *fieldInfo
				if len(cands) == 1 {
					// The pairing must be mutual: A must have only f towards B
					// (besides g itself for self relations).
					n := 0
					for _, h := range a.fields {
						if h.kind == kindRelation && contains(h.targets, bn) && !(a == b && h == cands[0]) {
							n++
						}
					}
					if n == 1 {
						pick = cands[0]
					}
				}
				if pick == nil {
					for _, g := range cands {
						if g.name == lowerFirst(a.name)+upperFirst(f.name) || g.name == f.name+a.name {
							pick = g
						}
					}
				}
				if pick != nil {
					if f.reverse == nil {
						f.reverse = map[string]string{}
					}
					f.reverse[bn] = pick.name
				}
			}
		}
	}
	// Keep only mutual pairs.
	for _, a := range c.models {
		for _, f := range a.fields {
			for bn, gn := range f.reverse {
				g := c.models[bn].byName[gn]
				if g.reverse[a.name] != f.name {
					delete(f.reverse, bn)
				}
			}
		}
	}
}

// indexRoots classifies the root query and mutation fields.
func (c *catalog) indexRoots() {
	s := c.schema
	if s.Query != nil {
		for _, fd := range s.Query.Fields {
			named := fd.Type.Name()
			switch {
			case fd.Name == "node":
				c.query[fd.Name] = &rootField{op: opNode}
			case c.docModel(named) != nil && fd.Type.Elem != nil:
				c.query[fd.Name] = &rootField{op: opList, model: c.docModel(named)}
			case c.docModel(named) != nil:
				c.query[fd.Name] = &rootField{op: opSingle, model: c.docModel(named)}
			case strings.HasSuffix(named, "Connection") && c.docModel(strings.TrimSuffix(named, "Connection")) != nil && fd.Type.Elem == nil:
				c.query[fd.Name] = &rootField{op: opConnection, model: c.docModel(strings.TrimSuffix(named, "Connection"))}
			}
		}
	}
	if s.Mutation != nil {
		for _, fd := range s.Mutation.Fields {
			if rf := c.mutationRoot(fd); rf != nil {
				c.mutation[fd.Name] = rf
			}
		}
	}
}

func (c *catalog) mutationRoot(fd *ast.FieldDefinition) *rootField {
	named := fd.Type.Name()
	if m := c.docModel(named); m != nil && fd.Type.Elem == nil {
		if !strings.HasSuffix(fd.Name, m.name) {
			return nil
		}
		switch strings.TrimSuffix(fd.Name, m.name) {
		case "create":
			return &rootField{op: opCreate, model: m}
		case "update":
			return &rootField{op: opUpdate, model: m}
		case "upsert":
			return &rootField{op: opUpsert, model: m}
		case "delete":
			return &rootField{op: opDelete, model: m}
		case "publish":
			return &rootField{op: opPublish, model: m}
		case "unpublish":
			return &rootField{op: opUnpublish, model: m}
		case "schedulePublish", "scheduleUnpublish":
			return &rootField{op: opSchedule, model: m}
		}
		return nil
	}
	var m *modelInfo
	conn := false
	if strings.HasSuffix(named, "Connection") {
		m = c.docModel(strings.TrimSuffix(named, "Connection"))
		conn = true
	} else if named == "BatchPayload" {
		if a := fd.Arguments.ForName("where"); a != nil {
			m = c.docModel(strings.TrimSuffix(a.Type.Name(), "ManyWhereInput"))
		}
	}
	if m == nil {
		return nil
	}
	for _, p := range []struct {
		prefix string
		op     rootOp
	}{{"updateMany", opUpdateMany}, {"deleteMany", opDeleteMany}, {"publishMany", opPublishMany}, {"unpublishMany", opUnpublishMany}} {
		if strings.HasPrefix(fd.Name, p.prefix) {
			return &rootField{op: p.op, model: m, connection: conn}
		}
	}
	return nil
}

// docModel returns the document model named n, or nil.
func (c *catalog) docModel(n string) *modelInfo {
	if m := c.models[n]; m != nil && !m.component {
		return m
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// useReverses takes the two-way relation pairs schema.Discover found, where
// it found any, over the catalog's own pairing.
func (c *catalog) useReverses(p *schema.Project) {
	if p == nil {
		return
	}
	for _, pm := range p.Models {
		m := c.models[pm.Name]
		if m == nil || m.component {
			continue
		}
		for _, pf := range pm.Fields {
			f := m.byName[pf.Name]
			if f == nil || f.kind != kindRelation || f.union || pf.Reverse == "" || len(f.targets) != 1 {
				continue
			}
			t := c.models[f.targets[0]]
			if t == nil || t.byName[pf.Reverse] == nil || t.byName[pf.Reverse].kind != kindRelation {
				continue
			}
			if f.reverse == nil {
				f.reverse = map[string]string{}
			}
			f.reverse[t.name] = pf.Reverse
		}
	}
	// Both sides of a pair know each other, however it was found.
	for _, m := range c.models {
		for _, f := range m.fields {
			for tn, gn := range f.reverse {
				g := c.models[tn].byName[gn]
				if g == nil {
					continue
				}
				if g.reverse == nil {
					g.reverse = map[string]string{}
				}
				if g.reverse[m.name] == "" {
					g.reverse[m.name] = f.name
				}
			}
		}
	}
}

// discover returns the project model of s, or nil when discovery fails.
func discover(s *ast.Schema) *schema.Project {
	p, err := schema.Discover(s)
	if err != nil {
		return nil
	}
	return p
}
