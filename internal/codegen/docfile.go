package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GenerateCommand is the command the //go:generate line of doc.go runs.
const GenerateCommand = "go run github.com/stagesync/stagesync/cmd/stagesync gen"

// generateLine returns the //go:generate line that reruns Generate with
// opts from the package directory pkgDir.
func generateLine(pkgDir, schemaPath, outDir string, opts Options) string {
	args := []string{GenerateCommand}
	arg := func(flag, value string) {
		if strings.ContainsAny(value, " \t\"'`") {
			value = strconv.Quote(value)
		}
		args = append(args, flag, value)
	}
	if opts.ConfigPath != "" {
		abs, err := filepath.Abs(opts.ConfigPath)
		if err != nil {
			abs = opts.ConfigPath
		}
		arg("--config", relPath(pkgDir, abs))
	}
	arg("--schema", relPath(pkgDir, schemaPath))
	if models := cleanModels(opts.Models); len(models) > 0 {
		arg("--models", strings.Join(models, ","))
	}
	arg("--out", relPath(pkgDir, outDir))
	if opts.Package != "" {
		arg("--package", opts.Package)
	}
	return "//go:generate " + strings.Join(args, " ")
}

// writeDoc writes doc.go in pkgDir when the package has none and no file
// of it reruns stagesync gen: the package comment and the //go:generate
// line. When doc.go exists and no file of
// the package runs stagesync gen, it warns with the line to add.
func writeDoc(res *Result, pkgDir, pkg string, opts Options, schemaPath, outDir string, models []ModelGlue) error {
	line := generateLine(pkgDir, schemaPath, outDir, opts)
	path := filepath.Join(pkgDir, DocFile)
	if _, err := os.Stat(path); err == nil {
		if !hasGenerateLine(pkgDir) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s exists, and no file of the package reruns stagesync gen; add:\n%s", path, line))
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("codegen: %w", err)
	}
	if hasGenerateLine(pkgDir) {
		// Another file reruns stagesync gen (e.g. after go:generate lines
		// that must run first).
		return nil
	}
	var names []string
	for _, m := range models {
		names = append(names, m.Model)
	}
	if len(names) == 0 {
		names = cleanModels(opts.Models)
	}
	what := "models"
	switch len(names) {
	case 0:
		what = "models"
	case 1:
		what = "the " + names[0] + " model"
	default:
		what = "the " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " models"
	}
	var b bytes.Buffer
	if packageDocumented(pkgDir) {
		// The package has its doc comment (e.g. a command's, in main.go):
		// doc.go only carries the //go:generate line.
		fmt.Fprintf(&b, "package %s\n\n", pkg)
		comment(&b, fmt.Sprintf("The typed operations and typed models of this package are generated from the files in %s/: "+
			"after editing one, run go generate.", QueriesDir))
		fmt.Fprintf(&b, "//\n%s\n", line)
		src, err := format.Source(b.Bytes())
		if err != nil {
			return fmt.Errorf("codegen: doc.go does not format (a bug): %w", err)
		}
		return res.write(path, src)
	}
	comment(&b, fmt.Sprintf("Package %s holds typed GraphQL operations on %s, and their typed models for stagesync.Sync "+
		"(Models, for stagesync.SyncConfig.Typed): genqlient generates the operations' Go code from the files in %s/, "+
		"and stagesync gen the typed models (%s) from the read queries among them.", pkg, what, QueriesDir, GlueFile))
	b.WriteString("//\n")
	comment(&b, "The operation files are yours to edit: stagesync gen only adds the ones that are missing, and the "+
		"typed models follow the read queries as they are (a field removed from one is left alone by the sync). "+
		"After an edit, run go generate.")
	fmt.Fprintf(&b, "package %s\n\n%s\n", pkg, line)
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("codegen: doc.go does not format (a bug): %w", err)
	}
	return res.write(path, src)
}

// packageDocumented reports whether a Go file in dir (tests and generated
// files aside) has a package doc comment.
func packageDocumented(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == GlueFile {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil || f.Doc == nil || ast.IsGenerated(f) {
			continue
		}
		return true
	}
	return false
}

// hasGenerateLine reports whether a Go file in dir has a //go:generate line
// running stagesync gen.
func hasGenerateLine(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "//go:generate ") && strings.Contains(l, "stagesync") && strings.Contains(l, " gen ") {
				return true
			}
		}
	}
	return false
}

// comment writes text as // lines of at most about 76 columns.
func comment(b *bytes.Buffer, text string) {
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > 76 {
			b.WriteString("// " + line + "\n")
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		b.WriteString("// " + line + "\n")
	}
}
