package stagesync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	// count reads the number of the model's entries (variables: none); ""
	// when the schema has no connection query for it.
	count string
	// readWhere is read narrowed by $where: the model's WhereInput (the
	// entries of a single-entry run, see SyncConfig.Entries); "" when the
	// model has no WhereInput.
	readWhere string
	// more reads the rest of a to-many relation field longer than a
	// nested read returns: variables $id: ID!, $skip: Int!, $stage: Stage!.
	more map[string]string
	// create, update and del write one entry. Variables: $data, $id.
	create, update, del string
	// idsOf maps read and readSince to a query of the same entries' ids
	// only, with the same variables: a page that cannot be read whole is
	// read in parts by them (see queryFetcher).
	idsOf map[string]string
	// draft reads the DRAFT versions of entries by id, as read does but
	// without their PUBLISHED versions, for an entry whose published
	// version cannot be read (see queryFetcher). Variables: $ids: [ID!]!,
	// $first: Int!.
	draft string
	// publish and unpublish act on a batch of entries by id. Variables:
	// $ids: [ID!]!, $first: Int!.
	publish, unpublish string
	// nested is the most entries of a to-many relation that read, readSince
	// and more ask for at a time (see nestedPage).
	nested int
	// project is the project of model, for the components of its entries
	// (see cutList).
	project *schema.Project
	// unpublishLocales unpublishes localizations only (not the base
	// document nor the default locale) of a batch of entries from
	// PUBLISHED: variables $ids, $first and $locales: [Locale!]!. Empty
	// when m has no localized field or the project one locale.
	unpublishLocales string
}

// nestedPage is the number of entries of a to-many relation read at a
// time in runs that read pages of pageSize entries: no more than a page,
// since a stage's largest page bounds nested lists too (pageSize is at
// most the largest page the stage serves), and at most maxNestedList.
func nestedPage(pageSize int) int {
	if pageSize <= 0 || pageSize > maxNestedList {
		return maxNestedList
	}
	return pageSize
}

// buildOps builds the operations of model m of project p, reading to-many
// relations nested entries at a time (see nestedPage). Models without a
// list query or create mutation cannot be synced.
func buildOps(p *schema.Project, m *schema.Model, nested int) (*modelOps, error) {
	api := m.API
	if api == nil || api.List == "" || api.Create == "" || api.Update == "" || api.CreateInput == "" || api.UpdateInput == "" {
		return nil, fmt.Errorf("model %s: the schema has no list query or create/update mutations for it", m.Name)
	}
	nested = nestedPage(nested)
	fields := selection(p, m, false, nested)
	locs := localizationSelection(p, m, nested)
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
	ops := &modelOps{model: m, read: read("", "", ""), ids: ids("", "", ""), nested: nested, project: p}
	ops.idsOf = map[string]string{ops.read: ops.ids}
	if api.WhereInput != "" {
		since, where := ", $since: DateTime!", ", where: {updatedAt_gt: $since}"
		ops.readSince = read("Since", since, where)
		ops.idsOf[ops.readSince] = ids("Since", since, where)
		in, inWhere := ", $where: "+api.WhereInput+"!", ", where: $where"
		ops.readWhere = read("Where", in, inWhere)
		ops.idsOf[ops.readWhere] = ids("Where", in, inWhere)
		ops.draft = fmt.Sprintf("query StagesyncReadDraft%s($ids: [ID!]!, $first: Int!) {\n"+
			"  items: %s(stage: DRAFT, where: {id_in: $ids}, orderBy: id_ASC, first: $first) {\n"+
			"    id createdAt updatedAt%s%s\n  }\n}", m.Name, api.List, fields, locs)
	}
	if api.Single != "" {
		ops.more = map[string]string{}
		for _, f := range writableFields(m) {
			if !f.List || !isRelation(f.Kind) {
				continue
			}
			first := fmt.Sprintf("(first: %d)", nested)
			sel := strings.Replace(fieldSelection(p, f, nested), first, fmt.Sprintf("(first: %d, skip: $skip)", nested), 1)
			ops.more[f.Name] = fmt.Sprintf("query StagesyncMore%s_%s($id: ID!, $skip: Int!, $stage: Stage!) { item: %s(where: {id: $id}, stage: $stage) { %s } }",
				m.Name, f.Name, api.Single, sel)
		}
	}
	if api.Connection != "" {
		ops.count = fmt.Sprintf("query StagesyncCount%s { items: %s(stage: DRAFT) { aggregate { count } } }", m.Name, api.Connection)
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
func localizationSelection(p *schema.Project, m *schema.Model, nested int) string {
	lf := localizedFields(m)
	if len(lf) == 0 || len(p.Locales) < 2 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, " localizations(locales: [%s], includeCurrent: false) { locale", strings.Join(p.Locales[1:], ", "))
	for _, f := range lf {
		b.WriteString(" ")
		b.WriteString(fieldSelection(p, f, nested))
	}
	b.WriteString(" }")
	return b.String()
}

// selection returns the selection of m's content fields, each preceded by
// a space. Components select their id too (inComponent) so that the
// entries of a component list can be replaced. To-many relations are
// read nested entries at a time.
func selection(p *schema.Project, m *schema.Model, inComponent bool, nested int) string {
	var b strings.Builder
	if inComponent {
		b.WriteString(" __typename id")
	}
	for _, f := range writableFields(m) {
		b.WriteString(" ")
		b.WriteString(fieldSelection(p, f, nested))
	}
	return b.String()
}

// maxNestedList is the most entries a to-many relation is read with; like
// a page, Hygraph returns few of them (10) unless asked for more, and at
// most the project's largest page (100, or less). Longer lists are read on
// with modelOps.more.
const maxNestedList = 100

// completeLists reads the rest of every to-many relation of an entry (of
// the given stage) that a nested read cut at ops.nested entries.
func completeLists(ctx context.Context, s *Stage, ops *modelOps, entry map[string]any, stage string) error {
	id, _ := entry["id"].(string)
	if id == "" {
		return nil
	}
	nested := nestedPage(ops.nested)
	for _, name := range slices.Sorted(maps.Keys(ops.more)) {
		list, ok := entry[name].([]any)
		if !ok || len(list) < nested {
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
			if len(more) < nested {
				break
			}
		}
		entry[name] = list
	}
	return nil
}

// fieldSelection selects one field in the shape the engine reads, a
// to-many relation nested entries at a time.
func fieldSelection(p *schema.Project, f *schema.Field, nested int) string {
	name := f.Name
	if f.List && isRelation(f.Kind) {
		name = fmt.Sprintf("%s(first: %d)", f.Name, nestedPage(nested))
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
		return f.Name + " {" + selection(p, c, true, nested) + " }"
	case schema.KindUnionComponent:
		var b strings.Builder
		b.WriteString(f.Name + " { __typename")
		for _, t := range f.Targets {
			if c := p.Model(t); c != nil {
				fmt.Fprintf(&b, " ... on %s {%s }", t, selection(p, c, true, nested))
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

// pubReadErrorKey marks an entry whose PUBLISHED version could not be
// read: the entry holds its DRAFT version, read on its own, and under this
// key the error of the read with the published version.
const pubReadErrorKey = "\x00pubReadError"

// readDraft reads the DRAFT version of entry id on its own, after reading
// it with its PUBLISHED version failed with err (GraphQL errors: say, a
// required relation of the published version points at an unpublished
// entry, which Hygraph cannot return). It returns the draft marked with
// pubReadErrorKey, or {"id": id, readErrorKey: err} when the draft cannot
// be read either (or ops has no query for it). Errors other than GraphQL
// errors are returned.
func readDraft(ctx context.Context, s *Stage, ops *modelOps, id string, err error) (map[string]any, error) {
	failed := map[string]any{"id": id, readErrorKey: err}
	if ops.draft == "" {
		return failed, nil
	}
	var ge *GraphQLError
	var raw json.RawMessage
	if derr := s.Do(ctx, ops.draft, map[string]any{"ids": []string{id}, "first": 1}, &raw); derr != nil {
		if errors.As(derr, &ge) && !errors.Is(derr, ErrMaybeApplied) {
			return failed, nil
		}
		return nil, fmt.Errorf("read %s: %w", ops.model.Name, derr)
	}
	var out struct{ Items []map[string]any }
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if derr := dec.Decode(&out); derr != nil {
		return nil, fmt.Errorf("read %s: %w", ops.model.Name, derr)
	}
	if len(out.Items) != 1 {
		return failed, nil
	}
	entry := out.Items[0]
	if got, _ := entry["id"].(string); got != id {
		return failed, nil
	}
	if derr := completeLists(ctx, s, ops, entry, "DRAFT"); derr != nil {
		if errors.As(derr, &ge) {
			return failed, nil
		}
		return nil, derr
	}
	entry[pubReadErrorKey] = err
	return entry, nil
}

// readError returns why a source entry as read (its draft entry and its
// published version pub) cannot be synced: the error queryFetcher marked
// it with, or a to-many relation inside a component that holds as many
// entries as a nested read returns (ops.nested). Such a list may have been
// cut and, unlike the model's own lists (see completeLists), it cannot be
// read on, so the entry cannot be synced without losing relations.
func readError(ops *modelOps, entry, pub map[string]any) error {
	if err, ok := entry[readErrorKey].(error); ok {
		return err
	}
	if ops == nil || ops.project == nil {
		return nil
	}
	nested := nestedPage(ops.nested)
	if err := cutComponentList(ops.project, ops.model, entry, nested, ops.model.Name); err != nil {
		return err
	}
	if pub != nil {
		if err := cutComponentList(ops.project, ops.model, pub, nested, ops.model.Name); err != nil {
			return fmt.Errorf("published version: %w", err)
		}
	}
	return nil
}

// cutComponentList is cutList for the components of a value of model m
// (an entry, or a component), named path.
func cutComponentList(p *schema.Project, m *schema.Model, value map[string]any, nested int, path string) error {
	for _, f := range writableFields(m) {
		if f.Kind != schema.KindComponent && f.Kind != schema.KindUnionComponent {
			continue
		}
		comps, ok := value[f.Name].([]any)
		if !ok {
			comps = []any{value[f.Name]}
		}
		for _, c := range comps {
			cv, _ := c.(map[string]any)
			if cv == nil {
				continue
			}
			t, _ := cv["__typename"].(string)
			if t == "" && len(f.Targets) > 0 {
				t = f.Targets[0]
			}
			cm := p.Model(t)
			if cm == nil {
				continue
			}
			for _, cf := range writableFields(cm) {
				if list, ok := cv[cf.Name].([]any); ok && cf.List && isRelation(cf.Kind) && len(list) >= nested {
					return fmt.Errorf("%s.%s.%s has %d entries, as many as a nested read returns: relation lists inside components cannot be read on, so it may be cut; sync with a larger page size (PageSize, at most the stage's largest page)",
						path, f.Name, cf.Name, len(list))
				}
			}
			if err := cutComponentList(p, cm, cv, nested, path+"."+f.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// pubUnread reports, for a source entry whose published version could not
// be read (see readDraft), a "read" failure of its published version, and
// returns the entry without the mark. Its draft, read on its own, is
// synced; without a published version read, the entry's destination
// published version is neither published over nor unpublished.
func (e *engine) pubUnread(model, srcID string, entry map[string]any, cur *destEntry) map[string]any {
	err, ok := entry[pubReadErrorKey].(error)
	if !ok {
		return entry
	}
	delete(entry, pubReadErrorKey)
	msg := "published version: %v; the draft was synced on its own, the published version was left as it is in the destination"
	if e.cfg.DryRun {
		msg = "published version: %v; the draft would be synced on its own, the published version left as it is in the destination"
	}
	f := Failure{Model: model, SourceID: srcID, Op: "read", Path: errorPath(err), Message: fmt.Sprintf(msg, err)}
	if cur != nil {
		f.DestID = cur.id
	}
	e.report.fail(f)
	return entry
}
