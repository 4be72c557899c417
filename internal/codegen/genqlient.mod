// The scratch module `stagesync gen` builds genqlient in: genqlient and the
// modules of its packages at the versions github.com/stagesync/stagesync
// requires. Written by go test ./internal/codegen -run GenqlientModule -update.
module stagesync.invalid/genqlient

go 1.26.0

require (
	github.com/Khan/genqlient v0.8.1
	github.com/agnivade/levenshtein v1.2.2
	github.com/alexflint/go-arg v1.5.1
	github.com/alexflint/go-scalar v1.2.0
	github.com/bmatcuk/doublestar/v4 v4.6.1
	github.com/vektah/gqlparser/v2 v2.5.64
	golang.org/x/mod v0.42.0
	golang.org/x/sync v0.24.0
	golang.org/x/tools v0.52.0
	gopkg.in/yaml.v2 v2.4.0
)
