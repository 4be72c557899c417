package main

import (
	"encoding/json"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
	"github.com/stagesync/stagesync/stagesync/synctest"
)

func TestNormalizeTwitterHandle(t *testing.T) {
	cases := []struct {
		name string
		in   *string
		want string
	}{
		{"none", nil, defaultTwitterHandle},
		{"empty", ptr(""), defaultTwitterHandle},
		{"blank", ptr("   "), defaultTwitterHandle},
		{"plain", ptr("grandharbour"), "grandharbour"},
		{"at", ptr("@GrandHarbour"), "grandharbour"},
		{"spaces and capitals", ptr("  GRAND_Harbour "), "grand_harbour"},
		{"twitter URL", ptr("https://twitter.com/GrandHarbour"), "grandharbour"},
		{"x URL with slash", ptr("https://x.com/GrandHarbour/"), "grandharbour"},
		{"www, no scheme", ptr("www.twitter.com/grandharbour"), "grandharbour"},
		{"mobile, http", ptr("http://mobile.twitter.com/GrandHarbour"), "grandharbour"},
		{"status URL", ptr("https://twitter.com/GrandHarbour/status/1234"), "grandharbour"},
		{"query", ptr("https://x.com/grandharbour?lang=de"), "grandharbour"},
		{"URL and at", ptr("twitter.com/@grandharbour"), "grandharbour"},
		{"fifteen characters", ptr("abcdefghijklmno"), "abcdefghijklmno"},
		{"too long", ptr("abcdefghijklmnop"), defaultTwitterHandle},
		{"not a handle", ptr("see our website!"), defaultTwitterHandle},
		{"other site", ptr("https://instagram.com/grandharbour"), defaultTwitterHandle},
		{"hyphen", ptr("grand-harbour"), defaultTwitterHandle},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalizeTwitterHandle(tc.in); got != tc.want {
				t.Errorf("normalizeTwitterHandle(%q) = %q, want %q", deref(tc.in), got, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// handleChange is what the transform did to one hotel's Twitter handle,
// in its draft and in its published version (if any): the golden file of
// TestTransformHotelFixtures lists one per fixture.
type handleChange struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Draft     handleVersion  `json:"draft"`
	Published *handleVersion `json:"published,omitempty"`
	// OtherFieldsUnchanged is false when the transform changed the draft
	// in another field.
	OtherFieldsUnchanged bool `json:"otherFieldsUnchanged"`
}

// handleVersion is a handle as read and as transformed.
type handleVersion struct {
	Read        *string `json:"read"`
	Transformed string  `json:"transformed"`
}

// TestTransformHotelFixtures runs the Hotel transform over hotels recorded
// from the seeded delta stage with the model's own read operation:
//
//	stagesync fixtures record --endpoint $STAGESYNC_SOURCE_ENDPOINT \
//	  --token-env STAGESYNC_SOURCE_TOKEN --op queries/readHotels.graphql \
//	  --first 20 -o testdata/hotels.json
//
// `go test ./examples/hotels -update` rewrites the golden file.
func TestTransformHotelFixtures(t *testing.T) {
	hotels := synctest.LoadFixtures[Hotel](t, "testdata/hotels.json")
	results := synctest.ApplyTransform(t, hotels, transformHotel)

	var got []handleChange
	for i, r := range results {
		in := hotels[i]
		if r.Err != nil || r.PublishedErr != nil {
			t.Errorf("hotel %s: %v, %v; the transform never fails an entry", in.Id, r.Err, r.PublishedErr)
		}
		c := handleChange{ID: in.Id, Name: in.Name, Draft: handleVersion{in.TwitterHandle, *r.Entry.TwitterHandle}}
		// The transform changes the handle and nothing else.
		before, after := r.Entry, in
		before.TwitterHandle, after.TwitterHandle, after.DocumentInStages = nil, nil, nil
		c.OtherFieldsUnchanged = sameJSON(t, before, after)
		versions := []handleVersion{c.Draft}
		if r.Published != nil {
			c.Published = &handleVersion{in.DocumentInStages[0].TwitterHandle, *r.Published.TwitterHandle}
			versions = append(versions, *c.Published)
		}
		for _, v := range versions {
			if !twitterHandleRE.MatchString(v.Transformed) {
				t.Errorf("hotel %s: handle %q is not valid", in.Id, v.Transformed)
			}
		}
		got = append(got, c)
	}
	synctest.Golden(t, "testdata/hotels.golden.json", got)
}

func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// TestSyncHotelFixtures syncs the recorded hotels (and their destinations)
// from an emulated delta to an emulated master through the typed model:
// master ends up with delta's hotels, their handles as the transform makes
// them.
func TestSyncHotelFixtures(t *testing.T) {
	delta, master, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	hotels := synctest.LoadFixtures[Hotel](t, "testdata/hotels.json")
	res := synctest.SyncModel(t, synctest.Spec[Hotel]{
		Model:        HotelModel(transformHotel),
		Fixtures:     hotels,
		SourceSchema: delta, DestSchema: master,
		Seed: func(t testing.TB, src *stagetest.Stage) {
			synctest.SeedStage(t, src, "Destination", synctest.LoadFixtures[Destination](t, "testdata/destinations.json"))
		},
		Configure: func(cfg *stagesync.SyncConfig) {
			cfg.Typed = append(cfg.Typed, DestinationModel(nil))
			cfg.Handled = []string{"Hotel.twitterHandle"}
			// The fixtures hold no asset files: the hotels' photos are
			// left out (the assets master has are linked, here none).
			cfg.SkipAssets = true
		},
	})
	for _, f := range res.Report.Failures() {
		t.Errorf("failure: %+v", f)
	}
	if got := res.Plan.Model("Hotel").Create; got != len(hotels) {
		t.Errorf("created %d hotels, want %d", got, len(hotels))
	}
	handles := 0
	for _, d := range res.Differences(t) {
		if d.Model == "Hotel" && (d.Field == "twitterHandle" || d.Field == "published:twitterHandle") {
			var src *string
			if err := json.Unmarshal([]byte(d.Want), &src); err != nil {
				t.Fatal(err)
			}
			if w, _ := json.Marshal(normalizeTwitterHandle(src)); d.Got != string(w) {
				t.Errorf("%s: want %s", d, w)
			}
			handles++
			continue
		}
		t.Errorf("difference: %s", d)
	}
	if handles == 0 {
		t.Error("no handle changed")
	}
}

// TestFixturesAreCurrent checks that the recorded fixtures are what the read
// operations return from the seeded delta stage today (the seed and its ids
// are the same on every run). When the seed or a read query changes,
// re-record them against `go run ./examples/hotels -serve 127.0.0.1:4466`
// with the commands of the README's walkthrough.
func TestFixturesAreCurrent(t *testing.T) {
	emu, err := startEmulation("127.0.0.1:0", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	if _, err := seedDelta(t.Context(), emu.delta); err != nil {
		t.Fatal(err)
	}
	c := localStage("delta", emu.deltaURL, emu.deltaToken).Client()
	hotels, err := ReadHotels(t.Context(), c, 20, nil, StageDraft, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	destinations, err := ReadDestinations(t.Context(), c, 20, nil, StageDraft, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const rerecord = "testdata/%s is not what %s reads from the seeded delta stage any more: record it again (see the README's walkthrough)"
	if !sameJSON(t, hotels.Hotels, synctest.LoadFixtures[Hotel](t, "testdata/hotels.json")) {
		t.Errorf(rerecord, "hotels.json", "readHotels")
	}
	if !sameJSON(t, destinations.Destinations, synctest.LoadFixtures[Destination](t, "testdata/destinations.json")) {
		t.Errorf(rerecord, "destinations.json", "readDestinations")
	}
}
