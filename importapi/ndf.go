package importapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ValueType is the kind of values an NDF file or an import request holds.
type ValueType string

// The three value types of the Normalized Data Format.
const (
	Nodes     ValueType = "nodes"
	Lists     ValueType = "lists"
	Relations ValueType = "relations"
)

// ValueTypes are the value types in the order a snapshot is imported:
// nodes first, then the lists and relations that refer to them.
var ValueTypes = []ValueType{Nodes, Lists, Relations}

func (v ValueType) valid() bool { return v == Nodes || v == Lists || v == Relations }

// MaxIDLength is the longest id the legacy import accepts.
const MaxIDLength = 25

// Stage names of the extension fields.
const (
	StageDraft     = "DRAFT"
	StagePublished = "PUBLISHED"
)

// Reserved keys of node and list objects. "_typeName" and "id" are the
// legacy ones; "_stage" and "_locale" are stagesync's extensions (see the
// package documentation). createdAt, updatedAt and publishedAt are the
// system fields a node may carry.
const (
	keyTypeName = "_typeName"
	keyID       = "id"
	keyStage    = "_stage"
	keyLocale   = "_locale"
	keyField    = "fieldName"
	keyPosition = "_position"
)

// Node is one object of a nodes file or one of a lists file: the values of
// one entry's version in one stage and locale.
type Node struct {
	TypeName string
	ID       string
	// Stage is "DRAFT" (the default, and the only stage of a legacy file)
	// or "PUBLISHED".
	Stage string
	// Locale is the locale of the localized values, "" for the default
	// locale (whose line also holds the values that are not localized).
	Locale string
	// Fields are the other keys: field name → value.
	Fields map[string]any
}

// MarshalJSON writes the node as an NDF object, leaving out the default
// stage and locale so that a draft in the default locale is a plain legacy
// node.
func (n Node) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(n.Fields)+4)
	for k, v := range n.Fields {
		m[k] = v
	}
	m[keyTypeName] = n.TypeName
	m[keyID] = n.ID
	if n.Stage != "" && n.Stage != StageDraft {
		m[keyStage] = n.Stage
	}
	if n.Locale != "" {
		m[keyLocale] = n.Locale
	}
	return json.Marshal(m)
}

// ParseNode reads a node or list object.
func ParseNode(raw []byte) (Node, error) {
	var m map[string]any
	if err := unmarshal(raw, &m); err != nil {
		return Node{}, err
	}
	if m == nil {
		return Node{}, errors.New("the value is not an object")
	}
	n := Node{Stage: StageDraft}
	var err error
	if n.TypeName, err = stringKey(m, keyTypeName, true); err != nil {
		return n, err
	}
	if n.ID, err = stringKey(m, keyID, true); err != nil {
		return n, err
	}
	if s, err := stringKey(m, keyStage, false); err != nil {
		return n, err
	} else if s != "" {
		n.Stage = s
	}
	if n.Locale, err = stringKey(m, keyLocale, false); err != nil {
		return n, err
	}
	delete(m, keyTypeName)
	delete(m, keyID)
	delete(m, keyStage)
	delete(m, keyLocale)
	n.Fields = m
	if n.Stage != StageDraft && n.Stage != StagePublished {
		return n, fmt.Errorf("_stage %q is neither DRAFT nor PUBLISHED", n.Stage)
	}
	return n, checkID(n.ID)
}

// RelationSide is one side of a relation pair.
type RelationSide struct {
	TypeName  string `json:"_typeName"`
	ID        string `json:"id"`
	FieldName string `json:"fieldName"`
	// Stage (extension) is the stage of the relation, set on the first side
	// only; "" means DRAFT.
	Stage string `json:"_stage,omitempty"`
	// Position (extension), set on the first side only, is the place of
	// the second side's node in the first side's field, counted from 0. A
	// pair with a position is one-sided: it links the first side's field
	// only, and the other side of a two-way relation has a pair of its own.
	Position *int `json:"_position,omitempty"`
}

// Relation is one pair of a relations file: in a legacy file the two sides
// of one relation, linked both ways; with a position (see RelationSide),
// the link of one side.
type Relation [2]RelationSide

// Stage returns the stage the relation belongs to.
func (r Relation) Stage() string {
	if r[0].Stage == "" {
		return StageDraft
	}
	return r[0].Stage
}

// Directed reports whether the pair links its first side only.
func (r Relation) Directed() bool { return r[0].Position != nil }

// ParseRelation reads a relation pair.
func ParseRelation(raw []byte) (Relation, error) {
	var r Relation
	var list []json.RawMessage
	if err := unmarshal(raw, &list); err != nil {
		return r, err
	}
	if len(list) != 2 {
		return r, fmt.Errorf("a relation is a pair of two objects, this value has %d", len(list))
	}
	for i := range 2 {
		if err := unmarshal(list[i], &r[i]); err != nil {
			return r, fmt.Errorf("side %d: %w", i+1, err)
		}
		if r[i].TypeName == "" {
			return r, fmt.Errorf("side %d has no _typeName", i+1)
		}
		if r[i].ID == "" {
			return r, fmt.Errorf("side %d has no id", i+1)
		}
		if err := checkID(r[i].ID); err != nil {
			return r, fmt.Errorf("side %d: %w", i+1, err)
		}
	}
	if r[0].FieldName == "" && r[1].FieldName == "" {
		return r, errors.New("neither side has a fieldName")
	}
	if s := r[0].Stage; s != "" && s != StageDraft && s != StagePublished {
		return r, fmt.Errorf("_stage %q is neither DRAFT nor PUBLISHED", s)
	}
	if r[0].Position != nil && r[0].FieldName == "" {
		return r, errors.New("a pair with a _position needs the first side's fieldName")
	}
	return r, nil
}

// Ref is a relation target inside a component value: {"_typeName", "id"}.
type Ref struct {
	TypeName string `json:"_typeName"`
	ID       string `json:"id"`
}

// checkID refuses ids the legacy import refuses.
func checkID(id string) error {
	if len(id) > MaxIDLength {
		return fmt.Errorf("id %q is %d characters long; ids have at most %d", id, len(id), MaxIDLength)
	}
	return nil
}

func stringKey(m map[string]any, k string, required bool) (string, error) {
	x, ok := m[k]
	if !ok || x == nil {
		if required {
			return "", fmt.Errorf("the object has no %s", k)
		}
		return "", nil
	}
	s, ok := x.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, not a string", k, jsonKind(x))
	}
	if required && s == "" {
		return "", fmt.Errorf("%s is empty", k)
	}
	return s, nil
}

func jsonKind(x any) string {
	switch x.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "a " + strings.TrimPrefix(fmt.Sprintf("%T", x), "*")
}

// unmarshal decodes JSON keeping numbers exact (json.Number).
func unmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// entryName names a node for error messages: `Hotel "abc"`.
func entryName(typeName, id string) string {
	if typeName == "" {
		return strconv.Quote(id)
	}
	return typeName + " " + strconv.Quote(id)
}
