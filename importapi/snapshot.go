package importapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/entryform"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
)

// ManifestFile is the name of a snapshot's manifest in its directory.
const ManifestFile = "manifest.json"

// Format names the snapshot layout a manifest describes.
const Format = "stagesync-ndf/1"

// Manifest describes a snapshot directory: where and when it was taken,
// the schema of the stage it was taken from, what it holds per model,
// stage and locale, and a SHA-256 of every file.
type Manifest struct {
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"createdAt"`
	// Source is the endpoint the snapshot was taken from (never a token).
	Source string `json:"source,omitempty"`
	// Schema is the content-API SDL of the source stage.
	Schema string `json:"schema"`
	// Models are the models the snapshot holds, all of their entries.
	Models []string `json:"models"`
	// Counts are the entries per model, stage and locale ("" is the
	// default locale).
	Counts []Count `json:"counts"`
	// Relations and ListValues count the relation pairs and list objects.
	Relations  int `json:"relations"`
	ListValues int `json:"listValues"`
	// Dropped counts the relations to models the snapshot does not hold
	// (say, Asset without --assets), by "Model.field".
	Dropped map[string]int `json:"dropped,omitempty"`
	// ContentHashes are the snapshot's content hashes up to ids (see
	// ContentHashes): equal for two snapshots of the same content.
	ContentHashes map[string]string `json:"contentHashes"`
	// Files are the NDF files in import order.
	Files []FileInfo `json:"files"`
	// Assets are the asset files, with --assets.
	Assets []AssetFile `json:"assets,omitempty"`
}

// Count is the number of entries of a model in one stage and locale.
type Count struct {
	Model   string `json:"model"`
	Stage   string `json:"stage"`
	Locale  string `json:"locale,omitempty"`
	Entries int    `json:"entries"`
}

// AssetFile is one asset's file in a snapshot (assets/<id>/<fileName>).
type AssetFile struct {
	ID       string `json:"id"`
	Path     string `json:"path"`
	FileName string `json:"fileName"`
	MimeType string `json:"mimeType,omitempty"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
}

// ReadManifest reads the manifest of snapshot directory dir.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("importapi: %s is not a snapshot: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &InputError{File: path, Index: -1, Err: fmt.Errorf("malformed manifest: %w", err)}
	}
	if m.Format != Format {
		return nil, &InputError{File: path, Index: -1, Err: fmt.Errorf("format %q is not %q", m.Format, Format)}
	}
	return &m, nil
}

// SchemaOf loads the schema a manifest carries.
func (m *Manifest) SchemaOf(dir string) (*ast.Schema, error) {
	s, err := schema.LoadString(filepath.Join(dir, ManifestFile), m.Schema)
	if err != nil {
		return nil, fmt.Errorf("importapi: the snapshot's schema: %w", err)
	}
	return s, nil
}

// SnapshotWriter writes a stage's entries as a snapshot: NDF nodes, lists
// and relations files (see the package documentation for the mapping) and
// a manifest. Entries are written as they come; only the current file of
// each value type is buffered.
type SnapshotWriter struct {
	dir      string
	p        *schema.Project
	models   map[string]bool
	nodes    *Writer
	lists    *Writer
	rels     *Writer
	manifest Manifest
	counts   map[Count]int
}

// NewSnapshotWriter starts a snapshot of the given models of project p in
// dir (created if missing; it must not hold a snapshot already). maxFile
// caps the NDF files (0: DefaultMaxFileSize).
func NewSnapshotWriter(dir string, p *schema.Project, models []string, maxFile int64) (*SnapshotWriter, error) {
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("importapi: %s already holds a snapshot; choose an empty directory", dir)
	}
	for _, vt := range ValueTypes {
		if files, _ := Files(dir, vt); len(files) > 0 {
			return nil, fmt.Errorf("importapi: %s already holds NDF files (%s); choose an empty directory", dir, files[0])
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &SnapshotWriter{
		dir: dir, p: p, models: map[string]bool{},
		nodes: NewWriter(dir, Nodes, maxFile), lists: NewWriter(dir, Lists, maxFile), rels: NewWriter(dir, Relations, maxFile),
		counts:   map[Count]int{},
		manifest: Manifest{Format: Format, Models: models, Dropped: map[string]int{}},
	}
	for _, m := range models {
		w.models[m] = true
	}
	return w, nil
}

// WriteEntry writes one entry: a node per stage and locale, a list object
// per scalar list field, a relation pair per relation target.
func (w *SnapshotWriter) WriteEntry(e stagesync.Entry) error {
	m := w.p.Model(e.Model)
	if m == nil {
		return fmt.Errorf("importapi: the schema has no model %q", e.Model)
	}
	if e.Draft != nil {
		if err := w.writeVersion(m, StageDraft, e.Draft, nil); err != nil {
			return err
		}
	}
	if e.Published != nil {
		if err := w.writeVersion(m, StagePublished, e.Published, e.Draft); err != nil {
			return err
		}
	}
	return nil
}

func (w *SnapshotWriter) writeVersion(m *schema.Model, stage string, v, draft map[string]any) error {
	id, _ := v["id"].(string)
	if id == "" && draft != nil {
		id, _ = draft["id"].(string)
	}
	node := Node{TypeName: m.Name, ID: id, Stage: stage, Fields: map[string]any{}}
	for _, k := range []string{"createdAt", "updatedAt", "publishedAt"} {
		if x, ok := v[k]; ok && x != nil {
			node.Fields[k] = x
		} else if k == "createdAt" && draft != nil && draft[k] != nil {
			node.Fields[k] = draft[k]
		}
	}
	for _, f := range m.Fields {
		if f.System || f.Kind == schema.KindSystem {
			continue
		}
		x := v[f.Name]
		switch {
		case isRelationKind(f.Kind):
			if err := w.writeRelations(m, f, stage, id, x); err != nil {
				return err
			}
		case x == nil:
		case isListField(f):
			if err := w.writeList(m.Name, id, stage, "", f.Name, x); err != nil {
				return err
			}
		default:
			node.Fields[f.Name] = w.value(f, x)
		}
	}
	if err := w.nodes.Write(node); err != nil {
		return err
	}
	w.counts[Count{Model: m.Name, Stage: stage}]++
	locs, _ := v["localizations"].([]any)
	for _, l := range locs {
		lm, _ := l.(map[string]any)
		locale, _ := lm["locale"].(string)
		if locale == "" {
			continue
		}
		ln := Node{TypeName: m.Name, ID: id, Stage: stage, Locale: locale, Fields: map[string]any{}}
		for _, f := range m.Fields {
			x := lm[f.Name]
			if !f.Localized || f.System || x == nil {
				continue
			}
			if isListField(f) {
				if err := w.writeList(m.Name, id, stage, locale, f.Name, x); err != nil {
					return err
				}
				continue
			}
			ln.Fields[f.Name] = w.value(f, x)
		}
		if err := w.nodes.Write(ln); err != nil {
			return err
		}
		w.counts[Count{Model: m.Name, Stage: stage, Locale: locale}]++
	}
	return nil
}

func (w *SnapshotWriter) writeList(model, id, stage, locale, field string, x any) error {
	list, _ := x.([]any)
	if len(list) == 0 {
		return nil
	}
	w.manifest.ListValues++
	return w.lists.Write(Node{TypeName: model, ID: id, Stage: stage, Locale: locale, Fields: map[string]any{field: list}})
}

func (w *SnapshotWriter) writeRelations(m *schema.Model, f *schema.Field, stage, id string, x any) error {
	for i, t := range refList(x) {
		target := t.TypeName
		if target == "" && len(f.Targets) > 0 {
			target = f.Targets[0]
		}
		if !w.models[target] {
			w.manifest.Dropped[m.Name+"."+f.Name]++
			continue
		}
		pos := i
		r := Relation{
			{TypeName: m.Name, ID: id, FieldName: f.Name, Position: &pos},
			{TypeName: target, ID: t.ID, FieldName: f.Reverse},
		}
		if stage != StageDraft {
			r[0].Stage = stage
		}
		if err := w.rels.Write(r); err != nil {
			return err
		}
		w.manifest.Relations++
	}
	return nil
}

// value converts a field value as read (see stagesync.Transform) to its
// NDF form: rich text as its AST, components with their relations as Refs.
func (w *SnapshotWriter) value(f *schema.Field, x any) any {
	switch f.Kind {
	case schema.KindRichText:
		if m, ok := x.(map[string]any); ok {
			return m["raw"]
		}
	case schema.KindComponent, schema.KindUnionComponent:
		if list, ok := x.([]any); ok {
			out := make([]any, len(list))
			for i, c := range list {
				out[i] = w.component(f, c)
			}
			return out
		}
		return w.component(f, x)
	}
	return x
}

func (w *SnapshotWriter) component(f *schema.Field, x any) any {
	c, ok := x.(map[string]any)
	if !ok {
		return x
	}
	typ, _ := c["__typename"].(string)
	if typ == "" && len(f.Targets) > 0 {
		typ = f.Targets[0]
	}
	cm := w.p.Model(typ)
	out := map[string]any{"__typename": typ}
	if id, ok := c["id"]; ok {
		out["id"] = id
	}
	if cm == nil {
		return out
	}
	for _, cf := range cm.Fields {
		v, ok := c[cf.Name]
		if !ok || v == nil || cf.System || cf.Kind == schema.KindSystem {
			continue
		}
		if isRelationKind(cf.Kind) {
			refs := refList(v)
			for i := range refs {
				if refs[i].TypeName == "" && len(cf.Targets) > 0 {
					refs[i].TypeName = cf.Targets[0]
				}
			}
			if cf.List {
				out[cf.Name] = refs
			} else if len(refs) > 0 {
				out[cf.Name] = refs[0]
			}
			continue
		}
		out[cf.Name] = w.value(cf, v)
	}
	return out
}

// refList reads relation targets as read ({"id"} or {"__typename","id"},
// one or a list).
func refList(x any) []Ref {
	items := entryform.List(x)
	if items == nil {
		return nil
	}
	out := make([]Ref, 0, len(items))
	for _, it := range items {
		m, _ := it.(map[string]any)
		id, _ := m["id"].(string)
		if id == "" {
			continue
		}
		typ, _ := m["__typename"].(string)
		if typ == "" {
			typ, _ = m[keyTypeName].(string)
		}
		out = append(out, Ref{TypeName: typ, ID: id})
	}
	return out
}

// Close finishes the files and writes the manifest (the caller fills its
// Source, Schema and Assets in base).
func (w *SnapshotWriter) Close(base Manifest) (*Manifest, error) {
	for _, x := range []*Writer{w.nodes, w.lists, w.rels} {
		if err := x.Close(); err != nil {
			return nil, fmt.Errorf("importapi: writing %s: %w", w.dir, err)
		}
		w.manifest.Files = append(w.manifest.Files, x.Files()...)
	}
	m := w.manifest
	m.CreatedAt = base.CreatedAt
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	m.Source, m.Schema, m.Assets = base.Source, base.Schema, base.Assets
	for c, n := range w.counts {
		c.Entries = n
		m.Counts = append(m.Counts, c)
	}
	slices.SortFunc(m.Counts, func(a, b Count) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Locale, b.Locale))
	})
	if len(m.Dropped) == 0 {
		m.Dropped = nil
	}
	hashes, err := ContentHashes(w.dir)
	if err != nil {
		return nil, fmt.Errorf("importapi: hashing %s: %w", w.dir, err)
	}
	m.ContentHashes = hashes
	b, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(w.dir, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return &m, nil
}

// ExportOptions configure Export.
type ExportOptions struct {
	// Models to export (default: every writable, non-system model).
	Models []string
	// PageSize is the read page size (default stagesync.DefaultPageSize).
	PageSize int
	// MaxFileSize caps the NDF files (default DefaultMaxFileSize).
	MaxFileSize int64
	// Progress, when set, is called after each entry with the model, the
	// entries of it written so far and the bytes of NDF written so far.
	Progress func(model string, entries int, bytes int64)
	// Now stamps the manifest (default time.Now).
	Now func() time.Time
	// Assets exports the Asset model too, and every asset's file (of its
	// DRAFT version) into assets/<id>/<fileName>, with its SHA-256 in the
	// manifest.
	Assets bool
	// HTTPClient downloads the asset files (default http.DefaultClient).
	HTTPClient *http.Client
}

// Export writes a snapshot of stage s into dir: it reads the models with
// the sync's reader (stagesync.ReadEntries) and writes them with a
// SnapshotWriter. sdl is the stage's schema (introspected when nil).
func Export(ctx context.Context, s *stagesync.Stage, sdl *ast.Schema, dir string, opt ExportOptions) (*Manifest, error) {
	p, sdl, err := stagesync.StageProject(ctx, s, sdl)
	if err != nil {
		return nil, err
	}
	models := opt.Models
	if len(models) == 0 {
		for _, m := range p.Models {
			if !m.System && m.Writable {
				models = append(models, m.Name)
			}
		}
	}
	if opt.Assets && !slices.Contains(models, AssetModel) {
		if m := p.Model(AssetModel); m == nil || !m.Writable {
			return nil, fmt.Errorf("importapi: %s has no writable Asset model; export without assets", s)
		}
		models = append([]string{AssetModel}, models...)
	}
	for _, name := range models {
		if m := p.Model(name); m == nil || m.Component {
			return nil, fmt.Errorf("importapi: %s has no model %q", s, name)
		}
	}
	w, err := NewSnapshotWriter(dir, p, models, opt.MaxFileSize)
	if err != nil {
		return nil, err
	}
	for _, model := range models {
		n := 0
		for e, err := range stagesync.ReadEntries(ctx, s, sdl, model, opt.PageSize) {
			if err != nil {
				w.abort()
				return nil, err
			}
			if err := w.WriteEntry(e); err != nil {
				w.abort()
				return nil, err
			}
			n++
			if opt.Progress != nil {
				opt.Progress(model, n, w.bytes())
			}
		}
	}
	var assets []AssetFile
	if opt.Assets {
		if assets, err = exportAssets(ctx, s, dir, opt.HTTPClient, opt.Progress); err != nil {
			w.abort()
			return nil, err
		}
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	return w.Close(Manifest{CreatedAt: now().UTC(), Source: s.Endpoint(), Schema: schema.SDL(sdl), Assets: assets})
}

// abort closes the files without a manifest: a directory without one is
// not a snapshot, so a failed export is never imported.
func (w *SnapshotWriter) abort() {
	for _, x := range []*Writer{w.nodes, w.lists, w.rels} {
		_ = x.Close()
	}
}

// bytes is the NDF written so far.
func (w *SnapshotWriter) bytes() int64 {
	var n int64
	for _, x := range []*Writer{w.nodes, w.lists, w.rels} {
		for _, f := range x.files {
			n += f.Bytes
		}
		n += x.size
	}
	return n
}

func isRelationKind(k schema.Kind) bool {
	return k == schema.KindRelation || k == schema.KindUnionRelation || k == schema.KindAsset
}

// isListField reports whether f goes to the lists files: a list of
// scalars or enum values.
func isListField(f *schema.Field) bool {
	return f.List && (f.Kind == schema.KindScalar || f.Kind == schema.KindEnum)
}
