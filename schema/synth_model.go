package schema

import (
	"slices"
	"strings"
)

// Arguments shared by many fields.
var (
	argsToOne = []gqlArg{{name: "forceParentLocale", typ: "Boolean"}, {name: "locales", typ: "[Locale!]"}}
	argsPage  = []gqlArg{
		{name: "skip", typ: "Int"}, {name: "after", typ: "String"}, {name: "before", typ: "String"},
		{name: "first", typ: "Int"}, {name: "last", typ: "Int"},
	}
)

// argsToMany returns the arguments of a to-many relation field.
func argsToMany(where, orderBy string) []gqlArg {
	var a []gqlArg
	if where != "" {
		a = append(a, gqlArg{name: "where", typ: where})
	}
	if orderBy != "" {
		a = append(a, gqlArg{name: "orderBy", typ: orderBy})
	}
	a = append(a, argsPage...)
	return append(a, argsToOne...)
}

// objectType returns the field's type on the object type.
func (f *synthField) objectType() string {
	if f.Type != "" {
		return f.Type
	}
	if f.List {
		return "[" + f.base + "!]!"
	}
	if f.Required {
		return f.base + "!"
	}
	return f.base
}

// objectField returns the field as it is on the object type.
func (s *synthesizer) objectField(f *synthField) gqlField {
	g := gqlField{name: f.Name, typ: f.objectType()}
	switch f.Kind {
	case KindRelation, KindAsset, KindComponent:
		if f.List {
			g.args = argsToMany(f.base+"WhereInput", f.base+"OrderByInput")
		} else {
			g.args = argsToOne
		}
	case KindUnionRelation, KindUnionComponent:
		if f.List {
			g.args = argsToMany("", "")
		} else {
			g.args = argsToOne
		}
	}
	return g
}

// inputType returns the field's type in the create (op "Create") or update
// (op "Update") input.
func (s *synthesizer) inputType(f *synthField, op string) string {
	var t string
	switch f.Kind {
	case KindScalar, KindEnum:
		t = f.base
	case KindJSON:
		t = "Json"
	case KindRichText:
		t = "RichTextAST"
	case KindLocation:
		t = "LocationInput"
	case KindColor:
		t = "ColorInput"
	default:
		card := "One"
		if f.List {
			card = "Many"
		}
		t = f.base + op + card + "InlineInput"
	}
	if f.List && f.valueKind() {
		t = "[" + t + "!]"
	}
	if op == "Create" && f.Required {
		t += "!"
	}
	return t
}

// model emits a model's or component's object type and inputs.
func (s *synthesizer) model(m *synthModel) {
	n := m.name
	doc := !m.component
	var fields []gqlField
	if doc {
		fields = append(fields, synFD("stage", "Stage!", "System stage field"))
		if m.localized {
			fields = append(fields, synFD("locale", "Locale!", "System Locale field"), gqlField{
				name: "localizations", typ: "[" + n + "!]!", desc: "Get the other localizations for this document",
				args: []gqlArg{{name: "locales", typ: "[Locale!]!", def: "[" + s.locales[0] + "]"}, {name: "includeCurrent", typ: "Boolean!", def: "false"}},
			})
		}
		fields = append(fields, gqlField{
			name: "documentInStages", typ: "[" + n + "!]!", desc: "Get the document in other stages",
			args: []gqlArg{{name: "stages", typ: "[Stage!]!", def: "[DRAFT, PUBLISHED]"}, {name: "includeCurrent", typ: "Boolean!", def: "false"}, {name: "inheritLocale", typ: "Boolean!", def: "false"}},
		}, synFD("id", "ID!", "The unique identifier"))
		var variation []gqlArg
		if m.localized {
			variation = []gqlArg{{name: "variation", typ: "SystemDateTimeFieldVariation!", def: "COMBINED"}}
		}
		fields = append(fields,
			gqlField{name: "createdAt", typ: "DateTime!", desc: "The time the document was created", args: variation},
			gqlField{name: "updatedAt", typ: "DateTime!", desc: "The time the document was updated", args: variation},
			gqlField{name: "publishedAt", typ: "DateTime", desc: "The time the document was published. Null on documents in draft stage.", args: variation},
		)
	} else {
		fields = append(fields, synFD("id", "ID!", "The unique identifier"), synFD("stage", "Stage!", "System stage field"))
	}
	for _, f := range m.fields {
		if !f.inputOnly {
			fields = append(fields, s.objectField(f))
		}
	}
	if m.asset {
		fields = append(fields, gqlField{name: "url", typ: "String!", desc: "Get the url for the asset with provided transformations applied.",
			args: []gqlArg{{name: "transformation", typ: "AssetTransformationInput"}}})
	}
	implements := ""
	if doc {
		implements = "Node"
		fields = append(fields,
			gqlField{name: "createdBy", typ: "User", desc: "User that created this document", args: argsToOne},
			gqlField{name: "updatedBy", typ: "User", desc: "User that last updated this document", args: argsToOne},
			gqlField{name: "publishedBy", typ: "User", desc: "User that last published this document", args: argsToOne},
			gqlField{name: "scheduledIn", typ: "[ScheduledOperation!]!", args: argsToMany("ScheduledOperationWhereInput", "")},
			gqlField{name: "history", typ: "[Version!]!", desc: "List of " + n + " versions", args: []gqlArg{
				{name: "limit", typ: "Int!", def: "10"}, {name: "skip", typ: "Int!", def: "0"}, {name: "stageOverride", typ: "Stage"},
			}},
		)
	}
	s.object(n, implements, "", fields)
	s.modelInputs(m)
}

// inputFields returns the fields of m that belong in create/update inputs.
func (m *synthModel) inputFields() []*synthField {
	var out []*synthField
	for _, f := range m.fields {
		if !f.objectOnly {
			out = append(out, f)
		}
	}
	return out
}

// modelInputs emits the connection, edge and input types of a model or
// component.
func (s *synthesizer) modelInputs(m *synthModel) {
	n := m.name
	doc := !m.component
	s.object(n+"Connection", "", "A connection to a list of items.", []gqlField{
		synFD("edges", "["+n+"Edge!]!", "A list of edges."),
		synFD("pageInfo", "PageInfo!", "Information to aid in pagination."),
		synF("aggregate", "Aggregate!"),
	})
	s.object(n+"Edge", "", "An edge in a connection.", []gqlField{
		synFD("node", n+"!", "The item at the end of the edge."),
		synFD("cursor", "String!", "A cursor for use in pagination."),
	})
	s.input(n+"ConnectInput", "", []gqlField{
		synFD("where", n+"WhereUniqueInput!", "Document to connect"),
		synFD("position", "ConnectPositionInput", "Allow to specify document position in list of connected documents, will default to appending at end of list"),
	})

	timestamps := []gqlField{synF("createdAt", "DateTime"), synF("updatedAt", "DateTime")}
	var create, update, createLoc, updateLoc, many, manyLoc []gqlField
	if doc {
		create = append(create, timestamps...)
		createLoc = append(createLoc, timestamps...)
	}
	for _, f := range m.inputFields() {
		create = append(create, synF(f.Name, s.inputType(f, "Create")))
		update = append(update, synF(f.Name, s.inputType(f, "Update")))
		if f.Localized {
			createLoc = append(createLoc, synF(f.Name, s.inputType(f, "Create")))
			updateLoc = append(updateLoc, synF(f.Name, s.inputType(f, "Update")))
		}
		if f.valueKind() && !f.Unique && !f.noMany {
			many = append(many, synF(f.Name, s.inputType(f, "Update")))
			if f.Localized {
				manyLoc = append(manyLoc, synF(f.Name, s.inputType(f, "Update")))
			}
		}
	}
	for _, h := range m.hidden {
		create = append(create, synF(h.name, h.model+"CreateManyInlineInput"))
		update = append(update, synF(h.name, h.model+"UpdateManyInlineInput"))
	}
	if m.localized {
		create = append(create, synFD("localizations", n+"CreateLocalizationsInput", "Inline mutations for managing document localizations excluding the default locale"))
		update = append(update, synFD("localizations", n+"UpdateLocalizationsInput", "Manage document localizations"))
		s.input(n+"CreateLocalizationDataInput", "", createLoc)
		s.input(n+"CreateLocalizationInput", "", []gqlField{
			synFD("data", n+"CreateLocalizationDataInput!", "Localization input"),
			synF("locale", "Locale!"),
		})
		s.input(n+"CreateLocalizationsInput", "", []gqlField{
			synFD("create", "["+n+"CreateLocalizationInput!]", "Create localizations for the newly-created document"),
		})
		s.input(n+"UpdateLocalizationDataInput", "", updateLoc)
		s.input(n+"UpdateLocalizationInput", "", []gqlField{synF("data", n+"UpdateLocalizationDataInput!"), synF("locale", "Locale!")})
		s.input(n+"UpdateLocalizationsInput", "", []gqlField{
			synFD("create", "["+n+"CreateLocalizationInput!]", "Localizations to create"),
			synFD("update", "["+n+"UpdateLocalizationInput!]", "Localizations to update"),
			synF("upsert", "["+n+"UpsertLocalizationInput!]"),
			synFD("delete", "[Locale!]", "Localizations to delete"),
		})
		s.input(n+"UpsertLocalizationInput", "", []gqlField{
			synF("update", n+"UpdateLocalizationDataInput!"),
			synF("create", n+"CreateLocalizationDataInput!"),
			synF("locale", "Locale!"),
		})
	}
	if len(manyLoc) > 0 {
		many = append(many, synFD("localizations", n+"UpdateManyLocalizationsInput", "Optional updates to localizations"))
		s.input(n+"UpdateManyLocalizationDataInput", "", manyLoc)
		s.input(n+"UpdateManyLocalizationInput", "", []gqlField{synF("data", n+"UpdateManyLocalizationDataInput!"), synF("locale", "Locale!")})
		s.input(n+"UpdateManyLocalizationsInput", "", []gqlField{synFD("update", "["+n+"UpdateManyLocalizationInput!]", "Localizations to update")})
	}
	s.input(n+"CreateInput", "", create)
	s.input(n+"UpdateInput", "", update)
	s.input(n+"UpdateManyInput", "", many)
	s.input(n+"UpdateManyWithNestedWhereInput", "", []gqlField{
		synFD("where", n+"WhereInput!", "Document search"),
		synFD("data", n+"UpdateManyInput!", "Update many input"),
	})
	s.input(n+"UpdateWithNestedWhereUniqueInput", "", []gqlField{
		synFD("where", n+"WhereUniqueInput!", "Unique document search"),
		synFD("data", n+"UpdateInput!", "Document to update"),
	})
	s.input(n+"UpsertInput", "", []gqlField{
		synFD("create", n+"CreateInput!", "Create document if it didn't exist"),
		synFD("update", n+"UpdateInput!", "Update document if it exists"),
	})
	s.input(n+"UpsertWithNestedWhereUniqueInput", "", []gqlField{
		synFD("where", n+"WhereUniqueInput!", "Unique document search"),
		synFD("data", n+"UpsertInput!", "Upsert data"),
	})
	if doc {
		s.input(n+"CreateManyInlineInput", "", []gqlField{
			synFD("create", "["+n+"CreateInput!]", "Create and connect multiple existing "+n+" documents"),
			synFD("connect", "["+n+"WhereUniqueInput!]", "Connect multiple existing "+n+" documents"),
		})
		s.input(n+"CreateOneInlineInput", "", []gqlField{
			synFD("create", n+"CreateInput", "Create and connect one "+n+" document"),
			synFD("connect", n+"WhereUniqueInput", "Connect one existing "+n+" document"),
		})
		s.input(n+"UpdateManyInlineInput", "", []gqlField{
			synFD("create", "["+n+"CreateInput!]", "Create and connect multiple "+n+" documents"),
			synFD("connect", "["+n+"ConnectInput!]", "Connect multiple existing "+n+" documents"),
			synFD("set", "["+n+"WhereUniqueInput!]", "Override currently-connected documents with multiple existing "+n+" documents"),
			synFD("update", "["+n+"UpdateWithNestedWhereUniqueInput!]", "Update multiple "+n+" documents"),
			synFD("upsert", "["+n+"UpsertWithNestedWhereUniqueInput!]", "Upsert multiple "+n+" documents"),
			synFD("disconnect", "["+n+"WhereUniqueInput!]", "Disconnect multiple "+n+" documents"),
			synFD("delete", "["+n+"WhereUniqueInput!]", "Delete multiple "+n+" documents"),
		})
		s.input(n+"UpdateOneInlineInput", "", []gqlField{
			synFD("create", n+"CreateInput", "Create and connect one "+n+" document"),
			synFD("update", n+"UpdateWithNestedWhereUniqueInput", "Update single "+n+" document"),
			synFD("upsert", n+"UpsertWithNestedWhereUniqueInput", "Upsert single "+n+" document"),
			synFD("connect", n+"WhereUniqueInput", "Connect existing "+n+" document"),
			synFD("disconnect", "Boolean", "Disconnect currently connected "+n+" document"),
			synFD("delete", "Boolean", "Delete currently connected "+n+" document"),
		})
		s.input(n+"WhereComparatorInput", "This contains a set of filters that can be used to compare values internally", []gqlField{
			synFD("outdated_to", "Boolean", "This field can be used to request to check if the entry is outdated by internal comparison"),
		})
		s.input(n+"WhereStageInput", "The document in stages filter allows specifying a stage entry to cross compare the same document between different stages", []gqlField{
			synF("AND", "["+n+"WhereStageInput!]"),
			synF("OR", "["+n+"WhereStageInput!]"),
			synF("NOT", "["+n+"WhereStageInput!]"),
			synFD("stage", "Stage", "Specify the stage to compare with"),
			synFD("compareWithParent", n+"WhereComparatorInput", "This field contains fields which can be set as true or false to specify an internal comparison"),
		})
	} else {
		s.input(n+"CreateManyInlineInput", "", []gqlField{synFD("create", "["+n+"CreateInput!]", "Create and connect multiple existing "+n+" documents")})
		s.input(n+"CreateOneInlineInput", "", []gqlField{synFD("create", n+"CreateInput", "Create and connect one "+n+" document")})
		s.input(n+"CreateWithPositionInput", "", []gqlField{
			synFD("position", "ConnectPositionInput", "Position in the list of existing component instances, will default to appending at the end of list"),
			synFD("data", n+"CreateInput!", "Document to create"),
		})
		s.input(n+"UpdateManyInlineInput", "", []gqlField{
			synFD("create", "["+n+"CreateWithPositionInput!]", "Create and connect multiple "+n+" component instances"),
			synFD("update", "["+n+"UpdateWithNestedWhereUniqueAndPositionInput!]", "Update multiple "+n+" component instances"),
			synFD("upsert", "["+n+"UpsertWithNestedWhereUniqueAndPositionInput!]", "Upsert multiple "+n+" component instances"),
			synFD("delete", "["+n+"WhereUniqueInput!]", "Delete multiple "+n+" documents"),
		})
		s.input(n+"UpdateOneInlineInput", "", []gqlField{
			synFD("create", n+"CreateInput", "Create and connect one "+n+" document"),
			synFD("update", n+"UpdateWithNestedWhereUniqueInput", "Update single "+n+" document"),
			synFD("upsert", n+"UpsertWithNestedWhereUniqueInput", "Upsert single "+n+" document"),
			synFD("delete", "Boolean", "Delete currently connected "+n+" document"),
		})
		s.input(n+"UpdateWithNestedWhereUniqueAndPositionInput", "", []gqlField{
			synFD("where", n+"WhereUniqueInput!", "Unique component instance search"),
			synFD("data", n+"UpdateInput", "Document to update"),
			synFD("position", "ConnectPositionInput", "Position in the list of existing component instances, will default to appending at the end of list"),
		})
		s.input(n+"UpsertWithNestedWhereUniqueAndPositionInput", "", []gqlField{
			synFD("where", n+"WhereUniqueInput!", "Unique component instance search"),
			synFD("data", n+"UpsertInput", "Document to upsert"),
			synFD("position", "ConnectPositionInput", "Position in the list of existing component instances, will default to appending at the end of list"),
		})
	}
	s.input(n+"WhereInput", "Identifies documents", s.whereFields(m, false))
	s.input(n+"ManyWhereInput", "Identifies documents", s.whereFields(m, true))
	unique := []gqlField{synF("id", "ID")}
	for _, f := range m.fields {
		if f.Unique {
			unique = append(unique, synF(f.Name, f.base))
		}
	}
	s.input(n+"WhereUniqueInput", "References "+n+" record uniquely", unique)
	order := []string{"id"}
	if doc {
		order = append(order, "createdAt", "updatedAt", "publishedAt")
	}
	for _, f := range m.fields {
		if !f.inputOnly && (f.Kind == KindScalar || f.Kind == KindEnum) {
			order = append(order, f.Name)
		}
	}
	var values []string
	for _, o := range order {
		values = append(values, o+"_ASC", o+"_DESC")
	}
	s.enum(n+"OrderByInput", values)
}

// Filter operator families.
var (
	opsString  = []string{"", "_not", "_in", "_not_in", "_contains", "_not_contains", "_starts_with", "_not_starts_with", "_ends_with", "_not_ends_with"}
	opsOrdered = []string{"", "_not", "_in", "_not_in", "_lt", "_lte", "_gt", "_gte"}
	opsEnum    = []string{"", "_not", "_in", "_not_in"}
	opsBoolean = []string{"", "_not"}
	opsList    = []string{"", "_not", "_contains_all", "_contains_some", "_contains_none"}
)

// scalarFilters returns the where-input fields of a scalar or enum named
// name of type typ.
func scalarFilters(name, typ string, enum, list bool) []gqlField {
	ops := opsOrdered
	switch {
	case list:
		ops = opsList
	case enum:
		ops = opsEnum
	case typ == "String" || typ == "ID":
		ops = opsString
	case typ == "Boolean":
		ops = opsBoolean
	case typ == "Int" || typ == "Float" || typ == "Long" || typ == "Date" || typ == "DateTime":
	default:
		ops = opsEnum
	}
	out := make([]gqlField, 0, len(ops))
	for _, op := range ops {
		t := typ
		switch {
		case list:
			t = "[" + typ + "!]"
		case op == "_in" || op == "_not_in":
			t = "[" + typ + "]"
		}
		out = append(out, synF(name+op, t))
	}
	return out
}

// whereFields returns the fields of a model's or component's where input;
// the many form (<Model>ManyWhereInput) leaves out localized fields.
func (s *synthesizer) whereFields(m *synthModel, many bool) []gqlField {
	n := m.name
	w := []gqlField{
		synFD("_search", "String", "Contains search across all appropriate fields."),
		synFD("AND", "["+n+"WhereInput!]", "Logical AND on all given filters."),
		synFD("OR", "["+n+"WhereInput!]", "Logical OR on all given filters."),
		synFD("NOT", "["+n+"WhereInput!]", "Logical NOT on all given filters combined by AND."),
	}
	w = append(w, scalarFilters("id", "ID", false, false)...)
	if !m.component {
		for _, ts := range []string{"createdAt", "updatedAt", "publishedAt"} {
			w = append(w, scalarFilters(ts, "DateTime", false, false)...)
		}
	}
	for _, f := range m.fields {
		if f.inputOnly || (many && f.Localized) {
			continue
		}
		switch f.Kind {
		case KindScalar, KindEnum:
			w = append(w, scalarFilters(f.Name, f.base, f.Kind == KindEnum, f.List)...)
		case KindJSON:
			w = append(w,
				synFD(f.Name+"_json_path_exists", "String", "All values containing the given json path."),
				synFD(f.Name+"_value_recursive", "Json", "Recursively tries to find the provided JSON scalar value inside the field."),
			)
		case KindRelation, KindAsset, KindComponent:
			if f.List {
				for _, op := range []string{"_every", "_some", "_none"} {
					w = append(w, synF(f.Name+op, f.base+"WhereInput"))
				}
			} else {
				w = append(w, synF(f.Name, f.base+"WhereInput"))
			}
		case KindUnionRelation, KindUnionComponent:
			if f.List {
				w = append(w,
					synFD(f.Name+"_empty", "Boolean", "All values in which the union is empty"),
					synFD(f.Name+"_some", f.base+"WhereInput", "Matches if the union contains at least one connection to the provided item to the filter"),
				)
			} else {
				w = append(w,
					synFD(f.Name, f.base+"WhereInput", "All values in which the union is connected to the given models"),
					synFD(f.Name+"_empty", "Boolean", "All values in which the union is empty"),
				)
			}
		}
	}
	if !m.component {
		for _, by := range []string{"createdBy", "updatedBy", "publishedBy"} {
			w = append(w, synF(by, "UserWhereInput"))
		}
		for _, op := range []string{"_every", "_some", "_none"} {
			w = append(w, synF("scheduledIn"+op, "ScheduledOperationWhereInput"))
		}
		for _, op := range []string{"_every", "_some", "_none"} {
			w = append(w, synF("documentInStages"+op, n+"WhereStageInput"))
		}
	}
	return w
}

// unionInputs emits the inputs of a union: a union relation or a
// <Component>Parent union (components false), or a modular component field's
// union (components true). Each input has one field per member, named after
// the member.
func (s *synthesizer) unionInputs(u string, members []string, components bool) {
	per := func(suffix string) []gqlField {
		out := make([]gqlField, 0, len(members))
		for _, m := range members {
			out = append(out, synF(m, m+suffix))
		}
		return out
	}
	s.input(u+"CreateInput", "", per("CreateInput"))
	s.input(u+"UpdateInput", "", per("UpdateInput"))
	s.input(u+"UpdateManyWithNestedWhereInput", "", per("UpdateManyWithNestedWhereInput"))
	s.input(u+"UpdateWithNestedWhereUniqueInput", "", per("UpdateWithNestedWhereUniqueInput"))
	s.input(u+"UpsertWithNestedWhereUniqueInput", "", per("UpsertWithNestedWhereUniqueInput"))
	s.input(u+"WhereInput", "", per("WhereInput"))
	s.input(u+"WhereUniqueInput", "", per("WhereUniqueInput"))
	if components {
		s.input(u+"CreateWithPositionInput", "", per("CreateWithPositionInput"))
		s.input(u+"UpdateWithNestedWhereUniqueAndPositionInput", "", per("UpdateWithNestedWhereUniqueAndPositionInput"))
		s.input(u+"UpsertWithNestedWhereUniqueAndPositionInput", "", per("UpsertWithNestedWhereUniqueAndPositionInput"))
		s.input(u+"CreateManyInlineInput", "", []gqlField{synF("create", "["+u+"CreateInput!]")})
		s.input(u+"CreateOneInlineInput", "", []gqlField{synF("create", u+"CreateInput")})
		s.input(u+"UpdateManyInlineInput", "", []gqlField{
			synF("create", "["+u+"CreateWithPositionInput!]"),
			synF("update", "["+u+"UpdateWithNestedWhereUniqueAndPositionInput!]"),
			synF("upsert", "["+u+"UpsertWithNestedWhereUniqueAndPositionInput!]"),
			synF("delete", "["+u+"WhereUniqueInput!]"),
		})
		s.input(u+"UpdateOneInlineInput", "", []gqlField{
			synF("create", u+"CreateInput"),
			synF("update", u+"UpdateWithNestedWhereUniqueInput"),
			synF("upsert", u+"UpsertWithNestedWhereUniqueInput"),
			synF("delete", "Boolean"),
		})
		return
	}
	s.input(u+"ConnectInput", "", per("ConnectInput"))
	s.input(u+"CreateManyInlineInput", "", []gqlField{
		synF("create", "["+u+"CreateInput!]"),
		synF("connect", "["+u+"WhereUniqueInput!]"),
	})
	s.input(u+"CreateOneInlineInput", "", []gqlField{
		synF("create", u+"CreateInput"),
		synF("connect", u+"WhereUniqueInput"),
	})
	s.input(u+"UpdateManyInlineInput", "", []gqlField{
		synF("create", "["+u+"CreateInput!]"),
		synF("connect", "["+u+"ConnectInput!]"),
		synF("set", "["+u+"WhereUniqueInput!]"),
		synF("update", "["+u+"UpdateWithNestedWhereUniqueInput!]"),
		synF("upsert", "["+u+"UpsertWithNestedWhereUniqueInput!]"),
		synF("disconnect", "["+u+"WhereUniqueInput!]"),
		synF("delete", "["+u+"WhereUniqueInput!]"),
	})
	s.input(u+"UpdateOneInlineInput", "", []gqlField{
		synF("create", u+"CreateInput"),
		synF("update", u+"UpdateWithNestedWhereUniqueInput"),
		synF("upsert", u+"UpsertWithNestedWhereUniqueInput"),
		synF("connect", u+"WhereUniqueInput"),
		synF("disconnect", "Boolean"),
		synF("delete", "Boolean"),
	})
}

// rootNames are the Query field names of one model.
type rootNames struct {
	model, single, list, connection string
	version                         bool
}

// query emits the Query type.
func (s *synthesizer) query() {
	locales := gqlArg{name: "locales", typ: "[Locale!]!", def: "[" + s.locales[0] + "]"}
	stage := gqlArg{name: "stage", typ: "Stage!", def: "PUBLISHED"}
	var roots []rootNames
	for _, m := range s.models {
		roots = append(roots, rootNames{m.name, m.api.Single, m.api.List, m.api.Connection, true})
	}
	roots = append(roots,
		rootNames{"ScheduledOperation", "scheduledOperation", "scheduledOperations", "scheduledOperationsConnection", false},
		rootNames{"ScheduledRelease", "scheduledRelease", "scheduledReleases", "scheduledReleasesConnection", false},
		rootNames{"User", "user", "users", "usersConnection", false},
	)
	fields := []gqlField{{name: "node", typ: "Node", desc: "Fetches an object given its ID", args: []gqlArg{
		{name: "id", typ: "ID!"}, stage, locales,
	}}}
	for _, r := range roots {
		n := r.model
		listArgs := append([]gqlArg{{name: "where", typ: n + "WhereInput"}, {name: "orderBy", typ: n + "OrderByInput"}}, argsPage...)
		listArgs = append(listArgs, stage, locales)
		fields = append(fields,
			gqlField{name: r.single, typ: n, desc: "Retrieve a single " + r.single, args: []gqlArg{{name: "where", typ: n + "WhereUniqueInput!"}, stage, locales}},
			gqlField{name: r.list, typ: "[" + n + "!]!", desc: "Retrieve multiple " + r.list, args: listArgs},
			gqlField{name: r.connection, typ: n + "Connection!", desc: "Retrieve multiple " + r.list + " using the Relay connection interface", args: listArgs},
		)
		if r.version {
			fields = append(fields, gqlField{name: r.single + "Version", typ: "DocumentVersion", desc: "Retrieve document version",
				args: []gqlArg{{name: "where", typ: "VersionWhereInput!"}}})
		}
	}
	s.object("Query", "", "", sortRoot(fields))
}

// mutation emits the Mutation type.
func (s *synthesizer) mutation() {
	var fields []gqlField
	for _, m := range s.models {
		fields = append(fields, s.modelMutations(m)...)
	}
	fields = append(fields,
		gqlField{name: "createScheduledRelease", typ: "ScheduledRelease", desc: "Create one scheduledRelease", args: []gqlArg{{name: "data", typ: "ScheduledReleaseCreateInput!"}}},
		gqlField{name: "updateScheduledRelease", typ: "ScheduledRelease", desc: "Update one scheduledRelease", args: []gqlArg{{name: "where", typ: "ScheduledReleaseWhereUniqueInput!"}, {name: "data", typ: "ScheduledReleaseUpdateInput!"}}},
		gqlField{name: "deleteScheduledRelease", typ: "ScheduledRelease", desc: "Delete and return scheduled release", args: []gqlArg{{name: "where", typ: "ScheduledReleaseWhereUniqueInput!"}}},
		gqlField{name: "deleteScheduledOperation", typ: "ScheduledOperation", desc: "Delete and return scheduled operation", args: []gqlArg{{name: "where", typ: "ScheduledOperationWhereUniqueInput!"}}},
	)
	s.object("Mutation", "", "", sortRoot(fields))
}

// modelMutations returns the Mutation fields of one model.
func (s *synthesizer) modelMutations(m *synthModel) []gqlField {
	n, api := m.name, m.api
	where := gqlArg{name: "where", typ: n + "WhereUniqueInput!"}
	manyWhere := gqlArg{name: "where", typ: n + "ManyWhereInput"}
	to := gqlArg{name: "to", typ: "[Stage!]!", def: "[PUBLISHED]"}
	from := gqlArg{name: "from", typ: "[Stage!]!", def: "[PUBLISHED]"}
	page := []gqlArg{{name: "skip", typ: "Int"}, {name: "first", typ: "Int"}, {name: "last", typ: "Int"}, {name: "before", typ: "ID"}, {name: "after", typ: "ID"}}
	var pubLoc, unpubLoc []gqlArg
	if m.localized {
		pubLoc = []gqlArg{{name: "locales", typ: "[Locale!]"}, {name: "publishBase", typ: "Boolean", def: "true"}, {name: "withDefaultLocale", typ: "Boolean", def: "true"}}
		unpubLoc = []gqlArg{{name: "locales", typ: "[Locale!]"}, {name: "unpublishBase", typ: "Boolean", def: "true"}}
	}
	release := []gqlArg{{name: "releaseAt", typ: "DateTime"}, {name: "releaseId", typ: "String"}}
	cat := func(parts ...[]gqlArg) []gqlArg { return slices.Concat(parts...) }
	one := func(a ...gqlArg) []gqlArg { return a }
	name := func(set, def string) string {
		if set != "" {
			return set
		}
		return def
	}
	many := descUpperFirst(api.List)
	updateMany := name(api.UpdateMany, "updateMany"+many+"Connection")
	deleteMany := name(api.DeleteMany, "deleteMany"+many+"Connection")
	publishMany := name(api.PublishMany, "publishMany"+many+"Connection")
	unpublishMany := name(api.UnpublishMany, "unpublishMany"+many+"Connection")
	deprecated := func(connection string) string {
		return "Please use the new paginated many mutation (" + connection + ")"
	}
	createDeprecation := ""
	if m.asset && !s.upload {
		createDeprecation = "Asset mutations will be overhauled soon"
	}
	return []gqlField{
		{name: name(api.Create, "create"+n), typ: n, desc: "Create one " + api.Single, deprecated: createDeprecation, args: one(gqlArg{name: "data", typ: n + "CreateInput!"})},
		{name: name(api.Update, "update"+n), typ: n, desc: "Update one " + api.Single, args: one(where, gqlArg{name: "data", typ: n + "UpdateInput!"})},
		{name: name(api.Delete, "delete"+n), typ: n, desc: "Delete one " + api.Single + " from _all_ existing stages. Returns deleted document.", args: one(where)},
		{name: name(api.Upsert, "upsert"+n), typ: n, desc: "Upsert one " + api.Single, args: one(where, gqlArg{name: "upsert", typ: n + "UpsertInput!"})},
		{name: name(api.Publish, "publish"+n), typ: n, desc: "Publish one " + api.Single, args: cat(one(where, to), pubLoc)},
		{name: name(api.Unpublish, "unpublish"+n), typ: n, desc: "Unpublish one " + api.Single + " from selected stages. Unpublish either the complete document with its relations, localizations and base data or specific localizations only.", args: cat(one(where, from), unpubLoc)},
		{name: updateMany, typ: n + "Connection!", desc: "Update many " + n + " documents", args: cat(one(manyWhere, gqlArg{name: "data", typ: n + "UpdateManyInput!"}), page)},
		{name: deleteMany, typ: n + "Connection!", desc: "Delete many " + n + " documents, return deleted documents", args: cat(one(manyWhere), page)},
		{name: publishMany, typ: n + "Connection!", desc: "Publish many " + n + " documents", args: cat(one(manyWhere, gqlArg{name: "from", typ: "Stage", def: "DRAFT"}, to), page, pubLoc)},
		{name: unpublishMany, typ: n + "Connection!", desc: "Find many " + n + " documents that match criteria in specified stage and unpublish from target stages", args: cat(one(manyWhere, gqlArg{name: "stage", typ: "Stage", def: "DRAFT"}, from), page, unpubLoc)},
		{name: strings.TrimSuffix(updateMany, "Connection"), typ: "BatchPayload!", desc: "Update many " + api.List, deprecated: deprecated(updateMany), args: one(manyWhere, gqlArg{name: "data", typ: n + "UpdateManyInput!"})},
		{name: strings.TrimSuffix(deleteMany, "Connection"), typ: "BatchPayload!", desc: "Delete many " + n + " documents", deprecated: deprecated(deleteMany), args: one(manyWhere)},
		{name: strings.TrimSuffix(publishMany, "Connection"), typ: "BatchPayload!", desc: "Publish many " + n + " documents", deprecated: deprecated(publishMany), args: cat(one(manyWhere, to), pubLoc)},
		{name: strings.TrimSuffix(unpublishMany, "Connection"), typ: "BatchPayload!", desc: "Unpublish many " + n + " documents", deprecated: deprecated(unpublishMany), args: cat(one(manyWhere, from), unpubLoc)},
		{name: "schedulePublish" + n, typ: n, desc: "Schedule to publish one " + api.Single, args: cat(one(where, to), release, pubLoc)},
		{name: "scheduleUnpublish" + n, typ: n, desc: "Unpublish one " + api.Single + " from selected stages. Unpublish either the complete document with its relations, localizations and base data or specific localizations only.", args: cat(one(where, from), release, unpubLoc)},
	}
}

// sortRoot sorts root fields and their arguments by name, as Hygraph's
// generated schema files print them.
func sortRoot(fields []gqlField) []gqlField {
	for i := range fields {
		args := slices.Clone(fields[i].args)
		slices.SortFunc(args, func(a, b gqlArg) int { return strings.Compare(a.name, b.name) })
		fields[i].args = args
	}
	slices.SortFunc(fields, func(a, b gqlField) int { return strings.Compare(a.name, b.name) })
	return fields
}
