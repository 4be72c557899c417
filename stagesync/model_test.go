package stagesync_test

// A randomized model-based test of Sync: random source operations derived
// from the schema (create, update, clear, delete, relink, reorder relation
// lists of every kind, publish, unpublish, edit after publish, add, change
// and delete localizations), interleaved with syncs that complete, are
// cancelled at a random mutation request and resumed with the same state
// file, or run in a child process that is killed. After every completed
// sync the destination must equal the source entry by entry (see
// modelWorld.checkEqual: order of every relation list, identities through
// the identity map and a key field holding the source id, DRAFT and
// PUBLISHED versions, localizations), with no duplicates, and one more
// sync must write nothing.
//
// Flags:
//
//	-stagesync.seed=N   the seed (printed when a run fails)
//	-stagesync.soak     more rounds, more seeds, kills
//	-stagesync.allops   include the operation kinds of knownBroken
//
// The machinery is in modelworld_test.go. Failures the random test found
// are minimized into TestModelRegression_* tests below, skipped while the
// bug is there; the operation kinds that trigger them are in knownBroken,
// left out of the random mix until the bug is fixed.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stagesync/stagesync/schema"
)

// knownBroken are the operation kinds the random test leaves out (unless
// -stagesync.allops), each with the bug it triggers and the regression
// test that shows it. Remove an entry when its bug is fixed.
var knownBroken = map[opKind]string{}

// modelDescription is the synthesized project of the random test: scalars,
// an enum, localized fields in three locales, one-way to-one and to-many
// relations (self and across models; each pair of models has one plain
// relation field per side at most, so that schema discovery pairs the
// two-way relations and no one-way ones), a two-way many-to-many, a two-way
// one-to-many, a union list, a component, a component list and a modular
// component list, and no unique field (key holds the source id, for the check, and is not
// unique).
const modelDescription = `
locales: [en, de, fr]
enums:
  Mood: [HAPPY, SAD, CALM]
components:
  Note:
    text: String
    score: Int
  Link:
    url: String
    mood: Mood
models:
  Person:
    key: String
    name: String
    bio: String localized
    mood: Mood
    age: Int
    height: Float
    active: Boolean
    born: Date
    seen: DateTime
    aliases: "[String]"
    friends: "[Person]"
    groups: "[Group] -> members"
    team: Team -> people
    note: Note
  Group:
    key: String
    title: String localized
    summary: String localized
    members: "[Person] <- groups"
    links: "[GroupLink: Person | Team]"
    parent: Group
    notes: "[Note]"
    blocks: "[GroupBlock: Note | Link]"
  Team:
    key: String
    name: String
    people: "[Person] <- team"
    groups: "[Group]"
`

// modelRunShape is the size of a random run: short by default, longer
// with -stagesync.soak.
func modelRunShape() modelRun {
	if *modelSoakFlag {
		return modelRun{rounds: 60, maxBatch: 15, kills: 6}
	}
	if testing.Short() {
		return modelRun{rounds: 8, maxBatch: 5, kills: 0}
	}
	return modelRun{rounds: 15, maxBatch: 6, kills: 1}
}

// modelSeeds are the seeds of a run: the flag's, and more with soak.
func modelSeeds() []uint64 {
	seeds := []uint64{*modelSeedFlag}
	if *modelSoakFlag {
		for i := range uint64(4) {
			seeds = append(seeds, *modelSeedFlag+1000*(i+1))
		}
	}
	return seeds
}

func modelSDL(t testing.TB, desc string) string {
	t.Helper()
	sdl, err := schema.SynthesizeDescription([]byte(desc))
	if err != nil {
		t.Fatal(err)
	}
	return sdl
}

// TestModel is the randomized model-based test on the synthesized project.
func TestModel(t *testing.T) {
	sdl := modelSDL(t, modelDescription)
	for _, seed := range modelSeeds() {
		w := newModelWorld(t, "synthesized", sdl, seed)
		w.runRandom(modelRunShape())
	}
}

// modelFixtures is the folder of the real Hygraph schemas (beside the
// repository, in a workplace's shared folder).
const modelFixtures = "../../shared/fixtures/hygraph"

// TestModelFixtures is the randomized model-based test on the real
// schemas of the shared fixtures folder.
func TestModelFixtures(t *testing.T) {
	dir := modelFixtures
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no fixtures folder %s (it is beside the repository in the shared folder; a fresh clone has none): %v", dir, err)
	}
	for _, name := range []string{"blog", "social", "pages-components"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name+".graphql"))
			if err != nil {
				t.Skipf("fixture %s: %v", name, err)
			}
			run := modelRunShape()
			run.rounds = max(4, run.rounds/2)
			for _, seed := range modelSeeds() {
				w := newModelWorld(t, name, string(b), seed)
				w.runRandom(run)
			}
		})
	}
}
