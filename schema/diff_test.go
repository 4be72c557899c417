package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/internal/fixturedir"
)

// fld builds a content field; targets are filled from the kind.
func fld(name, typ string, kind Kind, opts ...func(*Field)) *Field {
	f := &Field{Name: name, Type: typ, Kind: kind, List: strings.HasPrefix(typ, "["), Targets: []string{}}
	switch kind {
	case KindRelation, KindAsset, KindComponent, KindEnum:
		f.Targets = []string{strings.Trim(typ, "[]!")}
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

func required(f *Field)  { f.Required = true }
func localized(f *Field) { f.Localized = true }
func system(f *Field)    { f.System = true }

func targets(t ...string) func(*Field) { return func(f *Field) { f.Targets = t } }

func mdl(name string, fields ...*Field) *Model {
	return &Model{Name: name, Writable: true, Fields: append([]*Field{
		fld("id", "ID!", KindScalar, system),
		fld("stage", "Stage!", KindSystem, system),
	}, fields...)}
}

func sysModel(m *Model) *Model { m.System = true; return m }

func proj(models ...*Model) *Project {
	p := &Project{Enums: []*Enum{}, Locales: []string{"en"}, Stages: []string{"DRAFT", "PUBLISHED"}}
	for _, m := range models {
		if m.Component {
			p.Components = append(p.Components, m)
		} else {
			p.Models = append(p.Models, m)
		}
	}
	return p
}

func withEnum(p *Project, name string, values ...string) *Project {
	p.Enums = append(p.Enums, &Enum{Name: name, Values: values})
	return p
}

func TestDiffClasses(t *testing.T) {
	hotel := func(extra ...*Field) *Model {
		return mdl("Hotel", append([]*Field{fld("name", "String!", KindScalar, required)}, extra...)...)
	}
	cases := []struct {
		name     string
		from, to *Project
		want     []string // "severity class Model.field"
		message  string   // a message that must be among the changes
	}{
		{
			name: "no changes",
			from: proj(hotel()), to: proj(hotel()),
		},
		{
			name: "model missing",
			from: proj(hotel(), mdl("Review")), to: proj(hotel()),
			want:    []string{"blocks model-missing Review."},
			message: "model Review is missing in the destination: add model Review to the destination or leave it out of the sync",
		},
		{
			name: "component missing",
			from: proj(hotel(), &Model{Name: "Hero", Component: true}), to: proj(hotel()),
			want: []string{"blocks model-missing Hero."},
		},
		{
			name: "field missing",
			from: proj(hotel(fld("phone", "String", KindScalar))), to: proj(hotel()),
			want:    []string{"needs-transform field-missing Hotel.phone"},
			message: "Hotel.phone is missing in the destination: drop or move its content in a Hotel transform",
		},
		{
			name: "type changed",
			from: proj(hotel(fld("stars", "Int", KindScalar))), to: proj(hotel(fld("stars", "Float", KindScalar))),
			want: []string{"blocks type-changed Hotel.stars"},
		},
		{
			name: "kind changed",
			from: proj(hotel(fld("body", "String", KindScalar))), to: proj(hotel(fld("body", "RichText", KindRichText))),
			want: []string{"blocks type-changed Hotel.body"},
		},
		{
			name: "list changed",
			from: proj(hotel(fld("tags", "[String!]!", KindScalar))), to: proj(hotel(fld("tags", "String", KindScalar))),
			want:    []string{"blocks list-changed Hotel.tags"},
			message: "Hotel.tags is a list in the source but a single value in the destination: make both sides lists or both single values",
		},
		{
			name: "relation target changed",
			from: proj(hotel(fld("destination", "Destination", KindRelation)), mdl("Destination"), mdl("City")),
			to:   proj(hotel(fld("destination", "City", KindRelation)), mdl("Destination"), mdl("City")),
			want: []string{"blocks relation-target-changed Hotel.destination"},
		},
		{
			name: "union member removed",
			from: proj(hotel(fld("nearby", "[Near!]!", KindUnionRelation, targets("Hotel", "Spot")))),
			to:   proj(hotel(fld("nearby", "[Near!]!", KindUnionRelation, targets("Hotel")))),
			want: []string{"blocks relation-target-changed Hotel.nearby"},
		},
		{
			name: "union member added is no change",
			from: proj(hotel(fld("nearby", "[Near!]!", KindUnionRelation, targets("Hotel")))),
			to:   proj(hotel(fld("nearby", "[Nearby!]!", KindUnionRelation, targets("Hotel", "Spot")))),
		},
		{
			name:    "enum value missing",
			from:    withEnum(proj(hotel(fld("rating", "Rating", KindEnum))), "Rating", "BUDGET", "LUXURY"),
			to:      withEnum(proj(hotel(fld("rating", "Rating", KindEnum))), "Rating", "BUDGET"),
			want:    []string{"needs-transform enum-value-missing Hotel.rating"},
			message: "Hotel.rating: enum Rating value LUXURY is missing in the destination: map LUXURY to another value in a Hotel transform",
		},
		{
			name: "required in destination, optional in source",
			from: proj(hotel(fld("twitterHandle", "String", KindScalar))),
			to:   proj(hotel(fld("twitterHandle", "String!", KindScalar, required))),
			want: []string{"needs-transform required-in-destination Hotel.twitterHandle"},
			message: "Hotel.twitterHandle is required in the destination but optional in the source: " +
				"declare a default or set it in a Hotel transform",
		},
		{
			name: "required in destination, absent in source",
			from: proj(hotel()),
			to:   proj(hotel(fld("checkIn", "String!", KindScalar, required))),
			want: []string{"needs-transform required-in-destination Hotel.checkIn"},
		},
		{
			name: "localized only in source",
			from: proj(hotel(fld("description", "String", KindScalar, localized))),
			to:   proj(hotel(fld("description", "String", KindScalar))),
			want: []string{"needs-transform localization-changed Hotel.description"},
		},
		{
			name: "localized only in destination",
			from: proj(hotel(fld("description", "String", KindScalar))),
			to:   proj(hotel(fld("description", "String", KindScalar, localized))),
			want: []string{"info localization-changed Hotel.description"},
		},
		{
			name: "model only in destination",
			from: proj(hotel()), to: proj(hotel(), mdl("City")),
			want: []string{"info model-added City."},
		},
		{
			name: "optional field only in destination",
			from: proj(hotel()), to: proj(hotel(fld("website", "String", KindScalar))),
			want: []string{"info field-added Hotel.website"},
		},
		{
			name: "system models: custom fields only",
			from: proj(hotel(), sysModel(mdl("Asset", fld("url", "String!", KindScalar, system), fld("alt", "String", KindScalar))), sysModel(mdl("User"))),
			to:   proj(hotel(), sysModel(mdl("Asset", fld("url", "Json", KindJSON, system)))),
			want: []string{"needs-transform field-missing Asset.alt"},
		},
		{
			name: "system fields ignored",
			from: proj(hotel(fld("createdAt", "DateTime!", KindScalar, system))),
			to:   proj(hotel()),
		},
		{
			name: "order: blocks first, then by model and field",
			from: proj(hotel(fld("b", "String", KindScalar), fld("a", "Int", KindScalar)), mdl("Review")),
			to:   proj(hotel(fld("a", "Float", KindScalar)), mdl("Area")),
			want: []string{
				"blocks type-changed Hotel.a",
				"blocks model-missing Review.",
				"needs-transform field-missing Hotel.b",
				"info model-added Area.",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changes := Diff(tc.from, tc.to)
			var got []string
			for _, c := range changes {
				got = append(got, fmt.Sprintf("%s %s %s.%s", c.Severity, c.Class, c.Model, c.Field))
				if c.Message == "" || c.Fix == "" || !strings.Contains(c.Message, c.Model) || strings.Contains(c.Message, "\n") {
					t.Errorf("bad message or fix: %+v", c)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("changes\n got %q\nwant %q", got, tc.want)
			}
			if tc.message != "" {
				found := false
				for _, c := range changes {
					found = found || c.Message == tc.message
				}
				if !found {
					t.Errorf("no change with message %q in %+v", tc.message, changes)
				}
			}
		})
	}
}

func TestBlocking(t *testing.T) {
	changes := []Change{
		{Severity: SeverityBlocks, Class: ClassModelMissing, Model: "A"},
		{Severity: SeverityInfo, Class: ClassModelAdded, Model: "B"},
		{Severity: SeverityNeedsTransform, Class: ClassFieldMissing, Model: "C"},
	}
	got := Blocking(changes)
	if len(got) != 1 || got[0].Model != "A" {
		t.Errorf("Blocking = %+v", got)
	}
	if Blocking(nil) != nil {
		t.Error("Blocking(nil) is not nil")
	}
}

// TestDiffSDL diffs the two hand-written stages in testdata/diff, which hold
// every change class, and compares the human form with a golden file.
func TestDiffSDL(t *testing.T) {
	from := discoverFile(t, filepath.Join("testdata", "diff", "from.graphql"))
	to := discoverFile(t, filepath.Join("testdata", "diff", "to.graphql"))
	changes := Diff(from, to)

	classes := map[ChangeClass]bool{}
	for _, c := range changes {
		classes[c.Class] = true
	}
	for _, c := range []ChangeClass{
		ClassModelMissing, ClassFieldMissing, ClassTypeChanged, ClassListChanged,
		ClassRelationTargetChanged, ClassEnumValueMissing, ClassRequiredInDestination,
		ClassLocalizationChanged, ClassModelAdded, ClassFieldAdded,
	} {
		if !classes[c] {
			t.Errorf("class %s missing from the testdata diff", c)
		}
	}

	var buf bytes.Buffer
	FormatChanges(&buf, changes)
	golden := filepath.Join("testdata", "diff", "changes.golden")
	if updateGolden() {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if buf.String() != string(want) {
		t.Errorf("human form differs from %s (run with -update)\n got:\n%s\nwant:\n%s", golden, buf.String(), want)
	}

	// The same stage against itself has no changes.
	if c := Diff(from, from); len(c) != 0 {
		t.Errorf("Diff(from, from) = %+v", c)
	}
	buf.Reset()
	FormatChanges(&buf, nil)
	if buf.String() != "no changes\n" {
		t.Errorf("FormatChanges(nil) = %q", buf.String())
	}
}

func TestDiffFixtures(t *testing.T) {
	// blog → social: different projects; checks that real schemas diff
	// without panics and that system models missing on one side (User,
	// ScheduledOperation) are not reported.
	blog := discoverFile(t, fixturedir.Path(t, "blog.graphql"))
	social := discoverFile(t, fixturedir.Path(t, "social.graphql"))
	for _, c := range Diff(blog, social) {
		switch c.Model {
		case "User", "ScheduledOperation", "ScheduledRelease":
			t.Errorf("system model reported: %+v", c)
		}
	}
	if c := Diff(blog, blog); len(c) != 0 {
		t.Errorf("Diff(blog, blog) = %+v", c)
	}
}

func ExampleDiff() {
	from, _ := Load("testdata/diff/from.graphql")
	to, _ := Load("testdata/diff/to.graphql")
	a, _ := Discover(from)
	b, _ := Discover(to)
	changes := Diff(a, b)
	for _, c := range Blocking(changes) {
		fmt.Println(c.Class, c.Model+"."+c.Field)
	}
	// Output:
	// relation-target-changed Hotel.destination
	// type-changed Hotel.stars
	// list-changed Hotel.tags
	// model-missing Review.
}
