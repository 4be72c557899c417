// Package benchhotels is the hotels data set of the benchmarks (the
// engine's in package stagesync, the CLI's in cmd/stagesync): one
// destination per 50 hotels, two reviews per hotel, 3 in 10 entries
// published (with published targets), entries of about 300 to 600 bytes,
// seeded in-process into an emulated stage with the schema of
// hotels.yaml (embedded: Schema).
package benchhotels

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/stagesync/stagesync/internal/emulator"
)

// Scale is the size of a hotels data set.
type Scale struct {
	Destinations, Hotels, Reviews int
}

// ScaleOf returns the data set with hotels hotels: one destination per 50
// hotels and two reviews per hotel.
func ScaleOf(hotels int) Scale {
	return Scale{Destinations: max(1, hotels/50), Hotels: hotels, Reviews: 2 * hotels}
}

// Count returns the entries of model.
func (s Scale) Count(model string) int {
	switch model {
	case "Destination":
		return s.Destinations
	case "Hotel":
		return s.Hotels
	case "Review":
		return s.Reviews
	}
	return 0
}

// Entries returns the entries of every model.
func (s Scale) Entries() int { return s.Destinations + s.Hotels + s.Reviews }

// IsPublished says which entries are published: 3 in 10.
func IsPublished(i int) bool { return i%10 < 3 }

// PublishedOf returns how many of n entries are published.
func PublishedOf(n int) int { return n/10*3 + min(n%10, 3) }

var hotelWords = strings.Fields(`the a and with of in by near our its sea view quiet old town harbour
	breakfast pool spa garden terrace rooftop bar suite room rooms staff friendly clean walk
	minutes station beach museum market café crème brûlée Zürich São Paulo Kraków B&B
	"boutique" <new> family-run historic modern design lobby balcony sunset morning coffee
	fresh local wine dinner quiet street square cathedral river bridge tram bus airport
	parking wifi gym sauna large small bright cosy comfortable excellent good great value
	recommend again stay stayed nights service desk check-in late early dog-friendly`)

var hotelCountries = []string{"Portugal", "Spain", "France", "Italy", "Germany", "Switzerland",
	"Austria", "Poland", "Brazil", "Japan", "Greece", "Croatia", "Norway", "Mexico"}

// prose returns between lo and hi bytes of text.
func prose(r *rand.Rand, lo, hi int) string {
	n := lo + r.IntN(hi-lo+1)
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(hotelWords[r.IntN(len(hotelWords))])
	}
	return b.String() + "."
}

// Seed fills st with a hotels data set through the emulator's
// in-process seeding (no HTTP): entries keep their relations, 30% of each
// model are published (with their targets). Text fields make entries of about 300 to 600 bytes.
func Seed(st *emulator.Stage, sc Scale) error {
	r := rand.New(rand.NewPCG(4, uint64(sc.Hotels)))
	var serr error // the first failed seed
	seed := func(model string, n int, doc func(i int) map[string]any) []string {
		ids := make([]string, n)
		const chunk = 2000
		for start := 0; start < n; start += chunk {
			end := min(start+chunk, n)
			var docs [2][]map[string]any
			var at [2][]int
			for i := start; i < end; i++ {
				k := 0
				if IsPublished(i) {
					k = 1
				}
				d := doc(i)
				// Ids in seed order, so that the published entries are
				// spread over the pages as in a real project.
				d["id"] = fmt.Sprintf("c%c%023d", model[0]|0x20, i)
				docs[k] = append(docs[k], d)
				at[k] = append(at[k], i)
			}
			for k, stage := range []string{"DRAFT", "PUBLISHED"} {
				if len(docs[k]) == 0 {
					continue
				}
				got, err := st.Seed(model, stage, docs[k]...)
				if err != nil {
					if serr == nil {
						serr = fmt.Errorf("seed %s: %w", model, err)
					}
					continue
				}
				for j, id := range got {
					ids[at[k][j]] = id
				}
			}
		}
		return ids
	}
	// pick returns a random target; a published entry's target is a
	// published one, as editors publish what a published entry links to
	// (otherwise its published version lacks the relation and differs from
	// its draft).
	pick := func(ids []string, published bool) string {
		for {
			i := r.IntN(len(ids))
			if !published || IsPublished(i) {
				return ids[i]
			}
		}
	}
	dests := seed("Destination", sc.Destinations, func(i int) map[string]any {
		return map[string]any{
			"name":        fmt.Sprintf("Destination %05d %s", i, hotelWords[r.IntN(len(hotelWords))]),
			"country":     hotelCountries[r.IntN(len(hotelCountries))],
			"description": prose(r, 300, 540),
		}
	})
	hotels := seed("Hotel", sc.Hotels, func(i int) map[string]any {
		return map[string]any{
			"name":          fmt.Sprintf("Hotel %s %s %d", hotelWords[r.IntN(len(hotelWords))], hotelWords[r.IntN(len(hotelWords))], i),
			"description":   prose(r, 260, 500),
			"rating":        float64(10+r.IntN(41)) / 10,
			"twitterHandle": fmt.Sprintf("@hotel_%06d", i),
			"destination":   pick(dests, IsPublished(i)),
		}
	})
	seed("Review", sc.Reviews, func(i int) map[string]any {
		return map[string]any{
			"title": prose(r, 20, 60),
			"body":  prose(r, 260, 500),
			"score": 1 + r.IntN(5),
			"hotel": pick(hotels, IsPublished(i)),
		}
	})
	return serr
}
