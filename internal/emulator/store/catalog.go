package store

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Catalog is what the store knows about a schema: the stages and locales,
// the document models and components and their fields. It is derived from
// the SDL by Hygraph's naming conventions, so any Hygraph content-API
// schema works without configuration. It does not change once built
// (UseReverses aside, which the stage calls before serving).
type Catalog struct {
	Schema   *ast.Schema
	Models   map[string]*Model // documents and components by type name
	Order    []*Model          // document models in SDL order
	Locales  []string          // Locale enum values, default locale first
	Stages   []string          // Stage enum values
	StageIdx map[string]int
	Draft    int // index of DRAFT in stages
}

// Model describes one document model or component.
type Model struct {
	Name        string
	Def         *ast.Definition
	Component   bool
	Fields      []*Field
	ByName      map[string]*Field
	Localized   bool // at least one localized field
	HasLocale   bool // has the system `locale` field
	Unique      []string
	CreateInput string
	UpdateInput string
}

// Kind classifies stored fields.
type Kind int

const (
	KindScalar    Kind = iota // String, Int, Float, Boolean, ID, Date, DateTime, Long, Json, RichTextAST, Hex...
	KindEnum                  // user enum (stored as string)
	KindRelation              // to document models (incl. Asset, union relations)
	KindComponent             // components (incl. modular components)
	KindRichText              // RichText object, stored as its AST
	KindLocation              // Location object, stored as {latitude, longitude}
	KindColor                 // Color object, stored as {hex, rgba}
	KindSystem                // system fields answered by the emulator
	KindUnknown               // anything else: always null / empty
)

// Field describes one field of a model or component.
type Field struct {
	Name      string
	Type      *ast.Type
	Named     string
	List      bool
	Kind      Kind
	Targets   []string // models or components referenced
	Union     bool     // targets come from a union type
	Localized bool
	Unique    bool
	// Reverse maps a target model to the field on it that is the other
	// side of this two-way relation.
	Reverse map[string]string
}

// systemFields are answered by the emulator on every model.
var systemFields = map[string]bool{
	"id": true, "stage": true, "locale": true, "localizations": true, "documentInStages": true,
	"createdAt": true, "updatedAt": true, "publishedAt": true, "createdBy": true,
	"updatedBy": true, "publishedBy": true, "history": true, "scheduledIn": true,
}

// NewCatalog indexes s.
func NewCatalog(s *ast.Schema) (*Catalog, error) {
	c := &Catalog{
		Schema:   s,
		Models:   map[string]*Model{},
		StageIdx: map[string]int{},
	}
	if s == nil {
		return nil, fmt.Errorf("stagetest: nil schema")
	}
	if e := s.Types["Stage"]; e != nil && e.Kind == ast.Enum {
		for _, v := range e.EnumValues {
			c.StageIdx[v.Name] = len(c.Stages)
			c.Stages = append(c.Stages, v.Name)
		}
	}
	if len(c.Stages) == 0 {
		return nil, fmt.Errorf("stagetest: schema has no Stage enum; is it a Hygraph content API schema?")
	}
	d, ok := c.StageIdx["DRAFT"]
	if !ok {
		return nil, fmt.Errorf("stagetest: Stage enum has no DRAFT value")
	}
	c.Draft = d
	if e := s.Types["Locale"]; e != nil && e.Kind == ast.Enum {
		for _, v := range e.EnumValues {
			c.Locales = append(c.Locales, v.Name)
		}
	}
	if len(c.Locales) == 0 {
		c.Locales = []string{"en"}
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
		m := &Model{Name: n, Def: def, ByName: map[string]*Field{}}
		m.Component = !implements(def, "Node")
		m.HasLocale = def.Fields.ForName("locale") != nil
		c.Models[n] = m
	}
	if s.Query != nil {
		// Document models in the order their list queries appear.
		seen := map[string]bool{}
		for _, n := range names {
			if m := c.Models[n]; m != nil && !m.Component && !seen[n] {
				seen[n] = true
				c.Order = append(c.Order, m)
			}
		}
	}
	for _, m := range c.Models {
		c.indexFields(m)
	}
	c.pairReverses()
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
func (c *Catalog) indexFields(m *Model) {
	s := c.Schema
	localized := map[string]bool{}
	for _, in := range []string{m.Name + "CreateLocalizationDataInput", m.Name + "UpdateLocalizationDataInput"} {
		if def := s.Types[in]; def != nil {
			for _, f := range def.Fields {
				if f.Name != "createdAt" && f.Name != "updatedAt" {
					localized[f.Name] = true
				}
			}
		}
	}
	unique := map[string]bool{}
	if def := s.Types[m.Name+"WhereUniqueInput"]; def != nil {
		for _, f := range def.Fields {
			unique[f.Name] = true
			m.Unique = append(m.Unique, f.Name)
		}
	}
	if s.Types[m.Name+"CreateInput"] != nil {
		m.CreateInput = m.Name + "CreateInput"
	}
	if s.Types[m.Name+"UpdateInput"] != nil {
		m.UpdateInput = m.Name + "UpdateInput"
	}
	for _, fd := range m.Def.Fields {
		if strings.HasPrefix(fd.Name, "__") {
			continue
		}
		f := &Field{
			Name:      fd.Name,
			Type:      fd.Type,
			Named:     fd.Type.Name(),
			List:      fd.Type.Elem != nil,
			Localized: localized[fd.Name],
			Unique:    unique[fd.Name],
		}
		if f.Localized {
			m.Localized = true
		}
		switch {
		case systemFields[fd.Name]:
			f.Kind = KindSystem
		default:
			f.Kind, f.Targets, f.Union = c.classify(f.Named)
		}
		m.Fields = append(m.Fields, f)
		m.ByName[f.Name] = f
	}
}

// classify returns the kind and targets of a field of type named.
func (c *Catalog) classify(named string) (Kind, []string, bool) {
	def := c.Schema.Types[named]
	if def == nil {
		return KindUnknown, nil, false
	}
	switch def.Kind {
	case ast.Scalar:
		return KindScalar, nil, false
	case ast.Enum:
		return KindEnum, []string{named}, false
	case ast.Object:
		if m := c.Models[named]; m != nil {
			if m.Component {
				return KindComponent, []string{named}, false
			}
			return KindRelation, []string{named}, false
		}
		switch named {
		case "RichText":
			return KindRichText, nil, false
		case "Location":
			return KindLocation, nil, false
		case "Color":
			return KindColor, nil, false
		}
		return KindUnknown, nil, false
	case ast.Union:
		var targets []string
		comp, docs := 0, 0
		for _, t := range def.Types {
			if m := c.Models[t]; m != nil {
				targets = append(targets, t)
				if m.Component {
					comp++
				} else {
					docs++
				}
			}
		}
		switch {
		case len(targets) == 0:
			return KindUnknown, nil, true
		case comp > 0 && docs == 0:
			return KindComponent, targets, true
		case docs > 0 && comp == 0:
			return KindRelation, targets, true
		}
		return KindUnknown, nil, true
	}
	return KindUnknown, nil, false
}

// pairReverses finds the other side of two-way relations: for field f of A
// targeting B, the one relation field of B that targets A (excluding f
// itself). When several qualify, Hygraph's naming of reverse fields decides
// (`<model><Field>` or `<field><Model>`); otherwise the relation is one-way.
func (c *Catalog) pairReverses() {
	for _, a := range c.Models {
		if a.Component {
			continue
		}
		for _, f := range a.Fields {
			if f.Kind != KindRelation {
				continue
			}
			for _, bn := range f.Targets {
				b := c.Models[bn]
				if b == nil || b.Component {
					continue
				}
				var cands []*Field
				for _, g := range b.Fields {
					if g.Kind != KindRelation || (a == b && g == f) {
						continue
					}
					if slices.Contains(g.Targets, a.Name) {
						cands = append(cands, g)
					}
				}
				var pick *Field
				if len(cands) == 1 {
					// The pairing must be mutual: A must have only f towards B
					// (besides g itself for self relations).
					n := 0
					for _, h := range a.Fields {
						if h.Kind == KindRelation && slices.Contains(h.Targets, bn) && !(a == b && h == cands[0]) {
							n++
						}
					}
					if n == 1 {
						pick = cands[0]
					}
				}
				if pick == nil {
					for _, g := range cands {
						if g.Name == lowerFirst(a.Name)+upperFirst(f.Name) || g.Name == f.Name+a.Name {
							pick = g
						}
					}
				}
				if pick != nil {
					if f.Reverse == nil {
						f.Reverse = map[string]string{}
					}
					f.Reverse[bn] = pick.Name
				}
			}
		}
	}
	// Keep only mutual pairs.
	for _, a := range c.Models {
		for _, f := range a.Fields {
			for bn, gn := range f.Reverse {
				g := c.Models[bn].ByName[gn]
				if g.Reverse[a.Name] != f.Name {
					delete(f.Reverse, bn)
				}
			}
		}
	}
}

// DocModel returns the document model named n, or nil.
func (c *Catalog) DocModel(n string) *Model {
	if m := c.Models[n]; m != nil && !m.Component {
		return m
	}
	return nil
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

// UseReverses takes the two-way relation pairs schema.Discover found, where
// it found any, over the catalog's own pairing.
func (c *Catalog) UseReverses(p *schema.Project) {
	if p == nil {
		return
	}
	for _, pm := range p.Models {
		m := c.Models[pm.Name]
		if m == nil || m.Component {
			continue
		}
		for _, pf := range pm.Fields {
			f := m.ByName[pf.Name]
			if f == nil || f.Kind != KindRelation || f.Union || pf.Reverse == "" || len(f.Targets) != 1 {
				continue
			}
			t := c.Models[f.Targets[0]]
			if t == nil || t.ByName[pf.Reverse] == nil || t.ByName[pf.Reverse].Kind != KindRelation {
				continue
			}
			if f.Reverse == nil {
				f.Reverse = map[string]string{}
			}
			f.Reverse[t.Name] = pf.Reverse
		}
	}
	// Both sides of a pair know each other, however it was found.
	for _, m := range c.Models {
		for _, f := range m.Fields {
			for tn, gn := range f.Reverse {
				g := c.Models[tn].ByName[gn]
				if g == nil {
					continue
				}
				if g.Reverse == nil {
					g.Reverse = map[string]string{}
				}
				if g.Reverse[m.Name] == "" {
					g.Reverse[m.Name] = f.Name
				}
			}
		}
	}
}
