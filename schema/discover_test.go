package schema

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/internal/fixturedir"
)

// fieldFact is a fact about one field, checked by reading the fixture.
type fieldFact struct {
	model, field string
	kind         Kind
	typ          string
	list         bool
	required     bool
	unique       bool
	system       bool
	targets      []string
	union        string
	reverse      string
}

func TestDiscoverFixtures(t *testing.T) {
	cases := []struct {
		file       string
		models     []string
		system     []string
		components []string
		enums      []string
		unions     []string
		locales    []string
		stages     []string
		facts      []fieldFact
	}{
		{
			file:    "blog.graphql",
			models:  []string{"Asset", "Post", "Project", "ScheduledOperation", "ScheduledRelease", "Tag", "User"},
			system:  []string{"Asset", "ScheduledOperation", "ScheduledRelease", "User"},
			locales: []string{"en"},
			stages:  []string{"DRAFT", "PUBLISHED"},
			facts: []fieldFact{
				{model: "Post", field: "tags", kind: KindRelation, typ: "[Tag!]!", list: true, targets: []string{"Tag"}},
				{model: "Post", field: "image", kind: KindAsset, typ: "Asset!", required: true, targets: []string{"Asset"}, reverse: "imagePost"},
				{model: "Post", field: "content", kind: KindScalar, typ: "String!", required: true},
				{model: "Post", field: "slug", kind: KindScalar, typ: "String!", required: true, unique: true},
				{model: "Post", field: "id", kind: KindScalar, typ: "ID!", unique: true, system: true},
				{model: "Post", field: "createdBy", kind: KindSystem, typ: "User", system: true},
				{model: "Post", field: "scheduledIn", kind: KindSystem, typ: "[ScheduledOperation!]!", list: true, system: true},
				{model: "Project", field: "title", kind: KindScalar, typ: "String!", required: true, unique: true},
				{model: "Asset", field: "imagePost", kind: KindRelation, typ: "[Post!]!", list: true, targets: []string{"Post"}, reverse: "image"},
				{model: "Asset", field: "url", kind: KindScalar, typ: "String!", system: true},
				{model: "Asset", field: "handle", kind: KindScalar, typ: "String!", required: true},
				// The only union in blog: a system union relation.
				{model: "ScheduledOperation", field: "affectedDocuments", kind: KindUnionRelation, typ: "[ScheduledOperationAffectedDocument!]!", list: true, system: true,
					targets: []string{"Asset", "Post", "Project", "Tag"}, union: "ScheduledOperationAffectedDocument"},
				{model: "User", field: "kind", kind: KindSystem, typ: "UserKind!", system: true},
			},
		},
		{
			file:       "pages-components.graphql",
			models:     []string{"Asset", "PageHome", "ScheduledOperation", "ScheduledRelease", "User"},
			system:     []string{"Asset", "ScheduledOperation", "ScheduledRelease", "User"},
			components: []string{"Experience", "Recommedation", "RichtextWithTitle"},
			locales:    []string{"en"},
			stages:     []string{"DRAFT", "PUBLISHED"},
			facts: []fieldFact{
				{model: "PageHome", field: "experience", kind: KindComponent, typ: "[Experience!]!", list: true, targets: []string{"Experience"}},
				{model: "PageHome", field: "awards", kind: KindComponent, typ: "[RichtextWithTitle!]!", list: true, targets: []string{"RichtextWithTitle"}},
				{model: "PageHome", field: "introContent", kind: KindRichText, typ: "RichText"},
				{model: "PageHome", field: "brands", kind: KindScalar, typ: "[String!]!", list: true},
				{model: "Experience", field: "title", kind: KindScalar, typ: "String!", required: true},
				{model: "Experience", field: "id", kind: KindScalar, typ: "ID!", unique: true, system: true},
				{model: "Recommedation", field: "content", kind: KindRichText, typ: "RichText!", required: true},
			},
		},
		{
			file:    "social.graphql",
			models:  []string{"Account", "Asset", "Comment", "Post"},
			system:  []string{"Asset"},
			enums:   []string{"AccountType", "Gender"},
			locales: []string{"en"},
			stages:  []string{"PUBLISHED", "DRAFT"},
			facts: []fieldFact{
				{model: "Asset", field: "handle", kind: KindScalar, typ: "String!", required: true},
				{model: "Asset", field: "postImages", kind: KindRelation, typ: "[Post!]!", list: true, targets: []string{"Post"}, reverse: "images"},
				{model: "Account", field: "gender", kind: KindEnum, typ: "Gender!", required: true, targets: []string{"Gender"}},
				{model: "Account", field: "emailAddress", kind: KindScalar, typ: "String!", required: true, unique: true},
				{model: "Account", field: "avatar", kind: KindAsset, typ: "Asset", targets: []string{"Asset"}, reverse: "accountAvatar"},
				{model: "Account", field: "comment", kind: KindRelation, typ: "Comment", targets: []string{"Comment"}, reverse: "creator"},
				{model: "Account", field: "post", kind: KindRelation, typ: "Post", targets: []string{"Post"}, reverse: "creator"},
				{model: "Comment", field: "creator", kind: KindRelation, typ: "Account", targets: []string{"Account"}, reverse: "comment"},
				{model: "Post", field: "creator", kind: KindRelation, typ: "Account", targets: []string{"Account"}, reverse: "post"},
				{model: "Post", field: "content", kind: KindRichText, typ: "RichText!", required: true},
				{model: "Post", field: "images", kind: KindAsset, typ: "[Asset!]!", list: true, targets: []string{"Asset"}, reverse: "postImages"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			p := discoverFile(t, fixturedir.Path(t, tc.file))
			var models, system, components, enums, unions []string
			for _, m := range p.Models {
				models = append(models, m.Name)
				if m.System {
					system = append(system, m.Name)
				}
				if m.Component {
					t.Errorf("model %s marked Component", m.Name)
				}
			}
			for _, m := range p.Components {
				components = append(components, m.Name)
				if !m.Component {
					t.Errorf("component %s not marked Component", m.Name)
				}
			}
			for _, e := range p.Enums {
				enums = append(enums, e.Name)
			}
			for _, u := range p.Unions {
				unions = append(unions, u.Name)
			}
			eq(t, "models", models, tc.models)
			eq(t, "system models", system, tc.system)
			eq(t, "components", components, tc.components)
			eq(t, "enums", enums, tc.enums)
			eq(t, "unions", unions, tc.unions)
			eq(t, "locales", p.Locales, tc.locales)
			eq(t, "stages", p.Stages, tc.stages)
			for _, ff := range tc.facts {
				t.Run(ff.model+"."+ff.field, func(t *testing.T) {
					checkField(t, p, ff)
				})
			}
			for _, list := range [][]*Model{p.Models, p.Components} {
				for _, m := range list {
					for _, f := range m.Fields {
						if f.Targets == nil {
							t.Errorf("%s.%s: Targets is nil, want a non-nil slice", m.Name, f.Name)
						}
					}
				}
			}
		})
	}
}

func TestDiscoverAPI(t *testing.T) {
	cases := []struct {
		file, model string
		want        ModelAPI
		writable    bool
	}{
		{"blog.graphql", "Post", ModelAPI{
			Single: "post", List: "posts", Connection: "postsConnection",
			Create: "createPost", Update: "updatePost", Upsert: "upsertPost", Delete: "deletePost",
			Publish: "publishPost", Unpublish: "unpublishPost",
			UpdateMany: "updateManyPostsConnection", DeleteMany: "deleteManyPostsConnection",
			PublishMany: "publishManyPostsConnection", UnpublishMany: "unpublishManyPostsConnection",
			CreateInput: "PostCreateInput", UpdateInput: "PostUpdateInput", UpsertInput: "PostUpsertInput",
			WhereInput: "PostWhereInput", WhereUnique: "PostWhereUniqueInput", OrderByInput: "PostOrderByInput",
			ConnectionType: "PostConnection",
		}, true},
		{"blog.graphql", "Asset", ModelAPI{
			Single: "asset", List: "assets", Connection: "assetsConnection",
			Create: "createAsset", Update: "updateAsset", Upsert: "upsertAsset", Delete: "deleteAsset",
			Publish: "publishAsset", Unpublish: "unpublishAsset",
			UpdateMany: "updateManyAssetsConnection", DeleteMany: "deleteManyAssetsConnection",
			PublishMany: "publishManyAssetsConnection", UnpublishMany: "unpublishManyAssetsConnection",
			CreateInput: "AssetCreateInput", UpdateInput: "AssetUpdateInput", UpsertInput: "AssetUpsertInput",
			WhereInput: "AssetWhereInput", WhereUnique: "AssetWhereUniqueInput", OrderByInput: "AssetOrderByInput",
			ConnectionType: "AssetConnection", LocalizationInput: "AssetCreateLocalizationDataInput",
		}, true},
		{"blog.graphql", "User", ModelAPI{
			Single: "user", List: "users", Connection: "usersConnection",
			WhereInput: "UserWhereInput", WhereUnique: "UserWhereUniqueInput", OrderByInput: "UserOrderByInput",
			ConnectionType: "UserConnection",
		}, false},
		// social has deprecated non-Connection *Many mutations beside the
		// Connection ones; the Connection ones are chosen.
		{"social.graphql", "Account", ModelAPI{
			Single: "account", List: "accounts", Connection: "accountsConnection",
			Create: "createAccount", Update: "updateAccount", Upsert: "upsertAccount", Delete: "deleteAccount",
			Publish: "publishAccount", Unpublish: "unpublishAccount",
			UpdateMany: "updateManyAccountsConnection", DeleteMany: "deleteManyAccountsConnection",
			PublishMany: "publishManyAccountsConnection", UnpublishMany: "unpublishManyAccountsConnection",
			CreateInput: "AccountCreateInput", UpdateInput: "AccountUpdateInput", UpsertInput: "AccountUpsertInput",
			WhereInput: "AccountWhereInput", WhereUnique: "AccountWhereUniqueInput", OrderByInput: "AccountOrderByInput",
			ConnectionType: "AccountConnection",
		}, true},
		{"pages-components.graphql", "Experience", ModelAPI{
			CreateInput: "ExperienceCreateInput", UpdateInput: "ExperienceUpdateInput", UpsertInput: "ExperienceUpsertInput",
			WhereInput: "ExperienceWhereInput", WhereUnique: "ExperienceWhereUniqueInput", OrderByInput: "ExperienceOrderByInput",
			ConnectionType: "ExperienceConnection",
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.file+"/"+tc.model, func(t *testing.T) {
			p := discoverFile(t, fixturedir.Path(t, tc.file))
			m := p.Model(tc.model)
			if m == nil {
				t.Fatalf("no model %s", tc.model)
			}
			if *m.API != tc.want {
				t.Errorf("API\n got %+v\nwant %+v", *m.API, tc.want)
			}
			if m.Writable != tc.writable {
				t.Errorf("Writable = %v, want %v", m.Writable, tc.writable)
			}
		})
	}
}

// TestDiscoverSDL covers what the fixtures do not have: several locales,
// localized fields, user unions of models and of components, enums.
func TestDiscoverSDL(t *testing.T) {
	p := discoverFile(t, filepath.Join("testdata", "diff", "from.graphql"))
	eq(t, "locales", p.Locales, []string{"en", "de"})
	var unions []string
	for _, u := range p.Unions {
		unions = append(unions, u.Name+"="+strings.Join(u.Members, "|"))
	}
	eq(t, "unions", unions, []string{"HotelNearby=Destination|Hotel", "HotelSections=Gallery|Hero"})
	facts := []fieldFact{
		{model: "Hotel", field: "nearby", kind: KindUnionRelation, typ: "[HotelNearby!]!", list: true, targets: []string{"Destination", "Hotel"}, union: "HotelNearby"},
		{model: "Hotel", field: "sections", kind: KindUnionComponent, typ: "[HotelSections!]!", list: true, targets: []string{"Gallery", "Hero"}, union: "HotelSections"},
		{model: "Hotel", field: "rating", kind: KindEnum, typ: "Rating", targets: []string{"Rating"}},
		{model: "Hotel", field: "destination", kind: KindRelation, typ: "Destination", targets: []string{"Destination"}, reverse: "hotels"},
		// The union relation Hotel.nearby also reaches Destination, but it is
		// a relation of its own and does not make the pair ambiguous.
		{model: "Destination", field: "hotels", kind: KindRelation, typ: "[Hotel!]!", list: true, targets: []string{"Hotel"}, reverse: "destination"},
		{model: "Hotel", field: "location", kind: KindLocation, typ: "Location"},
		{model: "Hotel", field: "brand", kind: KindColor, typ: "Color"},
		{model: "Hotel", field: "meta", kind: KindJSON, typ: "Json"},
	}
	for _, ff := range facts {
		t.Run(ff.model+"."+ff.field, func(t *testing.T) { checkField(t, p, ff) })
	}
	if f := p.Model("Hotel").Field("description"); f == nil || !f.Localized {
		t.Errorf("Hotel.description not Localized: %+v", f)
	}
	if f := p.Model("Hotel").Field("name"); f == nil || f.Localized {
		t.Errorf("Hotel.name Localized: %+v", f)
	}
}

func TestDiscoverNotHygraph(t *testing.T) {
	cases := []struct{ name, sdl, why string }{
		{"no Node", "type Query { hello: String }", "no Node interface"},
		{"Node without stage", `interface Node { id: ID! }
type Book implements Node { id: ID! title: String }
type Query { book: Book }`, "stage: Stage!"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadString("plain.graphql", tc.sdl)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Discover(s)
			if !errors.Is(err, ErrNoModels) {
				t.Fatalf("err = %v, want ErrNoModels", err)
			}
			if !strings.Contains(err.Error(), "no Hygraph models found") || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("err = %q, want it to name %q", err, tc.why)
			}
		})
	}
}

func discoverFile(t *testing.T, path string) *Project {
	t.Helper()
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Discover(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkField(t *testing.T, p *Project, ff fieldFact) {
	t.Helper()
	m := p.Model(ff.model)
	if m == nil {
		t.Fatalf("no model %s", ff.model)
	}
	f := m.Field(ff.field)
	if f == nil {
		t.Fatalf("no field %s.%s", ff.model, ff.field)
	}
	targets := ff.targets
	if targets == nil {
		targets = []string{}
	}
	got := fieldFact{ff.model, ff.field, f.Kind, f.Type, f.List, f.Required, f.Unique, f.System, f.Targets, f.Union, f.Reverse}
	want := ff
	want.targets = targets
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s.%s\n got %+v\nwant %+v", ff.model, ff.field, got, want)
	}
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func ExampleDiscover() {
	// A blog schema synthesized from a description of a real Hygraph
	// project's models (testdata/synth/blog.yaml).
	s, err := Load("testdata/synth/blog.graphql")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := Discover(s)
	if err != nil {
		fmt.Println(err)
		return
	}
	post := p.Model("Post")
	fmt.Println(post.API.Create, post.API.PublishMany)
	for _, f := range post.ContentFields() {
		fmt.Printf("%s %s %s required=%v %v\n", f.Name, f.Type, f.Kind, f.Required, f.Targets)
	}
	// Output:
	// createPost publishManyPostsConnection
	// title String! scalar required=true []
	// slug String! scalar required=true []
	// intro String! scalar required=true []
	// content String! scalar required=true []
	// date Date! scalar required=true []
	// image Asset! asset required=true [Asset]
	// tags [Tag!]! relation required=false [Tag]
}

// TestDiscoverReversesAmbiguous pairs a two-way relation when the target
// has another relation back to the model: the field named after the model
// wins, the other stays one-way.
func TestDiscoverReversesAmbiguous(t *testing.T) {
	sdl, err := SynthesizeDescription([]byte(`models:
  Author:
    name: String
    books: "[Book] <- author"
    favorite: Book
  Book:
    title: String
    author: Author -> books
  Shelf:
    left: Box
    right: Box
  Box:
    shelf: Shelf
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadString("lib.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Discover(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ model, field, reverse string }{
		{"Author", "books", "author"},
		{"Book", "author", "books"},
		{"Author", "favorite", ""},
		// No name decides: Box.shelf could pair with left or right.
		{"Shelf", "left", ""},
		{"Shelf", "right", ""},
		{"Box", "shelf", ""},
	} {
		if got := p.Model(c.model).Field(c.field).Reverse; got != c.reverse {
			t.Errorf("%s.%s: reverse %q, want %q", c.model, c.field, got, c.reverse)
		}
	}
}
