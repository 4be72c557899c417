//go:build linux || darwin

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// buildCLI builds the stagesync binary into a temporary directory (with
// -race when the test runs with it, so that the build reuses the
// packages the test binary was built from).
func buildCLI(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the CLI with")
	}
	bin := filepath.Join(t.TempDir(), "stagesync")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cliEnv is the environment of the CLI: this one without CI, with the
// source and destination tokens, and the extra variables.
func cliEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "CI" && k != "TERM" {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runOnPty runs the CLI with its standard error on a pseudo-terminal (of
// 40 rows and 160 columns) and returns what the terminal got and the
// standard output (a pipe, not a terminal).
func runOnPty(t *testing.T, bin string, env []string, args ...string) (term, stdout string) {
	t.Helper()
	term, stdout, err := ptyRun(t, bin, env, nil, args...)
	if err != nil {
		t.Fatalf("%v: %v\nterminal:\n%s\nstdout:\n%s", args, err, term, stdout)
	}
	return term, stdout
}

// ptyRun runs the CLI with its standard error on a pseudo-terminal (of 40
// rows and 160 columns), and its standard input too when answer is set,
// which answers each "[y/N] " question the CLI asks. It returns what the
// terminal got, the standard output (a pipe) and how the CLI ended.
func ptyRun(t *testing.T, bin string, env []string, answer *string, args ...string) (term, stdout string, err error) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 160}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, tty
	if answer != nil {
		cmd.Stdin = tty
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child has it
	read := make(chan []byte)
	go func() {
		var all []byte
		buf := make([]byte, 4096)
		asked := 0
		for {
			n, err := ptmx.Read(buf)
			all = append(all, buf[:n]...)
			if q := strings.Count(string(all), "[y/N] "); answer != nil && q > asked {
				asked = q
				ptmx.Write([]byte(*answer + "\n"))
			}
			if err != nil { // EIO once the child closed the terminal
				read <- all
				return
			}
		}
	}()
	werr := cmd.Wait()
	var b []byte
	select {
	case b = <-read:
	case <-time.After(30 * time.Second):
		t.Fatal("the terminal stayed open after the CLI ended")
	}
	return string(b), out.String(), werr
}

// ansi matches the terminal control sequences mpb writes.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// TestProgressTerminal runs the built CLI against two emulated stages:
// with standard error on a terminal the progress is drawn as bars (the
// bar, the counts, 100%), with it on a pipe, or with CI set, as plain
// lines; standard output has the report either way.
func TestProgressTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildCLI(t)
	src := libraryStage(t, withNotes)
	seedLibrary(t, src)
	seedPublished(t, src, "Note", 300)
	dir := t.TempDir()
	// Each run copies to a destination of its own.
	args := func(latency time.Duration, state string, extra ...string) []string {
		dst := libraryStage(t, withNotes, stagetest.WithLimits(stagetest.Limits{Token: "dest-token", Latency: latency}))
		return append([]string{"sync", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
			"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "100000", "--page-size", "50",
			"--state", filepath.Join(dir, state)}, extra...)
	}
	env := cliEnv("SRC_TOKEN="+src.Token, "DST_TOKEN=dest-token", "TERM=xterm")

	// A terminal: bars. The destination answers slowly enough for the
	// rate to show.
	term, stdout := runOnPty(t, bin, env, args(40*time.Millisecond, "tty.db")...)
	screen := ansi.ReplaceAllString(strings.ReplaceAll(term, "\r", ""), "")
	for _, want := range []string{"[=====", "] 300/300 100%", "write       Note", "publish     Note", "] 3/3 100%", "relations   Book", "/s in "} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal lacks %q:\n%s", want, term)
		}
	}
	if regexp.MustCompile(`(?m)^write +Note \d+/\d+$`).MatchString(screen) {
		t.Errorf("plain progress lines on the terminal:\n%s", screen)
	}
	if tableRow(stdout, "Note") != "Note 300 300 0 0 0 300 0" || strings.Contains(stdout, "\x1b") {
		t.Errorf("stdout:\n%s", stdout)
	}

	// A pipe: plain lines, no bars.
	cmd := exec.Command(bin, args(0, "pipe.db", "--models", "Note")...)
	cmd.Env = env
	var errOut, out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("sync on a pipe: %v\n%s", err, errOut.String())
	}
	plain := errOut.String()
	if !strings.Contains(plain, "write     Note\n") || !strings.Contains(plain, "write     Note 300/300\n") ||
		strings.Contains(plain, "[=") || strings.Contains(plain, "\x1b") {
		t.Errorf("progress on a pipe:\n%s", plain)
	}

	// A terminal with CI set: plain lines.
	term, _ = runOnPty(t, bin, append(env, "CI=true"), args(0, "ci.db", "--models", "Note")...)
	if !strings.Contains(term, "write     Note 300/300\r\n") || strings.Contains(term, "[=") {
		t.Errorf("progress on a terminal with CI set:\n%q", term)
	}
}

// raceEnabled is set when the tests run with -race.
var raceEnabled bool

// runOnPtyAnswering runs the CLI with standard input and standard error on
// a pseudo-terminal, answers each "[y/N] " question it asks with answer,
// and returns what the terminal got (without control sequences) and the
// exit code.
func runOnPtyAnswering(t *testing.T, bin string, env []string, answer string, args ...string) (term string, code int) {
	t.Helper()
	term, _, err := ptyRun(t, bin, env, &answer, args...)
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return ansi.ReplaceAllString(strings.ReplaceAll(term, "\r", ""), ""), code
}

// TestConfirmOnTerminal: on a terminal, sync shows the whole plan, every
// delete included, and asks once before its first write; a no writes
// nothing, a yes writes and deletes without asking again.
func TestConfirmOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildCLI(t)
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	dir := t.TempDir()
	args := cliArgs(t, src, dst, dir)
	if code, stdout, stderr := runCLI(t, args("sync", "--yes")...); code != exitOK {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stray, err := dst.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "stray"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Stage.Seed("Tag", "DRAFT", map[string]any{"name": "new"}); err != nil {
		t.Fatal(err)
	}
	env := cliEnv("TERM=xterm", "DST_TOKEN="+dst.Token, "SRC_TOKEN="+src.Token)
	mirror := append(args("sync", "--mirror", "--max-delete", "1"), "-q")

	before := dst.Stage.Counters().Mutations
	term, code := runOnPtyAnswering(t, bin, env, "n", mirror...)
	if code != exitFailures || !strings.Contains(term, "not confirmed; nothing was written") {
		t.Errorf("answered no: exit %d, want %d saying nothing was written\n%s", code, exitFailures, term)
	}
	if n := dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("answered no: %d mutations", n)
	}
	term, code = runOnPtyAnswering(t, bin, env, "y", mirror...)
	if code != exitOK {
		t.Fatalf("answered yes: exit %d\n%s", code, term)
	}
	if q := strings.Count(term, "[y/N]"); q != 1 || !strings.Contains(term, "Tag "+stray[0]) || !strings.Contains(term, "delete these 1 entries?") {
		t.Errorf("asked %d questions, want one listing the stray tag %s:\n%s", q, stray[0], term)
	}
	names := map[string]bool{}
	for _, tag := range dst.Stage.All("Tag", "DRAFT") {
		names[tag["name"].(string)] = true
	}
	if names["stray"] || !names["new"] {
		t.Errorf("tags after the yes: %v; want the new one written, the stray deleted", names)
	}
}
