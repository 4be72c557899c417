package codegen

import (
	"bufio"
	"bytes"
	"fmt"
	"go/version"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGenqlientVersion fails when GenqlientVersion is not the genqlient this
// module requires: the version gen runs and the version the glue is tested
// against must be one.
func TestGenqlientVersion(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	for line := range strings.Lines(string(gomod)) {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == genqlientPackage {
			required = append(required, f[1])
		}
	}
	if len(required) != 1 {
		t.Fatalf("go.mod requires %s %q times, want once", genqlientPackage, required)
	}
	if required[0] != GenqlientVersion {
		t.Errorf("go.mod requires %s %s, codegen.GenqlientVersion is %s: make them one, then run\n"+
			"go test ./internal/codegen -run GenqlientModule -update", genqlientPackage, required[0], GenqlientVersion)
	}
	if !strings.Contains(string(genqlientMod), "\t"+genqlientPackage+" "+GenqlientVersion+"\n") {
		t.Errorf("genqlient.mod does not require %s %s: run go test ./internal/codegen -run GenqlientModule -update", genqlientPackage, GenqlientVersion)
	}
}

// TestGenqlientModule fails when genqlient.mod and genqlient.sum, the
// scratch module genqlient is built in, are not what this module's go.mod
// and go.sum make them: genqlient and the modules of its packages at the
// versions this module selects, and the go.sum lines of the module graph
// they make. With -update it rewrites them. It then builds genqlient in
// the module as written, as runGenqlient does.
func TestGenqlientModule(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: cannot compute genqlient's module")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	run := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return string(out)
	}

	// The modules of genqlient's packages, at this module's versions, and
	// the newest go version they need.
	var mods []string
	goVersion := "go1.21"
	for line := range strings.Lines(run(repo, "list", "-deps", "-f", "{{with .Module}}{{.Path}} {{.Version}} {{.GoVersion}}{{end}}", genqlientPackage)) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		if m := f[0] + " " + f[1]; !slices.Contains(mods, m) {
			mods = append(mods, m)
		}
		if v := "go" + f[2]; version.Compare(v, goVersion) > 0 {
			goVersion = v
		}
	}
	slices.Sort(mods)
	if !slices.Contains(mods, genqlientPackage+" "+GenqlientVersion) {
		t.Fatalf("genqlient's modules %q lack %s %s", mods, genqlientPackage, GenqlientVersion)
	}
	var mod strings.Builder
	mod.WriteString("// The scratch module `stagesync gen` builds genqlient in: genqlient and the\n" +
		"// modules of its packages at the versions github.com/stagesync/stagesync\n" +
		"// requires. Written by go test ./internal/codegen -run GenqlientModule -update.\n" +
		"module stagesync.invalid/genqlient\n\n")
	fmt.Fprintf(&mod, "go %s\n\nrequire (\n", strings.TrimPrefix(goVersion, "go"))
	for _, m := range mods {
		fmt.Fprintf(&mod, "\t%s\n", m)
	}
	mod.WriteString(")\n")

	// go.sum: the lines of this module's go.sum for the scratch module's
	// module graph.
	scratch := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(scratch, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gosum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.mod", []byte(mod.String()))
	write("go.sum", gosum)
	inGraph := map[string]bool{}
	for line := range strings.Lines(run(scratch, "mod", "graph")) {
		for _, mv := range strings.Fields(line) {
			inGraph[strings.Replace(mv, "@", " ", 1)] = true
		}
	}
	var sum bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(gosum))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && inGraph[f[0]+" "+strings.TrimSuffix(f[1], "/go.mod")] {
			sum.WriteString(sc.Text() + "\n")
		}
	}

	if *update {
		for name, data := range map[string][]byte{"genqlient.mod": []byte(mod.String()), "genqlient.sum": sum.Bytes()} {
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Log("rewrote genqlient.mod and genqlient.sum; rebuild the package to embed them")
		return
	}
	if string(genqlientMod) != mod.String() {
		t.Errorf("genqlient.mod is stale (run go test ./internal/codegen -run GenqlientModule -update); want:\n%s", mod.String())
	}
	if !bytes.Equal(genqlientSum, sum.Bytes()) {
		t.Errorf("genqlient.sum is stale (run go test ./internal/codegen -run GenqlientModule -update); want:\n%s", sum.Bytes())
	}

	// The embedded module builds genqlient as it is, without a go.sum line
	// more (-mod=readonly).
	write("go.mod", genqlientMod)
	write("go.sum", genqlientSum)
	run(scratch, "build", "-o", filepath.Join(scratch, "genqlient"), genqlientPackage)
}

// TestRunGenqlientErrors covers the errors of running genqlient: no go
// command, and genqlient's own, passed through with the config's path.
func TestRunGenqlientErrors(t *testing.T) {
	t.Run("no go command", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := runGenqlient(filepath.Join(t.TempDir(), ConfigFile), t.TempDir())
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"needs the Go toolchain", "genqlient " + GenqlientVersion, "no go command on PATH", "https://go.dev/doc/install"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})
	t.Run("genqlient fails", func(t *testing.T) {
		if _, err := exec.LookPath("go"); err != nil {
			t.Skip("no go command on PATH")
		}
		dir := t.TempDir()
		plainModule(t, dir)
		cfg := filepath.Join(dir, ConfigFile)
		if err := os.WriteFile(cfg, []byte("schema: nope.graphql\noperations: ['*.graphql']\nno_such_option: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := runGenqlient(cfg, dir)
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"genqlient (" + cfg + ")", "no_such_option"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})
}
