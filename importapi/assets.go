package importapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/hygraph"
	"github.com/stagesync/stagesync/stagesync"
)

// AssetModel is Hygraph's asset model.
const AssetModel = "Asset"

// assetsDir is the directory of a snapshot's asset files.
const assetsDir = "assets"

// exportAssets downloads the file of every asset of stage s (in DRAFT)
// into dir/assets/<id>/<fileName>, streaming, and returns them with their
// SHA-256.
func exportAssets(ctx context.Context, s *stagesync.Stage, dir string, hc *http.Client, progress func(model string, n int, bytes int64)) ([]AssetFile, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	const query = `query StagesyncExportAssets($first: Int!, $after: String) { items: assets(stage: DRAFT, orderBy: id_ASC, first: $first, after: $after) { id url fileName mimeType } }`
	type asset struct {
		ID       string `json:"id"`
		URL      string `json:"url"`
		FileName string `json:"fileName"`
		MimeType string `json:"mimeType"`
	}
	fetch := func(ctx context.Context, after string, first int) ([]asset, string, bool, error) {
		vars := map[string]any{"first": first}
		if after != "" {
			vars["after"] = after
		}
		var out struct{ Items []asset }
		if err := s.Do(ctx, query, vars, &out); err != nil {
			return nil, "", false, fmt.Errorf("importapi: %s: reading assets: %w", s, err)
		}
		if len(out.Items) == 0 {
			return nil, "", false, nil
		}
		return out.Items, out.Items[len(out.Items)-1].ID, len(out.Items) == first, nil
	}
	var files []AssetFile
	var total int64
	for a, err := range hygraph.Paginate(ctx, fetch) {
		if err != nil {
			return files, err
		}
		f, err := downloadAsset(ctx, hc, dir, a.ID, a.URL, a.FileName, a.MimeType)
		if err != nil {
			return files, err
		}
		files = append(files, f)
		total += f.Bytes
		if progress != nil {
			progress(AssetModel+" files", len(files), total)
		}
	}
	return files, nil
}

func downloadAsset(ctx context.Context, hc *http.Client, dir, id, url, fileName, mimeType string) (AssetFile, error) {
	name := safeFileName(fileName)
	rel := path.Join(assetsDir, safeFileName(id), name)
	fail := func(err error) (AssetFile, error) {
		return AssetFile{}, fmt.Errorf("importapi: asset %s (%s): %w", id, fileName, err)
	}
	if url == "" {
		return fail(fmt.Errorf("the asset has no url"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("downloading %s: HTTP %d", url, resp.StatusCode))
	}
	full := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fail(err)
	}
	out, err := os.Create(full)
	if err != nil {
		return fail(err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), resp.Body)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("downloading %s: %w", url, err))
	}
	return AssetFile{ID: id, Path: rel, FileName: fileName, MimeType: mimeType, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// safeFileName keeps a name usable as one path element.
func safeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		return "file"
	}
	return s
}

// storeAssets puts a snapshot's asset files into a bucket, checking each
// file's size and SHA-256 against the manifest, and returns the handle of
// each asset id.
func storeAssets(ctx context.Context, dir string, files []AssetFile, client *filestack.Client) (map[string]string, error) {
	handles := make(map[string]string, len(files))
	for _, a := range files {
		full := filepath.Join(dir, filepath.FromSlash(a.Path))
		f, err := os.Open(full)
		if err != nil {
			return nil, &InputError{File: full, Index: -1, Entry: entryName(AssetModel, a.ID), Err: fmt.Errorf("the manifest lists this asset file: %w", err)}
		}
		h := &countingHash{h: sha256.New()}
		up, err := client.Upload(ctx, io.TeeReader(f, h), filestack.StoreOptions{Filename: a.FileName, MimeType: a.MimeType})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("importapi: storing asset file %s: %w", full, err)
		}
		if sum := hex.EncodeToString(h.h.Sum(nil)); sum != a.SHA256 || h.n != a.Bytes {
			return nil, &InputError{File: full, Index: -1, Entry: entryName(AssetModel, a.ID),
				Err: fmt.Errorf("the file has %d bytes with SHA-256 %s; the manifest says %d bytes, %s: it changed or was cut since the export", h.n, sum, a.Bytes, a.SHA256)}
		}
		handles[a.ID] = up.Handle
	}
	return handles, nil
}

type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// withHandle sets the handle of an Asset node to the one its file got.
func withHandle(raw json.RawMessage, handles map[string]string) json.RawMessage {
	if len(handles) == 0 {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	var typ, id string
	_ = json.Unmarshal(m[keyTypeName], &typ)
	_ = json.Unmarshal(m[keyID], &id)
	h, ok := handles[id]
	if typ != AssetModel || !ok {
		return raw
	}
	m["handle"], _ = json.Marshal(h)
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}
