package codegen

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// GenqlientVersion is the genqlient Generate runs: the version this module
// requires in its go.mod (a test fails when the two differ).
const GenqlientVersion = "v0.8.1"

// genqlientPackage is genqlient's command.
const genqlientPackage = "github.com/Khan/genqlient"

// genqlient runs as a child process, so that the stagesync binary links
// neither genqlient's generator nor golang.org/x/tools (whose
// internal/modindex imports package testing). It is built with the go
// command in a scratch module made of genqlientMod and genqlientSum:
// genqlient GenqlientVersion and the versions of its dependencies this
// module requires, with their checksums, so that it builds from the module
// cache without asking the checksum database, and generates what the
// in-process genqlient of earlier versions generated. (`go run
// github.com/Khan/genqlient@v0.8.1` would use genqlient's own go.mod, whose
// golang.org/x/tools v0.24.0 does not compile with Go 1.26.) A test keeps
// both files in step with go.mod and go.sum:
//
//	go test ./internal/codegen -run GenqlientModule -update
var (
	//go:embed genqlient.mod
	genqlientMod []byte
	//go:embed genqlient.sum
	genqlientSum []byte
)

// goCommand returns the go command, or an error saying that gen needs it.
func goCommand() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("codegen: stagesync gen needs the Go toolchain to build and run genqlient %s, and there is no go command on PATH (%v): "+
			"install Go (https://go.dev/doc/install), or add the directory of its go command (`go env GOROOT`/bin) to PATH",
			GenqlientVersion, err)
	}
	return goTool, nil
}

// runGenqlient runs genqlient with the config at cfgPath in dir (where it
// looks up the generated code's package), in this process's environment
// (GOFLAGS, GOPROXY, GOPATH, ... pass through). It returns the warnings
// genqlient printed when it succeeds, and its output as the error when it
// fails.
func runGenqlient(cfgPath, dir string) ([]string, error) {
	goTool, err := goCommand()
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "stagesync-genqlient-")
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	defer os.RemoveAll(scratch)
	if err := os.WriteFile(filepath.Join(scratch, "go.mod"), genqlientMod, 0o644); err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	if err := os.WriteFile(filepath.Join(scratch, "go.sum"), genqlientSum, 0o644); err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	bin := filepath.Join(scratch, "genqlient")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	// -mod=readonly overrides a -mod in GOFLAGS (the scratch module has no
	// vendor directory); the workspace and target platform of the
	// environment are not the scratch module's.
	build := exec.Command(goTool, "build", "-mod=readonly", "-o", bin, genqlientPackage)
	build.Dir = scratch
	build.Env = append(os.Environ(), "GOWORK=off", "GOOS=", "GOARCH=")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("codegen: building genqlient %s with %s: %v\n%s", GenqlientVersion, goTool, err, strings.TrimSpace(string(out)))
	}
	run := exec.Command(bin, cfgPath)
	run.Dir = dir
	out, err := run.CombinedOutput()
	msg := strings.TrimSpace(string(out))
	if err != nil {
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("codegen: genqlient (%s): %s", cfgPath, msg)
	}
	var warnings []string
	for w := range strings.SplitSeq(msg, "\n\n") {
		if w = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(w), "warning: ")); w != "" {
			warnings = append(warnings, "genqlient: "+w)
		}
	}
	return warnings, nil
}

// outputs are the files genqlient writes, as they were before it ran, so
// that Generate can tell which it changed and put them back when it fails
// after genqlient wrote them.
type outputs map[string]*prior

// prior is a file as it was: absent, or its content and time.
type prior struct {
	data  []byte
	mtime time.Time
}

// snapshot records the files at paths as they are.
func snapshot(paths ...string) (outputs, error) {
	o := outputs{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			o[p] = nil
			continue
		case err != nil:
			return nil, fmt.Errorf("codegen: %w", err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("codegen: %w", err)
		}
		o[p] = &prior{data: data, mtime: fi.ModTime()}
	}
	return o, nil
}

// restore puts every file back as it was.
func (o outputs) restore() error {
	var errs []error
	for p, old := range o {
		if old == nil {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if cur, err := os.ReadFile(p); err != nil || !bytes.Equal(cur, old.data) {
			if err := os.WriteFile(p, old.data, 0o644); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := os.Chtimes(p, old.mtime, old.mtime); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("codegen: putting genqlient's files back: %w", err)
	}
	return nil
}

// record records the file genqlient wrote at path, now holding data, as
// written or unchanged; an unchanged file gets its time back, as if it had
// been left alone.
func (o outputs) record(res *Result, path string, data []byte) error {
	old := o[path]
	if old == nil || !bytes.Equal(old.data, data) {
		res.Written = append(res.Written, path)
		return nil
	}
	res.Unchanged = append(res.Unchanged, path)
	if err := os.Chtimes(path, old.mtime, old.mtime); err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	return nil
}
