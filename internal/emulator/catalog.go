package emulator

import (
	"strings"
	"sync"

	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// catalog is what the emulator knows about a schema: the store's catalog
// of models, and what each root field does.
type catalog struct {
	*store.Catalog
	query    map[string]*rootField
	mutation map[string]*rootField
	// whereKeys caches per model what its where-input keys mean:
	// key -> *whereSpec (see parseWhereKey).
	whereKeys map[*store.Model]*sync.Map
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
	model      *store.Model
	connection bool // ...Many returns a connection (else BatchPayload)
}

// newCatalog indexes s.
func newCatalog(s *ast.Schema) (*catalog, error) {
	sc, err := store.NewCatalog(s)
	if err != nil {
		return nil, err
	}
	c := &catalog{
		Catalog:   sc,
		query:     map[string]*rootField{},
		mutation:  map[string]*rootField{},
		whereKeys: map[*store.Model]*sync.Map{},
	}
	for _, m := range sc.Models {
		c.whereKeys[m] = new(sync.Map)
	}
	c.indexRoots()
	return c, nil
}

// indexRoots classifies the root query and mutation fields.
func (c *catalog) indexRoots() {
	s := c.Schema
	if s.Query != nil {
		for _, fd := range s.Query.Fields {
			named := fd.Type.Name()
			switch {
			case fd.Name == "node":
				c.query[fd.Name] = &rootField{op: opNode}
			case c.DocModel(named) != nil && fd.Type.Elem != nil:
				c.query[fd.Name] = &rootField{op: opList, model: c.DocModel(named)}
			case c.DocModel(named) != nil:
				c.query[fd.Name] = &rootField{op: opSingle, model: c.DocModel(named)}
			case strings.HasSuffix(named, "Connection") && c.DocModel(strings.TrimSuffix(named, "Connection")) != nil && fd.Type.Elem == nil:
				c.query[fd.Name] = &rootField{op: opConnection, model: c.DocModel(strings.TrimSuffix(named, "Connection"))}
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
	if m := c.DocModel(named); m != nil && fd.Type.Elem == nil {
		if !strings.HasSuffix(fd.Name, m.Name) {
			return nil
		}
		switch strings.TrimSuffix(fd.Name, m.Name) {
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
	var m *store.Model
	conn := false
	if strings.HasSuffix(named, "Connection") {
		m = c.DocModel(strings.TrimSuffix(named, "Connection"))
		conn = true
	} else if named == "BatchPayload" {
		if a := fd.Arguments.ForName("where"); a != nil {
			m = c.DocModel(strings.TrimSuffix(a.Type.Name(), "ManyWhereInput"))
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

// discover returns the project model of s, or nil when discovery fails.
func discover(s *ast.Schema) *schema.Project {
	p, err := schema.Discover(s)
	if err != nil {
		return nil
	}
	return p
}
