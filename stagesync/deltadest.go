// The destination reads of a delta run: the destination entries the
// changed source entries may match, read by id and by match field value,
// instead of the model's whole destination; and, for the orphans, counts
// of both stages checked against the identity map, with the whole read as
// the fallback whenever the counts do not prove that nothing is orphaned.

package stagesync

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stagesync/stagesync/hygraph"
)

// destTargeted reports whether the destination entries of model are read
// by targeted reads in this run (see targetedDest) rather than whole (see
// readDest). It is decided before the model's first read. Only a delta
// read of a model is targeted, and not when something in it needs the
// whole destination to be safe:
//   - a mirror run: it deletes every destination entry no source entry
//     matched, which only the whole index (and every source id) tells;
//   - creates in flight of the model (a killed or cancelled run): the entry
//     such a create may have made is adopted only when it is the one
//     unmatched entry holding what was sent (see adopt), which only the
//     whole index tells;
//   - a match field and a Transform: the Transform may change the field's
//     value after the targeted read asked for the value as read;
//   - a stage without the queries the targeted reads need (a WhereInput,
//     a connection with aggregate count).
func (e *engine) destTargeted(model string) bool {
	switch ops := e.dstOps[model]; {
	case e.entries != nil || !e.deltaRead(model):
		return false
	case e.cfg.Mirror:
		return false
	case e.state.hasPending(model):
		return false
	case e.cfg.Match[model] != "" && e.cfg.Transform != nil:
		return false
	case ops.readWhere == "" || ops.count == "" || e.srcOps[model].count == "":
		return false
	}
	return true
}

// targetedDest wraps the source reader of a model whose destination is
// read by targeted reads (see destTargeted): with each page of source
// entries, the destination entries they may match are read into di first,
// so that matching them (syncModel's match) finds in di all it would find
// in the whole index:
//   - by the identity map: the destination id it maps the source id to;
//     an id the read does not return is an entry gone from the destination,
//     as it is when the whole index lacks it;
//   - by id: the destination entry with the source entry's id (stages
//     cloned from each other share ids);
//   - by the match field: every destination entry whose field holds one of
//     the page's values. An entry read this way that the identity map gives
//     another source entry is never matched (see syncModel): the whole
//     index of a delta run does not mark it matched either, since that
//     source entry is not read.
//
// Relation targets need no read: they resolve through the identity map
// (and models left out of the sync through outside), as in a full run.
// The reads run in the caller's goroutine, after the read ahead of the
// source, so that di is filled and used by one goroutine.
func (e *engine) targetedDest(model string, di *destIndex, fetch hygraph.FetchFunc[map[string]any]) hygraph.FetchFunc[map[string]any] {
	return func(ctx context.Context, after string, first int) ([]map[string]any, string, bool, error) {
		items, next, hasNext, err := fetch(ctx, after, first)
		if err == nil && len(items) > 0 {
			err = e.readDestFor(ctx, model, di, items)
		}
		return items, next, hasNext, err
	}
}

// destWhereBytes and destWhereValues bound the ids and values of one
// targeted read's where, so that the query stays far below the smallest
// plan's 10 KB query body cap.
const (
	destWhereBytes  = 4000
	destWhereValues = 100
)

// readDestFor reads into di the destination entries of model that the
// source entries items may match, in batched reads (id_in, and the match
// field's _in), each paged with the run's page size.
func (e *engine) readDestFor(ctx context.Context, model string, di *destIndex, items []map[string]any) error {
	ops := e.dstOps[model]
	matchField := e.cfg.Match[model]
	var ids []string
	var keys []any
	seen := map[string]bool{}
	addID := func(id string) {
		if id != "" && !seen["id:"+id] && di.get(id) == nil {
			seen["id:"+id] = true
			ids = append(ids, id)
		}
	}
	for _, it := range items {
		srcID := entryID(it)
		if d, ok := e.state.DestID(model, srcID); ok {
			addID(d)
		}
		addID(srcID)
		if matchField != "" {
			if k := matchKey(it[matchField]); k != "" && !seen["key:"+k] {
				seen["key:"+k] = true
				keys = append(keys, it[matchField])
			}
		}
	}
	var read []map[string]any
	for _, where := range destWheres(ids, keys, matchField) {
		fetch := queryFetcher(e.cfg.Dest, ops, ops.readWhere, map[string]any{"where": where})
		for entry, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(e.pageSize)) {
			if err != nil {
				return fmt.Errorf("stagesync: %s: %w", e.cfg.Dest, err)
			}
			read = append(read, entry)
		}
	}
	// An entry read before (by an earlier page's match field value) keeps
	// its matched mark. Looked up before any is added: a spilled index is
	// one database connection, held by add's transaction until flush.
	var fresh []map[string]any
	for _, entry := range read {
		if id := entryID(entry); id != "" && !seen["read:"+id] && di.get(id) == nil {
			seen["read:"+id] = true
			fresh = append(fresh, entry)
		}
	}
	for _, entry := range fresh {
		if err := di.add(e.destEntryOf(model, entry)); err != nil {
			return err
		}
	}
	return di.flush()
}

// destWheres splits ids and the match field's values keys into where
// inputs of at most destWhereValues values and about destWhereBytes bytes.
func destWheres(ids []string, keys []any, matchField string) []map[string]any {
	var out []map[string]any
	var (
		curIDs  []string
		curKeys []any
		size    int
	)
	flush := func() {
		switch {
		case len(curIDs) > 0 && len(curKeys) > 0:
			out = append(out, map[string]any{"OR": []any{
				map[string]any{"id_in": curIDs}, map[string]any{matchField + "_in": curKeys}}})
		case len(curIDs) > 0:
			out = append(out, map[string]any{"id_in": curIDs})
		case len(curKeys) > 0:
			out = append(out, map[string]any{matchField + "_in": curKeys})
		}
		curIDs, curKeys, size = nil, nil, 0
	}
	add := func(n int) {
		if len(curIDs)+len(curKeys) > 0 && (len(curIDs)+len(curKeys) >= destWhereValues || size+n > destWhereBytes) {
			flush()
		}
		size += n
	}
	for _, id := range ids {
		add(len(id) + 3)
		curIDs = append(curIDs, id)
	}
	for _, k := range keys {
		b, _ := json.Marshal(k)
		add(len(b) + 1)
		curKeys = append(curKeys, k)
	}
	flush()
	return out
}

// targetedOrphans finds the orphans of a model whose destination was read
// by targeted reads, after its entries were written. srcIDs are the source
// entries the delta read.
//
// The orphans are the destination entries no existing source entry maps
// to. Without reading every id of both stages, the counts prove there are
// none when
//
//	source entries = identity-map entries + source entries read and not mapped
//	destination entries = identity-map entries
//
// and no Transform ran: every source entry the delta read leaves out was
// synced by an earlier run (a model's high-water mark moves only when all
// its entries synced) and so is in the identity map, unless a Transform
// dropped it; so the source count equals the identity map's (plus the
// entries read and not mapped, as failed creates) exactly when no mapped
// source entry is gone, and the destination count equals it exactly when
// the destination holds no entry the map lacks (given that the map's
// entries are distinct). Otherwise — counts that differ, a Transform that
// may have dropped entries unseen, creates still in flight — the model's
// whole destination index is read and every source id, as in a delta run
// that reads the whole destination (the count reads are then the only
// extra cost). The counts are read after the model's writes: entries
// created or deleted in either stage during the run make them differ, and
// the whole read decides.
func (e *engine) targetedOrphans(ctx context.Context, model string, di *destIndex, srcIDs []string) error {
	nSrc, err := e.count(ctx, e.cfg.Source, e.srcOps[model])
	if err != nil {
		return err
	}
	nDst, err := e.count(ctx, e.cfg.Dest, e.dstOps[model])
	if err != nil {
		return err
	}
	unmapped := 0
	for _, id := range srcIDs {
		if _, ok := e.state.DestID(model, id); !ok {
			unmapped++
		}
	}
	mapped := e.state.countIDs(model)
	if e.cfg.Transform == nil && !e.state.hasPending(model) && mapped >= 0 && nSrc == mapped+unmapped && nDst == mapped {
		e.srcSize[model], e.destSize[model] = nSrc, nDst
		return nil
	}
	// The whole index, with what this run matched: entries matched and not
	// mapped (a Transform failed) are not orphans either.
	full := newDestIndex(model, e.scratch)
	defer full.close()
	if err := e.readDest(ctx, full); err != nil {
		return err
	}
	for _, id := range di.matchedIDs() {
		full.matchID(id)
	}
	for id := range di.kept {
		full.keep(id)
	}
	if err := e.markExisting(ctx, model, full); err != nil {
		return err
	}
	for _, id := range full.unmatched() {
		e.orphans = append(e.orphans, destRef{model: model, id: id})
	}
	e.destSize[model] = full.size
	return full.dbErr
}

// count reads the number of entries of a model in a stage.
func (e *engine) count(ctx context.Context, s *Stage, ops *modelOps) (int, error) {
	var out struct {
		Items struct {
			Aggregate struct {
				Count int `json:"count"`
			} `json:"aggregate"`
		} `json:"items"`
	}
	if err := s.Do(ctx, ops.count, nil, &out); err != nil {
		return 0, fmt.Errorf("stagesync: %s: count %s: %w", s, ops.model.Name, err)
	}
	return out.Items.Aggregate.Count, nil
}

// matchedIDs returns the ids of the entries marked matched, sorted.
func (x *destIndex) matchedIDs() []string { return x.idsMatched(true) }
