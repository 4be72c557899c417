package listen

import (
	"context"
	"fmt"
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

// referrer is a relation field of a synced model, and the query of the
// entries whose field points at an entry (in DRAFT or PUBLISHED).
type referrer struct {
	model, field, query string
}

// referrersOf maps a model to the relation fields that may point at its
// entries (union relations left out).
func referrersOf(p *schema.Project, synced map[string]bool) map[string][]referrer {
	out := map[string][]referrer{}
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
			q := fmt.Sprintf("query StagesyncReferrers%s_%s($id: ID!) { draft: %s(stage: DRAFT, where: {%s: {id: $id}}, first: %d) { id } published: %s(stage: PUBLISHED, where: {%s: {id: $id}}, first: %d) { id } }",
				m.Name, f.Name, m.API.List, filter, referrerMax, m.API.List, filter, referrerMax)
			for _, t := range f.Targets {
				out[t] = append(out[t], referrer{model: m.Name, field: f.Name, query: q})
			}
		}
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
		for _, ep := range mp.Entries {
			if ep.Publish == "" || ep.SourceID == "" {
				continue
			}
			for _, r := range l.referrers[mp.Name] {
				var out struct{ Draft, Published []struct{ ID string } }
				if err := l.cfg.Sync.Source.Do(ctx, r.query, map[string]any{"id": ep.SourceID}, &out); err != nil {
					return fmt.Errorf("entries pointing at %s %s: %w", mp.Name, ep.SourceID, err)
				}
				seen := map[string]bool{}
				for _, it := range append(out.Draft, out.Published...) {
					if seen[it.ID] {
						continue
					}
					seen[it.ID] = true
					if _, _, err := l.Enqueue(ctx, Event{Operation: "update", Model: r.model, ID: it.ID}, time.Now()); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
