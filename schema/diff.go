package schema

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// Severity says what a Change means for a content sync.
type Severity string

// The severities, from worst to mildest.
const (
	// SeverityBlocks: the sync cannot run until the schema changes.
	SeverityBlocks Severity = "blocks"
	// SeverityNeedsTransform: the sync can run once a transform or a default
	// handles the change.
	SeverityNeedsTransform Severity = "needs-transform"
	// SeverityInfo: worth knowing, nothing to do.
	SeverityInfo Severity = "info"
)

// ChangeClass names the situation a Change reports; there is one class per
// situation.
type ChangeClass string

// The change classes.
const (
	// ClassModelMissing: a model or component of the source is not in the
	// destination (blocks).
	ClassModelMissing ChangeClass = "model-missing"
	// ClassFieldMissing: a field of the source is not in the destination;
	// its content would be dropped unless a transform drops or moves it
	// (needs-transform).
	ClassFieldMissing ChangeClass = "field-missing"
	// ClassTypeChanged: the field's named type or kind differs (blocks).
	ClassTypeChanged ChangeClass = "type-changed"
	// ClassListChanged: the field is a list on one side only (blocks).
	ClassListChanged ChangeClass = "list-changed"
	// ClassRelationTargetChanged: a relation, asset, component or union
	// field of the source may point at a type the destination's field cannot
	// hold (blocks).
	ClassRelationTargetChanged ChangeClass = "relation-target-changed"
	// ClassEnumValueMissing: an enum value of the source is not in the
	// destination's enum (needs-transform: map the value).
	ClassEnumValueMissing ChangeClass = "enum-value-missing"
	// ClassRequiredInDestination: the required field gotcha — the field is
	// required in the destination but optional or absent in the source
	// (needs-transform: declare a default or fill it in a transform).
	ClassRequiredInDestination ChangeClass = "required-in-destination"
	// ClassLocalizationChanged: the field is localized on one side only.
	// Localized in the source but not in the destination needs a transform
	// (only one locale's value can be kept); localized only in the
	// destination is info (the value goes to the default locale).
	ClassLocalizationChanged ChangeClass = "localization-changed"
	// ClassModelAdded: a model or component only the destination has (info).
	ClassModelAdded ChangeClass = "model-added"
	// ClassFieldAdded: an optional field only the destination has (info).
	ClassFieldAdded ChangeClass = "field-added"
)

// Change is one difference between two stages' content models that matters
// for a sync from the first to the second.
type Change struct {
	Severity Severity    `json:"severity"`
	Class    ChangeClass `json:"class"`
	// Model is the model or component the change is about.
	Model string `json:"model"`
	// Field is the field, empty for model-level changes.
	Field string `json:"field,omitempty"`
	// Message is one line naming the model, the field and the fix.
	Message string `json:"message"`
	// Fix says what would handle the change.
	Fix string `json:"fix"`
}

// Diff compares the content models of two stages for a sync from "from" to
// "to". It compares content models, components and their non-system fields;
// system models (Asset, User, ...) are compared for their custom fields only,
// and a system model missing on either side is not reported. The result is
// ordered by severity (blocks first), then model, field and class.
func Diff(from, to *Project) []Change {
	d := differ{from: from, to: to}
	d.models(from.Models, to.Models, false)
	d.models(from.Components, to.Components, true)
	sort.SliceStable(d.out, func(i, j int) bool {
		a, b := d.out[i], d.out[j]
		if ra, rb := severityRank(a.Severity), severityRank(b.Severity); ra != rb {
			return ra < rb
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.Message < b.Message
	})
	return d.out
}

// Blocking returns the changes that block a sync.
func Blocking(changes []Change) []Change {
	var out []Change
	for _, c := range changes {
		if c.Severity == SeverityBlocks {
			out = append(out, c)
		}
	}
	return out
}

// FormatChanges writes changes in human form, one line each, grouped under
// their severity, followed by a one-line summary.
func FormatChanges(w io.Writer, changes []Change) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "no changes")
		return
	}
	counts := map[Severity]int{}
	var last Severity
	for i, c := range changes {
		if i == 0 || c.Severity != last {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s:\n", c.Severity)
			last = c.Severity
		}
		counts[c.Severity]++
		fmt.Fprintf(w, "  [%s] %s\n", c.Class, c.Message)
	}
	fmt.Fprintf(w, "\n%d blocking, %d needing a transform, %d informational\n",
		counts[SeverityBlocks], counts[SeverityNeedsTransform], counts[SeverityInfo])
}

func severityRank(s Severity) int {
	switch s {
	case SeverityBlocks:
		return 0
	case SeverityNeedsTransform:
		return 1
	}
	return 2
}

type differ struct {
	from, to *Project
	out      []Change
}

func (d *differ) add(sev Severity, class ChangeClass, model, field, msg, fix string) {
	d.out = append(d.out, Change{Severity: sev, Class: class, Model: model, Field: field, Message: msg + ": " + fix, Fix: fix})
}

func (d *differ) models(from, to []*Model, component bool) {
	what := "model"
	if component {
		what = "component"
	}
	toByName := map[string]*Model{}
	for _, m := range to {
		toByName[m.Name] = m
	}
	fromByName := map[string]*Model{}
	for _, a := range from {
		fromByName[a.Name] = a
		b := toByName[a.Name]
		if b == nil {
			if a.System {
				continue
			}
			d.add(SeverityBlocks, ClassModelMissing, a.Name, "",
				fmt.Sprintf("%s %s is missing in the destination", what, a.Name),
				fmt.Sprintf("add %s %s to the destination or leave it out of the sync", what, a.Name))
			continue
		}
		d.fields(a, b)
	}
	for _, b := range to {
		if fromByName[b.Name] != nil || b.System {
			continue
		}
		d.add(SeverityInfo, ClassModelAdded, b.Name, "",
			fmt.Sprintf("%s %s is only in the destination", what, b.Name),
			"nothing to copy; it stays empty")
	}
}

func (d *differ) fields(a, b *Model) {
	m := a.Name
	transform := m + " transform"
	for _, fa := range a.ContentFields() {
		fb := b.Field(fa.Name)
		name := m + "." + fa.Name
		if fb == nil || fb.System {
			d.add(SeverityNeedsTransform, ClassFieldMissing, m, fa.Name,
				fmt.Sprintf("%s is missing in the destination", name),
				fmt.Sprintf("drop or move its content in a %s", transform))
			continue
		}
		ta, tb := strings.Trim(fa.Type, "[]!"), strings.Trim(fb.Type, "[]!")
		switch {
		case fa.Kind != fb.Kind || (!hasTargets(fa.Kind) && ta != tb):
			d.add(SeverityBlocks, ClassTypeChanged, m, fa.Name,
				fmt.Sprintf("%s changes from %s (%s) in the source to %s (%s) in the destination", name, fa.Type, fa.Kind, fb.Type, fb.Kind),
				"change the destination field back or migrate its content outside the sync")
		case hasTargets(fa.Kind):
			// A union renamed with the same members is no change.
			if missing := missingFrom(fa.Targets, fb.Targets); len(missing) > 0 {
				d.add(SeverityBlocks, ClassRelationTargetChanged, m, fa.Name,
					fmt.Sprintf("%s points to %s in the source but to %s in the destination", name, strings.Join(fa.Targets, " | "), strings.Join(fb.Targets, " | ")),
					fmt.Sprintf("make the destination field accept %s", strings.Join(missing, ", ")))
			}
		case fa.Kind == KindEnum:
			d.enumValues(m, fa, ta, transform)
		}
		if fa.List != fb.List {
			d.add(SeverityBlocks, ClassListChanged, m, fa.Name,
				fmt.Sprintf("%s is %s in the source but %s in the destination", name, listness(fa.List), listness(fb.List)),
				"make both sides lists or both single values")
		}
		if fb.Required && !fa.Required {
			d.add(SeverityNeedsTransform, ClassRequiredInDestination, m, fa.Name,
				fmt.Sprintf("%s is required in the destination but optional in the source", name),
				fmt.Sprintf("declare a default or set it in a %s", transform))
		}
		switch {
		case fa.Localized && !fb.Localized:
			d.add(SeverityNeedsTransform, ClassLocalizationChanged, m, fa.Name,
				fmt.Sprintf("%s is localized in the source but not in the destination", name),
				fmt.Sprintf("choose the locale whose value is kept in a %s", transform))
		case !fa.Localized && fb.Localized:
			d.add(SeverityInfo, ClassLocalizationChanged, m, fa.Name,
				fmt.Sprintf("%s is localized in the destination but not in the source", name),
				"values are written to the default locale")
		}
	}
	for _, fb := range b.ContentFields() {
		if fa := a.Field(fb.Name); fa != nil && !fa.System {
			continue
		}
		name := m + "." + fb.Name
		if fb.Required {
			d.add(SeverityNeedsTransform, ClassRequiredInDestination, m, fb.Name,
				fmt.Sprintf("%s is required in the destination but absent in the source", name),
				fmt.Sprintf("declare a default or set it in a %s", transform))
			continue
		}
		d.add(SeverityInfo, ClassFieldAdded, m, fb.Name,
			fmt.Sprintf("%s is only in the destination", name),
			"it stays empty")
	}
}

// enumValues reports values of the source enum the destination enum lacks.
func (d *differ) enumValues(model string, fa *Field, enum, transform string) {
	ea, eb := d.from.Enum(enum), d.to.Enum(enum)
	if ea == nil || eb == nil {
		return
	}
	for _, v := range missingFrom(ea.Values, eb.Values) {
		d.add(SeverityNeedsTransform, ClassEnumValueMissing, model, fa.Name,
			fmt.Sprintf("%s.%s: enum %s value %s is missing in the destination", model, fa.Name, enum, v),
			fmt.Sprintf("map %s to another value in a %s", v, transform))
	}
}

func hasTargets(k Kind) bool {
	switch k {
	case KindRelation, KindUnionRelation, KindComponent, KindUnionComponent, KindAsset:
		return true
	}
	return false
}

func listness(list bool) string {
	if list {
		return "a list"
	}
	return "a single value"
}

// missingFrom returns the elements of a that b does not have, in a's order.
func missingFrom(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}
