package importapi

import (
	"reflect"

	"github.com/stagesync/stagesync/schema"
)

// LegacyStages is what the legacy /import would lose of a snapshot: the
// legacy format has no stages (HYGRAPH.md, "Legacy import / export API";
// "_stage" is stagesync's extension, which the legacy platform does not
// know), so only the DRAFT versions can be sent.
type LegacyStages struct {
	// Published counts the entries that have a PUBLISHED version.
	Published int
	// Differ counts those whose PUBLISHED version differs from their
	// DRAFT version (a field, list, relation or localization; timestamps
	// aside): sent through the legacy /import, their published content
	// would be lost. Entries names the first maxProblems of them.
	Differ  int
	Entries []string
}

// CheckLegacy is Check for a legacy import: it checks the snapshot in dir
// against project p and, reading it from a scratch index on disk (memory
// does not grow with the snapshot), finds the entries whose PUBLISHED
// version the legacy /import cannot carry.
func CheckLegacy(dir string, p *schema.Project) (CheckResult, LegacyStages, error) {
	var ls LegacyStages
	ix, err := newIndex(p)
	if err != nil {
		return CheckResult{}, ls, err
	}
	defer ix.close()
	res, err := check(dir, p, ix, ix)
	if err != nil {
		return res, ls, err
	}
	if err := ix.finish(); err != nil {
		return res, ls, err
	}
	const page = 500
	for _, m := range p.Models {
		if m.Component {
			continue
		}
		q := pageQuery{model: m.Name, stage: stagePublishedN, limit: page}
		for {
			ids, err := ix.pageIDs(q)
			if err != nil {
				return res, ls, err
			}
			data, err := ix.load(m, ids, true)
			if err != nil {
				return res, ls, err
			}
			for _, id := range ids {
				ls.Published++
				if versionsDiffer(data[id]) {
					ls.Differ++
					if len(ls.Entries) < maxProblems {
						ls.Entries = append(ls.Entries, entryName(m.Name, id))
					}
				}
			}
			if len(ids) < page {
				break
			}
			q.after = ids[len(ids)-1]
		}
	}
	return res, ls, nil
}

// versionsDiffer reports whether an entry's PUBLISHED version differs from
// its DRAFT version, timestamps aside.
func versionsDiffer(e *entryData) bool {
	if e == nil || e.versions[stageDraftN] == nil || e.versions[stagePublishedN] == nil {
		return true
	}
	d, p := e.versions[stageDraftN], e.versions[stagePublishedN]
	content := func(fields map[string]any) map[string]any {
		out := make(map[string]any, len(fields))
		for k, x := range fields {
			switch k {
			case "createdAt", "updatedAt", "publishedAt":
				continue
			}
			if list, ok := x.([]any); x == nil || ok && len(list) == 0 {
				continue
			}
			out[k] = x
		}
		return out
	}
	for _, locs := range [][2]map[string]map[string]any{{d.locs, p.locs}, {p.locs, d.locs}} {
		for l, fields := range locs[0] {
			if !reflect.DeepEqual(content(fields), content(locs[1][l])) {
				return true
			}
		}
	}
	for _, rels := range [][2]map[string][]Ref{{d.rels, p.rels}, {p.rels, d.rels}} {
		for f, refs := range rels[0] {
			if other := rels[1][f]; len(refs) != len(other) || len(refs) > 0 && !reflect.DeepEqual(refs, other) {
				return true
			}
		}
	}
	return false
}
