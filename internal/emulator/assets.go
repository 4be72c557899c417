package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/filestackemu"
)

// UploadMode says when a stage on the new asset system fetches the
// uploadUrl of an asset created or updated with one.
type UploadMode int

// The upload modes.
const (
	// UploadAsync fetches in the background, as Hygraph does: the asset
	// is ASSET_CREATE_PENDING (or ASSET_UPDATE_PENDING) until the fetch
	// ends. ProcessUploads waits for the fetches in flight.
	UploadAsync UploadMode = iota
	// UploadOnNextRequest fetches before the stage serves its next
	// request, so that a client polling the asset sees it complete (or
	// failed) at its first poll: deterministic, with no background work.
	UploadOnNextRequest
	// UploadManual leaves uploads pending until ProcessUploads is called.
	UploadManual
)

// The upload states of an asset on the new asset system.
const (
	UploadCreatePending = "ASSET_CREATE_PENDING"
	UploadUpdatePending = "ASSET_UPDATE_PENDING"
	UploadComplete      = "ASSET_UPLOAD_COMPLETE"
	UploadError         = "ASSET_ERROR_UPLOAD"
)

// UploadErrorCode is the error code of an asset whose uploadUrl could not
// be fetched.
const UploadErrorCode = "UPLOAD_FAILED"

// WithAssets gives the stage an asset bucket: the bucket of apiKey in the
// Filestack emulator fs. The url of an Asset is then the emulator's CDN
// URL of its handle, so the asset's file can be downloaded; on the new
// asset system (AssetCreateInput has uploadUrl), createAsset and
// updateAsset with an uploadUrl fetch it into the bucket (see
// WithUploadMode). With a nil fs the stage starts a Filestack emulator of
// its own, closed with the stage, and an empty apiKey is made up.
func WithAssets(fs *filestackemu.Server, apiKey string) Option {
	return func(c *config) {
		c.assets = true
		c.assetFS, c.assetKey = fs, apiKey
	}
}

// WithUploadMode sets when uploadUrls are fetched (default UploadAsync).
func WithUploadMode(m UploadMode) Option {
	return func(c *config) { c.uploadMode = m }
}

// assetFiles is the asset bucket of a stage and its uploads in flight.
type assetFiles struct {
	fs     *filestackemu.Server
	key    string
	owned  bool // fs was started by the stage
	client *filestack.Client
	upload bool // the schema is on the new asset system
	mode   UploadMode

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // fetches in the background

	mu     sync.Mutex
	queue  []*uploadJob      // fetches waiting (UploadOnNextRequest, UploadManual)
	latest map[string]uint64 // asset id → seq of its latest upload
	seq    uint64

	drain sync.Mutex // held while the queue is worked off
}

// uploadJob is one fetch of an uploadUrl into the bucket.
type uploadJob struct {
	id, url, fileName string
	seq               uint64
}

// newAssetFiles sets up the asset bucket of a stage.
func newAssetFiles(cfg config, c *catalog) *assetFiles {
	a := &assetFiles{fs: cfg.assetFS, key: cfg.assetKey, mode: cfg.uploadMode, latest: map[string]uint64{}}
	if a.fs == nil {
		a.fs, a.owned = filestackemu.New(), true
	}
	if a.key == "" {
		a.key = rand.Text()
	}
	// The stage's own fetches are not retried: a failed fetch is an
	// ASSET_ERROR_UPLOAD the client sees and may retry.
	a.client = a.fs.Client(a.key, filestack.WithRetry(0, 0, 0))
	if def := c.Schema.Types["AssetCreateInput"]; def != nil && def.Fields.ForName("uploadUrl") != nil {
		a.upload = true
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a
}

// close stops the fetches in flight and the Filestack emulator the stage
// started.
func (a *assetFiles) close() {
	a.cancel()
	a.wg.Wait()
	if a.owned {
		a.fs.Close()
	}
}

// AssetServer returns the Filestack emulator holding the stage's asset
// bucket, or nil when the stage has none (see WithAssets).
func (s *Stage) AssetServer() *filestackemu.Server {
	if s.assets == nil {
		return nil
	}
	return s.assets.fs
}

// AssetBucket returns the stage's asset bucket, or nil when it has none.
func (s *Stage) AssetBucket() *filestackemu.Bucket {
	if s.assets == nil {
		return nil
	}
	return s.assets.fs.Bucket(s.assets.key)
}

// assetURL is the url of the asset file with the handle.
func (s *Stage) assetURL(handle string) string {
	if s.assets == nil {
		return "https://eu-central-1.graphassets.com/" + handle
	}
	return s.assets.fs.CDNURL() + "/" + url.PathEscape(handle)
}

// errNoAssets is returned by the asset helpers of a stage without a bucket.
var errNoAssets = errors.New("stagetest: the stage has no asset bucket (see WithAssets)")

// SeedAsset stores data as a file named fileName in the stage's asset
// bucket and seeds an Asset entry for it in DRAFT (publish it with
// Publish), with the file's handle, fileName, mimeType and size. fields
// holds more fields of the entry, as for Seed (e.g. "alt", "width",
// "localizations"); they override the file's. An empty mimeType is
// detected from the name and the bytes. SeedAsset returns the entry's id.
func (s *Stage) SeedAsset(fileName, mimeType string, data []byte, fields map[string]any) (string, error) {
	if s.assets == nil {
		return "", errNoAssets
	}
	f := s.AssetBucket().Put(fileName, mimeType, data)
	return s.seedAssetFile(f, fields)
}

// SeedAssetFrom is SeedAsset for a file read from r, streamed into the
// bucket so that a large file is never held in memory.
func (s *Stage) SeedAssetFrom(ctx context.Context, fileName, mimeType string, r io.Reader, fields map[string]any) (string, error) {
	if s.assets == nil {
		return "", errNoAssets
	}
	up, err := s.assets.client.Upload(ctx, r, filestack.StoreOptions{Filename: fileName, MimeType: mimeType})
	if err != nil {
		return "", fmt.Errorf("stagetest: seeding asset %s: %w", fileName, err)
	}
	f, ok := s.assets.fs.File(up.Handle)
	if !ok {
		return "", fmt.Errorf("stagetest: seeding asset %s: the bucket lost file %s", fileName, up.Handle)
	}
	return s.seedAssetFile(f, fields)
}

func (s *Stage) seedAssetFile(f filestackemu.StoredFile, fields map[string]any) (string, error) {
	doc := map[string]any{"handle": f.Handle, "fileName": f.Filename, "mimeType": f.MimeType, "size": float64(f.Size)}
	maps.Copy(doc, fields)
	ids, err := s.Seed("Asset", "DRAFT", doc)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ProcessUploads fetches every uploadUrl still waiting (UploadManual,
// UploadOnNextRequest) and waits for the fetches in the background
// (UploadAsync), so that a test sees every asset complete or failed
// without sleeping.
func (s *Stage) ProcessUploads(ctx context.Context) error {
	if s.assets == nil {
		return nil
	}
	if err := s.drainUploads(ctx); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { s.assets.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// beforeRequest works off the waiting uploads in UploadOnNextRequest
// mode; it runs before a request takes the stage's lock.
func (s *Stage) beforeRequest(ctx context.Context) {
	if s.assets != nil && s.assets.mode == UploadOnNextRequest {
		_ = s.drainUploads(ctx)
	}
}

// drainUploads fetches the waiting uploads, one at a time; a request that
// comes meanwhile waits for them.
func (s *Stage) drainUploads(ctx context.Context) error {
	a := s.assets
	a.drain.Lock()
	defer a.drain.Unlock()
	for {
		a.mu.Lock()
		jobs := a.queue
		a.queue = nil
		a.mu.Unlock()
		if len(jobs) == 0 {
			return nil
		}
		for i, j := range jobs {
			if err := ctx.Err(); err != nil {
				a.mu.Lock()
				a.queue = append(jobs[i:len(jobs):len(jobs)], a.queue...)
				a.mu.Unlock()
				return err
			}
			s.fetchUpload(a.ctx, j)
		}
	}
}

// assetUpload starts the upload of an Asset written by a create or update
// input with an uploadUrl, on the new asset system: it marks the DRAFT
// version pending and returns the fetch to dispatch once the write is
// committed (nil when there is none).
func (t *tx) assetUpload(d *store.Document, data map[string]any, create bool) *uploadJob {
	a := t.s.assets
	if a == nil || !a.upload || d.Model.Name != "Asset" {
		return nil
	}
	src, _ := data["uploadUrl"].(string)
	if src == "" {
		return nil
	}
	v := t.Mut(d, t.s.cat.Draft)
	if v == nil {
		return nil
	}
	status := UploadUpdatePending
	if create {
		status = UploadCreatePending
	}
	v.Vals["upload"] = map[string]any{"status": status, "expiresAt": nil, "error": nil, "requestPostData": nil}
	name, _ := data["fileName"].(string)
	if name == "" {
		name, _ = t.s.assetValue(d.Model, v, "fileName").(string)
	}
	if name == "" {
		if u, err := url.Parse(src); err == nil {
			if b := path.Base(u.Path); b != "/" && b != "." {
				name = b
			}
		}
		if name == "" {
			name = "file"
		}
		t.s.setAssetValue(d.Model, v, "fileName", name)
	}
	return &uploadJob{id: d.ID, url: src, fileName: name}
}

// dispatchUpload schedules a fetch after its write was committed.
func (s *Stage) dispatchUpload(j *uploadJob) {
	a := s.assets
	a.mu.Lock()
	a.seq++
	j.seq = a.seq
	a.latest[j.id] = j.seq
	if a.mode != UploadAsync {
		a.queue = append(a.queue, j)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.wg.Go(func() { s.fetchUpload(a.ctx, j) })
}

// fetchUpload stores the file at the job's uploadUrl into the bucket and
// moves the asset to complete, or to failed with the reason.
func (s *Stage) fetchUpload(ctx context.Context, j *uploadJob) {
	a := s.assets
	f, err := a.client.StoreURL(ctx, j.url, filestack.StoreOptions{Filename: j.fileName})
	if ctx.Err() != nil {
		return // the stage is closing, or the request went away: keep it pending
	}
	_ = s.inTx(func(t *tx) error {
		a.mu.Lock()
		stale := a.latest[j.id] != j.seq
		if !stale {
			delete(a.latest, j.id)
		}
		a.mu.Unlock()
		d := t.Doc(j.id)
		if stale || d == nil || d.Model.Name != "Asset" {
			return nil // a later upload replaced this one, or the asset is gone
		}
		for st, v := range d.Versions {
			if v == nil || !uploadPending(v.Vals["upload"]) {
				continue
			}
			mv := t.Mut(d, st)
			if err != nil {
				mv.Vals["upload"] = map[string]any{"status": UploadError, "expiresAt": nil, "requestPostData": nil,
					"error": map[string]any{"code": UploadErrorCode, "message": uploadMessage(j.url, err)}}
				continue
			}
			s.setAssetValue(d.Model, mv, "handle", f.Handle)
			s.setAssetValue(d.Model, mv, "size", float64(f.Size))
			s.setAssetValue(d.Model, mv, "mimeType", f.Type)
			mv.Vals["upload"] = map[string]any{"status": UploadComplete, "expiresAt": nil, "error": nil, "requestPostData": nil}
		}
		return nil
	})
}

// uploadMessage says why an uploadUrl could not be fetched, without the
// emulator's API key.
func uploadMessage(src string, err error) string {
	msg := err.Error()
	var fe *filestack.Error
	if errors.As(err, &fe) {
		msg = fe.Message
		if fe.Status != 0 {
			msg = fmt.Sprintf("HTTP %d: %s", fe.Status, fe.Message)
		}
	}
	return fmt.Sprintf("could not fetch %s: %s", src, strings.TrimSpace(msg))
}

// uploadPending reports whether a stored upload state is pending.
func uploadPending(x any) bool {
	m, _ := x.(map[string]any)
	st, _ := m["status"].(string)
	return st == UploadCreatePending || st == UploadUpdatePending
}

// assetValue returns a field of an Asset version in the default locale.
func (s *Stage) assetValue(m *store.Model, v *store.Version, name string) any {
	f := m.ByName[name]
	if f == nil {
		return nil
	}
	if f.Localized && v.Locs != nil {
		if ld := v.Locs[s.cat.Locales[0]]; ld != nil {
			return ld.Vals[name]
		}
		return nil
	}
	return v.Vals[name]
}

// setAssetValue sets a field of an Asset version in the default locale.
func (s *Stage) setAssetValue(m *store.Model, v *store.Version, name string, x any) {
	f := m.ByName[name]
	if f == nil {
		return
	}
	if f.Localized && v.Locs != nil {
		if ld := v.Locs[s.cat.Locales[0]]; ld != nil {
			setVal(ld.Vals, name, x)
		}
		return
	}
	setVal(v.Vals, name, x)
}
