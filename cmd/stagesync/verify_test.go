package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSyncVerifyCommand: sync --verify prints the verify table after the
// report and writes it to the report file; when the destination keeps
// something else than it was sent (a proxy changes every page count on
// the way), sync --verify names the differences and exits 1.
func TestSyncVerifyCommand(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	args := func(to, state string, extra ...string) []string {
		return append([]string{"sync", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
			"--to", to, "--to-token-env", "DST_TOKEN", "--rate", "1000", "--yes",
			"--state", filepath.Join(dir, state)}, extra...)
	}
	reportPath := filepath.Join(dir, "report.json")
	code, stdout, stderr := runCLI(t, args(dst.URL, "state.db", "--verify", "--report", reportPath)...)
	if code != exitOK {
		t.Fatalf("sync --verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "verify: the destination holds what the source holds") ||
		!regexp.MustCompile(`Book\s+en\s+DRAFT\s+3\s+3\s+0\s+0`).MatchString(stdout) ||
		!regexp.MustCompile(`Book\s+en\s+PUBLISHED\s+2\s+2\s+0\s+0`).MatchString(stdout) {
		t.Errorf("sync --verify output:\n%s", stdout)
	}
	if !strings.Contains(stderr, "verify") {
		t.Errorf("no verify progress:\n%s", stderr)
	}
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Verify *struct {
			Rows       []map[string]any
			Unexpected int
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Verify == nil || len(rep.Verify.Rows) == 0 || rep.Verify.Unexpected != 0 {
		t.Errorf("report verify: %v\n%s", err, b)
	}

	// Through a proxy that writes 7 for every page count.
	other := libraryStage(t, nil)
	target, _ := url.Parse(other.URL)
	pages := regexp.MustCompile(`("?pages"?\s*:\s*)\d+`)
	proxy := httputil.NewSingleHostReverseProxy(target)
	director := proxy.Director
	proxy.Director = func(r *http.Request) {
		director(r)
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte("mutation")) {
			body = pages.ReplaceAll(body, []byte("${1}7"))
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		r.Header.Del("Content-Length")
	}
	ps := httptest.NewServer(proxy)
	t.Cleanup(ps.Close)
	t.Setenv("DST_TOKEN", other.Token)
	code, stdout, stderr = runCLI(t, args(ps.URL+strings.TrimPrefix(other.URL, target.Scheme+"://"+target.Host), "state2.db", "--verify", "-q")...)
	if code != exitFailures {
		t.Fatalf("sync --verify through the proxy: exit %d, want %d\n%s\n%s", code, exitFailures, stdout, stderr)
	}
	if !strings.Contains(stdout, "verify: 3 entries differ unexpectedly") || !strings.Contains(stdout, "DRAFT Book") ||
		!strings.Contains(stdout, "pages: want 100, got 7") || !strings.Contains(stderr, "3 entries differ from the source") {
		t.Errorf("sync --verify through the proxy:\n%s\n%s", stdout, stderr)
	}
}

// TestApplyVerify: apply --verify verifies after applying the plan.
func TestApplyVerify(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	planPath := filepath.Join(dir, "plan.db")
	if code, stdout, stderr := runCLI(t, "plan", "--from", src.URL, "--from-token-env", "SRC_TOKEN",
		"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000", "-q",
		"--state", filepath.Join(dir, "state.db"), "-o", planPath); code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := runCLI(t, "apply", "-q", "--verify", planPath)
	if code != exitOK || !strings.Contains(stdout, "verify: the destination holds what the source holds") {
		t.Fatalf("apply --verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
