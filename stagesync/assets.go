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
	"golang.org/x/sync/errgroup"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/schema"
)

// PhaseAssets is the first phase of a sync with SyncConfig.Assets set: the
// source's assets are copied, files and entries, before the entries that
// reference them. Its events count assets in Done and Total and the bytes
// copied in Bytes and TotalBytes.
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

// AssetOptions turns the asset phase of Sync on (see SyncConfig.Assets) and
// configures it.
//
// The asset phase runs first. It reads every source asset (file fields,
// custom fields, localizations, publish state) and matches it to a
// destination asset through the identity map, then by id (stages cloned
// from each other share ids). The destination's asset system is told from
// its schema: the legacy system when AssetCreateInput requires handle, the
// new one when it has uploadUrl.
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

// srcAsset is a source asset as the phase works on it.
type srcAsset struct {
	id, created string
	entry       map[string]any     // the draft as read
	published   bool               // published in the source
	files       map[string]srcFile // by locale, "" for the default locale
	status      string             // upload status (new asset system)
	cur         *destEntry         // the matched destination asset
	dropped     bool               // the transform dropped it
	failure     error              // the transform failed on it
}

// dstAsset is what the phase keeps of a destination asset.
type dstAsset struct {
	id, created string
	handles     map[string]string // by locale, "" for the default locale
	status      string
	draft, pub  fieldHashes // pub is nil when unpublished
	matched     bool
	kept        bool // a candidate of an ambiguous create: never an orphan
}

// entry returns what the pipeline keeps of a destination asset.
func (d *dstAsset) entry() *destEntry {
	return &destEntry{model: assetModel, id: d.id, created: d.created, draft: d.draft, pub: d.pub, files: d.handles, status: d.status}
}

// assetRun is one run of the asset phase.
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
	sem     chan struct{}   // the assets copied at once (pipeline)
	known   map[string]bool // source files counted in totalBytes (pipeline)
	publish []publishItem   // guarded by mu
	failed  []Failure       // guarded by mu

	mu                sync.Mutex // guards the progress and emits
	done, total       int
	bytes, totalBytes int64
	saveErr           error // of the first checkpoint that failed
}

// assets runs the asset phase (see AssetOptions).
func (e *engine) assets(ctx context.Context) error {
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
	e.report.touch(assetModel)
	e.emit(Event{Phase: PhaseAssets, Model: assetModel})
	return r.run(ctx)
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

// run reads both sides, plans, copies and publishes.
func (r *assetRun) run(ctx context.Context) error {
	e := r.e
	dest, err := r.readDest(ctx)
	if err != nil {
		return err
	}
	srcs, err := r.readSource(ctx)
	if err != nil {
		return err
	}
	e.srcSize[assetModel] = len(srcs)
	byCreated := map[string][]*dstAsset{}
	mapped := map[string]bool{}
	for _, d := range e.state.IDs(assetModel) {
		mapped[d] = true
	}
	for _, d := range dest {
		byCreated[d.created] = append(byCreated[d.created], d)
	}
	known := map[string]bool{} // source files counted in TotalBytes
	for _, a := range srcs {
		// Match before transforming, so that an asset whose transform
		// fails keeps its destination asset (mirror mode never deletes it).
		var d *dstAsset
		d, a.failure = r.match(a, dest, byCreated, mapped)
		if d != nil {
			d.matched = true
			a.cur = d.entry()
		}
		if a.failure != nil {
			continue
		}
		if err := e.transform(ctx, assetModel, a.entry); errors.Is(err, ErrDrop) {
			a.dropped = true
		} else if err != nil {
			a.failure = err
		}
		if a.dropped || a.failure != nil {
			continue
		}
		if a.cur == nil && a.created != "" && r.createdAt && !e.cfg.DryRun {
			// The create sends the source's creation time, which, with
			// the content sent, finds the asset again if its answer is
			// lost.
			e.state.setPending(assetModel, a.id, pendingCreate{created: a.created, sent: assetDigest(hashVersion(r.canon(a, nil)))})
		}
		for _, f := range r.filesToCopy(a) {
			if !known[f.handle] {
				known[f.handle] = true
				r.totalBytes += f.size
			}
		}
	}
	r.total = len(srcs)
	e.report.add(assetModel, countRead, len(srcs))
	e.emit(Event{Phase: PhaseAssets, Model: assetModel, Total: r.total, TotalBytes: r.totalBytes})

	if e.cfg.DryRun {
		for _, a := range srcs {
			r.planOnly(a)
		}
	} else {
		if err := e.save(); err != nil { // the creates are recorded as pending first
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(r.opts.Concurrency)
		for _, a := range srcs {
			g.Go(func() error { r.copy(gctx, a); return nil })
		}
		_ = g.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.publishAll(ctx); err != nil {
			return err
		}
	}
	if err := r.orphans(ctx, dest); err != nil {
		return err
	}
	if r.saveErr != nil {
		return r.saveErr
	}
	if err := e.save(); err != nil {
		return err
	}
	if r.opts.Strict && len(r.failed) > 0 {
		failed := slices.Clone(r.failed)
		slices.SortFunc(failed, func(a, b Failure) int { return strings.Compare(a.SourceID, b.SourceID) })
		return &AssetError{Dest: e.cfg.Dest.Name(), Failures: failed}
	}
	return nil
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

// readDest reads the destination's assets.
func (r *assetRun) readDest(ctx context.Context) (map[string]*dstAsset, error) {
	e := r.e
	out := map[string]*dstAsset{}
	fetch := e.assetFetcher(e.cfg.Dest, r.dst, assetQuery(e.dst, r.dst, e.pageSize), true)
	for entry, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(e.pageSize)) {
		if err != nil {
			return nil, fmt.Errorf("stagesync: %s: %w", e.cfg.Dest, err)
		}
		d := &dstAsset{}
		d.id, _ = entry["id"].(string)
		if c, ok := entry["createdAt"].(string); ok {
			d.created = timeKey(c)
		}
		d.status = uploadStatus(entry)
		d.handles = destFiles(entry)
		if pub := entryform.Published(entry); pub != nil {
			v, _ := canonEntry(e.dst, r.dst, pub, r.skip, sameID)
			d.pub = hashVersion(v)
		}
		v, _ := canonEntry(e.dst, r.dst, entry, r.skip, sameID)
		d.draft = hashVersion(v)
		out[d.id] = d
	}
	return out, nil
}

// readSource reads the source's assets.
func (r *assetRun) readSource(ctx context.Context) ([]*srcAsset, error) {
	e := r.e
	var out []*srcAsset
	fetch := e.assetFetcher(e.cfg.Source, r.src, assetQuery(e.src, r.src, e.pageSize), false)
	fetch, stop := readAhead(ctx, fetch, e.pageSize)
	defer stop()
	for entry, err := range hygraph.Paginate(ctx, fetch, hygraph.WithPageSize(e.pageSize)) {
		if err != nil {
			return nil, fmt.Errorf("stagesync: %s: %w", e.cfg.Source, err)
		}
		created, _ := entry["createdAt"].(string)
		published := entryform.Published(entry) != nil
		delete(entry, "createdAt")
		delete(entry, "updatedAt")
		out = append(out, newSrcAsset(entry, created, published))
	}
	return out, nil
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

// match finds the destination asset of a source asset: through the
// identity map, by id, or as the asset a create whose answer was lost
// left behind, when exactly one unmatched asset has the creation time and
// the content (besides the file) sent. Several such assets are an
// *ambiguousCreateError: none is adopted, and none is deleted as an
// orphan.
func (r *assetRun) match(a *srcAsset, dest map[string]*dstAsset, byCreated map[string][]*dstAsset, mapped map[string]bool) (*dstAsset, error) {
	st := r.e.state
	if id, ok := st.DestID(assetModel, a.id); ok {
		if d := dest[id]; d != nil {
			return d, nil
		}
		st.forgetID(assetModel, a.id) // the destination asset is gone
	}
	if d := dest[a.id]; d != nil && !d.matched {
		return d, nil
	}
	pc, ok := st.pendingOf(assetModel, a.id)
	if !ok || pc.created == "" {
		return nil, nil
	}
	var cands []*dstAsset
	for _, d := range byCreated[timeKey(pc.created)] {
		if d.matched || mapped[d.id] {
			continue
		}
		if pc.sent != "" && assetDigest(d.draft) != pc.sent {
			continue
		}
		cands = append(cands, d)
	}
	switch {
	case len(cands) == 0:
		return nil, nil
	case len(cands) == 1 && (pc.sent != "" || st.pendingSharing(assetModel, pc.created) == 1):
		return cands[0], nil
	}
	err := &ambiguousCreateError{model: assetModel, srcID: a.id}
	for _, d := range cands {
		d.kept = true
		err.candidates = append(err.candidates, d.id)
	}
	return nil, err
}

// failureOp names the operation of an asset's failure before its writes:
// its adoption or its transform.
func failureOp(err error) string {
	if _, ok := errors.AsType[*ambiguousCreateError](err); ok {
		return "adopt"
	}
	return "transform"
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
		cur := ""
		if a.cur != nil {
			cur = a.cur.files[loc]
		}
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
	switch {
	case a.dropped:
		r.e.plan.add(assetModel, EntryPlan{SourceID: a.id, DestID: a.curID(), Op: OpSkip})
		return
	case a.failure != nil:
		r.failOp(a, a.curID(), failureOp(a.failure), a.failure)
		return
	}
	toCopy := r.filesToCopy(a)
	handles := map[string]string{}
	for loc, f := range a.files {
		if _, ok := toCopy[loc]; ok {
			handles[loc] = placeholder + f.handle
			continue
		}
		cur := ""
		if a.cur != nil {
			cur = a.cur.files[loc]
		}
		handles[loc], _ = r.knownFile(f, cur)
	}
	_, upload := toCopy[""]
	r.add(a, a.curID(), r.decide(a, r.canon(a, handles), upload && r.sys == assetUpload))
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

// finish counts one asset as handled and emits the progress.
func (r *assetRun) finish(bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	r.bytes += bytes
	r.e.emit(Event{Phase: PhaseAssets, Model: assetModel, Done: r.done, Total: r.total, Bytes: r.bytes, TotalBytes: r.totalBytes})
	if r.done%r.e.pageSize == 0 && r.saveErr == nil {
		r.saveErr = r.e.save() // checkpoint the identity map
	}
}

// copy copies one source asset: its files, then its entry.
func (r *assetRun) copy(ctx context.Context, a *srcAsset) {
	var copied int64
	defer func() { r.finish(copied) }()
	destID := a.curID()
	switch {
	case a.dropped:
		r.e.plan.add(assetModel, EntryPlan{SourceID: a.id, DestID: destID, Op: OpSkip})
		return
	case a.failure != nil:
		r.failOp(a, destID, failureOp(a.failure), a.failure)
		return
	}
	if !uploadDone(a.status) {
		msg := "the source asset has no file: upload status " + a.status
		if e := uploadFailure(a.entry); e != "" {
			msg += " (" + e + ")"
		}
		r.e.state.clearPending(assetModel, a.id) // no create happens
		r.fail(a, destID, errors.New(msg))
		return
	}
	toCopy := r.filesToCopy(a)
	handles := map[string]string{}
	if r.sys == assetLegacy {
		for _, loc := range slices.Sorted(maps.Keys(a.files)) {
			if loc != "" && !r.locFiles {
				continue
			}
			f := a.files[loc]
			cur := ""
			if a.cur != nil {
				cur = a.cur.files[loc]
			}
			if h, ok := r.knownFile(f, cur); ok {
				handles[loc] = h
				continue
			}
			h, n, err := r.file(ctx, f, cur)
			copied += n
			if err != nil {
				r.e.state.clearPending(assetModel, a.id) // no create happens
				r.fail(a, destID, err)
				return
			}
			handles[loc] = h
		}
	}
	_, upload := toCopy[""]
	upload = upload && r.sys == assetUpload
	v := r.canon(a, handles)
	d := r.decide(a, v, upload)
	b := inputBuilder{p: r.e.dst, m: r.dst}
	switch {
	case d.op == OpCreate:
		id, err := r.create(ctx, a, b.build(v, d.changed, true, nil))
		if err != nil {
			r.fail(a, "", err)
			return
		}
		destID = id
		r.e.report.add(assetModel, countCreated, 1)
	case d.op == OpUpdate:
		data := b.build(v, d.changed, false, nil)
		if upload {
			data["uploadUrl"] = a.files[""].url
		}
		if _, err := r.e.write(ctx, Change{Op: OpUpdate, Model: assetModel, ID: destID, Data: data}); err != nil {
			r.fail(a, destID, err)
			return
		}
		if upload {
			if err := r.await(ctx, a, destID); err != nil {
				r.fail(a, destID, err)
				return
			}
		}
		r.e.report.add(assetModel, countUpdated, 1)
	default:
		r.e.report.add(assetModel, countUnchanged, 1)
	}
	if upload {
		copied += a.files[""].size
	}
	r.add(a, destID, d)
	if d.publish || d.unpublish {
		r.mu.Lock()
		r.publish = append(r.publish, publishItem{srcID: a.id, destID: destID, unpublish: d.unpublish, dropLocales: d.dropLocales})
		r.mu.Unlock()
	}
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

// publishItem is a destination asset to publish or unpublish.
type publishItem struct {
	srcID, destID string
	unpublish     bool
	dropLocales   []string // unpublished after the publish
}

// publishAll publishes and unpublishes the destination assets whose
// publish state differs from the source's, in batches of ids.
func (r *assetRun) publishAll(ctx context.Context) error {
	var pub, unpub []publishItem
	for _, it := range r.publish {
		if it.unpublish {
			unpub = append(unpub, it)
		} else {
			pub = append(pub, it)
		}
	}
	for _, batch := range []struct {
		list []publishItem
		op   Op
	}{{pub, OpPublish}, {unpub, OpUnpublish}} {
		if r.ops.publish == "" || len(batch.list) == 0 {
			continue
		}
		slices.SortFunc(batch.list, func(a, b publishItem) int { return strings.Compare(a.srcID, b.srcID) })
		items := make([]idItem, len(batch.list))
		for i, it := range batch.list {
			items[i] = idItem{srcID: it.srcID, destID: it.destID}
		}
		failed, err := r.e.publishIDs(ctx, assetModel, batch.op, items, r.opts.Concurrency, nil)
		if err != nil {
			return err
		}
		if batch.op == OpPublish {
			if err := r.unpublishLocales(ctx, batch.list, failed); err != nil {
				return err
			}
		}
	}
	return nil
}

// unpublishLocales unpublishes the dropLocales of the published assets
// (list, but those that failed), grouped by locales.
func (r *assetRun) unpublishLocales(ctx context.Context, list []publishItem, failed []bool) error {
	var items []localeItem
	for i, it := range list {
		if !failed[i] && len(it.dropLocales) > 0 {
			items = append(items, localeItem{idItem{srcID: it.srcID, destID: it.destID}, it.dropLocales})
		}
	}
	_, err := r.e.unpublishLocaleItems(ctx, assetModel, items, r.opts.Concurrency)
	return err
}

// orphans records the destination assets no source asset matched, which
// the run reports, or deletes in mirror mode after everything else (see
// engine.deletions).
func (r *assetRun) orphans(_ context.Context, dest map[string]*dstAsset) error {
	e := r.e
	for _, id := range slices.Sorted(maps.Keys(dest)) {
		if !dest[id].matched && !dest[id].kept {
			e.orphans = append(e.orphans, destRef{model: assetModel, id: id})
		}
	}
	e.destSize[assetModel] = len(dest)
	return nil
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
