package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/schema"
)

func TestSchemaSynth(t *testing.T) {
	dir := t.TempDir()
	desc := filepath.Join(dir, "hotels.yaml")
	if err := os.WriteFile(desc, []byte("locales: [en, de]\nmodels:\n  Hotel:\n    name: String! unique\n    description: String localized\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hotels.graphql")

	code, stdout, stderr := runCLI(t, "schema", "synth", desc, "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if stdout != "" || !strings.Contains(stderr, "wrote "+out) {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	s, err := schema.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Types["HotelCreateLocalizationDataInput"] == nil {
		t.Error("written SDL has no HotelCreateLocalizationDataInput")
	}

	code, stdout, stderr = runCLI(t, "schema", "synth", desc)
	if code != exitOK || !strings.Contains(stdout, "type Hotel implements Node") {
		t.Errorf("to stdout: exit %d, stderr %q, stdout starts %.80q", code, stderr, stdout)
	}
	written, _ := os.ReadFile(out)
	if stdout != string(written) {
		t.Error("stdout and -o output differ")
	}
}

func TestSchemaSynthErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("models:\n  Hotel:\n    name: String\n    city: Cty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.graphql")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad description", []string{"schema", "synth", bad, "-o", out}, exitUsage, bad + `:4: Hotel.city: unknown type "Cty"`},
		{"missing file", []string{"schema", "synth", filepath.Join(dir, "nope.yaml")}, exitUsage, "no such file"},
		{"no argument", []string{"schema", "synth"}, exitUsage, "accepts 1 arg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want %q", stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a bad description left %s behind (err %v)", out, err)
	}
}
