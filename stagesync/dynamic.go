package stagesync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stagesync/stagesync/schema"
)

// modelOps are the GraphQL operations the dynamic mode sends for one model,
// built at run time from schema discovery.
type modelOps struct {
	model *schema.Model
	// read pages through the model in DRAFT, ordered by id, with every
	// content field, the non-default localizations and the PUBLISHED
	// version. Variables: $first: Int!, $after: String.
	read string
	// readSince is read narrowed to the entries updated after $since:
	// DateTime!. ids reads only the ids, latest the greatest updatedAt
	// (variables: none).
	readSince, ids, latest string
	// more reads the rest of a to-many relation field longer than a
	// nested read returns: variables $id: ID!, $skip: Int!, $stage: Stage!.
	more map[string]string
	// create, update and del write one entry. Variables: $data, $id.
	create, update, del string
	// idsOf maps read and readSince to a query of the same entries' ids
	// only, with the same variables: a page that cannot be read whole is
	// read in parts by them (see queryFetcher).
	idsOf map[string]string
	// publish and unpublish act on a batch of entries by id. Variables:
	// $ids: [ID!]!, $first: Int!.
	publish, unpublish string
	// unpublishLocales unpublishes localizations only (not the base
	// document nor the default locale) of a batch of entries from
	// PUBLISHED: variables $ids, $first and $locales: [Locale!]!. Empty
	// when m has no localized field or the project one locale.
	unpublishLocales string
}

// buildOps builds the operations of model m of project p. Models without
// a list query or create mutation cannot be synced.
func buildOps(p *schema.Project, m *schema.Model) (*modelOps, error) {
	api := m.API
	if api == nil || api.List == "" || api.Create == "" || api.Update == "" || api.CreateInput == "" || api.UpdateInput == "" {
		return nil, fmt.Errorf("model %s: the schema has no list query or create/update mutations for it", m.Name)
	}
	fields := selection(p, m, false)
	locs := localizationSelection(p, m)
	ids := func(name, vars, where string) string {
		return fmt.Sprintf("query StagesyncIDs%s%s($first: Int!, $after: String%s) { items: %s(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after%s) { id } }",
			m.Name, name, vars, api.List, where)
	}
	read := func(name, vars, where string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "query StagesyncRead%s%s($first: Int!, $after: String%s) {\n", m.Name, name, vars)
		fmt.Fprintf(&b, "  items: %s(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after%s) {\n", api.List, where)
		fmt.Fprintf(&b, "    id createdAt updatedAt%s%s\n", fields, locs)
		fmt.Fprintf(&b, "    documentInStages(stages: [PUBLISHED]) { id publishedAt updatedAt%s%s }\n", fields, locs)
		b.WriteString("  }\n}")
		return b.String()
	}
	ops := &modelOps{model: m, read: read("", "", ""), ids: ids("", "", "")}
	ops.idsOf = map[string]string{ops.read: ops.ids}
	if api.WhereInput != "" {
		since, where := ", $since: DateTime!", ", where: {updatedAt_gt: $since}"
		ops.readSince = read("Since", since, where)
		ops.idsOf[ops.readSince] = ids("Since", since, where)
	}
	if api.Single != "" {
		ops.more = map[string]string{}
		for _, f := range writableFields(m) {
			if !f.List || !isRelation(f.Kind) {
				continue
			}
			first := fmt.Sprintf("(first: %d)", maxNestedList)
			sel := strings.Replace(fieldSelection(p, f), first, fmt.Sprintf("(first: %d, skip: $skip)", maxNestedList), 1)
			ops.more[f.Name] = fmt.Sprintf("query StagesyncMore%s_%s($id: ID!, $skip: Int!, $stage: Stage!) { item: %s(where: {id: $id}, stage: $stage) { %s } }",
				m.Name, f.Name, api.Single, sel)
		}
	}
	ops.latest = fmt.Sprintf("query StagesyncLatest%s { items: %s(stage: DRAFT, orderBy: updatedAt_DESC, first: 1) { id updatedAt } }", m.Name, api.List)
	ops.create = fmt.Sprintf("mutation StagesyncCreate%s($data: %s!) { %s(data: $data) { id } }", m.Name, api.CreateInput, api.Create)
	ops.update = fmt.Sprintf("mutation StagesyncUpdate%s($id: ID!, $data: %s!) { %s(where: {id: $id}, data: $data) { id } }", m.Name, api.UpdateInput, api.Update)
	if api.Delete != "" {
		ops.del = fmt.Sprintf("mutation StagesyncDelete%s($id: ID!) { %s(where: {id: $id}) { id } }", m.Name, api.Delete)
	}
	locales := ""
	if len(localizedFields(m)) > 0 && len(p.Locales) > 0 {
		locales = ", locales: [" + strings.Join(p.Locales, ", ") + "]"
	}
	if api.PublishMany != "" {
		ops.publish = fmt.Sprintf("mutation StagesyncPublish%s($ids: [ID!]!, $first: Int!) { %s(where: {id_in: $ids}, first: $first, to: [PUBLISHED]%s) { edges { node { id } } } }",
			m.Name, api.PublishMany, locales)
	}
	if api.UnpublishMany != "" {
		ops.unpublish = fmt.Sprintf("mutation StagesyncUnpublish%s($ids: [ID!]!, $first: Int!) { %s(where: {id_in: $ids}, first: $first, from: [PUBLISHED]) { edges { node { id } } } }",
			m.Name, api.UnpublishMany)
		if len(localizedFields(m)) > 0 && len(p.Locales) > 1 {
			ops.unpublishLocales = fmt.Sprintf("mutation StagesyncUnpublishLocales%s($ids: [ID!]!, $first: Int!, $locales: [Locale!]!) { %s(where: {id_in: $ids}, first: $first, from: [PUBLISHED], locales: $locales, unpublishBase: false) { edges { node { id } } } }",
				m.Name, api.UnpublishMany)
		}
	}
	return ops, nil
}

// localizedFields returns the localized content fields of m.
func localizedFields(m *schema.Model) []*schema.Field {
	var out []*schema.Field
	for _, f := range writableFields(m) {
		if f.Localized {
			out = append(out, f)
		}
	}
	return out
}

// localizationSelection selects the non-default localizations of m's
// localized fields, or "" when m has none or the project one locale.
func localizationSelection(p *schema.Project, m *schema.Model) string {
	lf := localizedFields(m)
	if len(lf) == 0 || len(p.Locales) < 2 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, " localizations(locales: [%s], includeCurrent: false) { locale", strings.Join(p.Locales[1:], ", "))
	for _, f := range lf {
		b.WriteString(" ")
		b.WriteString(fieldSelection(p, f))
	}
	b.WriteString(" }")
	return b.String()
}

// selection returns the selection of m's content fields, each preceded by
// a space. Components select their id too (inComponent) so that the
// entries of a component list can be replaced.
func selection(p *schema.Project, m *schema.Model, inComponent bool) string {
	var b strings.Builder
	if inComponent {
		b.WriteString(" __typename id")
	}
	for _, f := range writableFields(m) {
		b.WriteString(" ")
		b.WriteString(fieldSelection(p, f))
	}
	return b.String()
}

// maxNestedList is the most entries a to-many relation is read with; like
// a page, Hygraph returns few of them (10) unless asked for more, and at
// most 100. Longer lists are read on with modelOps.more.
const maxNestedList = 100

// completeLists reads the rest of every to-many relation of an entry (of
// the given stage) that a nested read cut at maxNestedList.
func completeLists(ctx context.Context, s *Stage, ops *modelOps, entry map[string]any, stage string) error {
	id, _ := entry["id"].(string)
	if id == "" {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(ops.more)) {
		list, ok := entry[name].([]any)
		if !ok || len(list) < maxNestedList {
			continue
		}
		for {
			var out struct{ Item map[string]any }
			vars := map[string]any{"id": id, "skip": len(list), "stage": stage}
			if err := s.Do(ctx, ops.more[name], vars, &out); err != nil {
				return fmt.Errorf("read %s %s.%s: %w", ops.model.Name, id, name, err)
			}
			more, _ := out.Item[name].([]any)
			list = append(list, more...)
			if len(more) < maxNestedList {
				break
			}
		}
		entry[name] = list
	}
	return nil
}

// fieldSelection selects one field in the shape the engine reads.
func fieldSelection(p *schema.Project, f *schema.Field) string {
	name := f.Name
	if f.List && isRelation(f.Kind) {
		name = fmt.Sprintf("%s(first: %d)", f.Name, maxNestedList)
	}
	switch f.Kind {
	case schema.KindRelation, schema.KindAsset:
		return name + " { id }"
	case schema.KindUnionRelation:
		var b strings.Builder
		b.WriteString(name + " { __typename")
		for _, t := range f.Targets {
			fmt.Fprintf(&b, " ... on %s { id }", t)
		}
		b.WriteString(" }")
		return b.String()
	case schema.KindComponent:
		c := p.Model(f.Targets[0])
		if c == nil {
			return f.Name + " { __typename id }"
		}
		return f.Name + " {" + selection(p, c, true) + " }"
	case schema.KindUnionComponent:
		var b strings.Builder
		b.WriteString(f.Name + " { __typename")
		for _, t := range f.Targets {
			if c := p.Model(t); c != nil {
				fmt.Fprintf(&b, " ... on %s {%s }", t, selection(p, c, true))
			}
		}
		b.WriteString(" }")
		return b.String()
	case schema.KindRichText:
		return f.Name + " { raw }"
	case schema.KindLocation:
		return f.Name + " { latitude longitude }"
	case schema.KindColor:
		return f.Name + " { hex }"
	default:
		return f.Name
	}
}
