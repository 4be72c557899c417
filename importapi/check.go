package importapi

import (
	"errors"
	"fmt"
	"iter"

	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/schema"
)

// CheckResult is what Check found in a snapshot.
type CheckResult struct {
	Nodes, Lists, Relations int
}

// maxProblems is how many problems Check reports before it stops.
const maxProblems = 20

// Check reads a whole snapshot directory (or a directory of plain legacy
// NDF files) and validates it against project p before anything is
// written: every file parses; every node and list names a model of p
// (_typeName), an id of at most 25 characters, a known stage and locale,
// and fields the model has; every relation pair and every relation inside a
// component points at nodes the snapshot holds. It returns the counts and
// all problems found (up to 20), each an *InputError naming the file, the
// line, the value's index and the entry.
//
// Check keeps the snapshot's ids (and their models) in memory to resolve
// relations: about 60 bytes per entry, never the content.
func Check(dir string, p *schema.Project) (CheckResult, error) {
	return check(dir, p, newMemIDs(), nil)
}

// checkVisitor is told of every value check finds valid, in the order
// read: nodes, lists, then relations. An error it returns stops the check.
type checkVisitor interface {
	node(n Node, v Value) error
	list(n Node, v Value) error
	relation(r Relation, v Value) error
}

// check is Check keeping the snapshot's ids in ids, and telling visit
// (when set) of every valid value.
func check(dir string, p *schema.Project, ids idSet, visit checkVisitor) (CheckResult, error) {
	var res CheckResult
	var problems []error
	report := func(err error) bool {
		problems = append(problems, err)
		return len(problems) < maxProblems
	}
	done := func() (CheckResult, error) { return res, errors.Join(problems...) }
	locales := map[string]bool{}
	for _, l := range p.Locales[min(1, len(p.Locales)):] {
		locales[l] = true
	}
	for _, vt := range []ValueType{Nodes, Lists} {
		for v, err := range ReadDir(dir, vt) {
			if err != nil {
				report(err)
				return done()
			}
			n, err := ParseNode(v.Raw)
			if err != nil {
				if !report(v.errorf(entryName(n.TypeName, n.ID), "%v", err)) {
					return done()
				}
				continue
			}
			name := entryName(n.TypeName, n.ID)
			m := p.Model(n.TypeName)
			if m == nil || m.Component {
				if !report(v.errorf(name, "unknown _typeName %q: the snapshot's schema has no such model; export it again from a stage that has it, or leave the model out", n.TypeName)) {
					return done()
				}
				continue
			}
			if n.Locale != "" && !locales[n.Locale] && (len(p.Locales) == 0 || n.Locale != p.Locales[0]) {
				if !report(v.errorf(name, "unknown _locale %q (the schema's locales are %v)", n.Locale, p.Locales)) {
					return done()
				}
				continue
			}
			if vt == Nodes {
				res.Nodes++
				prev, err := ids.add(n.ID, n.TypeName, n.Stage == StagePublished)
				if err != nil {
					report(err)
					return done()
				}
				if prev != "" && prev != n.TypeName {
					if !report(v.errorf(name, "id %q is also a %s node", n.ID, prev)) {
						return done()
					}
				}
			} else {
				res.Lists++
				if model, published, err := ids.model(n.ID); err != nil {
					report(err)
					return done()
				} else if model != n.TypeName {
					if !report(v.errorf(name, "list of a node the snapshot does not hold")) {
						return done()
					}
					continue
				} else if n.Stage == StagePublished && !published {
					if !report(v.errorf(name, "a PUBLISHED list of %s, which has no PUBLISHED node in the snapshot", name)) {
						return done()
					}
					continue
				}
			}
			valid := true
			for k, x := range n.Fields {
				switch k {
				case "createdAt", "updatedAt", "publishedAt":
					continue
				}
				f := field(m, k)
				if f == nil {
					valid = false
					if !report(v.errorf(name, "%s has no field %q", m.Name, k)) {
						return done()
					}
					continue
				}
				if isRelationKind(f.Kind) {
					valid = false
					if !report(v.errorf(name, "%s.%s is a relation: it belongs in a relations file", m.Name, k)) {
						return done()
					}
					continue
				}
				if f.Kind == schema.KindComponent || f.Kind == schema.KindUnionComponent {
					var refErr error
					err := componentRefs(p, f, x, func(r Ref) {
						if refErr == nil {
							refErr = ids.addRef(pendingRef{v: v, entry: name, ref: r})
						}
					})
					if refErr != nil {
						report(refErr)
						return done()
					}
					if err != nil {
						valid = false
						if !report(v.errorf(name, "%s.%s: %v", m.Name, k, err)) {
							return done()
						}
					}
				}
			}
			if valid && visit != nil && len(problems) == 0 {
				var err error
				if vt == Nodes {
					err = visit.node(n, v)
				} else {
					err = visit.list(n, v)
				}
				if err != nil {
					report(err)
					return done()
				}
			}
		}
	}
	for pr, err := range ids.refs() {
		if err != nil {
			report(err)
			return done()
		}
		if model, _, err := ids.model(pr.ref.ID); err != nil {
			report(err)
			return done()
		} else if model != pr.ref.TypeName {
			if !report(pr.v.errorf(pr.entry, "a component relates to %s, which the snapshot does not hold", entryName(pr.ref.TypeName, pr.ref.ID))) {
				return done()
			}
		}
	}
	for v, err := range ReadDir(dir, Relations) {
		if err != nil {
			report(err)
			return done()
		}
		res.Relations++
		r, err := ParseRelation(v.Raw)
		if err != nil {
			if !report(v.errorf("", "%v", err)) {
				return done()
			}
			continue
		}
		name := entryName(r[0].TypeName, r[0].ID)
		valid := true
		for i, side := range r {
			m := p.Model(side.TypeName)
			model, published, err := ids.model(side.ID)
			if err != nil {
				report(err)
				return done()
			}
			ok := false
			switch {
			case m == nil || m.Component:
				if !report(v.errorf(name, "side %d: unknown _typeName %q", i+1, side.TypeName)) {
					return done()
				}
			case model != side.TypeName:
				if !report(v.errorf(name, "relation %s.%s → %s: %s is not in the snapshot; export the model it belongs to as well, or drop the relation",
					r[0].TypeName, r[0].FieldName, entryName(r[1].TypeName, r[1].ID), entryName(side.TypeName, side.ID))) {
					return done()
				}
			case r.Stage() == StagePublished && !published:
				if !report(v.errorf(name, "a PUBLISHED relation of %s, which has no PUBLISHED node in the snapshot", entryName(side.TypeName, side.ID))) {
					return done()
				}
			case side.FieldName != "":
				f := field(m, side.FieldName)
				if f == nil || !isRelationKind(f.Kind) {
					if !report(v.errorf(name, "side %d: %s has no relation field %q", i+1, side.TypeName, side.FieldName)) {
						return done()
					}
				} else {
					ok = true
				}
			default:
				ok = true
			}
			valid = valid && ok
		}
		if valid && visit != nil && len(problems) == 0 {
			if err := visit.relation(r, v); err != nil {
				report(err)
				return done()
			}
		}
	}
	if res.Nodes == 0 && len(problems) == 0 {
		report(&InputError{File: dir, Index: -1, Err: fmt.Errorf("no NDF nodes files (%s/nodes/*.json)", dir)})
	}
	return done()
}

type pendingRef struct {
	v     Value
	entry string
	ref   Ref
}

// idSet holds the ids of a snapshot's nodes while Check reads it, and the
// relation targets inside components, checked once every node is read.
type idSet interface {
	// add records a node; prev is the model the id had already, if any.
	add(id, model string, published bool) (prev string, err error)
	// model returns the model of id ("" when unknown) and whether it has
	// a PUBLISHED node.
	model(id string) (model string, published bool, err error)
	addRef(pendingRef) error
	refs() iter.Seq2[pendingRef, error]
}

// memIDs is an idSet in memory: about 60 bytes per entry.
type memIDs struct {
	nodes     map[string]string // id → model
	published map[string]bool
	pending   []pendingRef
}

func newMemIDs() *memIDs {
	return &memIDs{nodes: map[string]string{}, published: map[string]bool{}}
}

func (m *memIDs) add(id, model string, published bool) (string, error) {
	prev := m.nodes[id]
	m.nodes[id] = model
	if published {
		m.published[id] = true
	}
	return prev, nil
}

func (m *memIDs) model(id string) (string, bool, error) {
	return m.nodes[id], m.published[id], nil
}

func (m *memIDs) addRef(pr pendingRef) error {
	m.pending = append(m.pending, pr)
	return nil
}

func (m *memIDs) refs() iter.Seq2[pendingRef, error] {
	return func(yield func(pendingRef, error) bool) {
		for _, pr := range m.pending {
			if !yield(pr, nil) {
				return
			}
		}
	}
}

func field(m *schema.Model, name string) *schema.Field {
	for _, f := range m.Fields {
		if f.Name == name && !f.System && f.Kind != schema.KindSystem {
			return f
		}
	}
	return nil
}

// componentRefs calls fn with every relation target inside a component
// value.
func componentRefs(p *schema.Project, f *schema.Field, x any, fn func(Ref)) error {
	for _, it := range entryform.List(x) {
		c, ok := it.(map[string]any)
		if !ok {
			return errors.New("a component value is an object with __typename")
		}
		typ, _ := c["__typename"].(string)
		if typ == "" && len(f.Targets) == 1 {
			typ = f.Targets[0]
		}
		cm := p.Model(typ)
		if cm == nil || !cm.Component {
			return fmt.Errorf("unknown component type %q", typ)
		}
		for k, val := range c {
			if k == "__typename" || k == "id" {
				continue
			}
			cf := field(cm, k)
			if cf == nil {
				return fmt.Errorf("component %s has no field %q", typ, k)
			}
			switch {
			case isRelationKind(cf.Kind):
				for _, r := range refList(val) {
					if r.TypeName == "" && len(cf.Targets) == 1 {
						r.TypeName = cf.Targets[0]
					}
					fn(r)
				}
			case cf.Kind == schema.KindComponent || cf.Kind == schema.KindUnionComponent:
				if err := componentRefs(p, cf, val, fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
