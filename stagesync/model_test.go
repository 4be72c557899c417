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
// are minimized into TestModelRegression_* tests below; while a bug is not
// fixed, the operation kinds that trigger it go in knownBroken, left out
// of the random mix (none are now). TestModelSharedCreatedAt
// is the adoption of in-flight creates that share one createdAt.

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/stagesync/stagesync/internal/fixturedir"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
)

// knownBroken are the operation kinds the random test leaves out (unless
// -stagesync.allops), each with the bug it triggers and the regression
// test that shows it; a left-out relation kind is not connected by
// creates either. Remove an entry when its bug is fixed (and the skip of
// its regression test). Two more bugs have regression tests and no entry
// here: TestModelSharedCreatedAt (the random mix has no shared createdAt)
// and the emulator's pairing of collidingDescription (the mix's project
// avoids it).
var knownBroken = map[opKind]string{}

// modelDescription is the synthesized project of the random test: scalars,
// an enum, localized fields in three locales, one-way to-one and to-many
// relations (self and across models), a two-way many-to-many, a two-way
// one-to-many, a union list, a component, a component list and a modular
// component list, and no unique field (key holds the source id, for the
// check; it is not unique). Each pair of models has at most one plain
// relation field per side, so that schema discovery pairs the two-way
// relations and no one-way ones, and no union member has a one-way
// relation to the union's model (see collidingDescription).
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
    links: "[GroupLink: Person | Tag]"
    parent: Group
    notes: "[Note]"
    blocks: "[GroupBlock: Note | Link]"
  Team:
    key: String
    name: String
    people: "[Person] <- team"
    tags: "[Tag]"
  Tag:
    key: String
    label: String
`

// modelRunShape is the size of a random run: short by default, longer
// with -stagesync.soak.
func modelRunShape() modelRun {
	if *modelSoakFlag {
		return modelRun{rounds: 150, maxBatch: 15, kills: 10}
	}
	if testing.Short() {
		return modelRun{rounds: 10, maxBatch: 5, kills: 1}
	}
	return modelRun{rounds: 40, maxBatch: 8, kills: 2}
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

// TestModelFixtures is the randomized model-based test on the real
// schemas of the shared fixtures folder.
func TestModelFixtures(t *testing.T) {
	for _, name := range []string{"blog", "social", "pages-components"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(fixturedir.Path(t, name+".graphql"))
			if err != nil {
				t.Fatal(err)
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

// modelRegressionWorld is a world of the synthesized project for a
// regression test.
func modelRegressionWorld(t *testing.T) *modelWorld {
	return newModelWorld(t, "synthesized", modelSDL(t, modelDescription), 1)
}

// TestModelRegression_ManyToManyOtherSideOrder: a person joins five
// groups from the groups' side, the last created first; the person's own
// list (the other side of Person.groups/Group.members) has them in the
// order they were connected, and so must the destination's. The engine
// writes Group.members only (with the creates of the groups, concurrently)
// and never Person.groups, so the destination's order is the order those
// writes happen to arrive in (with two groups the test failed about half
// the runs; with five it failed 10 runs of 10).
func TestModelRegression_ManyToManyOtherSideOrder(t *testing.T) {
	w := modelRegressionWorld(t)
	p := w.create("Person", map[string]any{"name": "P"}, false)
	var groups []string
	for range 5 {
		groups = append(groups, w.create("Group", nil, false))
	}
	for _, g := range slices.Backward(groups) {
		w.update("Group", g, map[string]any{"members": connect(p)})
	}
	w.syncComplete() // Person.groups: source g5..g1, destination in another order
}

// TestModelRegression_OneToManyDraftAfterPublish: a published person
// joins a published team in the team's draft only (through Team.people);
// the destination must have the team in the person's draft, not in its
// published version (nor the person in the team's published version).
// The engine sets Team.people in the destination's draft, then publishes
// the person, whose draft holds the team by then.
// Through Person.team instead it works (TestModelRegression_ToOneDraftAfterPublish).
func TestModelRegression_OneToManyDraftAfterPublish(t *testing.T) {
	w := modelRegressionWorld(t)
	team := w.create("Team", nil, true)
	p := w.create("Person", nil, false)
	w.syncComplete()
	w.publish("Person", p)
	w.update("Team", team, map[string]any{"people": set(p)})
	w.syncComplete()
}

// TestModelRegression_ToOneDraftAfterPublish: a published person joins a
// team in its draft only (through Person.team). It passes: kept as the
// counterpart of TestModelRegression_OneToManyDraftAfterPublish.
func TestModelRegression_ToOneDraftAfterPublish(t *testing.T) {
	w := modelRegressionWorld(t)
	team := w.create("Team", nil, true)
	p := w.create("Person", nil, true)
	w.syncComplete()
	w.update("Person", p, map[string]any{"team": map[string]any{"connect": map[string]any{"id": team}}})
	w.syncComplete()
}

// bulkDescription is a project with one model and no unique field: key
// holds the source id, for the check only.
const bulkDescription = `
models:
  Item:
    key: String
    name: String
    rank: Int
`

// TestModelSharedCreatedAt is the case the tracker calls the worst: source
// entries created in bulk share one createdAt, their model has no unique
// field, and a sync is cancelled (its answer lost) or killed after some
// creates have reached the destination; in the "one-in-flight-deleted"
// cases the source loses, before the resume, one of the entries whose
// create arrived unanswered (a user deletes it). The resumed sync, with
// the same state file, must map each source entry to its own destination
// entry:
// checked entry by entry through the identity map against the destination
// entries the interrupted run created (the key field holds the source id
// they were created for), with no duplicate and nothing missing.
//
// Today's engine adopts an in-flight create by its creation time alone
// (destIndex.unmatchedByCreated, match in sync.go): with one createdAt for
// all, a pending source entry takes whichever unmatched destination entry
// comes first, so entries are swapped or duplicated. The
// "source-unchanged" cases fail in most runs, when the concurrent create
// requests arrive out of source order; with a deleted in-flight entry
// every later adoption shifts by one, and the test fails every run. (A
// wrong adoption is then healed field by field by the update that
// follows, key included, so only the destination ids show it: the check
// compares them with the entries the interrupted run created.)
func TestModelSharedCreatedAt(t *testing.T) {
	const shared = "2025-03-01T10:00:00.000Z"
	for _, c := range []struct {
		how    string
		delete bool
	}{{"cancel-answer-lost", true}, {"kill", true}, {"cancel-answer-lost", false}, {"kill", false}} {
		how := c.how
		name := how + "/one-in-flight-deleted"
		if !c.delete {
			name = how + "/source-unchanged"
		}
		t.Run(name, func(t *testing.T) {
			w := newModelWorld(t, "bulk", modelSDL(t, bulkDescription), 1)
			const n = 30
			for i := range n {
				w.create("Item", map[string]any{"name": fmt.Sprintf("item %02d", i), "rank": i, "createdAt": shared}, i%3 == 0)
			}
			var interrupted bool
			if how == "kill" {
				interrupted = w.syncKilledAt(cutPoint{"createItem", 15})
			} else {
				interrupted = w.syncCancelledAt(cutPoint{"createItem", 15}, true)
			}
			if !interrupted {
				t.Fatal("the sync was not interrupted")
			}
			left, err := stagesync.LoadState(w.path, w.p.src.URL, w.q.url)
			if err != nil {
				t.Fatal(err)
			}
			mapped := left.IDs("Item")
			left.Close()
			// The destination entry each create that arrived made, by
			// source id (the key it was created with).
			arrived := map[string]string{}
			for _, de := range w.p.dst.Stage.All("Item", "DRAFT") {
				k := fmt.Sprint(de["key"])
				if other, dup := arrived[k]; dup {
					t.Errorf("item %s was created twice in the destination (%s, %s) by the interrupted run", k, other, de["id"])
				}
				arrived[k] = de["id"].(string)
			}
			t.Logf("interrupted: the destination has %d of %d items, the state maps %d", len(arrived), n, len(mapped))
			// Before the resume, the source loses the first item whose
			// create arrived unanswered (a user deletes it): its
			// destination entry is now no one's, and the next pending
			// item, with the same createdAt, must not take it.
			gone := ""
			for _, se := range w.p.src.Stage.All("Item", "DRAFT") {
				if !c.delete {
					break
				}
				sid := se["id"].(string)
				if _, ok := mapped[sid]; !ok && arrived[sid] != "" {
					gone = sid
					break
				}
			}
			if c.delete {
				if gone == "" {
					t.Fatalf("no create arrived unanswered (the destination has %d items, the state maps %d)", len(arrived), len(mapped))
				}
				w.must(w.ctl.Do(t.Context(), `mutation($id: ID!) { deleteItem(where: {id: $id}) { id } }`, map[string]any{"id": gone}, nil), "delete")
				w.logf("delete Item %s", gone)
			}
			w.syncComplete()
			if _, ok := w.p.dst.Stage.Get("Item", arrived[gone], "DRAFT"); ok && c.delete {
				t.Errorf("the destination entry of the deleted item %s (%s) is still there (mirror mode)", gone, arrived[gone])
			}
			// Entry by entry, through the identity map: the same name and rank.
			st, err := stagesync.LoadState(w.path, w.p.src.URL, w.q.url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ids := st.IDs("Item")
			for _, se := range w.p.src.Stage.All("Item", "DRAFT") {
				sid := se["id"].(string)
				// The entry its create made, if it arrived: the update that
				// follows an adoption rewrites every field (key too), so
				// only the destination id tells a wrong adoption.
				if want := arrived[sid]; want != "" && ids[sid] != want {
					t.Errorf("item %s (%v): the resumed sync maps it to destination entry %s, but its own create made %s (created for item %v)",
						sid, se["name"], ids[sid], want, keyOf(arrived, ids[sid]))
				}
				de, ok := w.p.dst.Stage.Get("Item", ids[sid], "DRAFT")
				if !ok {
					t.Errorf("item %s (%v): no destination entry", sid, se["name"])
					continue
				}
				if de["key"] != sid || de["name"] != se["name"] || fmt.Sprint(de["rank"]) != fmt.Sprint(se["rank"]) {
					t.Errorf("item %s (%v, rank %v): destination entry %s is %v (rank %v, key %v)", sid, se["name"], se["rank"], ids[sid], de["name"], de["rank"], de["key"])
				}
			}
		})
	}
}

// keyOf returns the key under which m holds v.
func keyOf(m map[string]string, v string) string {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	return "none"
}

// TestModelRegression_TwoWayMoveInDraft: a published person in a
// published team moves, in its draft only, to a team that is only a
// draft. In the destination the person's published version has no team
// (the source's has the old one), and in most runs its draft has none
// either (the source's has the new one); the teams' lists say the same.
// The engine writes the list side (Team.people) and the published version
// of the old team, which holds the person, and the draft writes that
// follow undo it, in an order that varies.
func TestModelRegression_TwoWayMoveInDraft(t *testing.T) {
	w := modelRegressionWorld(t)
	t1 := w.create("Team", nil, true)
	t2 := w.create("Team", nil, false)
	p := w.create("Person", map[string]any{"team": connectOne(t1)}, true)
	w.update("Person", p, map[string]any{"team": connectOne(t2)})
	w.syncComplete()
}

// TestModelRegression_DeletedLocaleStaysPublished: a group published with
// a French localization is synced; in the source the French localization
// is deleted and the group unpublished and published again, so that its
// published version has no French. The destination's published version
// kept its French: publishing there keeps the locales published before
// (as the emulator does; Hygraph's behavior is not documented), and the
// engine did not unpublish the locale. It now unpublishes the locales the
// source's published version lacks by name after the publish.
func TestModelRegression_DeletedLocaleStaysPublished(t *testing.T) {
	w := modelRegressionWorld(t)
	fr := map[string]any{"create": []any{map[string]any{"locale": "fr", "data": map[string]any{"title": "Groupe"}}}}
	g := w.create("Group", map[string]any{"title": "Group", "localizations": fr}, true)
	w.syncComplete()
	w.update("Group", g, map[string]any{"localizations": map[string]any{"delete": []any{"fr"}}})
	w.must(w.ctl.Do(t.Context(), `mutation($id: ID!) { unpublishGroup(where: {id: $id}) { id } }`, map[string]any{"id": g}, nil), "unpublish")
	w.publish("Group", g)
	w.syncComplete()
}

// collidingDescription is a project where the emulator (stagetest) takes
// a one-way relation and a union relation for the two sides of one
// two-way relation: Team.groups is the only plain relation of Team to
// Group, and Group.links, a union relation, the only relation of Group
// that can point at a Team; the catalog's own pairing
// (stagetest/catalog.go, pairReverses) counts union relation fields as
// candidates, though schema.Discover never pairs them ("union relations
// are relations of their own"). So setting Team.groups changes the links
// of the groups, in both emulated stages, while the engine (following
// Discover) writes both fields as independent relations, and the list
// orders come out as the writes happen to arrive. On Hygraph the two
// fields are independent. (modelDescription avoids the collision.)
const collidingDescription = `
models:
  Team:
    key: String
    groups: "[Group]"
  Group:
    key: String
    links: "[GroupLink: Team | Person]"
  Person:
    key: String
`

// TestModelRegression_UnionListOrder: a union list holding a team, a
// person and a team, in a project of collidingDescription.
func TestModelRegression_UnionListOrder(t *testing.T) {
	w := newModelWorld(t, "colliding", modelSDL(t, collidingDescription), 1)
	p := w.create("Person", nil, false)
	t1 := w.create("Team", nil, false)
	t2 := w.create("Team", nil, false)
	w.create("Group", map[string]any{"links": map[string]any{"connect": []any{
		map[string]any{"Team": map[string]any{"id": t2}},
		map[string]any{"Person": map[string]any{"id": p}},
		map[string]any{"Team": map[string]any{"id": t1}},
	}}}, false)
	w.syncComplete()
}

// TestModelRegression_OneWayListOrder: a team whose one-way list holds six
// groups, half of them published, in reverse creation order, in a project
// of collidingDescription. (With three groups it failed in about one run
// of five; with six, every run.)
func TestModelRegression_OneWayListOrder(t *testing.T) {
	w := newModelWorld(t, "colliding", modelSDL(t, collidingDescription), 1)
	var groups []string
	for i := range 6 {
		groups = append(groups, w.create("Group", nil, i%2 == 0))
	}
	slices.Reverse(groups)
	w.create("Team", map[string]any{"groups": connect(groups...)}, false)
	w.syncComplete()
}

// TestModelRegression_PublishedLinkToUnpublished: a person published
// while its team is a draft only, the team then published without the
// person (seeds 1-3 with two-way relinks found it). The emulator used to
// keep the team in the person's published version (hidden until the team
// was published, then shown while the team's published list lacked the
// person), which no sync could reproduce; a publish now unlinks both
// sides (stagetest, publish.go).
func TestModelRegression_PublishedLinkToUnpublished(t *testing.T) {
	w := modelRegressionWorld(t)
	team := w.create("Team", nil, false)
	p := w.create("Person", map[string]any{"team": connectOne(team)}, true)
	w.syncComplete()
	w.update("Team", team, map[string]any{"people": set()})
	w.publish("Team", team)
	if e, _ := w.p.src.Stage.Get("Person", p, "PUBLISHED"); e["team"] != nil {
		t.Errorf("the source person's published version still links the team: %v", e["team"])
	}
	w.syncComplete()
}

// socialWorld is a world of the shared fixtures' social project (one-to-one
// two-way relations: Account.post/Post.creator, Account.comment/
// Comment.creator) for a regression test; the test is skipped without
// the fixtures folder.
func socialWorld(t *testing.T) *modelWorld {
	b, err := os.ReadFile(fixturedir.Path(t, "social.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	return newModelWorld(t, "social", string(b), 1)
}

// socialCreate creates an entry of the social world with the data of a
// random create and the given relations.
func (w *modelWorld) socialCreate(model string, rel map[string]any, publish bool) string {
	data := w.createData(w.proj.Model(model))
	maps.Copy(data, rel)
	return w.create(model, data, publish)
}

// TestModelRegression_OneToOneReversePublished: a draft post created with
// creator A, A published (its published post is the draft-only post,
// hidden); then the post's creator is disconnected in its draft and the
// post is published: neither published version holds the other. The
// engine held the post like a one-to-many reverse side and guessed its
// published creator was A; and it published the post before it wrote
// A's draft (Account comes after Post), so the post took A along.
func TestModelRegression_OneToOneReversePublished(t *testing.T) {
	w := socialWorld(t)
	a := w.socialCreate("Account", nil, false)
	p := w.socialCreate("Post", map[string]any{"creator": connectOne(a)}, false)
	w.publish("Account", a)
	w.syncComplete()
	w.update("Post", p, map[string]any{"creator": map[string]any{"disconnect": true}})
	w.publish("Post", p)
	w.syncComplete()
}

// TestModelRegression_OneToOneTakenByPublishedVersion: a post created
// published with creator A1 (published, synced before) is taken, in the
// drafts only, by a new account A2. Writing A1's published version to its draft first took the post
// from A2's draft, and A1's own draft written after did not give it back
// (nor, when A2's create came between, was A1 published with its post).
func TestModelRegression_OneToOneTakenByPublishedVersion(t *testing.T) {
	w := socialWorld(t)
	a1 := w.socialCreate("Account", nil, true)
	w.syncComplete()
	p := w.socialCreate("Post", map[string]any{"creator": connectOne(a1)}, true)
	w.socialCreate("Account", map[string]any{"post": connectOne(p)}, false)
	w.syncComplete()
}

// TestModelRegression_PublishedPairRemovedInDraft: a published person in
// a published group is edited and published again, and then taken out of
// the group's members in the draft only (soak seed 20261204 found it after
// a cancelled run). The destination's person still has the group in its
// draft, as its published version does, so the relation pass wrote no
// order for it; but the group's draft write, earlier in the run,
// disconnected the person, so the person was published without the group
// and the group's published members lost it (a publish keeps both sides
// consistent).
func TestModelRegression_PublishedPairRemovedInDraft(t *testing.T) {
	w := modelRegressionWorld(t)
	g := w.create("Group", nil, true)
	p := w.create("Person", map[string]any{"groups": connect(g)}, true)
	w.syncComplete()
	w.update("Person", p, map[string]any{"name": "renamed"})
	w.publish("Person", p)
	w.update("Group", g, map[string]any{"members": map[string]any{"set": []any{}}})
	w.syncComplete()
}

// TestModelRegression_DeltaTwoStepWrittenSide: a draft-only person is in
// three groups, the middle one published; that group is published again
// and edited, and a delta sync reads the group but not the person (soak
// seeds 1077 and 77 of TestModelLocales found it). The group's published
// version as read lacks the person (it is not published), so the engine
// writes that version to the group's draft first (disconnecting the
// person), publishes it, and writes the draft on top (connecting the
// person again): the destination's person then has that group last. A
// full sync reads the person and writes its order whole; the delta run
// did not read it, so nothing put the group back in its place. Now the
// relation pass reads, from both stages, the entries it did not read
// whose reverse side such writes may have reordered, and moves their
// targets into the source's order (see unreadWorks).
func TestModelRegression_DeltaTwoStepWrittenSide(t *testing.T) {
	w := modelRegressionWorld(t)
	x := w.create("Group", nil, false)
	g := w.create("Group", map[string]any{"title": "one"}, true)
	y := w.create("Group", nil, false)
	w.create("Person", map[string]any{"groups": connect(x, g, y)}, false)
	w.update("Group", g, map[string]any{"title": "two"})
	w.syncComplete()
	w.publish("Group", g)
	w.update("Group", g, map[string]any{"title": "three"})
	w.syncDelta() // Person.groups: source x, g, y; destination x, y, g
}

// TestModelRegression_DeltaTwoStepReverseSide: a published person is, in
// its draft only, the middle of a group's three members; the person is
// edited, published and edited again, and a delta sync reads the person
// but not the group (soak seed 4077 of TestModelLocales found it once the
// fix of TestModelRegression_DeltaTwoStepWrittenSide changed its run).
// The engine publishes the person without the group (its published
// version, as read, has none) and connects the group again for the
// draft, which puts the person at the end of the group's members unless
// the person is first put back at its place there (see holdPairs); that
// place comes from the group's members as read, and the delta did not
// read the group. Now the written lists of held pairs that the run did
// not read are read from the source (see placeUnreadPairs).
func TestModelRegression_DeltaTwoStepReverseSide(t *testing.T) {
	w := modelRegressionWorld(t)
	p := w.create("Person", map[string]any{"name": "zero"}, true)
	q1 := w.create("Person", nil, false)
	q2 := w.create("Person", nil, false)
	w.create("Group", map[string]any{"members": connect(q1, p, q2)}, false)
	w.syncComplete()
	w.update("Person", p, map[string]any{"name": "one"})
	w.publish("Person", p)
	w.update("Person", p, map[string]any{"name": "two"})
	w.syncDelta() // Group.members: source q1, p, q2; destination q1, q2, p
}
