package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// How much content seedDelta writes.
const (
	seedDestinations = 20
	seedHotels       = 150
	seedReviews      = 300
	// seedPhotos are the photos in delta's asset bucket, shared by the
	// hotels of each destination; most hotels show two, some none.
	seedPhotos = 60
)

// seedClock is the clock of the seeded delta stage: it starts on a fixed day
// and moves one second per reading, so that the seeded content, its
// timestamps and its ids (with stagetest.WithSeed) are the same on every run.
func seedClock() func() time.Time {
	start := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Second) }
}

// seedSummary counts what seedDelta wrote.
type seedSummary struct {
	destinations, hotels, reviews int
	photos                        int   // assets (all published), each with its file in delta's bucket
	photoBytes                    int64 // the size of their files
	published                     int   // entries published
	publishedDiffers              int   // published entries whose draft moved on
	localized                     int   // hotels with a German tagline
	noHandle, oddHandle           int   // hotels without a Twitter handle, with one to normalize
}

func (s seedSummary) String() string {
	return fmt.Sprintf("%d destinations, %d hotels, %d reviews; %d published (%d with a newer draft); "+
		"%d hotels with a German tagline, %d without a Twitter handle, %d with one to normalize; "+
		"%d photos (%d bytes of files in its Filestack bucket)",
		s.destinations, s.hotels, s.reviews, s.published, s.publishedDiffers, s.localized, s.noHandle, s.oddHandle,
		s.photos, s.photoBytes)
}

// destinationSeed is one destination of the seed.
type destinationSeed struct {
	name, country string
	lat, lng      float64
}

var destinationSeeds = [seedDestinations]destinationSeed{
	{"Lisbon", "Portugal", 38.7223, -9.1393},
	{"Porto", "Portugal", 41.1579, -8.6291},
	{"Kyoto", "Japan", 35.0116, 135.7681},
	{"Tokyo", "Japan", 35.6762, 139.6503},
	{"Marrakesh", "Morocco", 31.6295, -7.9811},
	{"Cape Town", "South Africa", -33.9249, 18.4241},
	{"Reykjavik", "Iceland", 64.1466, -21.9426},
	{"Vienna", "Austria", 48.2082, 16.3738},
	{"Berlin", "Germany", 52.52, 13.405},
	{"Hamburg", "Germany", 53.5511, 9.9937},
	{"Barcelona", "Spain", 41.3874, 2.1686},
	{"Seville", "Spain", 37.3891, -5.9845},
	{"Oaxaca", "Mexico", 17.0732, -96.7266},
	{"Buenos Aires", "Argentina", -34.6037, -58.3816},
	{"Hanoi", "Vietnam", 21.0278, 105.8342},
	{"Istanbul", "Turkey", 41.0082, 28.9784},
	{"Copenhagen", "Denmark", 55.6761, 12.5683},
	{"Edinburgh", "United Kingdom", 55.9533, -3.1883},
	{"Montreal", "Canada", 45.5019, -73.5674},
	{"Queenstown", "New Zealand", -45.0312, 168.6626},
}

var (
	hotelPrefixes = [10]string{"Grand", "Casa", "Villa", "The Old", "Little", "Royal", "Blue", "Hidden", "Golden", "Quiet"}
	hotelNouns    = [15]string{"Harbour", "Palace", "Garden", "Lantern", "Courtyard", "Mill", "Tower", "Orchard",
		"Lighthouse", "Cloister", "Terrace", "Boathouse", "Atelier", "Pavilion", "Library"}
	// taglines are English and German taglines of hotels.
	taglines = [][2]string{
		{"Sea views and slow breakfasts", "Meerblick und lange Frühstücke"},
		{"Quiet rooms in the middle of it all", "Ruhige Zimmer mitten im Geschehen"},
		{"A rooftop pool above the old town", "Ein Dachpool über der Altstadt"},
		{"Family-run since 1952", "Familiengeführt seit 1952"},
		{"Design rooms, vintage soul", "Designzimmer mit Vintage-Seele"},
		{"Walk to the beach in five minutes", "In fünf Minuten zu Fuß zum Strand"},
		{"Breakfast in the garden, every day", "Frühstück im Garten, jeden Tag"},
		{"Where the river meets the market", "Wo der Fluss auf den Markt trifft"},
	}
	reviewTitles = []string{"Would stay again", "Lovely staff", "Great location", "Noisy at night",
		"Best breakfast of the trip", "Small but spotless", "Not as pictured", "A hidden gem",
		"Perfect for a weekend", "Comfortable beds", "Overpriced", "Wonderful views"}
	reviewBodies = []string{
		"We arrived late and the night porter still had tea ready for us.",
		"The room was smaller than expected but everything was clean and quiet.",
		"Staff recommended a restaurant around the corner that became our favourite.",
		"Street noise until two in the morning; ask for a room at the back.",
		"The breakfast buffet alone is worth the price.",
		"Check-in took forty minutes and nobody apologised.",
	}
	reviewAuthors = []string{"Ana", "Kenji", "Fatima", "Lars", "Chloé", "Mateo", "Priya", "Jonas", "Mai", "Oliver"}
	ratings       = []string{"FIVE", "FOUR", "FIVE", "THREE", "FOUR", "TWO", "FIVE", "ONE", "FOUR", "THREE"}
)

// richText returns a one-paragraph RichTextAST document.
func richText(text string) map[string]any {
	return map[string]any{"children": []any{map[string]any{
		"type": "paragraph", "children": []any{map[string]any{"text": text}},
	}}}
}

// slug turns a name into a URL slug.
func slug(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), " ", "-")
}

// twitterHandleSeed returns the Twitter handle editors typed in delta for
// hotel i, in one of the shapes the transform normalizes (nil for none).
func twitterHandleSeed(i int, prefix, noun, city string) *string {
	base := strings.ReplaceAll(prefix+noun, " ", "")
	if len(base) > 11 {
		base = base[:11]
	}
	base += strings.ReplaceAll(city, " ", "")[:3]
	var s string
	switch i % 10 {
	case 0, 1, 2:
		return nil
	case 3:
		s = "@" + base
	case 4:
		s = "https://twitter.com/" + base
	case 5:
		s = "https://x.com/" + base + "/"
	case 6:
		s = "  " + strings.ToUpper(base) + " "
	case 7:
		s = "see our website!" // not a handle: the default replaces it
	default:
		s = strings.ToLower(base)
	}
	return &s
}

// seedDelta fills the emulated delta stage with the example's content:
// destinations, hotels of each destination (with German taglines, Twitter
// handles in every shape editors type them, some missing) and their
// reviews; about 30% of the entries published, some of those with a draft
// that moved on after publishing. The content is the same on every run.
func seedDelta(ctx context.Context, st *stagetest.Stage) (seedSummary, error) {
	var sum seedSummary
	rng := rand.New(rand.NewPCG(2024, 3))
	seed := func(model string, published bool, doc map[string]any) (string, error) {
		stage := "DRAFT"
		if published {
			stage = "PUBLISHED"
			sum.published++
		}
		ids, err := st.Seed(model, stage, doc)
		if err != nil {
			return "", fmt.Errorf("seed delta: %w", err)
		}
		return ids[0], nil
	}

	// The photos first: hotels link them. Their files go into delta's
	// asset bucket; the asset entries are published.
	photoIDs := make([]string, seedPhotos)
	prng := rand.New(rand.NewPCG(2024, 4)) // the photos' own, so that the entries' content does not depend on them
	for i := range seedPhotos {
		d := destinationSeeds[i%seedDestinations]
		data := photoBytes(prng, 3<<10+prng.IntN(6<<10))
		name := fmt.Sprintf("%s-%d.jpg", slug(d.name), i/seedDestinations+1)
		id, err := st.SeedAsset(name, "image/jpeg", data, map[string]any{"width": 1600, "height": 1067})
		if err != nil {
			return sum, fmt.Errorf("seed delta: photo %s: %w", name, err)
		}
		if err := st.Publish("Asset", id); err != nil {
			return sum, fmt.Errorf("seed delta: photo %s: %w", name, err)
		}
		photoIDs[i] = id
		sum.photos++
		sum.photoBytes += int64(len(data))
	}

	destIDs := make([]string, seedDestinations)
	for i, d := range destinationSeeds {
		doc := map[string]any{
			"name": d.name, "slug": slug(d.name), "country": d.country,
			"description": richText(fmt.Sprintf("%s, %s: where to stay, and why.", d.name, d.country)),
		}
		if i%7 == 6 {
			doc["country"] = nil
		}
		id, err := seed("Destination", i%3 == 0, doc)
		if err != nil {
			return sum, err
		}
		destIDs[i] = id
		sum.destinations++
	}

	hotelIDs := make([]string, seedHotels)
	var publishedHotelIDs []string
	for i := range seedHotels {
		d := i % seedDestinations
		dest := destinationSeeds[d]
		prefix, noun := hotelPrefixes[i%10], hotelNouns[i/10]
		name := fmt.Sprintf("%s %s %s", prefix, noun, dest.name)
		tag := taglines[i%len(taglines)]
		doc := map[string]any{
			"name":          name,
			"slug":          slug(name),
			"tagline":       tag[0],
			"twitterHandle": twitterHandleSeed(i, prefix, noun, dest.name),
			"destination":   destIDs[d],
			"location": map[string]any{
				"latitude":  round4(dest.lat + (rng.Float64()-0.5)/50),
				"longitude": round4(dest.lng + (rng.Float64()-0.5)/50),
			},
		}
		if i%13 != 0 {
			doc["stars"] = 1 + rng.IntN(5)
		}
		if i%6 != 5 {
			// Two of the three photos of its destination.
			doc["photos"] = []any{photoIDs[(d+(i%3)*seedDestinations)%seedPhotos], photoIDs[(d+((i+1)%3)*seedDestinations)%seedPhotos]}
		}
		if i%5 != 4 {
			doc["description"] = richText(fmt.Sprintf("%s: %s.", name, strings.ToLower(tag[0])))
		}
		if i%4 != 3 {
			doc["localizations"] = map[string]any{"de": map[string]any{"tagline": tag[1]}}
			sum.localized++
		}
		switch h := doc["twitterHandle"].(*string); {
		case h == nil:
			sum.noHandle++
		case normalizeTwitterHandle(h) != *h:
			sum.oddHandle++
		}
		published := i%10 == 0 || i%10 == 3 || i%10 == 6
		id, err := seed("Hotel", published, doc)
		if err != nil {
			return sum, err
		}
		hotelIDs[i] = id
		if published {
			publishedHotelIDs = append(publishedHotelIDs, id)
		}
		sum.hotels++
		if published && i%20 == 0 {
			// The draft moves on after publishing: master gets the
			// published version published, and this draft on top.
			if err := st.Update(ctx, "Hotel", id, map[string]any{
				"tagline": tag[0] + " (now with a spa)",
				"stars":   5,
			}); err != nil {
				return sum, fmt.Errorf("seed delta: %w", err)
			}
			sum.publishedDiffers++
		}
	}

	for i := range seedReviews {
		// A published review is of a published hotel: Review.hotel is
		// required, so the published version of a review cannot point at
		// a hotel that is not published.
		published := i%10 == 1 || i%10 == 4 || i%10 == 7
		hotel := hotelIDs[(i*7)%seedHotels]
		if published {
			hotel = publishedHotelIDs[(i*7)%len(publishedHotelIDs)]
		}
		doc := map[string]any{
			"title":  reviewTitles[i%len(reviewTitles)],
			"rating": ratings[rng.IntN(len(ratings))],
			"hotel":  hotel,
		}
		if i%3 != 2 {
			doc["body"] = reviewBodies[rng.IntN(len(reviewBodies))]
		}
		if i%4 != 0 {
			doc["author"] = reviewAuthors[rng.IntN(len(reviewAuthors))]
		}
		id, err := seed("Review", published, doc)
		if err != nil {
			return sum, err
		}
		sum.reviews++
		if published && i%30 == 1 {
			if err := st.Update(ctx, "Review", id, map[string]any{"body": "Edited: " + reviewBodies[i%len(reviewBodies)]}); err != nil {
				return sum, fmt.Errorf("seed delta: %w", err)
			}
			sum.publishedDiffers++
		}
	}
	return sum, nil
}

// photoBytes returns n bytes that stand for a JPEG photo: the format's
// start and end markers around random bytes (the same on every run, from
// the seed's random source).
func photoBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE0})
	copy(b[n-2:], []byte{0xFF, 0xD9})
	return b
}

// round4 rounds a coordinate to four decimals (about 10 m).
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
