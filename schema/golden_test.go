package schema

import "flag"

// update rewrites golden files under testdata/ instead of comparing with them:
// go test ./schema -update
var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// updateGolden reports whether the test run was given -update.
func updateGolden() bool { return *update }
