package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDescription(t *testing.T) {
	desc := `
locales: [en, de]
assets: upload
enums:
  Rating: [ONE, TWO]
components:
  Address:
    street: String!
models:
  Hotel:
    name: String! unique
    description: String localized
    destination: Destination -> hotels
    photos: "[Asset]"
    parent: Hotel
    related: "[HotelRelated: Destination | Hotel]"
    address: Address!
    rating: Rating
    tags: "[String]"
  Destination:
    hotels: "[Hotel] <- destination"
    pick: HotelRelated
`
	p, err := ParseDescription([]byte(desc))
	if err != nil {
		t.Fatal(err)
	}
	targets := func(t ...string) []string { return append([]string{}, t...) }
	want := &Model{Name: "Hotel", Writable: true, Fields: []*Field{
		{Name: "name", Type: "String!", Kind: KindScalar, Required: true, Unique: true, Targets: targets()},
		{Name: "description", Type: "String", Kind: KindScalar, Localized: true, Targets: targets()},
		{Name: "destination", Type: "Destination", Kind: KindRelation, Targets: targets("Destination"), Reverse: "hotels"},
		{Name: "photos", Type: "[Asset!]!", Kind: KindAsset, List: true, Targets: targets("Asset"), Reverse: "photosHotel"},
		{Name: "parent", Type: "Hotel", Kind: KindRelation, Targets: targets("Hotel")},
		{Name: "related", Type: "[HotelRelated!]!", Kind: KindUnionRelation, List: true, Targets: targets("Destination", "Hotel"), Union: "HotelRelated"},
		{Name: "address", Type: "Address!", Kind: KindComponent, Required: true, Targets: targets("Address")},
		{Name: "rating", Type: "Rating", Kind: KindEnum, Targets: targets("Rating")},
		{Name: "tags", Type: "[String!]!", Kind: KindScalar, List: true, Targets: targets()},
	}}
	got := p.Model("Hotel")
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".API" }, cmp.Ignore())); diff != "" {
		t.Errorf("Hotel (-want +got):\n%s", diff)
	}
	if got.API == nil || got.API.List != "hotels" || got.API.LocalizationInput != "HotelCreateLocalizationDataInput" {
		t.Errorf("Hotel API %+v", got.API)
	}
	var names []string
	for _, m := range p.Models {
		names = append(names, m.Name)
	}
	if diff := cmp.Diff([]string{"Asset", "Destination", "Hotel"}, names); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	if f := p.Model("Destination").Field("pick"); f.Kind != KindUnionRelation || f.Union != "HotelRelated" {
		t.Errorf("Destination.pick = %+v, want the union HotelRelated by name", f)
	}
	if diff := cmp.Diff([]string{"en", "de"}, p.Locales); diff != "" {
		t.Errorf("locales (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*Union{{Name: "HotelRelated", Members: []string{"Destination", "Hotel"}}}, p.Unions); diff != "" {
		t.Errorf("unions (-want +got):\n%s", diff)
	}
	asset := p.Model("Asset")
	if !asset.System || asset.Field("upload") == nil || asset.Field("photosHotel") == nil {
		t.Errorf("Asset model %+v: want a system model with upload and photosHotel", asset)
	}
	if c := p.Model("Address"); c == nil || !c.Component || c.Writable {
		t.Errorf("Address = %+v, want a component", c)
	}
}

func TestParseDescriptionDefaults(t *testing.T) {
	p, err := ParseDescription([]byte("models:\n  Tag:\n    name: String\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"en"}, p.Locales); diff != "" {
		t.Errorf("locales (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"DRAFT", "PUBLISHED"}, p.Stages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if a := p.Model("Asset"); a == nil || a.Field("upload") != nil || !a.Field("handle").Required {
		t.Errorf("Asset = %+v, want the legacy asset system", a)
	}
	if p.Enums == nil || p.Components == nil || p.Unions != nil {
		t.Errorf("enums %v components %v unions %v: want empty, empty, nil", p.Enums, p.Components, p.Unions)
	}
}

func TestParseDescriptionErrors(t *testing.T) {
	cases := []struct {
		name  string
		desc  string
		line  int
		model string
		field string
		msg   string
	}{
		{"unknown type", "models:\n  Hotel:\n    name: String\n    city: Cty\n", 4, "Hotel", "city", `unknown type "Cty"`},
		{"bad spec word", "models:\n  Hotel:\n    name: String uniq\n", 3, "Hotel", "name", `bad spec word "uniq"`},
		{"duplicate field", "models:\n  Hotel:\n    name: String\n    stars: Int\n    name: Int\n", 5, "Hotel", "name", "duplicate field (first on line 3)"},
		{"arrow to missing field", "models:\n  Hotel:\n    city: City -> hotels\n  City:\n    name: String\n", 3, "Hotel", "city", `City has no field "hotels"`},
		{"arrow not pointing back", "models:\n  Hotel:\n    city: City -> hotels\n  City:\n    hotels: \"[Hotel]\"\n", 3, "Hotel", "city", "does not point back"},
		{"arrow to wrong type", "models:\n  Hotel:\n    city: City -> name\n  City:\n    name: String <- city\n", 5, "City", "name", "<- is only for relations"},
		{"arrow without field", "models:\n  Hotel:\n    city: City ->\n  City:\n    name: String\n", 3, "Hotel", "city", "needs the name of the reverse field"},
		{"unique list", "models:\n  Hotel:\n    tags: \"[String] unique\"\n", 3, "Hotel", "tags", "can be unique"},
		{"localized relation", "models:\n  Hotel:\n    parent: Hotel localized\n", 3, "Hotel", "parent", "cannot be localized"},
		{"system field", "models:\n  Hotel:\n    createdAt: DateTime\n", 3, "Hotel", "createdAt", "system field"},
		{"unbalanced", "models:\n  Hotel:\n    tags: \"[String\"\n", 3, "Hotel", "tags", "unbalanced"},
		{"union without name", "models:\n  Hotel:\n    x: \"A | B\"\n  A:\n  B:\n", 3, "Hotel", "x", "needs a name"},
		{"union mixing kinds", "components:\n  C:\n    a: String\nmodels:\n  Hotel:\n    x: \"U: C | Hotel\"\n", 6, "Hotel", "x", "mixes models and components"},
		{"reserved model", "models:\n  Asset:\n    alt: String\n", 2, "Asset", "", "reserved"},
		{"duplicate type", "enums:\n  Hotel: [A]\nmodels:\n  Hotel:\n    a: String\n", 4, "Hotel", "", "already declared on line 2"},
		{"unknown key", "model:\n  Hotel: {}\n", 1, "", "", `unknown key "model"`},
		{"bad assets", "assets: s3\n", 1, "Asset", "", `assets must be "legacy" or "upload"`},
		{"bad enum value", "enums:\n  Rating: [ONE, 2x]\n", 2, "Rating", "", "bad enum value"},
		{"custom asset relation", "assets:\n  fields:\n    hotel: Hotel\nmodels:\n  Hotel:\n    a: String\n", 3, "Asset", "hotel", "custom Asset fields hold values"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDescription([]byte(tc.desc))
			var de *DescriptionError
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a *DescriptionError", err)
			}
			if de.Line != tc.line || de.Model != tc.model || de.Field != tc.field || !strings.Contains(de.Msg, tc.msg) {
				t.Errorf("error %+v (%v), want line %d model %q field %q message containing %q", de, err, tc.line, tc.model, tc.field, tc.msg)
			}
			if tc.field != "" && !strings.Contains(err.Error(), tc.model+"."+tc.field) {
				t.Errorf("error %q does not name %s.%s", err, tc.model, tc.field)
			}
		})
	}
}
