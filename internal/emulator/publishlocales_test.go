package emulator

import "testing"

// TestPublishDropsLocales: a published German localization deleted in
// DRAFT stays in PUBLISHED after the next publish, unless the stage has
// WithPublishDropsLocales; unpublishing it by name removes it either way.
func TestPublishDropsLocales(t *testing.T) {
	for _, drop := range []bool{false, true} {
		var opts []Option
		if drop {
			opts = append(opts, WithPublishDropsLocales())
		}
		st := conformanceStage(t, opts...)
		published := func() bool {
			t.Helper()
			d := mustPost(t, st, `{ post(where: {slug: "alpha"}, stage: PUBLISHED) { localizations(locales: [de]) { locale } } }`, nil)
			p, _ := d["post"].(map[string]any)
			l, _ := p["localizations"].([]any)
			return len(l) > 0
		}
		mustPost(t, st, `mutation { publishPost(where: {slug: "alpha"}, locales: [en, de]) { id } }`, nil)
		if !published() {
			t.Fatalf("drop=%v: de not published", drop)
		}
		mustPost(t, st, `mutation { updatePost(where: {slug: "alpha"}, data: {localizations: {delete: [de]}}) { id } }`, nil)
		mustPost(t, st, `mutation { publishPost(where: {slug: "alpha"}, locales: [en, de]) { id } }`, nil)
		if got := published(); got == drop {
			t.Errorf("drop=%v: de published after the publish of a draft without it: %v", drop, got)
		}
		mustPost(t, st, `mutation { unpublishPost(where: {slug: "alpha"}, locales: [de], unpublishBase: false) { id } }`, nil)
		if published() {
			t.Errorf("drop=%v: de published after unpublishing it", drop)
		}
		d := mustPost(t, st, `{ post(where: {slug: "alpha"}, stage: PUBLISHED) { id } }`, nil)
		if d["post"] == nil {
			t.Errorf("drop=%v: unpublishing de unpublished the post", drop)
		}
	}
}
