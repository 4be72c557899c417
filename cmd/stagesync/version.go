package main

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

// setVersion gives the root command --version: the main module's version
// when the binary was built from a module version (go install
// module@version), else the VCS revision it was built from, else "devel".
func setVersion(root *cobra.Command) {
	root.Version = version(debug.ReadBuildInfo)
	root.SetVersionTemplate("stagesync {{.Version}}\n")
}

// version reads the build information of the binary.
func version(read func() (*debug.BuildInfo, bool)) string {
	info, ok := read()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel " + rev + modified
}
