package main

// `stagesync init`: writes a commented stagesync.yaml, from a pair of
// endpoints given as flags, or from the environments a Management API
// token's project has (their content-API endpoints and asset buckets).
// Token values never go into the file: each stage names the environment
// variable that holds its token.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/spf13/cobra"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/internal/atomicfile"
	"github.com/stagesync/stagesync/schema"
)

func init() { rootSubcommands = append(rootSubcommands, newInitCmd) }

// defaultManagementEndpoint is Hygraph's Management API.
const defaultManagementEndpoint = "https://management-next.graphcms.com/graphql"

// initTimeout bounds each request init sends.
const initTimeout = 30 * time.Second

// initFlags are the flags of `stagesync init`.
type initFlags struct {
	config, from, to, fromTokenEnv, toTokenEnv string
	mgmtTokenEnv, project, mgmtEndpoint        string
	tokenEnvs                                  map[string]string // environment → variable
	force                                      bool
}

func newInitCmd() *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a stagesync.yaml for a pair of endpoints, or for a project's environments found with the Management API",
		Long: `Write a commented stagesync.yaml (or --config PATH), after which a bare
"stagesync plan" or "stagesync sync" in its directory uses it.

From two endpoints given as flags:

  stagesync init --from URL --from-token-env VAR --to URL --to-token-env VAR

From a project's environments, found with the Management API (a Management
token is needed for init only):

  stagesync init --management-token-env VAR --project PROJECT_ID [--from ENV --to ENV]

It lists the project's environments with their content-API endpoints and
asset buckets and writes a stage for each, with the variable that is to hold
the environment's token (HYGRAPH_<ENV>_TOKEN unless --token-env ENV=VAR
says otherwise) and, on the legacy asset system, its Filestack API key,
which it puts into .env beside the file (never into the file). With --from
and --to (environment names), or when the project has master and one other
environment, it also writes the pair to sync (from master to the other).

Where a stage's token variable is set (in the environment or .env), init
introspects the stage: a token it refuses is an error naming the variable,
and the stage's asset system is written. Tokens are never written into the
file. An existing file is left alone unless --force is given.`,
		Example: `  stagesync init --from https://eu-central-1.cdn.hygraph.com/content/PROJECT/master --from-token-env MASTER_TOKEN \
    --to https://eu-central-1.cdn.hygraph.com/content/PROJECT/dev --to-token-env DEV_TOKEN
  stagesync init --management-token-env HYGRAPH_MANAGEMENT_TOKEN --project PROJECT --from master --to dev`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd.Context(), f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", configFileName, "the config file to write")
	fl.BoolVar(&f.force, "force", false, "overwrite the config file if it exists")
	fl.StringVar(&f.from, "from", "", "source: a content-API endpoint URL, or with --project an environment name")
	fl.StringVar(&f.fromTokenEnv, "from-token-env", "", "environment `VAR` that holds the source's token (with --from URL)")
	fl.StringVar(&f.to, "to", "", "destination: a content-API endpoint URL, or with --project an environment name")
	fl.StringVar(&f.toTokenEnv, "to-token-env", "", "environment `VAR` that holds the destination's token (with --to URL)")
	fl.StringVar(&f.mgmtTokenEnv, "management-token-env", "", "environment `VAR` that holds a Management API token of the project")
	fl.StringVar(&f.project, "project", "", "the project `ID` whose environments to write (with --management-token-env)")
	fl.StringVar(&f.mgmtEndpoint, "management-endpoint", defaultManagementEndpoint, "the Management API `URL`")
	fl.StringToStringVar(&f.tokenEnvs, "token-env", nil, "with --project: the variable holding an environment's token, `ENV=VAR` (default HYGRAPH_<ENV>_TOKEN)")
	return cmd
}

// initStage is a stage init writes.
type initStage struct {
	name, comment    string
	endpoint         string
	tokenEnv         string
	system           string // "legacy", "upload", or "" when not known
	systemFrom       string // how the system was found, for the comment
	keyEnv, keyValue string // legacy: the variable of the Filestack key, and the key found
}

// runInit writes the config file f describes.
func runInit(ctx context.Context, f initFlags, stdout io.Writer) error {
	mgmt := f.mgmtTokenEnv != "" || f.project != ""
	if err := f.validate(mgmt); err != nil {
		return withCode(exitUsage, err)
	}
	if _, err := os.Stat(f.config); err == nil && !f.force {
		return withCode(exitUsage, fmt.Errorf("%s exists: edit it, or pass --force to replace it", f.config))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return withCode(exitUsage, err)
	}
	dir := filepath.Dir(f.config)
	dotenv, err := readInitDotEnv(filepath.Join(dir, ".env"))
	if err != nil {
		return withCode(exitUsage, err)
	}
	lookup := func(name string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return dotenv[name]
	}

	var stages []*initStage
	var from, to, header string
	if mgmt {
		var p *mgmtProject
		if p, err = discoverProject(ctx, f, lookup(f.mgmtTokenEnv)); err != nil {
			return err
		}
		if stages, from, to, err = f.projectStages(p); err != nil {
			return withCode(exitUsage, err)
		}
		name := p.ID
		if p.Name != "" && p.Name != p.ID {
			name += " (" + p.Name + ")"
		}
		header = fmt.Sprintf("# The environments of Hygraph project %s, as the Management API\n# (%s) listed them for `stagesync init`.\n", name, f.mgmtEndpoint)
	} else {
		src := &initStage{endpoint: f.from, tokenEnv: f.fromTokenEnv, comment: "the source"}
		dst := &initStage{endpoint: f.to, tokenEnv: f.toTokenEnv, comment: "the destination"}
		src.name, dst.name = stageNames(f.from, f.to)
		stages, from, to = []*initStage{src, dst}, src.name, dst.name
		header = "# Written by `stagesync init` for a pair of endpoints.\n"
	}

	// Check the tokens that are set, and tell each stage's asset system.
	var unset []string
	for _, s := range stages {
		tok := lookup(s.tokenEnv)
		if tok == "" {
			unset = append(unset, s.tokenEnv)
			continue
		}
		sch, err := schema.Introspect(ctx, s.endpoint, schema.IntrospectOptions{Token: tok, Timeout: initTimeout})
		if err != nil {
			return withCode(introspectCode(err), fmt.Errorf("stage %s (%s): %w%s", s.name, s.endpoint, err, tokenFix(err, s.tokenEnv)))
		}
		if sys := assetSystemOf(sch); sys != "" {
			s.system, s.systemFrom = sys, "the stage's schema"
		}
	}

	var env []string // NAME=value lines for .env
	for _, s := range stages {
		if s.system == "legacy" && s.keyValue != "" && lookup(s.keyEnv) == "" {
			env = append(env, s.keyEnv+"="+s.keyValue)
		}
	}
	text := renderInitConfig(header, stages, from, to)
	if _, err := parseConfig(f.config, []byte(text)); err != nil { // what plan and sync will read
		return fmt.Errorf("the config init made does not read back (a bug): %w", err)
	}
	if err := atomicfile.WriteFile(f.config, []byte(text), 0o644); err != nil {
		return withCode(exitFailures, err)
	}
	fmt.Fprintf(stdout, "wrote %s: stages %s", f.config, strings.Join(stageNameList(stages), ", "))
	if from != "" {
		fmt.Fprintf(stdout, "; sync %s → %s", from, to)
	}
	fmt.Fprintln(stdout)
	if len(env) > 0 {
		envPath := filepath.Join(dir, ".env")
		if err := appendDotEnv(envPath, env); err != nil {
			return withCode(exitFailures, err)
		}
		names := make([]string, len(env))
		for i, l := range env {
			names[i], _, _ = strings.Cut(l, "=")
		}
		fmt.Fprintf(stdout, "wrote %s to %s (a secret: keep the file out of version control)\n", strings.Join(names, ", "), envPath)
	}
	if len(unset) > 0 {
		fmt.Fprintf(stdout, "set %s (in the environment or in %s) to the stages' Permanent Auth Tokens before plan or sync\n",
			strings.Join(unset, ", "), filepath.Join(dir, ".env"))
	}
	if from != "" {
		fmt.Fprintln(stdout, "next: stagesync plan, then stagesync sync")
	} else {
		fmt.Fprintln(stdout, "next: add a pair under sync: (from, to), or run stagesync plan --from STAGE --to STAGE")
	}
	return nil
}

// validate checks the flags of one of init's two forms.
func (f *initFlags) validate(mgmt bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	checkVar := func(flag, v string) {
		if v != "" && !envName.MatchString(v) {
			bad("%s %q: want the name of an environment variable (letters, digits and _), not a token", flag, v)
		}
	}
	if mgmt {
		if f.mgmtTokenEnv == "" {
			bad("--management-token-env: missing: name the environment variable that holds a Management API token of project %s", f.project)
		}
		if f.project == "" {
			bad("--project: missing: the id of the project whose environments to write (Project settings in Hygraph)")
		}
		if f.fromTokenEnv != "" || f.toTokenEnv != "" {
			bad("--from-token-env and --to-token-env go with --from URL --to URL; with --project use --token-env ENV=VAR")
		}
		if (f.from == "") != (f.to == "") {
			bad("--from and --to: give both environment names, or neither")
		}
		checkVar("--management-token-env", f.mgmtTokenEnv)
		for _, env := range slices.Sorted(maps.Keys(f.tokenEnvs)) {
			checkVar("--token-env "+env, f.tokenEnvs[env])
		}
		if !isHTTPURL(f.mgmtEndpoint) {
			bad("--management-endpoint %q: want an http(s) URL (default %s)", f.mgmtEndpoint, defaultManagementEndpoint)
		}
		return errors.Join(errs...)
	}
	if f.from == "" && f.to == "" {
		return errors.New("give --from URL --from-token-env VAR --to URL --to-token-env VAR, or --management-token-env VAR --project ID to find a project's environments")
	}
	for _, side := range []struct{ flag, url, tokenFlag, tokenEnv string }{
		{"--from", f.from, "--from-token-env", f.fromTokenEnv}, {"--to", f.to, "--to-token-env", f.toTokenEnv}} {
		if !isHTTPURL(side.url) {
			bad("%s %q: want the stage's content-API endpoint, e.g. https://eu-central-1.cdn.hygraph.com/content/PROJECT/master", side.flag, side.url)
		}
		if side.tokenEnv == "" {
			bad("%s: missing: name the environment variable that holds the %s stage's token (tokens are never written into the file)", side.tokenFlag, strings.TrimPrefix(side.flag, "--"))
		}
		checkVar(side.tokenFlag, side.tokenEnv)
	}
	if len(f.tokenEnvs) > 0 {
		bad("--token-env goes with --project; with --from URL use --from-token-env and --to-token-env")
	}
	return errors.Join(errs...)
}

// stageNames names the stages of two endpoints after their environments
// (the last path segment), or source and destination.
func stageNames(from, to string) (string, string) {
	name := func(endpoint string) string {
		u, err := url.Parse(endpoint)
		if err != nil {
			return ""
		}
		base := path.Base(strings.TrimSuffix(u.Path, "/"))
		if !stageKey.MatchString(base) {
			return ""
		}
		return base
	}
	a, b := name(from), name(to)
	if a == "" || b == "" || a == b {
		return "source", "destination"
	}
	return a, b
}

// stageKey is a stage name init writes as it is.
var stageKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// varName makes an environment variable name of an environment's name.
func varName(env, suffix string) string {
	up := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, env)
	return "HYGRAPH_" + up + "_" + suffix
}

// projectStages are the stages of p's environments, and the pair to write.
func (f *initFlags) projectStages(p *mgmtProject) (stages []*initStage, from, to string, err error) {
	var names []string
	for _, e := range p.Environments {
		if !stageKey.MatchString(e.Name) {
			return nil, "", "", fmt.Errorf("project %s: environment %q: not a name init can write as a stage", p.ID, e.Name)
		}
		names = append(names, e.Name)
		s := &initStage{name: e.Name, endpoint: e.Endpoint, tokenEnv: f.tokenEnvs[e.Name]}
		if s.tokenEnv == "" {
			s.tokenEnv = varName(e.Name, "TOKEN")
		}
		s.comment = fmt.Sprintf("environment %q", e.DisplayName)
		if e.DisplayName == "" {
			s.comment = "environment " + e.Name
		}
		if e.AssetConfig != nil && e.AssetConfig.APIKey != "" {
			s.system, s.systemFrom = "legacy", "the Management API's assetConfig"
			s.keyEnv, s.keyValue = varName(e.Name, "FILESTACK_KEY"), e.AssetConfig.APIKey
		}
		stages = append(stages, s)
	}
	for env := range f.tokenEnvs {
		if !slices.Contains(names, env) {
			return nil, "", "", fmt.Errorf("--token-env %s: project %s has no environment %q (it has %s)", env, p.ID, env, strings.Join(names, ", "))
		}
	}
	if len(stages) == 0 {
		return nil, "", "", fmt.Errorf("project %s has no environments", p.ID)
	}
	switch {
	case f.from != "":
		for _, side := range []struct{ flag, name string }{{"--from", f.from}, {"--to", f.to}} {
			if !slices.Contains(names, side.name) {
				return nil, "", "", fmt.Errorf("%s %s: project %s has no environment %q (it has %s)", side.flag, side.name, p.ID, side.name, strings.Join(names, ", "))
			}
		}
		if f.from == f.to {
			return nil, "", "", fmt.Errorf("--from and --to are both %s: name two environments", f.from)
		}
		from, to = f.from, f.to
	case len(names) == 2 && slices.Contains(names, "master"):
		from = "master"
		to = names[0]
		if to == "master" {
			to = names[1]
		}
	}
	return stages, from, to, nil
}

// renderInitConfig is the commented config file of stages and the pair
// from → to (none when from is empty).
func renderInitConfig(header string, stages []*initStage, from, to string) string {
	var b strings.Builder
	b.WriteString("# stagesync.yaml: the stages to sync and the pairs to sync between them, read by\n" +
		"# `stagesync plan`, `sync` and `apply` run in this directory (or given --config).\n")
	b.WriteString(header)
	b.WriteString("# Flags given on the command line win over this file.\n" +
		"#\n" +
		"# Tokens do not belong in this file: each stage's token_env names the environment\n" +
		"# variable that holds a Permanent Auth Token of the stage, read from the environment\n" +
		"# or from .env beside this file. A source's token needs read access to DRAFT and\n" +
		"# PUBLISHED; a destination's read, create, update, delete and publish.\n")
	b.WriteString("stages:\n")
	for _, s := range stages {
		fmt.Fprintf(&b, "  %s:  # %s\n", s.name, s.comment)
		fmt.Fprintf(&b, "    endpoint: %s\n", yamlString(s.endpoint))
		fmt.Fprintf(&b, "    token_env: %s\n", s.tokenEnv)
		switch {
		case s.system == "legacy" && s.keyEnv != "":
			fmt.Fprintf(&b, "    # Legacy (Filestack) asset system (from %s). The Filestack API\n"+
				"    # key of its bucket, needed to copy assets into it, is in %s (.env).\n", s.systemFrom, s.keyEnv)
			fmt.Fprintf(&b, "    assets: {system: legacy, key_env: %s}\n", s.keyEnv)
		case s.system == "legacy":
			fmt.Fprintf(&b, "    # Legacy (Filestack) asset system (from %s). To copy assets into this\n"+
				"    # stage, put the Filestack API key of its bucket in %s and uncomment:\n", s.systemFrom, varName(s.name, "FILESTACK_KEY"))
			fmt.Fprintf(&b, "    # assets: {system: legacy, key_env: %s}\n", varName(s.name, "FILESTACK_KEY"))
		case s.system == "upload":
			fmt.Fprintf(&b, "    # The new asset system (from %s): assets are copied with no key.\n", s.systemFrom)
			b.WriteString("    assets: {system: upload}\n")
		default:
			b.WriteString("    # assets: {system: upload}  # or {system: legacy, key_env: VAR} with the bucket's\n" +
				"    #                           # Filestack API key; sync tells the system from the schema\n")
		}
	}
	if from == "" {
		b.WriteString("# The pairs to sync; with one, a bare `stagesync sync` syncs it.\n" +
			"# sync:\n" +
			"#   - from: " + stages[0].name + "\n" +
			"#     to: OTHER_STAGE\n")
		return b.String()
	}
	fmt.Fprintf(&b, "# The pairs to sync; with one, a bare `stagesync sync` syncs it (%s into %s).\n", from, to)
	b.WriteString("sync:\n")
	fmt.Fprintf(&b, "  - from: %s\n    to: %s\n", from, to)
	b.WriteString("    # Each key below stands for the flag of the same name; uncomment to use.\n" +
		"    # models: [Destination, Hotel, Review]    # --models (default: every model both stages have)\n" +
		"    # match: {Hotel: slug}                     # --match: a unique field for entries whose ids differ\n" +
		"    # defaults: {Hotel.twitterHandle: \"@unknown\"}   # --default: fills a field the destination requires\n" +
		"    # handled: [Hotel.legacyField]             # --handled: schema changes a transform takes care of\n" +
		fmt.Sprintf("    # %-39s  # --state (default .stagesync/state-<hash>.db)\n", "state: .stagesync/"+from+"-"+to+".db") +
		"    # mirror: false                            # --mirror: delete destination entries whose source is gone\n" +
		"    # assets: auto                             # copy | skip | auto (copy when a model references Asset)\n")
	return b.String()
}

// yamlString quotes s for YAML (a JSON string is a YAML double-quoted one).
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func stageNameList(stages []*initStage) []string {
	out := make([]string, len(stages))
	for i, s := range stages {
		out[i] = s.name
	}
	return out
}

// assetSystemOf tells the asset system of a content-API schema: "legacy"
// when AssetCreateInput requires handle, "upload" when it takes
// uploadUrl, "" without an Asset model.
func assetSystemOf(s *ast.Schema) string {
	def := s.Types["AssetCreateInput"]
	switch {
	case def == nil:
		return ""
	case def.Fields.ForName("handle") != nil && def.Fields.ForName("handle").Type.NonNull:
		return "legacy"
	case def.Fields.ForName("uploadUrl") != nil:
		return "upload"
	case def.Fields.ForName("handle") != nil:
		return "legacy"
	}
	return ""
}

// introspectCode is the exit code of a failed introspection: a token or
// endpoint to fix is a configuration error.
func introspectCode(err error) int {
	var ie *schema.IntrospectError
	if errors.As(err, &ie) && ie.StatusCode >= 400 && ie.StatusCode < 500 {
		return exitUsage
	}
	return exitFailures
}

// tokenFix says what to do about a refused token.
func tokenFix(err error, tokenEnv string) string {
	var ie *schema.IntrospectError
	if errors.As(err, &ie) && (ie.StatusCode == http.StatusUnauthorized || ie.StatusCode == http.StatusForbidden) {
		return fmt.Sprintf("; the stage refuses the token in %s: set it to a Permanent Auth Token of this environment (Project settings > Permanent Auth Tokens)", tokenEnv)
	}
	return ""
}

// readInitDotEnv reads a .env file; a missing one is empty.
func readInitDotEnv(path string) (map[string]string, error) {
	m, err := godotenv.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// appendDotEnv adds lines to the .env file at path, created readable by
// its owner only.
func appendDotEnv(path string, lines []string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.WriteString("# Written by stagesync init: the Filestack API keys of asset buckets.\n")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o600)
}
