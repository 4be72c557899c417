package importapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/internal/emulator"
	"github.com/stagesync/stagesync/internal/filestackemu"
	"github.com/stagesync/stagesync/internal/gqlexec"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
)

// loadBatch is how many values Load hands the emulator at a time.
const loadBatch = 500

// Load imports a checked snapshot (see Check) into an emulated stage (a
// *stagetest.Stage), file after file, nodes, then lists, then relations,
// keeping the snapshot's ids, stages and locales. A value the stage refuses fails the load with
// an *InputError naming it.
func Load(ctx context.Context, dir string, st *emulator.Stage) error {
	return load(ctx, dir, st, nil)
}

// load is Load with the bucket handles of the snapshot's asset files by
// asset id, set on the Asset nodes.
func load(ctx context.Context, dir string, st *emulator.Stage, handles map[string]string) error {
	for _, vt := range ValueTypes {
		var batch []json.RawMessage
		var where []Value
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			failures, err := st.Import(string(vt), batch)
			if err != nil {
				return err
			}
			var errs []error
			for _, f := range failures {
				v := where[f.Index]
				errs = append(errs, v.errorf("", "%s", f.Message))
			}
			batch, where = batch[:0], where[:0]
			return errors.Join(errs...)
		}
		for v, err := range ReadDir(dir, vt) {
			if err != nil {
				return err
			}
			if vt == Nodes {
				v.Raw = withHandle(v.Raw, handles)
			}
			batch = append(batch, v.Raw)
			v.Raw = nil
			where = append(where, v)
			if len(batch) == loadBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

// Source is a snapshot served as a stage, for use as the source of
// stagesync.Sync, Plan or Compare: the snapshot's values are indexed in a
// scratch SQLite file (built in one streaming pass while the snapshot is
// checked) and the read queries of the content API are answered from it
// in this process, without a network. Memory does not grow with the
// snapshot. The source is read-only.
type Source struct {
	// Stage is the stagesync handle of the snapshot.
	Stage *stagesync.Stage
	// Schema is the snapshot's schema.
	Schema *ast.Schema
	// Manifest is the snapshot's manifest.
	Manifest *Manifest
	// Counts are the values the snapshot holds.
	Counts CheckResult

	ix      *snapshotIndex
	handler http.Handler
	files   *filestackemu.Server // the asset files, when the snapshot has some
}

// OpenSource checks the snapshot in dir against its own schema (see Check)
// and indexes it (see Source). Nothing is written anywhere: a snapshot
// with bad input is refused here, with every problem named.
func OpenSource(ctx context.Context, dir string) (*Source, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	s, err := m.SchemaOf(dir)
	if err != nil {
		return nil, err
	}
	return open(ctx, dir, m, s)
}

// OpenSourceWithSchema is OpenSource for NDF files without a manifest (a
// plain legacy export), read against schema s, say the destination's.
// With a manifest, it is OpenSource and s is not used.
func OpenSourceWithSchema(ctx context.Context, dir string, s *ast.Schema) (*Source, error) {
	if HasManifest(dir) {
		return OpenSource(ctx, dir)
	}
	return open(ctx, dir, &Manifest{Format: Format, Schema: schema.SDL(s)}, s)
}

// HasManifest reports whether dir holds a snapshot's manifest.
func HasManifest(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ManifestFile))
	return err == nil
}

// IsNDFDir reports whether dir holds a manifest or NDF nodes files.
func IsNDFDir(dir string) bool {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return false
	}
	files, _ := Files(dir, Nodes)
	return HasManifest(dir) || len(files) > 0
}

func open(ctx context.Context, dir string, m *Manifest, s *ast.Schema) (_ *Source, err error) {
	p, err := schema.Discover(s)
	if err != nil {
		return nil, fmt.Errorf("importapi: the snapshot's schema: %w", err)
	}
	ix, err := newIndex(p)
	if err != nil {
		return nil, err
	}
	src := &Source{Schema: s, Manifest: m, ix: ix}
	defer func() {
		if err != nil {
			src.Close()
		}
	}()
	if src.Counts, err = check(dir, p, ix, ix); err != nil {
		return nil, fmt.Errorf("importapi: snapshot %s is not valid:\n%w", dir, err)
	}
	if err = ix.finish(); err != nil {
		return nil, err
	}
	res := newResolver(ix, p)
	if len(m.Assets) > 0 {
		// The files are served by a Filestack emulator on a loopback
		// port, from disk, for the sync to fetch when it copies the Asset model.
		src.files = filestackemu.New(filestackemu.WithMemoryThreshold(0))
		if res.handles, err = storeAssets(ctx, dir, m.Assets, src.AssetFiles()); err != nil {
			return nil, err
		}
		res.cdn = src.files.CDNURL()
	}
	src.handler = gqlexec.Handler(gqlexec.New(s, res))
	hc := &http.Client{Transport: handlerTransport{src.handler}}
	src.Stage = stagesync.NewStage("snapshot", "snapshot://"+dir, "", stagesync.WithHTTPClient(hc),
		stagesync.WithRateLimit(stagesync.RateLimit{Initial: math.Inf(1)}))
	return src, nil
}

// AssetFiles returns a Filestack client of the bucket holding the
// snapshot's asset files, for stagesync.AssetOptions.SourceFiles; nil when
// the snapshot has no asset files.
func (s *Source) AssetFiles() *filestack.Client {
	if s.files == nil {
		return nil
	}
	return s.files.Client(snapshotBucket)
}

// snapshotBucket is the API key of the bucket of a snapshot's asset files.
const snapshotBucket = "snapshot"

// Handler returns the snapshot's GraphQL endpoint: the content API's read
// queries, answered from the snapshot (see Source).
func (s *Source) Handler() http.Handler { return s.handler }

// Close releases the snapshot's index and asset files.
func (s *Source) Close() error {
	if s.files != nil {
		s.files.Close()
	}
	return s.ix.close()
}

// handlerTransport answers HTTP requests with a handler in this process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
