package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/stagesync/stagesync/schema"
)

// configMarker is the first line of a config Generate owns: it rewrites
// such a file on every run, and only reads one without the line.
const configMarker = "# Written by `stagesync gen`, which rewrites this file on every run. Delete this line to keep your own edits."

// genqlientConfig is the part of genqlient.yaml the default config sets.
type genqlientConfig struct {
	Schema     string                      `yaml:"schema"`
	Operations []string                    `yaml:"operations"`
	Generated  string                      `yaml:"generated"`
	Package    string                      `yaml:"package"`
	Bindings   map[string]genqlientBinding `yaml:"bindings"`
}

type genqlientBinding struct {
	Type string `yaml:"type"`
}

// writeDefaultConfig writes the default genqlient config to path, unless
// path holds a config Generate does not own (explicit: one the caller
// named; otherwise one without configMarker).
func writeDefaultConfig(res *Result, path string, explicit bool, schemaPath, outDir, pkg string) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("codegen: %w", err)
	case explicit || !bytes.HasPrefix(old, []byte(configMarker+"\n")):
		return nil
	}
	if pkg == "" {
		if pkg, err = packageName(outDir); err != nil {
			return err
		}
	} else if !token.IsIdentifier(pkg) {
		return fmt.Errorf("codegen: package name %q is not a Go identifier", pkg)
	}
	dir := filepath.Dir(path)
	cfg := genqlientConfig{
		Schema:     relPath(dir, schemaPath),
		Operations: []string{relPath(dir, filepath.Join(outDir, QueriesDir)) + "/*.graphql"},
		Generated:  relPath(dir, filepath.Join(outDir, "generated.go")),
		Package:    pkg,
		Bindings:   map[string]genqlientBinding{},
	}
	for scalar, goType := range schema.DefaultGenqlientBindings() {
		cfg.Bindings[scalar] = genqlientBinding{Type: goType}
	}
	var b bytes.Buffer
	b.WriteString(configMarker + "\n")
	b.WriteString("#\n# genqlient's config for the operations in " + relPath(dir, filepath.Join(outDir, QueriesDir)) + "/.\n")
	b.WriteString("# The bindings map Hygraph's custom scalars to Go types that round-trip their\n")
	b.WriteString("# values unchanged (see schema.DefaultGenqlientBindings).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	return res.write(path, b.Bytes())
}

// packageName returns the package of the Go files in dir (test files
// aside), or a name derived from dir's base name.
func packageName(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("codegen: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.PackageClauseOnly)
		if err == nil && f.Name != nil {
			return f.Name.Name, nil
		}
	}
	var b strings.Builder
	for _, r := range strings.ToLower(filepath.Base(dir)) {
		if r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	name := b.String()
	if !token.IsIdentifier(name) || slices.Contains([]string{"main", "_"}, name) {
		return "", fmt.Errorf("codegen: cannot derive a package name from directory %s; give one (--package)", dir)
	}
	return name, nil
}
