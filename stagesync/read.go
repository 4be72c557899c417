// The read step of a sync: pages of a model's source entries (cursor
// pages, read ahead; a page the stage refuses is read again in halves down
// to the entries that fail), the destination's index of a model, and the
// high-water marks of delta syncs.

package stagesync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/entryform"
)

// fetcher reads pages of a model from a stage.
func fetcher(s *Stage, ops *modelOps) hygraph.FetchFunc[map[string]any] {
	return queryFetcher(s, ops, ops.read, nil)
}

// readErrorKey marks an entry queryFetcher could not read: it holds only
// "id" and, under this key, the error.
const readErrorKey = "\x00readError"

// queryFetcher reads pages of a model from a stage with a read query of
// the shape of modelOps.read and extra variables.
//
// When the stage answers a page with GraphQL errors (say, a published
// version whose required relation points at an unpublished entry, which
// Hygraph cannot return) and ops.idsOf has the query, the page's ids are
// read and the page is read again in halves, down to the entries that
// fail, so that one entry never stops the read of the others. Each of
// them is read again without its published version (see readDraft): it
// is returned as its draft marked with pubReadErrorKey, or, when its draft
// cannot be read either, as {"id": id, readErrorKey: error}.
func queryFetcher(s *Stage, ops *modelOps, query string, extra map[string]any) hygraph.FetchFunc[map[string]any] {
	read := pageReader(s, ops, query, extra)
	idQuery := ops.idsOf[query]
	if idQuery == "" {
		return read
	}
	readIDs := pageReader(s, ops, idQuery, extra)
	return func(ctx context.Context, after string, first int) ([]map[string]any, string, bool, error) {
		items, next, hasNext, err := read(ctx, after, first)
		var ge *GraphQLError
		if err == nil || !errors.As(err, &ge) || errors.Is(err, ErrMaybeApplied) {
			return items, next, hasNext, err
		}
		idItems, next, hasNext, idErr := readIDs(ctx, after, first)
		if idErr != nil {
			return nil, "", false, err
		}
		ids := make([]string, len(idItems))
		for i, it := range idItems {
			ids[i], _ = it["id"].(string)
		}
		var out []map[string]any
		var part func(lo, hi int) error
		part = func(lo, hi int) error {
			cursor := after
			if lo > 0 {
				cursor = ids[lo-1]
			}
			items, _, _, err := read(ctx, cursor, hi-lo)
			if err == nil {
				for _, it := range items {
					// Entries created since the ids were read belong to
					// the next part.
					if id, _ := it["id"].(string); id <= ids[hi-1] {
						out = append(out, it)
					}
				}
				return nil
			}
			if !errors.As(err, &ge) {
				return err
			}
			if hi-lo == 1 {
				entry, err := readDraft(ctx, s, ops, ids[lo], err)
				if err != nil {
					return err
				}
				out = append(out, entry)
				return nil
			}
			mid := (lo + hi) / 2
			if err := part(lo, mid); err != nil {
				return err
			}
			return part(mid, hi)
		}
		if len(ids) > 0 {
			if err := part(0, len(ids)); err != nil {
				return nil, "", false, err
			}
		}
		return out, next, hasNext, nil
	}
}

// pageReader reads one page of a model with a read query.
func pageReader(s *Stage, ops *modelOps, query string, extra map[string]any) hygraph.FetchFunc[map[string]any] {
	model := ops.model.Name
	return func(ctx context.Context, after string, first int) ([]map[string]any, string, bool, error) {
		vars := map[string]any{"first": first}
		for k, v := range extra {
			vars[k] = v
		}
		if after != "" {
			vars["after"] = after
		}
		var raw json.RawMessage
		if err := s.Do(ctx, query, vars, &raw); err != nil {
			return nil, "", false, fmt.Errorf("read %s: %w", model, err)
		}
		var out struct{ Items []map[string]any }
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, "", false, fmt.Errorf("read %s: %w", model, err)
		}
		if len(out.Items) == 0 {
			return nil, "", false, nil
		}
		for _, it := range out.Items {
			if err := completeLists(ctx, s, ops, it, "DRAFT"); err != nil {
				return nil, "", false, err
			}
			if pub := entryform.PublishedOf(it); pub != nil {
				if err := completeLists(ctx, s, ops, pub, "PUBLISHED"); err != nil {
					return nil, "", false, err
				}
			}
		}
		last, _ := out.Items[len(out.Items)-1]["id"].(string)
		return out.Items, last, len(out.Items) == first, nil
	}
}

// readDest reads every destination entry of a model into its index.
func (e *engine) readDest(ctx context.Context, x *destIndex) error {
	model := x.model
	n := 0
	for entry, err := range hygraph.Paginate(ctx, e.destFetcher(model), hygraph.WithPageSize(e.pageSize)) {
		if err != nil {
			return fmt.Errorf("stagesync: %s: %w", e.cfg.Dest, err)
		}
		if err := x.add(e.destEntryOf(model, entry)); err != nil {
			return err
		}
		if n++; n%e.pageSize == 0 {
			e.emit(Event{Phase: PhaseRead, Model: model, Done: n})
		}
	}
	if err := x.flush(); err != nil {
		return err
	}
	e.emit(Event{Phase: PhaseRead, Model: model, Done: n, Total: n})
	return nil
}

// destEntryOf is what the index keeps of a destination entry of model as
// read.
func (e *engine) destEntryOf(model string, entry map[string]any) *destEntry {
	dm := e.dst.Model(model)
	id, _ := entry["id"].(string)
	d := &destEntry{model: model, id: id}
	if c, ok := entry["createdAt"].(string); ok {
		d.created = timeKey(c)
	}
	skip := e.ord.reverse[model]
	if e.copiesAssets(model) {
		skip = e.assetRun.skip
		d.files, d.status = destFiles(entry), uploadStatus(entry)
	}
	if pub := entryform.Published(entry); pub != nil {
		v, _ := canonEntry(e.dst, dm, pub, skip, sameID)
		d.pub = hashVersion(v)
	} else if _, ok := entry[pubReadErrorKey]; ok {
		// A published version that cannot be read differs from
		// any the source has: it is published over or unpublished.
		d.pub = fieldHashes{}
	}
	v, _ := canonEntry(e.dst, dm, entry, skip, sameID)
	d.draft = hashVersion(v)
	d.content = e.createDigest(model, d.draft)
	d.comps = destComponents(dm, entry, e.positionedLists(model))
	if f := e.cfg.Match[model]; f != "" {
		d.key = matchKey(entry[f])
	}
	return d
}

// timeKey normalizes a DateTime for comparison: milliseconds since the
// epoch, or the string itself when it does not parse.
func timeKey(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func matchKey(x any) string {
	if x == nil {
		return ""
	}
	return fmt.Sprint(x)
}

// deltaRead reports whether model's source is read as a delta.
func (e *engine) deltaRead(model string) bool {
	return e.typed[model] == nil && e.cfg.Delta && e.entries == nil && e.srcOps[model].readSince != "" && !e.since[model].IsZero()
}

// sourceReader marks the model's high-water mark and starts reading its
// source's first page in the background.
func (e *engine) sourceReader(ctx context.Context, model string) (hygraph.FetchFunc[map[string]any], func(), error) {
	ops := e.srcOps[model]
	var fetch hygraph.FetchFunc[map[string]any]
	switch {
	case e.copiesAssets(model):
		fetch = e.assetFetcher(e.cfg.Source, e.assetRun.src, assetQuery(e.src, e.assetRun.src, e.pageSize), false)
	case e.typed[model] != nil:
		fetch = e.typed[model].fetch(e.cfg.Source.Client())
	case e.entrySource(model) != nil:
		fetch = e.entrySource(model)
	case e.deltaRead(model):
		since := e.since[model].Format(time.RFC3339Nano)
		fetch = queryFetcher(e.cfg.Source, ops, ops.readSince, map[string]any{"since": since})
	default:
		fetch = fetcher(e.cfg.Source, ops)
	}
	if err := e.mark(ctx, model); err != nil {
		return nil, nil, err
	}
	fetch, stop := readAhead(ctx, e.prefetching(model, fetch), e.pageSize)
	return fetch, stop, nil
}

// mark reads the greatest updatedAt of model's source entries before they
// are read: every entry updated later is read by the next delta sync.
func (e *engine) mark(ctx context.Context, model string) error {
	ops := e.srcOps[model]
	if ops.latest == "" || e.cfg.DryRun || e.entries != nil {
		return nil
	}
	var out struct {
		Items []struct {
			UpdatedAt string `json:"updatedAt"`
		}
	}
	if err := e.cfg.Source.Do(ctx, ops.latest, nil, &out); err != nil {
		return fmt.Errorf("stagesync: %s: read %s: %w", e.cfg.Source, model, err)
	}
	if len(out.Items) == 0 {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, out.Items[0].UpdatedAt)
	if err != nil {
		return fmt.Errorf("stagesync: %s: %s has updatedAt %q: %w", e.cfg.Source, model, out.Items[0].UpdatedAt, err)
	}
	e.marks[model] = t
	return nil
}

// markExisting marks the destination entries whose source entry exists,
// reading only the source's ids.
func (e *engine) markExisting(ctx context.Context, model string, di *destIndex) error {
	fetch := queryFetcher(e.cfg.Source, e.srcOps[model], e.srcOps[model].ids, nil)
	for entry, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(e.pageSize)) {
		if err != nil {
			return fmt.Errorf("stagesync: %s: %w", e.cfg.Source, err)
		}
		srcID, _ := entry["id"].(string)
		e.srcSize[model]++
		if d, ok := e.state.DestID(model, srcID); ok {
			srcID = d
		}
		di.matchID(srcID)
	}
	return nil
}

// readAhead wraps fetch so that the first page (of size first) is fetched
// at once and, when a page has been fetched, the next one is fetched in
// the background while the caller works on it. stop ends a read ahead in
// flight; call it once the pages are no longer needed.
func readAhead[T any](ctx context.Context, fetch hygraph.FetchFunc[T], first int) (_ hygraph.FetchFunc[T], stop func()) {
	type page struct {
		items   []T
		next    string
		hasNext bool
		err     error
	}
	var (
		ahead  chan page
		after  string // the cursor ahead was fetched after
		cancel context.CancelFunc
	)
	stop = func() {
		if ahead != nil {
			cancel()
			<-ahead
			ahead = nil
		}
	}
	start := func(ctx context.Context, cursor string, first int) {
		var actx context.Context
		actx, cancel = context.WithCancel(ctx)
		ahead, after = make(chan page, 1), cursor
		go func(ch chan<- page) {
			var q page
			q.items, q.next, q.hasNext, q.err = fetch(actx, cursor, first)
			ch <- q
		}(ahead)
	}
	start(ctx, "", first)
	return func(ctx context.Context, cursor string, first int) ([]T, string, bool, error) {
		var p page
		if ahead != nil && after == cursor {
			p = <-ahead
			cancel()
			ahead = nil
		} else {
			stop()
			p.items, p.next, p.hasNext, p.err = fetch(ctx, cursor, first)
		}
		if p.err == nil && p.hasNext {
			start(ctx, p.next, first)
		}
		return p.items, p.next, p.hasNext, p.err
	}, stop
}
