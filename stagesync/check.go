package stagesync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/stagesync/stagesync/schema"
)

// maxPageSize is the largest page Hygraph serves (on projects created since
// mid-2022; older ones allow more, but the engine does not learn a stage's
// own limit, so it holds to the one every project accepts).
const maxPageSize = 100

// ConfigError is returned by Sync, before anything is read or written,
// when its SyncConfig names models or fields that a stage does not have,
// matches by a field that is not unique, gives a default the destination
// would refuse, or holds an invalid setting. It lists every problem.
type ConfigError struct {
	Problems []ConfigProblem
}

// ConfigProblem is one problem of a SyncConfig.
type ConfigProblem struct {
	// Option is the SyncConfig field: "Models", "Match", "Defaults",
	// "Handled" or "PageSize".
	Option string
	// Model and Field are what the option names ("" when it names none).
	Model, Field string
	// Value is the option's value for that model or field, as given (the
	// match field, the default value, the page size).
	Value string
	// Message says what is wrong, naming the stage; Fix what to do.
	Message, Fix string
}

// line renders the problem as "Option Model.Field: message Fix: fix".
func (p ConfigProblem) line() string {
	var b strings.Builder
	b.WriteString(p.Option)
	name := p.Model
	if p.Field != "" {
		if name != "" {
			name += "."
		}
		name += p.Field
	}
	if name != "" {
		b.WriteString(" " + name)
	}
	b.WriteString(": " + p.Message)
	if p.Fix != "" {
		b.WriteString(" Fix: " + p.Fix)
	}
	return b.String()
}

// Error lists every problem on its own line.
func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stagesync: configuration: %d problem(s), nothing was read or written:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.line())
	}
	return b.String()
}

// checkConfig checks the models, fields and values cfg names against the
// schemas of both stages, and its settings, and returns a *ConfigError
// listing every problem, or nil.
func checkConfig(cfg *SyncConfig, src, dst *schema.Project) error {
	c := &configCheck{src: src, dst: dst, srcName: cfg.Source.String(), dstName: cfg.Dest.String()}
	for _, m := range cfg.Models {
		p := ConfigProblem{Option: "Models", Model: m}
		if strings.TrimSpace(m) == "" {
			p.Message, p.Fix = "an empty model name.", "name each model to copy, or none to copy every model."
			c.add(p)
			continue
		}
		c.documentModel(p)
	}
	for _, m := range slices.Sorted(maps.Keys(cfg.Match)) {
		c.match(m, cfg.Match[m])
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Defaults)) {
		c.defaultValue(k, cfg.Defaults[k])
	}
	for _, h := range cfg.Handled {
		c.handled(h)
	}
	switch {
	case cfg.PageSize < 0:
		c.add(ConfigProblem{Option: "PageSize", Value: fmt.Sprint(cfg.PageSize),
			Message: fmt.Sprintf("page size %d is negative.", cfg.PageSize),
			Fix:     fmt.Sprintf("give a page size from 1 to %d, or 0 for the default (%d).", maxPageSize, DefaultPageSize)})
	case cfg.PageSize > maxPageSize:
		c.add(ConfigProblem{Option: "PageSize", Value: fmt.Sprint(cfg.PageSize),
			Message: fmt.Sprintf("page size %d is above %d, the largest page Hygraph serves.", cfg.PageSize, maxPageSize),
			Fix:     fmt.Sprintf("give a page size from 1 to %d, or 0 for the default (%d).", maxPageSize, DefaultPageSize)})
	}
	if len(c.problems) == 0 {
		return nil
	}
	return &ConfigError{Problems: c.problems}
}

// configCheck collects the problems of one SyncConfig.
type configCheck struct {
	src, dst         *schema.Project
	srcName, dstName string
	problems         []ConfigProblem
}

func (c *configCheck) add(p ConfigProblem) { c.problems = append(c.problems, p) }

// namedProject is a stage's project and the stage's name, for messages.
type namedProject struct {
	p    *schema.Project
	name string
}

// stages returns the source's and the destination's projects.
func (c *configCheck) stages() []namedProject {
	return []namedProject{{c.src, c.srcName}, {c.dst, c.dstName}}
}

// documentModel reports p (with its Message and Fix filled) when p.Model
// is not a document model of both stages, and returns whether it is. What
// is the same in both stages is one problem.
func (c *configCheck) documentModel(p ConfigProblem) bool {
	const componentFix = "name the models that use it: components are copied with them."
	status := func(m *schema.Model) string {
		switch {
		case m == nil:
			return "missing"
		case m.Component:
			return "component"
		}
		return ""
	}
	ss, ds := status(c.src.Model(p.Model)), status(c.dst.Model(p.Model))
	switch {
	case ss == "" && ds == "":
		return true
	case ss == "missing" && ds == "missing":
		p.Message = fmt.Sprintf("no model %q in either %s or %s.", p.Model, c.srcName, c.dstName)
		p.Fix = modelFix(c.src, p.Model)
		c.add(p)
	case ss == "component" && ds == "component":
		p.Message, p.Fix = fmt.Sprintf("%q is a component in both stages, not a model.", p.Model), componentFix
		c.add(p)
	default:
		for i, st := range c.stages() {
			switch w := []string{ss, ds}[i]; w {
			case "missing":
				p.Message, p.Fix = fmt.Sprintf("no model %q in %s.", p.Model, st.name), modelFix(st.p, p.Model)
				c.add(p)
			case "component":
				p.Message, p.Fix = fmt.Sprintf("%q is a component in %s, not a model.", p.Model, st.name), componentFix
				c.add(p)
			}
		}
	}
	return false
}

// modelFix suggests a model of p for an unknown name.
func modelFix(p *schema.Project, name string) string {
	var names []string
	for _, m := range p.Models {
		if !m.System && m.Writable {
			names = append(names, m.Name)
		}
		if strings.EqualFold(m.Name, name) {
			return fmt.Sprintf("did you mean %q? Model names are case-sensitive.", m.Name)
		}
	}
	return "use one of its models: " + strings.Join(names, ", ") + "."
}

// fieldFix suggests a field of m for an unknown name.
func fieldFix(m *schema.Model, name string) string {
	var names []string
	for _, f := range m.ContentFields() {
		names = append(names, f.Name)
		if strings.EqualFold(f.Name, name) {
			return fmt.Sprintf("did you mean %q? Field names are case-sensitive.", f.Name)
		}
	}
	return fmt.Sprintf("use one of the fields of %s: %s.", m.Name, strings.Join(names, ", "))
}

// match checks that field is unique in model in both stages.
func (c *configCheck) match(model, field string) {
	p := ConfigProblem{Option: "Match", Model: model, Field: field, Value: field}
	if model == "" || field == "" {
		p.Message, p.Fix = "want a model and a field.", `map a model to one of its unique fields, e.g. "Hotel" → "slug".`
		c.add(p)
		return
	}
	if !c.documentModel(p) {
		return
	}
	sf, df := c.src.Model(model).Field(field), c.dst.Model(model).Field(field)
	switch {
	case sf == nil && df == nil:
		p.Message, p.Fix = fmt.Sprintf("model %s has no field %q in either stage.", model, field), fieldFix(c.src.Model(model), field)
		c.add(p)
		return
	case sf == nil || df == nil:
		st, m := c.srcName, c.src.Model(model)
		if df == nil {
			st, m = c.dstName, c.dst.Model(model)
		}
		p.Message, p.Fix = fmt.Sprintf("model %s has no field %q in %s.", model, field, st), fieldFix(m, field)
		c.add(p)
		return
	case sf.Unique && df.Unique:
		return
	}
	where := "in either stage"
	switch {
	case !sf.Unique && df.Unique:
		where = "in " + c.srcName
	case sf.Unique && !df.Unique:
		where = "in " + c.dstName
	}
	p.Message = fmt.Sprintf("%s.%s is not unique %s: matching by it could pair unrelated entries and overwrite one with another.",
		model, field, where)
	p.Fix = uniqueFix(c.src.Model(model), c.dst.Model(model))
	c.add(p)
}

// uniqueFix names the content fields unique in both a and b.
func uniqueFix(a, b *schema.Model) string {
	var names []string
	for _, f := range a.ContentFields() {
		if g := b.Field(f.Name); f.Unique && g != nil && g.Unique {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf("%s has no field unique in both stages: leave it out of Match (entries are matched by the identity map and by id).", a.Name)
	}
	return fmt.Sprintf("match by a field unique in both stages (%s), or give %s no match field (entries are then matched by the identity map and by id).", strings.Join(names, ", "), a.Name)
}

// handled checks a "Model.field" or "Model.*" of Handled.
func (c *configCheck) handled(key string) {
	model, field, ok := strings.Cut(key, ".")
	p := ConfigProblem{Option: "Handled", Model: model, Field: field}
	if !ok || model == "" || field == "" {
		p.Model, p.Field = "", key
		p.Message, p.Fix = fmt.Sprintf("%q is not Model.field.", key), `name a field as "Model.field", or every field of a model as "Model.*".`
		c.add(p)
		return
	}
	// Handled may name a component's field too.
	sm, dm := c.src.Model(model), c.dst.Model(model)
	switch {
	case sm == nil || dm == nil:
		where, pr := "either "+c.srcName+" or "+c.dstName, c.src
		switch {
		case sm != nil:
			where, pr = c.dstName, c.dst
		case dm != nil:
			where = c.srcName
		}
		p.Message, p.Fix = fmt.Sprintf("no model or component %q in %s.", model, where), modelFix(pr, model)
	case field == "*" || sm.Field(field) != nil || dm.Field(field) != nil:
		return
	default:
		p.Message = fmt.Sprintf("model %s has no field %q in either stage.", model, field)
		p.Fix = fieldFix(sm, field)
	}
	c.add(p)
}

// defaultValue checks a default: the model is synced from the source, and
// the value is one the destination's field accepts.
func (c *configCheck) defaultValue(key string, v any) {
	model, field, ok := strings.Cut(key, ".")
	p := ConfigProblem{Option: "Defaults", Model: model, Field: field, Value: jsonString(v)}
	if !ok || model == "" || field == "" {
		p.Model, p.Field = "", key
		p.Message, p.Fix = fmt.Sprintf("%q is not Model.field.", key), `key each default by "Model.field".`
		c.add(p)
		return
	}
	if !c.documentModel(p) {
		return
	}
	f := c.dst.Model(model).Field(field)
	switch {
	case f == nil:
		p.Message, p.Fix = fmt.Sprintf("model %s has no field %q in %s.", model, field, c.dstName), fieldFix(c.dst.Model(model), field)
	case f.System:
		p.Message, p.Fix = fmt.Sprintf("%s.%s is a system field: the stage sets it.", model, field), "give defaults for content fields only."
	default:
		why := c.valueProblem(f, v)
		if why == "" {
			return
		}
		p.Message = fmt.Sprintf("%s.%s is %s in %s: %s.", model, field, f.Type, c.dstName, why)
		p.Fix = valueFix(c.dst, f)
	}
	c.add(p)
}

// baseType returns the named type of a printed GraphQL type ("[String!]!" → "String").
func baseType(t string) string { return strings.Trim(t, "[]!") }

// valueProblem says why v is not a value for f, "" when it is.
func (c *configCheck) valueProblem(f *schema.Field, v any) string {
	if v == nil {
		return "null fills nothing"
	}
	if f.List {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return fmt.Sprintf("%s is not a list", jsonString(v))
		}
		for i := range rv.Len() {
			x := rv.Index(i).Interface()
			if x == nil {
				return fmt.Sprintf("item %d is null", i)
			}
			if why := c.itemProblem(f, x); why != "" {
				return fmt.Sprintf("item %d: %s", i, why)
			}
		}
		return ""
	}
	return c.itemProblem(f, v)
}

// itemProblem says why v is not a value of f's type (one item of a list
// field), "" when it is.
func (c *configCheck) itemProblem(f *schema.Field, v any) string {
	show := jsonString(v)
	switch f.Kind {
	case schema.KindJSON:
		if _, err := json.Marshal(v); err != nil {
			return fmt.Sprintf("%s is not JSON: %v", show, err)
		}
		return ""
	case schema.KindEnum:
		s, ok := v.(string)
		e := c.dst.Enum(f.Targets[0])
		if !ok || e == nil || !slices.Contains(e.Values, s) {
			return fmt.Sprintf("%s is not a value of the enum %s", show, f.Targets[0])
		}
		return ""
	case schema.KindLocation:
		m, _ := v.(map[string]any)
		if _, ok := anyNumber(m["latitude"]); !ok {
			return fmt.Sprintf("%s is not a location {\"latitude\": number, \"longitude\": number}", show)
		}
		if _, ok := anyNumber(m["longitude"]); !ok {
			return fmt.Sprintf("%s is not a location {\"latitude\": number, \"longitude\": number}", show)
		}
		return ""
	case schema.KindColor:
		m, _ := v.(map[string]any)
		if s, ok := m["hex"].(string); !ok || !strings.HasPrefix(s, "#") {
			return fmt.Sprintf("%s is not a color {\"hex\": \"#rrggbb\"}", show)
		}
		return ""
	case schema.KindRichText:
		m, _ := v.(map[string]any)
		if raw, ok := m["raw"].(map[string]any); ok {
			m = raw
		}
		if _, ok := m["children"].([]any); !ok {
			return fmt.Sprintf("%s is not rich text {\"children\": [...]}", show)
		}
		return ""
	case schema.KindScalar:
		return scalarProblem(baseType(f.Type), v)
	}
	return fmt.Sprintf("a %s field (%s) cannot take a default", f.Kind, baseType(f.Type))
}

// scalarProblem says why v is not a value of the scalar type t, "" when it is.
func scalarProblem(t string, v any) string {
	show := jsonString(v)
	s, isString := v.(string)
	n, isNumber := anyNumber(v)
	switch t {
	case "String", "Hex", "RGBAHue", "RGBATransparency":
		if t == "String" && !isString {
			return fmt.Sprintf("%s is not a string", show)
		}
		if !isString && !isNumber {
			return fmt.Sprintf("%s is not a %s", show, t)
		}
	case "ID":
		if !isString && !(isNumber && n == math.Trunc(n)) {
			return fmt.Sprintf("%s is not an ID", show)
		}
	case "Int":
		if !isNumber || n != math.Trunc(n) || n < math.MinInt32 || n > math.MaxInt32 {
			return fmt.Sprintf("%s is not an Int (a whole number of 32 bits)", show)
		}
	case "Long":
		if !isNumber || n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return fmt.Sprintf("%s is not a Long (a whole number)", show)
		}
	case "Float":
		if !isNumber || math.IsInf(n, 0) || math.IsNaN(n) {
			return fmt.Sprintf("%s is not a Float", show)
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%s is not a Boolean (true or false)", show)
		}
	case "DateTime":
		if t, ok := v.(time.Time); ok && !t.IsZero() {
			return ""
		}
		if _, err := time.Parse(time.RFC3339Nano, s); !isString || err != nil {
			return fmt.Sprintf("%s is not a DateTime (RFC 3339, e.g. \"2024-01-31T12:00:00Z\")", show)
		}
	case "Date":
		if _, err := time.Parse(time.DateOnly, s); !isString || err != nil {
			return fmt.Sprintf("%s is not a Date (YYYY-MM-DD)", show)
		}
	default:
		return fmt.Sprintf("a field of the scalar type %s cannot take a default", t)
	}
	return ""
}

// anyNumber returns v as a float64 when it is a Go or JSON number.
func anyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := x.Float64()
		return f, err == nil
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return reflect.ValueOf(x).Convert(reflect.TypeFor[float64]()).Float(), true
	}
	return 0, false
}

// valueFix says what value f takes.
func valueFix(dst *schema.Project, f *schema.Field) string {
	t := baseType(f.Type)
	var want string
	switch f.Kind {
	case schema.KindEnum:
		if e := dst.Enum(t); e != nil {
			want = "one of " + strings.Join(e.Values, ", ")
		}
	case schema.KindScalar:
		switch t {
		case "String", "ID":
			want = `a string; on the command line quote it as JSON, e.g. --default 'Model.field="123"'`
		case "Int", "Long":
			want = "a whole number"
		case "Float":
			want = "a number"
		case "Boolean":
			want = "true or false"
		case "DateTime":
			want = `an RFC 3339 time such as "2024-01-31T12:00:00Z"`
		case "Date":
			want = `a date such as "2024-01-31"`
		}
	case schema.KindRelation, schema.KindUnionRelation, schema.KindAsset, schema.KindComponent, schema.KindUnionComponent, schema.KindSystem:
		return "relations, assets and components cannot take a default: fill the field in a Transform, or list it in Handled."
	}
	if want == "" {
		return "fill the field in a Transform instead."
	}
	if f.List {
		want = "a list whose items are " + want
	}
	return "give " + want + "."
}

// requiredMissing says why an entry cannot be written when a required
// relation field of m (written now, not in the relation pass) has no
// target in the destination: a to-one whose target is missing, or a
// to-many all of whose targets are. "" when it can be written.
func requiredMissing(m *schema.Model, content map[string]any, missing []missingRef, deferred map[string]bool) string {
	byField := map[string][]missingRef{}
	for _, r := range missing {
		byField[r.Field] = append(byField[r.Field], r)
	}
	for _, name := range slices.Sorted(maps.Keys(byField)) {
		f := m.Field(name)
		if f == nil || !f.Required || deferred[name] {
			continue
		}
		refs := byField[name]
		if f.List {
			if list, _ := content[name].([]any); len(list) > len(refs) {
				continue // some targets exist
			}
		}
		var ids []string
		for _, r := range refs {
			ids = append(ids, r.Model+" "+r.ID)
		}
		return fmt.Sprintf("%s is required, and its target %s has no entry in the destination (its own sync failed or it is not in the source); the entry is not written", name, strings.Join(ids, ", "))
	}
	return ""
}

// ErrNotConfirmed is returned by Sync when SyncConfig.Confirm refused the
// plan: nothing was written.
var ErrNotConfirmed = errors.New("stagesync: the plan was not confirmed; nothing was written")

// planFirst makes and checks the whole plan of a real run before its first
// write, when the run is to confirm it or may delete (SyncConfig.Confirm,
// Mirror): a dry pass, which reads both stages as the run will and writes
// nothing, plans every entry; then
//   - its refusals stop the run (a pre-flight, a configuration, a systemic
//     failure, a read that failed), and so do deletes the guard refuses
//     for their number: a mirror run that would delete more than allowed,
//     or every entry of a model, has the wrong source, whose entries must
//     not be written either;
//   - Confirm is asked with the plan, and ConfirmDelete with its deletes;
//   - the run may delete only the entries the plan deleted (allowDel):
//     a destination entry the plan did not show deleted never is.
//
// The state is opened here, once for both passes (and locked for both).
// A single-entry run and a dry run do not plan first: a single-entry run
// deletes only what the source reported deleted.
//
// When the run stops, it returns the planning pass's report and plan.
func (e *engine) planFirst(ctx context.Context) (*Report, *Plan, error) {
	cfg := &e.cfg
	if cfg.DryRun || cfg.Entries != nil || cfg.Confirm == nil && !cfg.Mirror {
		return nil, nil, nil
	}
	if cfg.StatePath != "" {
		st, err := LoadState(cfg.StatePath, cfg.Source.Endpoint(), cfg.Dest.Endpoint())
		if err != nil {
			return nil, nil, err
		}
		e.opened = st
		cfg.State, cfg.StatePath = st, ""
	}
	dry := *cfg
	dry.DryRun, dry.Verify, dry.MaxRounds = true, false, 1
	dry.Confirm, dry.ConfirmDelete, dry.Writer = nil, nil, nil
	dry.Progress = planEvents(e)
	limit := cfg.PlanLimit
	switch {
	case limit == 0 && cfg.Confirm != nil:
		limit = -1 // Confirm gets the whole plan
	case limit == 0:
		limit = defaultPlanLimit // only the deletes are looked at, and they are kept apart
	}
	p := &engine{cfg: dry, report: newReport(), plan: newPlan(limit)}
	defer p.close()
	_, err := p.pass(ctx)
	if guard, ok := errors.AsType[*DeleteGuardError](err); ok && !guard.failures {
		// The apply pass would refuse the same deletes; it would write
		// the wrong source's entries first.
		guard.Stopped = true
		return p.report, p.plan, guard
	}
	if err != nil && !isDeleteGuard(err) {
		return p.report, p.plan, err
	}
	if cfg.Confirm != nil && !cfg.Confirm(p.plan) {
		return p.report, p.plan, ErrNotConfirmed
	}
	e.allowDel = map[destRef]bool{}
	if len(p.dels) == 0 {
		return nil, nil, nil
	}
	if ask := cfg.ConfirmDelete; ask != nil {
		// Asked once, before the first write, unless the guard refused
		// the deletes already (entries failed in the plan); the apply
		// pass gets the answer: a no refuses the deletes it still finds.
		yes := err == nil && ask(p.dels)
		cfg.ConfirmDelete = func([]Deletion) bool { return yes }
	}
	for _, d := range p.dels {
		for _, id := range d.DestIDs {
			e.allowDel[destRef{model: d.Model, id: id}] = true
		}
	}
	return nil, nil, nil
}

// planEvents passes the events of the planning pass to the run's sink as
// PhasePlan: a model's entries planned (the pass's PhaseWrite); the rest
// of what the planning pass does is the apply pass's to show.
func planEvents(e *engine) func(Event) {
	if e.cfg.Progress == nil {
		return nil
	}
	return func(ev Event) {
		switch ev.Phase {
		case PhasePreflight, PhaseWrite:
			ev.Phase = PhasePlan
		default:
			return
		}
		e.cfg.Progress(ev) // the planning pass serializes its events
	}
}
