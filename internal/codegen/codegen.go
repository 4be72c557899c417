package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stagesync/stagesync/schema"
)

// Options say what Generate generates and where.
type Options struct {
	// SchemaPath is the stage's content-API SDL, e.g. from
	// `stagesync schema pull`. Operations are scaffolded from it and
	// validated against it.
	SchemaPath string
	// Models are the models whose missing operations are scaffolded; empty
	// means every writable model (see schema.Scaffold).
	Models []string
	// OutDir is the directory of the generated package. Operations live
	// in OutDir/queries; genqlient's code, the glue and doc.go in the
	// directory of the config's generated file (OutDir by default).
	OutDir string
	// Package is the Go package name of the default config (default: the
	// package of the Go files already in OutDir, else OutDir's base name).
	Package string
	// ConfigPath is a genqlient.yaml to use instead of
	// OutDir/genqlient.yaml. When it exists it is only read; when it does
	// not, the default config is written there.
	ConfigPath string
}

// Result says what Generate did.
type Result struct {
	// Config is the genqlient config used.
	Config string
	// Scaffolded are the operation files written; Kept those that existed
	// and were left as they are.
	Scaffolded, Kept []string
	// Written are the generated files whose content changed (or that were
	// created); Unchanged those rewritten with the same content.
	Written, Unchanged []string
	// Models are the typed models of the glue, by model name.
	Models []ModelGlue
	// Warnings are things that work but probably not as intended, e.g. a
	// read query that does not read the DRAFT stage.
	Warnings []string
}

// ModelGlue is one typed model of the glue.
type ModelGlue struct {
	// Model is the model's name, e.g. "Hotel".
	Model string
	// Func is the glue function returning its stagesync.TypedModel, e.g.
	// "HotelModel".
	Func string
	// Operation is the read query the model reads with, e.g.
	// "ReadHotels", and File the file that holds it.
	Operation, File string
	// Type is the Go type of its entries, as genqlient generated it.
	Type string
}

// Names of the files Generate writes besides genqlient's.
const (
	// GlueFile holds the typed models.
	GlueFile = "zz_stagesync.go"
	// DocFile holds the package comment and the //go:generate line; it is
	// written only when absent.
	DocFile = "doc.go"
	// ConfigFile is the default genqlient config in OutDir.
	ConfigFile = "genqlient.yaml"
	// QueriesDir is where operations are scaffolded, under OutDir.
	QueriesDir = "queries"
)

// Generate scaffolds the missing operations of opts.Models, runs genqlient
// and generates the typed models' glue from the operations on disk (see
// the package documentation). Errors name the model and file concerned;
// the Result then says what was written before the error.
func Generate(opts Options) (Result, error) {
	res := &Result{}
	err := generateInto(res, opts)
	return *res, err
}

// generateInto runs Generate, recording what it did in res.
func generateInto(res *Result, opts Options) error {
	if opts.SchemaPath == "" {
		return errors.New("codegen: no schema file given")
	}
	if opts.OutDir == "" {
		return errors.New("codegen: no output directory given")
	}
	outDir, err := filepath.Abs(opts.OutDir)
	if err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	schemaPath, err := filepath.Abs(opts.SchemaPath)
	if err != nil {
		return fmt.Errorf("codegen: %w", err)
	}

	// 1. Scaffold what is missing.
	s, err := schema.Load(schemaPath)
	if err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	p, err := schema.Discover(s)
	if err != nil {
		return fmt.Errorf("codegen: %s: %w", opts.SchemaPath, err)
	}
	ops, err := schema.Scaffold(s, p, opts.Models, schema.ScaffoldOptions{})
	if err != nil {
		return fmt.Errorf("codegen: %s: %w", opts.SchemaPath, err)
	}
	res.Scaffolded, res.Kept, err = schema.WriteScaffold(filepath.Join(outDir, QueriesDir), ops)
	if err != nil {
		return fmt.Errorf("codegen: %w", err)
	}

	// 2. genqlient.
	cfgPath := filepath.Join(outDir, ConfigFile)
	if opts.ConfigPath != "" {
		if cfgPath, err = filepath.Abs(opts.ConfigPath); err != nil {
			return fmt.Errorf("codegen: %w", err)
		}
	}
	res.Config = cfgPath
	if err := writeDefaultConfig(res, cfgPath, opts.ConfigPath != "", schemaPath, outDir, opts.Package); err != nil {
		return err
	}
	cfg, err := readConfig(cfgPath)
	if err != nil {
		return err
	}
	genPaths := []string{cfg.Generated}
	if cfg.ExportOperations != "" {
		genPaths = append(genPaths, cfg.ExportOperations)
	}
	before, err := snapshot(genPaths...)
	if err != nil {
		return err
	}
	warnings, err := runGenqlient(cfgPath, outDir)
	if err != nil {
		return errors.Join(err, before.restore())
	}
	res.Warnings = append(res.Warnings, warnings...)
	files := map[string][]byte{}
	for _, name := range genPaths {
		if files[name], err = os.ReadFile(name); err != nil {
			return errors.Join(fmt.Errorf("codegen: genqlient (%s): %w", cfgPath, err), before.restore())
		}
	}

	// 3. The glue, from the operations as they are on disk. It is built
	// before anything else is written, and genqlient's files are put back
	// when it fails, so that a read query the glue refuses leaves the
	// package as it was rather than half regenerated.
	pkgDir := filepath.Dir(cfg.Generated)
	glue, err := buildGlue(cfgPath, cfg, s, p, files[cfg.Generated])
	if err != nil {
		return errors.Join(err, before.restore())
	}
	res.Models = glue.models
	res.Warnings = append(res.Warnings, glue.warnings...)
	src, err := glue.render()
	if err != nil {
		return errors.Join(err, before.restore())
	}
	files[filepath.Join(pkgDir, GlueFile)] = src
	for _, name := range sortedKeys(files) {
		if _, ok := before[name]; ok {
			err = before.record(res, name, files[name])
		} else {
			err = res.write(name, files[name])
		}
		if err != nil {
			return err
		}
	}
	if err := writeDoc(res, pkgDir, glue.pkg, opts, schemaPath, outDir, glue.models); err != nil {
		return err
	}
	return nil
}

// write writes a generated file, leaving it alone when its content is the
// same, and records it.
func (r *Result) write(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		r.Unchanged = append(r.Unchanged, path)
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("codegen: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	r.Written = append(r.Written, path)
	return nil
}

// relPath returns target relative to dir, with forward slashes, or target
// itself when it has no relative form.
func relPath(dir, target string) string {
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		return filepath.ToSlash(target)
	}
	return filepath.ToSlash(rel)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// cleanModels trims the model names and drops empty ones.
func cleanModels(models []string) []string {
	var out []string
	for _, m := range models {
		if m = strings.TrimSpace(m); m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
