package emulator

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/filestackemu"
	"github.com/stagesync/stagesync/schema"
)

// assetSchema synthesizes a project on the given asset system with a
// localized custom Asset field.
func assetSchema(t *testing.T, system string) *ast.Schema {
	t.Helper()
	desc := `
locales: [en, de]
assets:
  system: ` + system + `
  fields:
    alt: String localized
models:
  Post:
    title: String! unique
    cover: Asset
`
	sdl, err := schema.SynthesizeDescription([]byte(desc))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadString(system+".graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newAssetStage(t *testing.T, system string, opts ...Option) *Stage {
	t.Helper()
	st, err := NewStage(assetSchema(t, system), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// download reads a URL through the Filestack emulator's client.
func download(t *testing.T, fs *filestackemu.Server, u string) []byte {
	t.Helper()
	resp, err := fs.HTTPClient().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return b
}

func TestAssetsLegacy(t *testing.T) {
	fs := newFilestack(t)
	st := newAssetStage(t, "legacy", WithAssets(fs, "KEY"))
	data := []byte("hello, asset")
	id, err := st.SeedAsset("hello.txt", "text/plain", data, map[string]any{
		"alt": "Hello", "localizations": map[string]any{"de": map[string]any{"alt": "Hallo"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	files := st.AssetBucket().Files()
	if len(files) != 1 {
		t.Fatalf("bucket has %d files, want 1", len(files))
	}
	f := files[0]
	got := mustPost(t, st, `query($id: ID!) { asset(where: {id: $id}, stage: DRAFT) {
		handle fileName mimeType size url alt
		localizations(locales: [de]) { locale handle fileName url alt }
	} }`, map[string]any{"id": id})["asset"].(map[string]any)
	if got["handle"] != f.Handle || got["fileName"] != "hello.txt" || got["mimeType"] != "text/plain" || got["alt"] != "Hello" {
		t.Errorf("asset = %v, want handle %s of hello.txt", got, f.Handle)
	}
	if want := fs.CDNURL() + "/" + f.Handle; got["url"] != want {
		t.Errorf("url = %v, want %s", got["url"], want)
	}
	if b := download(t, fs, got["url"].(string)); !bytes.Equal(b, data) {
		t.Errorf("downloaded %q, want %q", b, data)
	}
	// A locale without file fields of its own shows the default locale's.
	de := got["localizations"].([]any)[0].(map[string]any)
	if de["handle"] != f.Handle || de["url"] != got["url"] || de["fileName"] != "hello.txt" || de["alt"] != "Hallo" {
		t.Errorf("de localization = %v", de)
	}

	// createAsset keeps the handle and metadata it is given.
	other := st.AssetBucket().Put("b.bin", "application/octet-stream", []byte{1, 2, 3})
	res := mustPost(t, st, `mutation($h: String!) { createAsset(data: {handle: $h, fileName: "b.bin", mimeType: "application/octet-stream", size: 3, width: 10}) { handle fileName size width url } }`,
		map[string]any{"h": other.Handle})["createAsset"].(map[string]any)
	if res["handle"] != other.Handle || res["url"] != other.URL || res["fileName"] != "b.bin" {
		t.Errorf("createAsset = %v, want handle %s at %s", res, other.Handle, other.URL)
	}
}

func TestAssetsWithoutBucket(t *testing.T) {
	st := newAssetStage(t, "legacy")
	if st.AssetBucket() != nil || st.AssetServer() != nil {
		t.Fatal("a stage without WithAssets has a bucket")
	}
	if _, err := st.SeedAsset("a.txt", "", []byte("a"), nil); err == nil {
		t.Error("SeedAsset without a bucket succeeded")
	}
	res := mustPost(t, st, `mutation { createAsset(data: {handle: "h1", fileName: "a.png"}) { handle url } }`, nil)["createAsset"].(map[string]any)
	if res["url"] != "https://eu-central-1.graphassets.com/h1" {
		t.Errorf("url = %v", res["url"])
	}
}

func TestAssetsOwnBucket(t *testing.T) {
	st := newAssetStage(t, "legacy", WithAssets(nil, ""))
	id, err := st.SeedAssetFrom(context.Background(), "big.bin", "application/octet-stream", strings.NewReader(strings.Repeat("x", 5<<20)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := mustPost(t, st, `query($id: ID!) { asset(where: {id: $id}, stage: DRAFT) { size url } }`, map[string]any{"id": id})["asset"].(map[string]any)
	if b := download(t, st.AssetServer(), got["url"].(string)); len(b) != 5<<20 {
		t.Errorf("downloaded %d bytes, want %d", len(b), 5<<20)
	}
}

func TestAssetsUpload(t *testing.T) {
	const query = `query($id: ID!) { asset(where: {id: $id}, stage: DRAFT) { handle fileName size mimeType url upload { status error { code message } } } }`
	for _, tc := range []struct {
		name string
		mode UploadMode
		// pendingFirst: the asset is still pending when it is first read.
		pendingFirst bool
	}{
		{"async", UploadAsync, false},
		{"next request", UploadOnNextRequest, false},
		{"manual", UploadManual, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			origin := newFilestack(t)
			src := origin.Bucket("ORIGIN").Put("photo.png", "image/png", []byte("\x89PNG fake image"))
			fs := newFilestack(t, filestackemu.WithFault(func(c filestackemu.Call) int {
				if c.Op == filestackemu.OpStore && c.Filename == "broken.png" {
					return http.StatusInternalServerError
				}
				return 0
			}))
			st := newAssetStage(t, "upload", WithAssets(fs, "KEY"), WithUploadMode(tc.mode))

			create := func(name string) string {
				res := mustPost(t, st, `mutation($u: String!, $n: String) { createAsset(data: {uploadUrl: $u, fileName: $n, alt: "A"}) { id upload { status } } }`,
					map[string]any{"u": src.URL, "n": name})["createAsset"].(map[string]any)
				if s := res["upload"].(map[string]any)["status"]; s != UploadCreatePending {
					t.Errorf("createAsset: status %v, want %s", s, UploadCreatePending)
				}
				return res["id"].(string)
			}
			okID, badID := create("photo.png"), create("broken.png")
			if tc.pendingFirst {
				got := mustPost(t, st, query, map[string]any{"id": okID})["asset"].(map[string]any)
				if s := got["upload"].(map[string]any)["status"]; s != UploadCreatePending {
					t.Errorf("before ProcessUploads: status %v, want %s", s, UploadCreatePending)
				}
			}
			if tc.mode != UploadOnNextRequest {
				if err := st.ProcessUploads(ctx); err != nil {
					t.Fatal(err)
				}
			}
			got := mustPost(t, st, query, map[string]any{"id": okID})["asset"].(map[string]any)
			up := got["upload"].(map[string]any)
			if up["status"] != UploadComplete || up["error"] != nil {
				t.Fatalf("upload = %v, want complete", up)
			}
			files := st.AssetBucket().Files()
			if len(files) != 1 || got["handle"] != files[0].Handle || got["fileName"] != "photo.png" || got["mimeType"] != "image/png" {
				t.Fatalf("asset = %v, bucket %v", got, files)
			}
			if b := download(t, fs, got["url"].(string)); string(b) != "\x89PNG fake image" {
				t.Errorf("downloaded %q", b)
			}

			bad := mustPost(t, st, query, map[string]any{"id": badID})["asset"].(map[string]any)["upload"].(map[string]any)
			e, _ := bad["error"].(map[string]any)
			if bad["status"] != UploadError || e["code"] != UploadErrorCode || !strings.Contains(e["message"].(string), src.URL) || !strings.Contains(e["message"].(string), "500") {
				t.Errorf("failed upload = %v", bad)
			}

			// Updating with a new uploadUrl fetches again.
			res := mustPost(t, st, `mutation($id: ID!, $u: String!) { updateAsset(where: {id: $id}, data: {uploadUrl: $u}) { upload { status } } }`,
				map[string]any{"id": okID, "u": src.URL})["updateAsset"].(map[string]any)
			if s := res["upload"].(map[string]any)["status"]; s != UploadUpdatePending {
				t.Errorf("updateAsset: status %v, want %s", s, UploadUpdatePending)
			}
			if err := st.ProcessUploads(ctx); err != nil {
				t.Fatal(err)
			}
			again := mustPost(t, st, query, map[string]any{"id": okID})["asset"].(map[string]any)
			if again["upload"].(map[string]any)["status"] != UploadComplete || again["handle"] == got["handle"] {
				t.Errorf("after update: %v (handle before %v)", again, got["handle"])
			}
		})
	}
}
