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

// runConfig is the part of a genqlient config Generate reads back: where
// genqlient writes and what the glue needs. readConfig makes its paths
// absolute and fills its defaults as genqlient does
// (generate.Config.ValidateAndFillDefaults); genqlient itself validates
// the rest when it runs. The package is not read here: it is the package
// clause of the file genqlient generates.
type runConfig struct {
	Operations       stringList `yaml:"operations"`
	Generated        string     `yaml:"generated"`
	ExportOperations string     `yaml:"export_operations"`
	ContextType      string     `yaml:"context_type"`
	ClientGetter     string     `yaml:"client_getter"`
}

// stringList is a YAML string or list of strings, as genqlient's
// generate.StringList.
type stringList []string

func (l *stringList) UnmarshalYAML(value *yaml.Node) error {
	if value.Kind == yaml.ScalarNode {
		var s string
		if err := value.Decode(&s); err != nil {
			return err
		}
		*l = stringList{s}
		return nil
	}
	var list []string
	if err := value.Decode(&list); err != nil {
		return err
	}
	*l = list
	return nil
}

// readConfig reads the genqlient config at path (absolute).
func readConfig(path string) (*runConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("codegen: genqlient config: %w", err)
	}
	var cfg runConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("codegen: genqlient config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	join := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i, op := range cfg.Operations {
		cfg.Operations[i] = join(op)
	}
	if cfg.Generated == "" {
		cfg.Generated = "generated.go"
	}
	cfg.Generated = join(cfg.Generated)
	if cfg.ExportOperations != "" {
		cfg.ExportOperations = join(cfg.ExportOperations)
	}
	if cfg.ContextType == "" {
		cfg.ContextType = "context.Context"
	}
	return &cfg, nil
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
