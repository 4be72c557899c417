package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	code, stdout, stderr := runCLI(t, "--version")
	if code != exitOK || !strings.HasPrefix(stdout, "stagesync ") {
		t.Fatalf("--version: exit %d\n%s\n%s", code, stdout, stderr)
	}
	info := func(main string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{Main: debug.Module{Version: main}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	for _, c := range []struct {
		read func() (*debug.BuildInfo, bool)
		want string
	}{
		{info("v1.2.3"), "v1.2.3"},
		{info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "false"), "devel 0123456789ab"},
		{info("(devel)", "vcs.revision", "abc", "vcs.modified", "true"), "devel abc-dirty"},
		{info("(devel)"), "devel"},
		{func() (*debug.BuildInfo, bool) { return nil, false }, "devel"},
	} {
		if got := version(c.read); got != c.want {
			t.Errorf("version = %q, want %q", got, c.want)
		}
	}
}
