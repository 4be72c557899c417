package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/internal/fixturedir"
)

// synthTestdata holds the schema package's synthesized schemas: blog and
// pages-components have the shape of the real Hygraph fixtures of the same
// name, social the content models of the social fixture, kitchensink every
// field kind. Tests that need just a Hygraph
// schema use them; the real fixtures are found with package fixturedir.
const synthTestdata = "../../schema/testdata/synth"

// diffTestdata holds the hand-written stages of the schema package's diff tests.
const diffTestdata = "../../schema/testdata/diff"

func writeSDL(t *testing.T, name, sdl string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(sdl), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSchemaModelsJSON(t *testing.T) {
	type field struct {
		Name      string   `json:"name"`
		Type      string   `json:"type"`
		Kind      string   `json:"kind"`
		List      *bool    `json:"list"`
		Required  *bool    `json:"required"`
		Localized *bool    `json:"localized"`
		Unique    *bool    `json:"unique"`
		System    *bool    `json:"system"`
		Targets   []string `json:"targets"`
	}
	type model struct {
		Name     string  `json:"name"`
		System   *bool   `json:"system"`
		Writable *bool   `json:"writable"`
		Fields   []field `json:"fields"`
	}
	type output struct {
		Models     []model `json:"models"`
		Components []model `json:"components"`
		Enums      []struct {
			Name   string   `json:"name"`
			Values []string `json:"values"`
		} `json:"enums"`
		Locales []string `json:"locales"`
		Stages  []string `json:"stages"`
	}
	cases := []struct {
		file       string // a path, or the name of a real fixture (see fixture)
		fixture    bool   // file is in ../shared/fixtures/hygraph
		models     string // name:system:writable, sorted
		components string
		enums      string
		field      string // model.field that must be present with these facts
		want       field
	}{
		{
			file:    "blog.graphql",
			fixture: true,
			models:  "Asset:true:true Post:false:true Project:false:true ScheduledOperation:true:false ScheduledRelease:true:true Tag:false:true User:true:false",
			field:   "Post.tags",
			want:    field{Name: "tags", Type: "[Tag!]!", Kind: "relation", Targets: []string{"Tag"}},
		},
		{
			file:       "pages-components.graphql",
			fixture:    true,
			models:     "Asset:true:true PageHome:false:true ScheduledOperation:true:false ScheduledRelease:true:true User:true:false",
			components: "Experience:false:false Recommedation:false:false RichtextWithTitle:false:false",
			field:      "PageHome.experience",
			want:       field{Name: "experience", Type: "[Experience!]!", Kind: "component", Targets: []string{"Experience"}},
		},
		{
			file:    "social.graphql",
			fixture: true,
			models:  "Account:false:true Asset:true:true Comment:false:true Post:false:true",
			enums:   "AccountType Gender",
			field:   "Account.gender",
			want:    field{Name: "gender", Type: "Gender!", Kind: "enum", Targets: []string{"Gender"}},
		},
		// The synthesized blog and pages-components answer as the real ones.
		{
			file:   filepath.Join(synthTestdata, "blog.graphql"),
			models: "Asset:true:true Post:false:true Project:false:true ScheduledOperation:true:false ScheduledRelease:true:true Tag:false:true User:true:false",
			field:  "Post.tags",
			want:   field{Name: "tags", Type: "[Tag!]!", Kind: "relation", Targets: []string{"Tag"}},
		},
		{
			file:       filepath.Join(synthTestdata, "pages-components.graphql"),
			models:     "Asset:true:true PageHome:false:true ScheduledOperation:true:false ScheduledRelease:true:true User:true:false",
			components: "Experience:false:false Recommedation:false:false RichtextWithTitle:false:false",
			field:      "PageHome.experience",
			want:       field{Name: "experience", Type: "[Experience!]!", Kind: "component", Targets: []string{"Experience"}},
		},
		{
			file:   filepath.Join(synthTestdata, "social.graphql"),
			models: "Account:false:true Asset:true:true Comment:false:true Post:false:true ScheduledOperation:true:false ScheduledRelease:true:true User:true:false",
			enums:  "AccountType Gender",
			field:  "Account.gender",
			want:   field{Name: "gender", Type: "Gender!", Kind: "enum", Targets: []string{"Gender"}},
		},
		{
			file:       filepath.Join(synthTestdata, "kitchensink.graphql"),
			models:     "Article:false:true Asset:true:true Destination:false:true Hotel:false:true Person:false:true ScheduledOperation:true:false ScheduledRelease:true:true User:true:false",
			components: "Address:false:false Gallery:false:false Quote:false:false Seo:false:false",
			enums:      "Rating Season",
			field:      "Hotel.related",
			want:       field{Name: "related", Type: "[HotelRelated!]!", Kind: "unionRelation", Targets: []string{"Destination", "Article"}},
		},
		{
			file:       filepath.Join(diffTestdata, "from.graphql"),
			models:     "Asset:true:true Destination:false:true Hotel:false:true Review:false:true",
			components: "Gallery:false:false Hero:false:false",
			enums:      "Rating",
			field:      "Hotel.name",
			want:       field{Name: "name", Type: "String!", Kind: "scalar", Targets: []string{}},
		},
	}
	for _, tc := range cases {
		name := filepath.Base(tc.file)
		switch {
		case tc.fixture:
			name = "hygraph/" + name
		case strings.HasPrefix(tc.file, synthTestdata):
			name = "synth/" + name
		}
		t.Run(name, func(t *testing.T) {
			file := tc.file
			if tc.fixture {
				file = fixturedir.Path(t, tc.file)
			}
			code, stdout, stderr := runCLI(t, "schema", "models", "--json", file)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// Every key of the documented shape is present.
			for _, key := range []string{`"models"`, `"components"`, `"enums"`, `"locales"`, `"stages"`, `"writable"`, `"targets": []`, `"localized"`, `"unique"`} {
				if !strings.Contains(stdout, key) {
					t.Errorf("output lacks %s", key)
				}
			}
			var out output
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatal(err)
			}
			list := func(ms []model) string {
				var s []string
				for _, m := range ms {
					if m.System == nil || m.Writable == nil || m.Fields == nil {
						t.Errorf("model %s lacks system, writable or fields", m.Name)
						continue
					}
					s = append(s, m.Name+":"+boolStr(*m.System)+":"+boolStr(*m.Writable))
				}
				return strings.Join(s, " ")
			}
			if got := list(out.Models); got != tc.models {
				t.Errorf("models = %q, want %q", got, tc.models)
			}
			if got := list(out.Components); got != tc.components {
				t.Errorf("components = %q, want %q", got, tc.components)
			}
			var enums []string
			for _, e := range out.Enums {
				enums = append(enums, e.Name)
			}
			if got := strings.Join(enums, " "); got != tc.enums {
				t.Errorf("enums = %q, want %q", got, tc.enums)
			}
			if len(out.Locales) == 0 || len(out.Stages) == 0 {
				t.Errorf("locales %q, stages %q", out.Locales, out.Stages)
			}
			modelName, fieldName, _ := strings.Cut(tc.field, ".")
			var got *field
			for _, m := range append(out.Models, out.Components...) {
				for i, f := range m.Fields {
					if m.Name == modelName && f.Name == fieldName {
						got = &m.Fields[i]
					}
					if f.List == nil || f.Required == nil || f.Localized == nil || f.Unique == nil || f.System == nil || f.Targets == nil {
						t.Errorf("%s.%s lacks a key: %+v", m.Name, f.Name, f)
					}
				}
			}
			if got == nil {
				t.Fatalf("no field %s", tc.field)
			}
			if got.Name != tc.want.Name || got.Type != tc.want.Type || got.Kind != tc.want.Kind || strings.Join(got.Targets, ",") != strings.Join(tc.want.Targets, ",") {
				t.Errorf("%s = %+v, want %+v", tc.field, *got, tc.want)
			}
		})
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestSchemaModelsHuman(t *testing.T) {
	code, stdout, stderr := runCLI(t, "schema", "models", filepath.Join(synthTestdata, "blog.graphql"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"model Asset (system, writable)",
		"model User (system)",
		"model Post (writable)",
		"tags ", "[Tag!]!", "relation",
		"image ", "Asset!", "required",
		"system fields: ",
		"locales: en",
		"stages: DRAFT, PUBLISHED",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestSchemaModelsErrors(t *testing.T) {
	cases := []struct {
		name string
		args func(t *testing.T) []string
		code int
		want string
	}{
		{"malformed SDL", func(t *testing.T) []string {
			return []string{writeSDL(t, "bad.graphql", "type Query {\n  hello: String\n  oops(\n}\n")}
		}, exitUsage, "bad.graphql:4:1: "},
		{"not Hygraph", func(t *testing.T) []string {
			return []string{writeSDL(t, "plain.graphql", "type Query { hello: String }\n")}
		}, exitUsage, "no Hygraph models found"},
		{"missing file", func(t *testing.T) []string {
			return []string{filepath.Join(t.TempDir(), "nope.graphql")}
		}, exitUsage, "nope.graphql"},
		{"no file", func(t *testing.T) []string { return nil }, exitUsage, "requires at least 1 arg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"schema", "models"}, tc.args(t)...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want %q", stderr, tc.want)
			}
		})
	}
}
