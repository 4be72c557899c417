package schema

// Project is the content model of one Hygraph stage: what Discover finds in an
// SDL and what Synthesize turns back into one.
type Project struct {
	// Models are the document models (object types that implement Node and
	// have a `stage: Stage!` field), system models such as Asset and User
	// included and marked System.
	Models []*Model `json:"models"`
	// Components are the component types (non-Node types with id and stage).
	Components []*Model `json:"components"`
	// Enums are the user-defined enumerations (system enums excluded).
	Enums []*Enum `json:"enums"`
	// Unions are the union types used by union relation and modular
	// component fields (system unions such as *Parent unions excluded).
	Unions []*Union `json:"unions,omitempty"`
	// Locales are the values of the Locale enum, the default locale first.
	Locales []string `json:"locales"`
	// Stages are the values of the Stage enum (DRAFT, PUBLISHED, ...).
	Stages []string `json:"stages"`
}

// Model is one Hygraph model or component.
type Model struct {
	// Name is the GraphQL type name, e.g. "Hotel".
	Name string `json:"name"`
	// System marks models that every Hygraph project has (Asset, User,
	// ScheduledOperation, ScheduledRelease).
	System bool `json:"system"`
	// Writable is true when the schema has create and update mutations for
	// the model.
	Writable bool `json:"writable"`
	// Component is true for component types.
	Component bool `json:"component,omitempty"`
	// API holds the names of the root fields and input types of the model.
	API *ModelAPI `json:"api,omitempty"`
	// Fields are the model's fields in the order of the SDL.
	Fields []*Field `json:"fields"`
}

// ModelAPI names the query, mutation and input types Hygraph generates for a
// model. Empty strings mean the schema does not have that field or type.
type ModelAPI struct {
	Single         string `json:"single,omitempty"`         // hotel
	List           string `json:"list,omitempty"`           // hotels
	Connection     string `json:"connection,omitempty"`     // hotelsConnection
	Create         string `json:"create,omitempty"`         // createHotel
	Update         string `json:"update,omitempty"`         // updateHotel
	Upsert         string `json:"upsert,omitempty"`         // upsertHotel
	Delete         string `json:"delete,omitempty"`         // deleteHotel
	Publish        string `json:"publish,omitempty"`        // publishHotel
	Unpublish      string `json:"unpublish,omitempty"`      // unpublishHotel
	UpdateMany     string `json:"updateMany,omitempty"`     // updateManyHotelsConnection
	DeleteMany     string `json:"deleteMany,omitempty"`     // deleteManyHotelsConnection
	PublishMany    string `json:"publishMany,omitempty"`    // publishManyHotelsConnection
	UnpublishMany  string `json:"unpublishMany,omitempty"`  // unpublishManyHotelsConnection
	CreateInput    string `json:"createInput,omitempty"`    // HotelCreateInput
	UpdateInput    string `json:"updateInput,omitempty"`    // HotelUpdateInput
	UpsertInput    string `json:"upsertInput,omitempty"`    // HotelUpsertInput
	WhereInput     string `json:"whereInput,omitempty"`     // HotelWhereInput
	WhereUnique    string `json:"whereUnique,omitempty"`    // HotelWhereUniqueInput
	OrderByInput   string `json:"orderByInput,omitempty"`   // HotelOrderByInput
	ConnectionType string `json:"connectionType,omitempty"` // HotelConnection
	// LocalizationInput is the create-localization data input
	// (HotelCreateLocalizationDataInput); empty when nothing is localized.
	LocalizationInput string `json:"localizationInput,omitempty"`
}

// Kind classifies a field by what it holds.
type Kind string

// The field kinds.
const (
	KindScalar         Kind = "scalar"         // String, Int, Float, Boolean, ID, Date, DateTime, Long
	KindEnum           Kind = "enum"           // a user enum
	KindRelation       Kind = "relation"       // reference to another model
	KindUnionRelation  Kind = "unionRelation"  // reference to one of several models
	KindComponent      Kind = "component"      // an embedded component
	KindUnionComponent Kind = "unionComponent" // one of several components (modular component field)
	KindAsset          Kind = "asset"          // reference to Asset
	KindRichText       Kind = "richText"       // RichText (stored as RichTextAST)
	KindJSON           Kind = "json"           // Json
	KindLocation       Kind = "location"       // Location
	KindColor          Kind = "color"          // Color
	KindSystem         Kind = "system"         // system-only shapes (User refs, history, ...)
)

// Field is one field of a model or component.
type Field struct {
	Name string `json:"name"`
	// Type is the field's GraphQL type as printed, e.g. "String!", "[Hotel!]!".
	Type string `json:"type"`
	Kind Kind   `json:"kind"`
	List bool   `json:"list"`
	// Required is true when the field is non-null in the create input
	// (false for fields the create input does not have, such as id).
	Required bool `json:"required"`
	// Localized is true when the field is in the localization data input.
	Localized bool `json:"localized"`
	// Unique is true when the field is in the WhereUniqueInput; id is
	// Unique (and System).
	Unique bool `json:"unique"`
	// System marks fields Hygraph adds to every model (id, stage, createdAt, ...),
	// every field of User, ScheduledOperation and ScheduledRelease, and the
	// derived fields of Asset (those not in AssetCreateInput, such as url).
	System bool `json:"system"`
	// Targets are the referenced type names for relations, assets,
	// components, unions (members in SDL order) and enums (the enum name);
	// never nil, empty for scalars and KindSystem fields.
	Targets []string `json:"targets"`
	// Union is the union type name for union relations and union components.
	Union string `json:"union,omitempty"`
	// Reverse is the field on the target that is the other side of a two-way
	// relation, when it can be determined.
	Reverse string `json:"reverse,omitempty"`
}

// Enum is a user-defined enumeration.
type Enum struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Union is a user-defined union type.
type Union struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Model returns the model or component with the given name, or nil.
func (p *Project) Model(name string) *Model {
	for _, m := range p.Models {
		if m.Name == name {
			return m
		}
	}
	for _, m := range p.Components {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Field returns the field with the given name, or nil.
func (m *Model) Field(name string) *Field {
	for _, f := range m.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// ContentFields returns the fields that are not system fields.
func (m *Model) ContentFields() []*Field {
	var out []*Field
	for _, f := range m.Fields {
		if !f.System {
			out = append(out, f)
		}
	}
	return out
}

// Enum returns the user enum with the given name, or nil.
func (p *Project) Enum(name string) *Enum {
	for _, e := range p.Enums {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Union returns the user union with the given name, or nil.
func (p *Project) Union(name string) *Union {
	for _, u := range p.Unions {
		if u.Name == name {
			return u
		}
	}
	return nil
}
