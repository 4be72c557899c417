// Asset as a model of the pipeline: read, matched, planned, written,
// published, mirror-deleted and reported by the code every model goes
// through (syncModel), first among the models, with a file-copy step
// before an asset's create (and before an update when its file changed)
// that produces the destination's file fields.

package stagesync

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
)

// prepareAssets, at the end of prepare, makes Asset the first model of a
// run that copies assets: its destination entries are read into the
// destination index, its source assets are read, matched and planned by
// syncModel (see planAsset).
func (e *engine) prepareAssets() error {
	if e.cfg.Assets == nil || !e.synced[assetModel] {
		return nil
	}
	if slices.Contains(e.ord.models, assetModel) {
		return errors.New("stagesync: Asset is synced by SyncConfig.Assets; leave it out of Models")
	}
	r, err := e.newAssetRun()
	if err != nil {
		return err
	}
	r.sem = make(chan struct{}, r.opts.Concurrency)
	r.known = map[string]bool{}
	e.assetRun = r
	// Assets are read by assetQuery (see sourceReader): always whole.
	e.srcOps[assetModel] = &modelOps{model: r.src}
	e.ord.models = append([]string{assetModel}, e.ord.models...)
	return nil
}

// copiesAssets reports whether model is the Asset model of a run that
// copies assets (with their files; see prepareAssets).
func (e *engine) copiesAssets(model string) bool {
	return model == assetModel && e.assetRun != nil
}

// start begins the asset model's progress.
func (r *assetRun) start() {
	r.e.emit(Event{Phase: PhaseAssets, Model: assetModel})
}

// end ends the asset model: its last progress event, and in a strict run
// with failed assets an *AssetError, before any other model is written.
func (r *assetRun) end() error {
	e := r.e
	r.mu.Lock()
	n := e.srcSize[assetModel]
	e.emit(Event{Phase: PhaseAssets, Model: assetModel, Done: n, Total: n, Bytes: r.bytes, TotalBytes: r.totalBytes})
	failed := slices.Clone(r.failed)
	r.mu.Unlock()
	if !r.opts.Strict {
		return nil
	}
	e.flushFailures()
	for _, f := range e.report.Failures() {
		if f.Model == assetModel && (f.Op == "adopt" || f.Op == "read") {
			failed = append(failed, f)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	slices.SortFunc(failed, func(a, b Failure) int { return strings.Compare(a.SourceID, b.SourceID) })
	return &AssetError{Dest: e.cfg.Dest.Name(), Failures: failed}
}

// planAsset is planEntry for an asset (model Asset): it transforms and
// plans one source asset matched to cur, and returns its writes (nil when
// there are none). An asset whose files are in the destination already
// (recorded by an earlier copy, or the matched asset's own) is planned
// here, from content hashes: an unchanged one sends nothing. One with a
// file to copy on the legacy asset system is planned once the file is
// copied, by its write: the copy gives the file fields their values.
func (e *engine) planAsset(ctx context.Context, srcID string, entry, pub map[string]any, shape entryShape, cur *destEntry) func(context.Context) {
	r := e.assetRun
	a := newSrcAsset(entry, shape.createdAt, pub != nil)
	a.cur = cur
	destID := a.curID()
	if err := e.transform(ctx, assetModel, a.entry); err != nil {
		defer r.finish(0)
		if errors.Is(err, ErrDrop) {
			e.plan.add(assetModel, EntryPlan{SourceID: srcID, DestID: destID, Op: OpSkip})
			return nil
		}
		r.failOp(a, destID, "transform", err)
		return nil
	}
	if cur != nil {
		if d, ok := e.state.DestID(assetModel, srcID); !ok || d != cur.id {
			e.state.setDestID(assetModel, srcID, cur.id)
		}
		e.state.clearPending(assetModel, srcID)
	}
	toCopy := r.filesToCopy(a)
	r.mu.Lock()
	for _, f := range toCopy {
		if !r.known[f.handle] {
			r.known[f.handle] = true
			r.totalBytes += f.size
		}
	}
	r.mu.Unlock()
	if e.cfg.DryRun {
		defer r.finish(0)
		r.planOnly(a)
		return nil
	}
	if !uploadDone(a.status) {
		defer r.finish(0)
		msg := "the source asset has no file: upload status " + a.status
		if e := uploadFailure(a.entry); e != "" {
			msg += " (" + e + ")"
		}
		r.fail(a, destID, errors.New(msg))
		return nil
	}
	if cur == nil && a.created != "" && r.createdAt {
		// The create sends the source's creation time, which, with the
		// content sent, finds the asset again if its answer is lost (see
		// adopt); recorded before the create is sent.
		e.state.setPending(assetModel, a.id, pendingCreate{created: a.created, sent: assetDigest(hashVersion(r.canon(a, nil)))})
	}
	upload := r.uploads(toCopy)
	if r.sys == assetUpload || len(toCopy) == 0 {
		// Every file field's value is known: planned now.
		handles := map[string]string{}
		if r.sys == assetLegacy {
			for loc, f := range a.files {
				if loc != "" && !r.locFiles {
					continue
				}
				cur := a.curFile(loc)
				handles[loc], _ = r.knownFile(f, cur)
			}
		}
		d := r.decide(a, r.canon(a, handles), upload)
		if d.op == OpUnchanged && !d.publish && !d.unpublish {
			r.add(a, destID, d)
			e.report.add(assetModel, countUnchanged, 1)
			r.finish(0)
			return nil
		}
		return func(ctx context.Context) { r.write(ctx, a, handles, &d) }
	}
	return func(ctx context.Context) { r.write(ctx, a, nil, nil) }
}

// write copies the files of a source asset the destination lacks (on the
// legacy system; the new one fetches them itself), then creates or
// updates its destination asset and hands its publish over to the
// publisher. handles and d are the file handles and the decision of an
// asset planned before its copy; nil when they are the copy's to give.
func (r *assetRun) write(ctx context.Context, a *srcAsset, handles map[string]string, d *decision) {
	e := r.e
	var copied int64
	defer func() { r.finish(copied) }()
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return
	}
	destID := a.curID()
	if d == nil {
		toCopy := r.filesToCopy(a)
		handles = map[string]string{}
		for _, loc := range slices.Sorted(maps.Keys(a.files)) {
			if loc != "" && !r.locFiles {
				continue
			}
			f := a.files[loc]
			cur := a.curFile(loc)
			if h, ok := r.knownFile(f, cur); ok {
				handles[loc] = h
				continue
			}
			h, n, err := r.file(ctx, f, cur)
			copied += n
			if err != nil {
				e.state.clearPending(assetModel, a.id) // no create happens
				r.fail(a, destID, err)
				return
			}
			handles[loc] = h
		}
		dd := r.decide(a, r.canon(a, handles), r.uploads(toCopy))
		d = &dd
	}
	upload := d.upload
	v := r.canon(a, handles)
	b := inputBuilder{p: e.dst, m: r.dst}
	switch d.op {
	case OpCreate:
		id, err := r.create(ctx, a, b.build(v, d.changed, true, nil))
		if err != nil {
			r.fail(a, "", err)
			return
		}
		destID = id
		e.report.add(assetModel, countCreated, 1)
	case OpUpdate:
		data := b.build(v, d.changed, false, nil)
		if upload {
			data["uploadUrl"] = a.files[""].url
		}
		if _, err := e.write(ctx, Change{Op: OpUpdate, Model: assetModel, ID: destID, Data: data}); err != nil {
			r.fail(a, destID, err)
			return
		}
		if upload {
			if err := r.await(ctx, a, destID); err != nil {
				r.fail(a, destID, err)
				return
			}
		}
		e.report.add(assetModel, countUpdated, 1)
	default:
		e.report.add(assetModel, countUnchanged, 1)
	}
	if upload {
		copied += a.files[""].size
	}
	r.add(a, destID, *d)
	if d.publish || d.unpublish {
		// An asset is published as its draft: no draft on top.
		e.later(&work{model: assetModel, srcID: a.id, destID: destID, publish: d.publish, unpublish: d.unpublish, dropLocales: d.dropLocales})
	}
}

// finish counts one asset as handled and emits the progress. The
// assets are read as they are written: their total is known at the end
// (see end), and the events before it have none.
func (r *assetRun) finish(bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	r.bytes += bytes
	r.e.emit(Event{Phase: PhaseAssets, Model: assetModel, Done: r.done, Bytes: r.bytes, TotalBytes: r.totalBytes})
}
