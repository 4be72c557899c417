package listen

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
)

// Hygraph shows, in an entry's PUBLISHED version, only the relation
// targets that are published: publishing or unpublishing an entry changes
// what the published versions of the entries pointing at it show, and
// Hygraph sends no webhook for those. So when a run publishes or
// unpublishes an entry in the destination, the entries of the synced
// models that point at it are synced again.

// referrerMax is the most entries pointing at one entry through one field
// that are synced again; the periodic delta sync does not catch the rest.
const referrerMax = 100

// referrers are the relation fields of synced models that may point at
// the entries of one model, and one query of the entries whose field
// points at an entry ($id), in DRAFT and PUBLISHED: per field i, the
// aliases d<i> and p<i>.
type referrers struct {
	models []string // of field i
	query  string
}

// referrersOf maps a model to its referrers (union relations left out).
func referrersOf(p *schema.Project, synced map[string]bool) map[string]*referrers {
	parts := map[string][]string{}
	out := map[string]*referrers{}
	for _, m := range p.Models {
		if !synced[m.Name] || m.API == nil || m.API.List == "" || m.API.WhereInput == "" {
			continue
		}
		for _, f := range m.Fields {
			if f.Kind != schema.KindRelation && f.Kind != schema.KindAsset {
				continue
			}
			filter := f.Name
			if f.List {
				filter += "_some"
			}
			for _, t := range f.Targets {
				r := out[t]
				if r == nil {
					r = &referrers{}
					out[t] = r
				}
				i := len(r.models)
				r.models = append(r.models, m.Name)
				parts[t] = append(parts[t], fmt.Sprintf("d%d: %s(stage: DRAFT, where: {%s: {id: $id}}, first: %d) { id } p%d: %s(stage: PUBLISHED, where: {%s: {id: $id}}, first: %d) { id }",
					i, m.API.List, filter, referrerMax, i, m.API.List, filter, referrerMax))
			}
		}
	}
	for t, r := range out {
		r.query = fmt.Sprintf("query StagesyncReferrers%s($id: ID!) { %s }", t, strings.Join(parts[t], " "))
	}
	return out
}

// resyncReferrers enqueues a sync-entry job for each entry pointing at an
// entry the run published or unpublished.
func (l *Listener) resyncReferrers(ctx context.Context, plan *stagesync.Plan) error {
	if plan == nil || len(l.referrers) == 0 {
		return nil
	}
	for _, mp := range plan.Models() {
		r := l.referrers[mp.Name]
		if r == nil {
			continue
		}
		for _, ep := range mp.Entries {
			if ep.Publish == "" || ep.SourceID == "" {
				continue
			}
			var out map[string][]struct{ ID string }
			if err := l.cfg.Sync.Source.Do(ctx, r.query, map[string]any{"id": ep.SourceID}, &out); err != nil {
				return fmt.Errorf("entries pointing at %s %s: %w", mp.Name, ep.SourceID, err)
			}
			seen := map[string]bool{}
			for i, model := range r.models {
				for _, it := range append(out[fmt.Sprintf("d%d", i)], out[fmt.Sprintf("p%d", i)]...) {
					if seen[model+"\x00"+it.ID] {
						continue
					}
					seen[model+"\x00"+it.ID] = true
					if _, _, err := l.Enqueue(ctx, Event{Operation: "update", Model: model, ID: it.ID}, time.Now()); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
