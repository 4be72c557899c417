package stagesync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/schema"
)

// PhaseAssets is the progress of the asset model of a sync with
// SyncConfig.Assets set (written first, before the entries that reference
// assets): its events count the assets handled in Done and the bytes of
// the files copied in Bytes, of the files to copy in TotalBytes. Assets
// are read as they are written; the last event has Total, the assets
// read, and Done equal to it. The asset model's read and write events are
// PhaseRead and PhaseWrite, as any model's.
const PhaseAssets Phase = "assets"

// Defaults of AssetOptions.
const (
	// defaultAssetConcurrency is the number of assets copied at once.
	defaultAssetConcurrency = 4
	// defaultAssetPollInterval is how often an upload on the new asset
	// system is polled.
	defaultAssetPollInterval = time.Second
	// defaultAssetUploadTimeout bounds how long one upload on the new
	// asset system may stay pending.
	defaultAssetUploadTimeout = 10 * time.Minute
	// defaultAssetRetries is how many times a failed upload on the new
	// asset system is tried again.
	defaultAssetRetries = 2
)

// AssetOptions makes Sync copy assets (see SyncConfig.Assets) and
// configures the copy.
//
// Asset is then a model of the sync like the others, written first: every
// source asset is read (file fields, custom fields, localizations, publish
// state) and matched to a destination asset through the identity map,
// then by id (stages cloned from each other share ids), then, for a
// create whose answer was lost, as the one destination asset with the
// creation time and content it sent (see SyncConfig.MaxRounds); planned
// by content hash; written; published; and, in a mirror run, a
// destination asset no source asset matches is deleted under the delete
// guard. The destination's asset system is told from its schema: the
// legacy system when AssetCreateInput requires handle, the new one when it
// has uploadUrl.
//
// On the legacy system, the file of a source asset the destination lacks
// is stored into the destination's Filestack bucket — by URL (Filestack
// fetches it), or, when that fails, downloaded and uploaded in a stream —
// and the asset is created with the new handle, the file's name, type,
// size and dimensions and the custom fields. On the new system, the asset
// is created with the source file's URL as uploadUrl and polled until its
// upload is complete or failed.
//
// The identity map records asset ids (entries' asset relations are
// rewritten through it) and which source file is which destination file,
// so an asset whose fields changed is updated without copying its file
// again, an unchanged asset is skipped, and a second run copies nothing.
// Within a run a file is copied once however many assets share it, found
// by handle and, when Filestack metadata can give the source file's
// SHA-256, by content.
//
// An asset that fails is retried (the Filestack client retries transient
// failures; a failed upload on the new system is tried again Retries
// times), then reported with model "Asset", op "asset", its URL and the
// reason, and the run goes on; each entry that references it reports the
// missing relation. Strict makes such failures a run error.
//
// SyncConfig.Transform and Defaults apply to assets too (model "Asset"),
// before their entries are written; a transform may change custom fields,
// fileName and the like, not which file an asset has. Assets are always
// read whole (Delta does not narrow them), and on the new asset system
// only the default locale's file is copied.
type AssetOptions struct {
	// Files is the Filestack client of the destination's asset bucket
	// (its API key is the destination stage's assetConfig.apiKey). It is
	// required for the legacy asset system, but in a dry run.
	Files *filestack.Client
	// SourceFiles is the Filestack client of the source's bucket. When
	// set, it reads the source files' hashes (to copy identical bytes
	// once, and to check each copy) and downloads the files that
	// Filestack cannot fetch by URL. Without it, Files reads the hashes
	// (Filestack serves any file's metadata when security is off) and
	// downloads.
	SourceFiles *filestack.Client
	// Concurrency is the number of assets copied at once (default
	// 4), apart from the stages' own request limits.
	Concurrency int
	// Strict makes Sync fail with an *AssetError, before any entry is
	// written, when an asset could not be copied.
	Strict bool
	// PollInterval is how often an upload on the new asset system is
	// polled (default 1s).
	PollInterval time.Duration
	// UploadTimeout bounds how long one upload on the new asset system
	// may stay pending (default 10 minutes).
	UploadTimeout time.Duration
	// Retries is how many times a failed upload on the new asset system is
	// tried again (default 2; negative for none).
	Retries int
}

// AssetError is the error of a strict sync (AssetOptions.Strict) in which
// assets could not be copied; the report lists them too.
type AssetError struct {
	// Dest is the destination stage's name.
	Dest string
	// Failures are the assets that failed.
	Failures []Failure
}

// Error names the number of failed assets and the first failure.
func (e *AssetError) Error() string {
	if len(e.Failures) == 0 {
		return fmt.Sprintf("stagesync: %s: assets failed", e.Dest)
	}
	f := e.Failures[0]
	return fmt.Sprintf("stagesync: %s: %d asset(s) could not be copied; first: Asset %s: %s", e.Dest, len(e.Failures), f.SourceID, f.Message)
}

// assetModel is the name of Hygraph's asset model.
const assetModel = "Asset"

// assetFilesKey keys the file map in the identity map: source handle →
// destination handle, and "sha256:<hex>" → destination handle.
const assetFilesKey = "Asset#files"

// assetSystem is a Hygraph asset system.
type assetSystem int

const (
	assetLegacy assetSystem = iota + 1 // Filestack: AssetCreateInput requires handle
	assetUpload                        // since 2024: AssetCreateInput has uploadUrl
)

// detectAssetSystem tells the asset system of a stage from its schema.
func detectAssetSystem(s *ast.Schema) (assetSystem, error) {
	def := s.Types["AssetCreateInput"]
	if def == nil {
		return 0, errors.New("the schema has no AssetCreateInput")
	}
	if f := def.Fields.ForName("handle"); f != nil && f.Type.NonNull {
		return assetLegacy, nil
	}
	if def.Fields.ForName("uploadUrl") != nil {
		return assetUpload, nil
	}
	if def.Fields.ForName("handle") != nil {
		return assetLegacy, nil
	}
	return 0, errors.New("AssetCreateInput has neither handle nor uploadUrl")
}

// The upload states of the new asset system.
const (
	uploadComplete       = "ASSET_UPLOAD_COMPLETE"
	uploadCreateComplete = "ASSET_CREATE_COMPLETE"
	uploadError          = "ASSET_ERROR_UPLOAD"
)

// uploadDone reports whether an upload status means the file is there (an
// asset without upload state has its file).
func uploadDone(status string) bool {
	return status == "" || status == uploadComplete || status == uploadCreateComplete
}

// assetFileFields are the Asset fields that describe its file.
var assetFileFields = []string{"handle", "fileName", "mimeType", "size", "width", "height"}

// srcFile is one file of a source asset.
type srcFile struct {
	handle, url, fileName, mimeType string
	size                            int64
}

// srcAsset is a source asset as planAsset works on it.
type srcAsset struct {
	id, created string
	entry       map[string]any     // the draft as read
	published   bool               // published in the source
	files       map[string]srcFile // by locale, "" for the default locale
	status      string             // upload status (new asset system)
	cur         *destEntry         // the matched destination asset
}

// assetRun is the asset model of one run: its destination asset system
// and operations, and its file-copy step (see planAsset).
type assetRun struct {
	e         *engine
	opts      AssetOptions
	sys       assetSystem
	src, dst  *schema.Model
	skip      map[string]bool // the destination Asset's relation fields
	ops       *modelOps       // the destination's writes
	poll      string
	createdAt bool // the destination's create input takes createdAt
	locFiles  bool // each localization has a file (a localized handle)

	flights flights
	sem     chan struct{}   // the assets copied at once (AssetOptions.Concurrency)
	known   map[string]bool // source files counted in totalBytes (planAsset's alone)

	mu                sync.Mutex // guards what follows, and orders the progress events
	failed            []Failure  // the assets that failed (see AssetOptions.Strict)
	done              int        // assets handled
	bytes, totalBytes int64      // copied, and to copy
}

// newAssetRun sets the asset model up: the destination's asset system, the
// options' defaults, the destination's operations.
func (e *engine) newAssetRun() (*assetRun, error) {
	r := &assetRun{e: e, opts: *e.cfg.Assets, src: e.src.Model(assetModel), dst: e.dst.Model(assetModel)}
	var err error
	if r.sys, err = detectAssetSystem(e.dstAST); err != nil {
		return nil, fmt.Errorf("stagesync: %s: assets: %w", e.cfg.Dest, err)
	}
	if r.sys == assetLegacy && r.opts.Files == nil && !e.cfg.DryRun {
		return nil, fmt.Errorf("stagesync: %s is on the legacy asset system: AssetOptions.Files must be the Filestack client of its asset bucket", e.cfg.Dest)
	}
	if r.opts.Concurrency <= 0 {
		r.opts.Concurrency = defaultAssetConcurrency
	}
	if r.opts.PollInterval <= 0 {
		r.opts.PollInterval = defaultAssetPollInterval
	}
	if r.opts.UploadTimeout <= 0 {
		r.opts.UploadTimeout = defaultAssetUploadTimeout
	}
	switch {
	case r.opts.Retries == 0:
		r.opts.Retries = defaultAssetRetries
	case r.opts.Retries < 0:
		r.opts.Retries = 0
	}
	if r.ops, err = buildOps(e.dst, r.dst, e.pageSize); err != nil {
		return nil, fmt.Errorf("stagesync: %s: %w", e.cfg.Dest, err)
	}
	e.dstOps[assetModel] = r.ops // the writer's, and the mirror deletes'

	r.skip = map[string]bool{}
	for _, f := range writableFields(r.dst) {
		if isRelation(f.Kind) {
			r.skip[f.Name] = true
		}
	}
	if r.src.API == nil || r.src.API.List == "" {
		return nil, fmt.Errorf("stagesync: %s: the schema has no list query for Asset", e.cfg.Source)
	}
	r.createdAt = hasInputField(e.dstAST, r.dst.API.CreateInput, "createdAt")
	if h := r.dst.Field("handle"); h != nil && h.Localized && r.sys == assetLegacy {
		r.locFiles = true
	}
	r.poll = fmt.Sprintf("query StagesyncPollAsset($id: ID!) { item: %s(where: {id: $id}, stage: DRAFT) { id handle upload { status error { code message } } } }", r.dst.API.Single)
	return r, nil
}

// assetQuery returns the read query of the Asset model m of project p: in
// DRAFT, ordered by id, with its file and custom fields, the non-default
// localizations and the PUBLISHED version.
func assetQuery(p *schema.Project, m *schema.Model, nested int) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, name := range append(slices.Clone(assetFileFields), "url") {
		if m.Field(name) != nil {
			b.WriteString(" " + name)
			seen[name] = true
		}
	}
	if m.Field("upload") != nil {
		b.WriteString(" upload { status error { code message } }")
	}
	for _, f := range writableFields(m) {
		if !isRelation(f.Kind) && !seen[f.Name] {
			b.WriteString(" " + fieldSelection(p, f, nested))
		}
	}
	fields := b.String()
	locs := ""
	var lf []*schema.Field
	for _, f := range localizedFields(m) {
		if !isRelation(f.Kind) {
			lf = append(lf, f)
		}
	}
	if len(lf) > 0 && len(p.Locales) > 1 {
		var lb strings.Builder
		fmt.Fprintf(&lb, " localizations(locales: [%s], includeCurrent: false) { locale", strings.Join(p.Locales[1:], ", "))
		for _, f := range lf {
			lb.WriteString(" " + fieldSelection(p, f, nested))
		}
		if h := m.Field("handle"); h != nil && h.Localized && m.Field("url") != nil {
			lb.WriteString(" url")
		}
		lb.WriteString(" }")
		locs = lb.String()
	}
	return fmt.Sprintf("query StagesyncReadAssets($first: Int!, $after: String) {\n"+
		"  items: %s(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) {\n"+
		"    id createdAt%s%s\n"+
		"    documentInStages(stages: [PUBLISHED]) { id%s%s }\n"+
		"  }\n}", m.API.List, fields, locs, fields, locs)
}

// newSrcAsset returns the source asset of an entry as read (without its
// createdAt, updatedAt and PUBLISHED version), created at created.
func newSrcAsset(entry map[string]any, created string, published bool) *srcAsset {
	a := &srcAsset{files: map[string]srcFile{}, created: created, published: published, entry: entry}
	a.id, _ = entry["id"].(string)
	a.status = uploadStatus(entry)
	def := fileOf(entry)
	a.files[""] = def
	for _, l := range localizationsOf(entry) {
		locale, _ := l["locale"].(string)
		if _, ok := l["handle"]; !ok || locale == "" {
			continue
		}
		f := fileOf(l)
		if f.handle == "" {
			f = def
		}
		a.files[locale] = f
	}
	return a
}

// destFiles returns the file handles of a destination asset as read, by
// locale ("" for the default locale).
func destFiles(entry map[string]any) map[string]string {
	out := map[string]string{}
	out[""], _ = entry["handle"].(string)
	for _, l := range localizationsOf(entry) {
		locale, _ := l["locale"].(string)
		if h, ok := l["handle"].(string); ok && locale != "" {
			out[locale] = h
		}
	}
	return out
}

// fileOf reads the file fields of an asset or one of its localizations.
func fileOf(m map[string]any) srcFile {
	var f srcFile
	f.handle, _ = m["handle"].(string)
	f.url, _ = m["url"].(string)
	f.fileName, _ = m["fileName"].(string)
	f.mimeType, _ = m["mimeType"].(string)
	if n, ok := anyNumber(m["size"]); ok {
		f.size = int64(n)
	}
	return f
}

func localizationsOf(entry map[string]any) []map[string]any {
	list, _ := entry["localizations"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func uploadStatus(entry map[string]any) string {
	up, _ := entry["upload"].(map[string]any)
	s, _ := up["status"].(string)
	return s
}

func uploadFailure(entry map[string]any) string {
	up, _ := entry["upload"].(map[string]any)
	e, _ := up["error"].(map[string]any)
	if e == nil {
		return ""
	}
	return fmt.Sprintf("%v: %v", e["code"], e["message"])
}

// assetDigest is the contentDigest of an asset's fields other than those
// describing its file, which the destination sets for itself.
func assetDigest(h fieldHashes) string {
	var keys []string
	for k := range h {
		name, _, _ := strings.Cut(k, "@")
		if !slices.Contains(assetFileFields, name) {
			keys = append(keys, k)
		}
	}
	if keys == nil {
		keys = []string{}
	}
	return contentDigest(h, keys)
}

// knownFile returns the destination handle of a source file when it is
// known to be in the destination already: recorded by an earlier copy, or
// the very file the matched destination asset has (cloned stages).
func (r *assetRun) knownFile(f srcFile, cur string) (string, bool) {
	if f.handle == "" {
		return "", false
	}
	if h, ok := r.e.state.DestID(assetFilesKey, f.handle); ok {
		return h, true
	}
	if cur != "" && cur == f.handle {
		return cur, true
	}
	return "", false
}

// filesToCopy returns the files of a source asset that are not known to
// be in the destination, by locale.
func (r *assetRun) filesToCopy(a *srcAsset) map[string]srcFile {
	out := map[string]srcFile{}
	for loc, f := range a.files {
		if loc != "" && !r.locFiles {
			continue // only the default locale has a file to copy
		}
		cur := a.curFile(loc)
		if h, ok := r.knownFile(f, cur); ok {
			if r.sys == assetLegacy || (a.cur != nil && h == cur && uploadDone(a.cur.status)) {
				continue
			}
		}
		out[loc] = f
	}
	return out
}

// canon returns the canonical destination version of a source asset,
// with its files' destination handles (by locale) on the legacy system.
func (r *assetRun) canon(a *srcAsset, handles map[string]string) map[string]any {
	entry := maps.Clone(a.entry)
	if r.sys == assetLegacy {
		entry["handle"] = handles[""]
		var locs []any
		for _, l := range localizationsOf(a.entry) {
			l = maps.Clone(l)
			locale, _ := l["locale"].(string)
			if h, ok := handles[locale]; ok {
				l["handle"] = h
			}
			locs = append(locs, l)
		}
		if locs != nil {
			entry["localizations"] = locs
		}
	}
	v, _ := canonEntry(r.e.dst, r.dst, entry, r.skip, sameID)
	if r.sys == assetLegacy {
		// Each localization of a legacy asset is a file (its create input
		// requires handle and fileName); a locale without a file of its
		// own has the default locale's.
		locales := map[string]bool{}
		for k := range v {
			if _, locale, ok := strings.Cut(k, "@"); ok {
				locales[locale] = true
			}
		}
		for locale := range locales {
			for _, name := range assetFileFields {
				if f := r.dst.Field(name); f != nil && f.Localized {
					if x, ok := v[name+"@"+locale]; !ok || x == nil {
						if v[name] != nil {
							v[name+"@"+locale] = v[name]
						}
					}
				}
			}
		}
	}
	return v
}

// decision is what the phase does to one asset.
type decision struct {
	op        Op
	changed   []string // keys of the canonical version to write
	upload    bool     // the new asset system fetches the file again
	publish   bool
	unpublish bool
	// dropLocales are the locales the destination's published asset has
	// and the source's draft lacks, unpublished after the publish (see
	// work.dropLocales): an asset is published as its draft.
	dropLocales []string
}

// decide compares the canonical version v of a source asset with its
// destination asset.
func (r *assetRun) decide(a *srcAsset, v map[string]any, upload bool) decision {
	var d decision
	d.upload = upload
	h := hashVersion(v)
	switch {
	case a.cur == nil:
		d.op = OpCreate
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if h[k] != hashNil {
				d.changed = append(d.changed, k)
			}
		}
	default:
		d.changed = changedKeys(h, a.cur.draft)
		d.op = OpUnchanged
		if len(d.changed) > 0 || upload {
			d.op = OpUpdate
		}
	}
	switch {
	case a.published:
		d.publish = d.op != OpUnchanged || a.cur.pub == nil || len(changedKeys(h, a.cur.pub)) > 0
		if d.publish && a.cur != nil && a.cur.pub != nil {
			d.dropLocales = staleLocales(h, a.cur.pub)
		}
	case a.cur != nil && a.cur.pub != nil:
		d.unpublish = true
	}
	return d
}

// add records a decision in the plan.
func (r *assetRun) add(a *srcAsset, destID string, d decision) {
	ep := EntryPlan{SourceID: a.id, DestID: destID, Op: d.op, Changed: slices.Clone(d.changed)}
	if d.upload {
		ep.Changed = append(ep.Changed, "uploadUrl")
	}
	switch {
	case d.publish:
		ep.Publish = "publish"
	case d.unpublish:
		ep.Publish = "unpublish"
	}
	r.e.plan.add(assetModel, ep)
}

// planOnly plans a source asset in a dry run: files not known to be in the
// destination count as changed.
func (r *assetRun) planOnly(a *srcAsset) {
	toCopy := r.filesToCopy(a)
	handles := map[string]string{}
	for loc, f := range a.files {
		if _, ok := toCopy[loc]; ok {
			handles[loc] = placeholder + f.handle
			continue
		}
		cur := a.curFile(loc)
		handles[loc], _ = r.knownFile(f, cur)
	}
	r.add(a, a.curID(), r.decide(a, r.canon(a, handles), r.uploads(toCopy)))
}

// uploads reports whether an asset's write has the destination fetch its
// file (the new asset system's uploadUrl): its default locale's file, of
// toCopy (see filesToCopy), is not known to be there.
func (r *assetRun) uploads(toCopy map[string]srcFile) bool {
	_, ok := toCopy[""]
	return ok && r.sys == assetUpload
}

// curFile returns the file handle of the matched destination asset in a
// locale ("" for the default one), or "".
func (a *srcAsset) curFile(loc string) string {
	if a.cur == nil {
		return ""
	}
	return a.cur.files[loc]
}

// curID returns the id of the matched destination asset, or "".
func (a *srcAsset) curID() string {
	if a.cur == nil {
		return ""
	}
	return a.cur.id
}

// fail reports a source asset that could not be copied.
func (r *assetRun) fail(a *srcAsset, destID string, err error) {
	r.failOp(a, destID, "asset", err)
}

// failOp reports a source asset that failed in op.
func (r *assetRun) failOp(a *srcAsset, destID, op string, err error) {
	f := a.files[""]
	name := f.url
	if name == "" {
		name = f.handle
	}
	if name == "" {
		name = "asset " + a.id
	}
	fl := Failure{Model: assetModel, SourceID: a.id, DestID: destID, Op: op, Message: fmt.Sprintf("%s: %v", name, err), Path: errorPath(err)}
	r.e.failWrite(fl, err)
	r.mu.Lock()
	r.failed = append(r.failed, fl)
	r.mu.Unlock()
}

// create creates the destination asset of a source asset and, on the new
// asset system, waits for its upload; it returns the new id, recorded in
// the identity map. An asset whose upload fails is deleted again.
func (r *assetRun) create(ctx context.Context, a *srcAsset, data map[string]any) (string, error) {
	e := r.e
	if r.sys == assetUpload {
		data["uploadUrl"] = a.files[""].url
	}
	pending := a.created != "" && r.createdAt
	if pending {
		data["createdAt"] = a.created
	}
	id, err := e.write(ctx, Change{Op: OpCreate, Model: assetModel, Data: data})
	if err != nil {
		if pending && notApplied(err) {
			e.state.clearPending(assetModel, a.id)
		}
		return "", err
	}
	if r.sys == assetUpload {
		if err := r.await(ctx, a, id); err != nil {
			// Leave no asset without a file behind: the next run tries
			// afresh.
			// (A pending mark finds an asset that could not be deleted.)
			if _, derr := e.write(ctx, Change{Op: OpDelete, Model: assetModel, ID: id}); derr != nil {
				err = fmt.Errorf("%w (and deleting destination asset %s failed: %v)", err, id, derr)
			} else {
				e.state.clearPending(assetModel, a.id)
			}
			return "", err
		}
	}
	e.state.setDestID(assetModel, a.id, id)
	e.state.clearPending(assetModel, a.id)
	return id, nil
}

// await polls an upload on the new asset system until it is complete,
// trying a failed one again up to Retries times, and records the file it
// stored.
func (r *assetRun) await(ctx context.Context, a *srcAsset, id string) error {
	src := a.files[""]
	for attempt := 0; ; attempt++ {
		handle, failure, err := r.pollUpload(ctx, id)
		if err != nil {
			return err
		}
		if failure == "" {
			if src.handle != "" && handle != "" {
				r.e.state.setDestID(assetFilesKey, src.handle, handle)
			}
			return nil
		}
		if attempt >= r.opts.Retries {
			if attempt > 0 {
				return fmt.Errorf("upload failed %d times: %s", attempt+1, failure)
			}
			return fmt.Errorf("upload failed: %s", failure)
		}
		if _, err := r.e.write(ctx, Change{Op: OpUpdate, Model: assetModel, ID: id, Data: map[string]any{"uploadUrl": src.url}}); err != nil {
			return fmt.Errorf("upload failed (%s), and retrying it failed: %w", failure, err)
		}
	}
}

// pollUpload polls an asset until its upload is no longer pending, for at
// most UploadTimeout: an upload still pending at a poll after that long
// has failed (each poll is answered first, so that the failure says what
// state the upload was left in). It returns the asset's handle, or why its
// upload failed.
func (r *assetRun) pollUpload(ctx context.Context, id string) (handle, failure string, err error) {
	deadline := time.Now().Add(r.opts.UploadTimeout)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return "", "", ctx.Err()
		}
		var out struct {
			Item *struct {
				Handle string `json:"handle"`
				Upload *struct {
					Status string `json:"status"`
					Error  *struct {
						Code    string `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				} `json:"upload"`
			} `json:"item"`
		}
		if err := r.e.cfg.Dest.Do(ctx, r.poll, map[string]any{"id": id}, &out); err != nil {
			return "", "", fmt.Errorf("polling the upload: %w", err)
		}
		if out.Item == nil {
			return "", "", fmt.Errorf("destination asset %s is gone", id)
		}
		status := ""
		if out.Item.Upload != nil {
			status = out.Item.Upload.Status
		}
		switch {
		case uploadDone(status):
			return out.Item.Handle, "", nil
		case status == uploadError:
			failure = status
			if e := out.Item.Upload.Error; e != nil {
				failure = e.Code + ": " + e.Message
			}
			return "", failure, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return "", "", fmt.Errorf("upload still %s after %s", status, r.opts.UploadTimeout)
		}
		t.Reset(min(r.opts.PollInterval, left))
	}
}

// file copies a source file into the destination's bucket, once per run
// per source handle and per content, and returns its destination handle
// and the bytes copied. cur is the handle the matched destination asset
// has, which is kept when it holds the same bytes.
func (r *assetRun) file(ctx context.Context, f srcFile, cur string) (string, int64, error) {
	st := r.e.state
	var copied int64
	key := f.handle
	if key == "" {
		key = "url:" + f.url
	}
	h, err := r.flights.do(ctx, key, func() (string, error) {
		meta := r.opts.SourceFiles
		if meta == nil {
			meta = r.opts.Files
		}
		sum := ""
		if f.handle != "" {
			if md, err := meta.Metadata(ctx, f.handle); err == nil {
				sum = md.SHA256
			}
		}
		if sum != "" && cur != "" {
			if md, err := r.opts.Files.Metadata(ctx, cur); err == nil && md.SHA256 == sum {
				st.setDestID(assetFilesKey, "sha256:"+sum, cur)
				return cur, nil
			}
		}
		var h string
		var err error
		if sum == "" {
			h, copied, err = r.store(ctx, f, "")
		} else if known, ok := st.DestID(assetFilesKey, "sha256:"+sum); ok {
			h = known
		} else {
			h, err = r.flights.do(ctx, "sha256:"+sum, func() (string, error) {
				h, n, err := r.store(ctx, f, sum)
				copied = n
				return h, err
			})
		}
		if err != nil {
			return "", err
		}
		if f.handle != "" {
			st.setDestID(assetFilesKey, f.handle, h)
		}
		return h, nil
	})
	return h, copied, err
}

// store stores one file into the destination's bucket: by URL, or, when
// Filestack cannot fetch it, downloaded and uploaded in one stream. With
// the source's SHA-256 sum, the copy is checked against it.
func (r *assetRun) store(ctx context.Context, f srcFile, sum string) (string, int64, error) {
	files := r.opts.Files
	opts := filestack.StoreOptions{Filename: f.fileName, MimeType: f.mimeType}
	var stored *filestack.File
	var byURL error
	if f.url != "" {
		stored, byURL = files.StoreURL(ctx, f.url, opts)
	}
	if stored == nil {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		dl := r.opts.SourceFiles
		if dl == nil {
			dl = files
		}
		open := func() (io.ReadCloser, error) {
			if f.url == "" {
				return dl.Download(ctx, f.handle)
			}
			return dl.DownloadURL(ctx, f.url)
		}
		var err error
		if stored, err = files.UploadFunc(ctx, open, opts); err != nil {
			if byURL != nil {
				return "", 0, fmt.Errorf("storing by URL: %v; downloading and uploading: %w", byURL, err)
			}
			return "", 0, err
		}
	}
	if sum != "" {
		md, err := files.Metadata(ctx, stored.Handle)
		if err == nil && md.SHA256 != "" && md.SHA256 != sum {
			_ = files.Delete(ctx, stored.Handle)
			return "", stored.Size, fmt.Errorf("the copy's SHA-256 %s differs from the source's %s", md.SHA256, sum)
		}
		r.e.state.setDestID(assetFilesKey, "sha256:"+sum, stored.Handle)
	}
	return stored.Handle, stored.Size, nil
}

// flights runs a function once per key for the run and shares its result
// with every caller of the same key.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	val  string
	err  error
}

func (f *flights) do(ctx context.Context, key string, fn func() (string, error)) (string, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	if fl, ok := f.m[key]; ok {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.val, fl.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()
	fl.val, fl.err = fn()
	close(fl.done)
	return fl.val, fl.err
}
