package main

// The config file, stagesync.yaml: named stages and the pairs to sync
// between them, read for `sync` and `plan`. Every key of a pair stands for
// a flag; a flag given on the command line wins over the file, and the file
// over the flag's default (flag > file > default).
//
// It is read with gopkg.in/yaml.v3 into a yaml.Node and decoded by
// decodeNode, which knows the line of every key: unknown keys, values of
// the wrong type and variables that are unset are errors of the form
// "stagesync.yaml:12: sync[0].mirror: ...". Tokens are read from the
// environment, then from the .env file beside the config file
// (github.com/joho/godotenv).

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/joho/godotenv"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// configFileName is the config file looked for in the working directory
// when --config is not given.
const configFileName = "stagesync.yaml"

// fileConfig is the config file.
type fileConfig struct {
	Stages map[string]*stageConfig `yaml:"stages"`
	Sync   []*pairConfig           `yaml:"sync"`

	path  string            // the file's path, as given or found
	dir   string            // its directory: relative paths in it are relative to it
	lines map[string]int    // the line of each key path ("stages.delta.token_env")
	names []string          // the stage names, sorted
	env   map[string]string // the .env file beside it (nil: none)
}

// stageConfig is a named stage of the config file.
type stageConfig struct {
	Endpoint string        `yaml:"endpoint"`
	TokenEnv string        `yaml:"token_env"`
	Token    string        `yaml:"token"` // a token in the file itself: works, with a warning
	Assets   *assetsConfig `yaml:"assets"`
}

// assetsConfig is the asset system of a stage and, on the legacy one, the
// variable holding its Filestack API key (needed when the stage is a
// destination that assets are copied to).
type assetsConfig struct {
	System string `yaml:"system"` // "upload" or "legacy"
	KeyEnv string `yaml:"key_env"`
	Key    string `yaml:"key"` // a key in the file itself: works, with a warning
	// FilestackURL is --filestack-url: an emulated Filestack's base URL.
	FilestackURL string `yaml:"filestack_url"`
}

// pairConfig is a sync from one stage of the file to another; each key
// stands for the flag named in its comment.
type pairConfig struct {
	Name        string            `yaml:"name"`         // --pair NAME (default: FROM-TO)
	From        string            `yaml:"from"`         // --from, a stage of the file
	To          string            `yaml:"to"`           // --to, a stage of the file
	Models      []string          `yaml:"models"`       // --models
	Match       map[string]string `yaml:"match"`        // --match Model=field
	Defaults    map[string]any    `yaml:"defaults"`     // --default Model.field=value
	Handled     []string          `yaml:"handled"`      // --handled
	State       string            `yaml:"state"`        // --state
	Report      string            `yaml:"report"`       // --report (sync)
	Plan        *planConfig       `yaml:"plan"`         // the plan command's outputs
	Mirror      *bool             `yaml:"mirror"`       // --mirror
	MaxDelete   *int              `yaml:"max_delete"`   // --max-delete
	Delta       *bool             `yaml:"delta"`        // --delta
	Verify      *bool             `yaml:"verify"`       // --verify (sync)
	Rate        *float64          `yaml:"rate"`         // --rate
	HygraphPlan string            `yaml:"hygraph_plan"` // --hygraph-plan
	PageSize    *int              `yaml:"page_size"`    // --page-size
	Assets      string            `yaml:"assets"`       // copy (--assets), skip (--skip-assets) or auto
	Listen      *listenConfig     `yaml:"listen"`       // stagesync listen's flags

	key string // "sync[i]": the key path of the pair
}

// listenConfig is the listen preset of a pair: `stagesync listen`'s
// flags. Durations are Go durations ("15m", "90s").
type listenConfig struct {
	Addr       string `yaml:"addr"`        // --addr
	SecretEnv  string `yaml:"secret_env"`  // --secret-env
	Queue      string `yaml:"queue"`       // --queue: a path (relative to the file) or postgres:// URL
	Every      string `yaml:"every"`       // --every
	MaxAge     string `yaml:"max_age"`     // --max-age
	Depth      *int   `yaml:"depth"`       // --depth
	SourceEnv  string `yaml:"source_env"`  // --source-env
	JobTimeout string `yaml:"job_timeout"` // --job-timeout
}

// planConfig is the plan preset of a pair: the files `stagesync plan`
// writes.
type planConfig struct {
	Out  string `yaml:"out"`  // plan -o FILE, for stagesync apply
	JSON string `yaml:"json"` // plan --plan FILE: the changeset as JSON
}

// configError is a problem with the config file, at a line and key.
type configError struct {
	file string
	line int
	key  string
	msg  string
}

func (e *configError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.file, e.line, e.key, e.msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.file, e.key, e.msg)
}

// configErrors are the problems of a config file, one a line.
type configErrors []*configError

func (es configErrors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems in %s, nothing was read or written:", len(es), es[0].file)
	for _, e := range es {
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}

// registerConfigFlags adds the flags that pick the config file and its pair.
func (f *syncFlags) registerConfigFlags(fl *pflag.FlagSet) {
	fl.StringVar(&f.configPath, "config", "", "config file of stages and pairs to sync (default: "+configFileName+" in the working directory, when there is one); flags win over it")
	fl.StringVar(&f.pair, "pair", "", "the pair of the config file to sync, by name (needed when the file has several and --from/--to do not name them)")
}

// env returns the value of an environment variable, or else of the .env
// file beside the config file.
func (f *syncFlags) env(name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return f.dotenv[name]
}

// token returns the value of the variable name (given by flag), or literal
// when no variable is named.
func (f *syncFlags) token(literal, name, flag string) (string, error) {
	if name == "" {
		return literal, nil
	}
	if v := f.env(name); v != "" {
		return v, nil
	}
	if f.dotenv != nil {
		return "", fmt.Errorf("%s: environment variable %s is empty or unset, and not in .env", flag, name)
	}
	return "", fmt.Errorf("%s: environment variable %s is empty or unset", flag, name)
}

// loadConfigFile reads --config, or stagesync.yaml in the working
// directory; it returns nil when there is neither.
func loadConfigFile(path string) (*fileConfig, error) {
	given := path != ""
	if !given {
		path = configFileName
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !given && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("--config: %w", err)
	}
	c, err := parseConfig(path, b)
	if err != nil {
		return nil, err
	}
	envPath := filepath.Join(c.dir, ".env")
	if m, err := godotenv.Read(envPath); err == nil {
		c.env = m
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", envPath, err)
	}
	return c, nil
}

// parseConfig decodes and checks a config file.
func parseConfig(path string, b []byte) (*fileConfig, error) {
	c := &fileConfig{path: path, dir: filepath.Dir(path), lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		// yaml.v3's syntax errors say "yaml: line N: ...".
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, after, ok := strings.Cut(rest, ": "); ok {
				if line, err := strconv.Atoi(n); err == nil {
					return nil, configErrors{{file: path, line: line, key: "YAML", msg: after}}
				}
			}
		}
		return nil, configErrors{{file: path, key: "YAML", msg: msg}}
	}
	var errs configErrors
	d := &decoder{file: path, lines: c.lines, errs: &errs}
	if len(doc.Content) > 0 {
		d.decode(doc.Content[0], "", reflect.ValueOf(c).Elem())
	}
	c.check(&errs)
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *configError) int { return cmp.Compare(a.line, b.line) })
		return nil, errs
	}
	return c, nil
}

// errorAt returns a configError at key.
func (c *fileConfig) errorAt(key, format string, args ...any) *configError {
	return &configError{file: c.path, line: c.lines[key], key: key, msg: fmt.Sprintf(format, args...)}
}

// warnings says what in the stages works but should not be there: tokens
// and keys written into the file.
func (c *fileConfig) warnings(stages ...string) []string {
	var w []string
	for _, name := range stages {
		s := c.Stages[name]
		if s == nil {
			continue
		}
		key := "stages." + name
		if s.Token != "" {
			w = append(w, fmt.Sprintf("%s: a token written into the file: anyone who reads the file can use it; put it in an environment variable or .env and name it with token_env", c.errorAt(key+".token", "").where()))
		}
		if s.TokenEnv != "" && !envName.MatchString(s.TokenEnv) {
			w = append(w, fmt.Sprintf("%s: %q looks like a token written into the file, not a variable name: it is used as the token; put it in an environment variable or .env and name that variable here", c.errorAt(key+".token_env", "").where(), abbreviate(s.TokenEnv)))
		}
		if s.Assets != nil && s.Assets.Key != "" {
			w = append(w, fmt.Sprintf("%s: an API key written into the file; put it in an environment variable or .env and name it with key_env", c.errorAt(key+".assets.key", "").where()))
		}
	}
	return w
}

// where is "file:line: key".
func (e *configError) where() string {
	return strings.TrimSuffix(e.Error(), ": ")
}

// abbreviate shows the start of a secret.
func abbreviate(s string) string {
	if len(s) <= 8 {
		return s
	}
	return s[:4] + "…"
}

// envName is what an environment variable's name looks like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// looksLikeToken reports whether a token_env value is a token rather than
// a (mistyped) variable name: long, no spaces, not a variable name.
func looksLikeToken(s string) bool {
	return !envName.MatchString(s) && len(s) >= 20 && !strings.ContainsAny(s, " \t")
}

// check finds what the types do not: missing and unknown stages, values
// out of range, duplicate pair names.
func (c *fileConfig) check(errs *configErrors) {
	for name := range c.Stages {
		c.names = append(c.names, name)
	}
	slices.Sort(c.names)
	add := func(key, format string, args ...any) { *errs = append(*errs, c.errorAt(key, format, args...)) }
	for _, name := range c.names {
		s, key := c.Stages[name], "stages."+name
		if s == nil {
			add(key, "a stage needs an endpoint")
			continue
		}
		if s.Endpoint == "" {
			add(key, "endpoint: missing (the stage's content-API endpoint)")
		}
		if s.TokenEnv != "" && s.Token != "" {
			add(key+".token", "give token_env or token, not both")
		}
		if s.TokenEnv != "" && !envName.MatchString(s.TokenEnv) && !looksLikeToken(s.TokenEnv) {
			add(key+".token_env", "%q is not an environment variable name (letters, digits and _)", s.TokenEnv)
		}
		if a := s.Assets; a != nil {
			switch a.System {
			case "upload":
				if a.KeyEnv != "" || a.Key != "" {
					add(key+".assets.system", "the upload asset system takes no key; key_env is for the legacy one")
				}
			case "legacy":
			case "":
				add(key+".assets", "system: missing (upload or legacy)")
			default:
				add(key+".assets.system", "%q: want upload or legacy", a.System)
			}
			if a.KeyEnv != "" && a.Key != "" {
				add(key+".assets.key", "give key_env or key, not both")
			}
			if a.KeyEnv != "" && !envName.MatchString(a.KeyEnv) {
				add(key+".assets.key_env", "%q is not an environment variable name (letters, digits and _)", a.KeyEnv)
			}
			switch {
			case a.FilestackURL == "":
			case a.System == "upload":
				add(key+".assets.filestack_url", "the upload asset system stores files itself; filestack_url is for the legacy one")
			case !isHTTPURL(a.FilestackURL):
				add(key+".assets.filestack_url", "%q is not an http(s) URL", a.FilestackURL)
			}
		}
	}
	names := map[string]string{}
	for i, p := range c.Sync {
		key := fmt.Sprintf("sync[%d]", i)
		if p == nil {
			add(key, "a pair needs from and to")
			continue
		}
		p.key = key
		for _, side := range []struct{ key, stage string }{{"from", p.From}, {"to", p.To}} {
			switch {
			case side.stage == "":
				add(key, "%s: missing (a stage of the file: %s)", side.key, c.stageList())
			case c.Stages[side.stage] == nil:
				add(key+"."+side.key, "stage %q is not in stages (%s)", side.stage, c.stageList())
			}
		}
		if p.Name == "" {
			p.Name = p.From + "-" + p.To
		}
		if prev, ok := names[p.Name]; ok {
			add(key, "pair %q is already %s: give the pairs different names (name: ...)", p.Name, prev)
		}
		names[p.Name] = key
		if p.Models != nil && len(p.Models) == 0 {
			add(key+".models", "an empty list: name the models to copy, or leave out models to copy every model")
		}
		for j, m := range p.Models {
			if strings.TrimSpace(m) == "" || strings.Contains(m, ",") {
				add(fmt.Sprintf("%s.models[%d]", key, j), "%q is not a model name", m)
			}
		}
		for _, m := range slices.Sorted(maps.Keys(p.Match)) {
			if m == "" || p.Match[m] == "" || strings.Contains(m, "=") {
				add(key+".match."+m, "want Model: field")
			}
		}
		for _, d := range slices.Sorted(maps.Keys(p.Defaults)) {
			if !strings.Contains(d, ".") || strings.Contains(d, "=") {
				add(key+".defaults."+d, "want Model.field: value")
			}
		}
		if p.Rate != nil && !(*p.Rate > 0) {
			add(key+".rate", "%v: want a number of requests per second above 0", *p.Rate)
		}
		if p.PageSize != nil && *p.PageSize < 0 {
			add(key+".page_size", "%d: want a number of entries per page, or 0 for the default", *p.PageSize)
		}
		switch p.Assets {
		case "", "auto", "copy", "skip":
		default:
			add(key+".assets", "%q: want copy, skip or auto", p.Assets)
		}
	}
}

func (c *fileConfig) stageList() string {
	if len(c.names) == 0 {
		return "the file has none"
	}
	return "stages: " + strings.Join(c.names, ", ")
}

func (c *fileConfig) pairList() string {
	var names []string
	for _, p := range c.Sync {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// isStageName reports whether a --from or --to value names a stage of the
// file rather than an endpoint.
func (c *fileConfig) isStageName(v string) bool {
	return v != "" && !strings.Contains(v, "://") && c.Stages[v] != nil
}

// selectPair picks the pair and stages a command runs on:
//   - --pair NAME: that pair;
//   - --from and --to both given: the pair between the stages they name, or
//     the stages alone when the file has no such pair, or no pair when one
//     of them is an endpoint (as without a file);
//   - otherwise the one pair of the file (or the one whose from or to is
//     the stage given).
func (c *fileConfig) selectPair(pair, from, to string) (*pairConfig, error) {
	usage := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{c.path}, args...)...)
	}
	if pair != "" {
		for _, p := range c.Sync {
			if p.Name == pair {
				return p, nil
			}
		}
		if len(c.Sync) == 0 {
			return nil, usage("--pair %s: the file has no pairs (sync: ...)", pair)
		}
		return nil, usage("--pair %s: no such pair (pairs: %s)", pair, c.pairList())
	}
	if from != "" && to != "" {
		if !c.isStageName(from) || !c.isStageName(to) {
			return nil, nil
		}
		for _, p := range c.Sync {
			if p.From == from && p.To == to {
				return p, nil
			}
		}
		return nil, nil
	}
	var fit []*pairConfig
	for _, p := range c.Sync {
		if (from == "" || p.From == from || !c.isStageName(from)) && (to == "" || p.To == to || !c.isStageName(to)) {
			fit = append(fit, p)
		}
	}
	switch {
	case len(fit) == 1:
		return fit[0], nil
	case len(c.Sync) == 0:
		return nil, nil
	case len(fit) == 0:
		return nil, usage("no pair syncs %s (pairs: %s): name both stages with --from and --to", cmp.Or(from, to), c.pairList())
	}
	var names []string
	for _, p := range fit {
		names = append(names, p.Name)
	}
	return nil, usage("%d pairs could run (%s): pick one with --pair NAME, or name the stages with --from and --to", len(fit), strings.Join(names, ", "))
}

// applyConfigFile reads the config file (if any) and sets, from the chosen
// pair and its stages, every flag the command line did not set. Tokens and
// keys named by the file are checked here, so that an unset variable is an
// error at its line. Warnings go to w.
func (f *syncFlags) applyConfigFile(cmd *cobra.Command, w io.Writer) error {
	c, err := loadConfigFile(f.configPath)
	if err != nil || c == nil {
		return err
	}
	f.dotenv = c.env
	if f.dotenv == nil {
		f.dotenv = map[string]string{}
	}
	fl := cmd.Flags()
	changed := map[string]bool{}
	fl.Visit(func(fl *pflag.Flag) { changed[fl.Name] = true })
	if f.configPath == "" {
		// Recorded in plan files, so that apply finds .env again.
		if abs, err := filepath.Abs(c.path); err == nil {
			_ = fl.Set("config", abs)
		}
	}
	p, err := c.selectPair(f.pair, f.from, f.to)
	if err != nil {
		return err
	}
	fromName, toName := "", ""
	if p != nil {
		fromName, toName = p.From, p.To
	}
	if c.isStageName(f.from) {
		fromName = f.from
	}
	if c.isStageName(f.to) {
		toName = f.to
	}
	if fromName == "" && toName == "" {
		return nil
	}
	for _, msg := range c.warnings(c.names...) {
		fmt.Fprintln(w, "warning:", msg)
	}
	set := func(name, value string) {
		if fl.Lookup(name) != nil {
			if err == nil {
				err = fl.Set(name, value)
			}
		}
	}
	var errs configErrors
	// The stages: endpoints and tokens.
	stage := func(name, flag string, literal *string) {
		s := c.Stages[name]
		if s == nil {
			return
		}
		key := "stages." + name
		// An endpoint on the command line stays; the stage's token still
		// goes with it unless a token flag is given too.
		if !changed[flag] || c.isStageName(fl.Lookup(flag).Value.String()) {
			set(flag, s.Endpoint)
		}
		if changed[flag+"-token-env"] {
			return
		}
		switch {
		case s.Token != "":
			*literal = s.Token
		case s.TokenEnv != "" && !envName.MatchString(s.TokenEnv):
			*literal = s.TokenEnv // a token in the file, warned about
		case s.TokenEnv != "":
			if f.env(s.TokenEnv) == "" {
				errs = append(errs, c.errorAt(key+".token_env", "environment variable %s is empty or unset, and not in %s", s.TokenEnv, filepath.Join(c.dir, ".env")))
			}
			set(flag+"-token-env", s.TokenEnv)
		}
	}
	stage(fromName, "from", &f.fromToken)
	stage(toName, "to", &f.toToken)
	// The destination's asset key, unless assets are skipped.
	skip := f.skipAssets || p != nil && p.Assets == "skip" && !changed["assets"]
	if s := c.Stages[toName]; s != nil && s.Assets != nil && !changed["assets-key-env"] && !skip {
		switch a, key := s.Assets, "stages."+toName+".assets.key_env"; {
		case a.Key != "":
			f.assetsKey = a.Key
		case a.KeyEnv != "":
			if f.env(a.KeyEnv) == "" {
				errs = append(errs, c.errorAt(key, "environment variable %s is empty or unset, and not in %s", a.KeyEnv, filepath.Join(c.dir, ".env")))
			}
			set("assets-key-env", a.KeyEnv)
		}
		if a := s.Assets; a.FilestackURL != "" && !changed["filestack-url"] {
			set("filestack-url", a.FilestackURL)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if p == nil {
		return err
	}
	// The pair: every key a flag the command line did not set.
	unset := func(name string) bool { return !changed[name] && fl.Lookup(name) != nil }
	if unset("models") && p.Models != nil {
		set("models", strings.Join(p.Models, ","))
		f.modelsSet = true
	}
	if unset("match") {
		for _, m := range slices.Sorted(maps.Keys(p.Match)) {
			set("match", m+"="+p.Match[m])
		}
	}
	if unset("default") {
		for _, d := range slices.Sorted(maps.Keys(p.Defaults)) {
			v, jerr := json.Marshal(p.Defaults[d])
			if jerr != nil {
				return c.errorAt(p.key+".defaults."+d, "%v", jerr)
			}
			set("default", d+"="+string(v))
		}
	}
	if unset("handled") {
		for _, h := range p.Handled {
			set("handled", h)
		}
	}
	path := func(name, v string) {
		if unset(name) && v != "" {
			if !filepath.IsAbs(v) && !strings.Contains(v, "://") { // state: postgres://...
				v = filepath.Join(c.dir, v)
			}
			set(name, v)
		}
	}
	path("state", p.State)
	path("report", p.Report)
	if p.Plan != nil {
		path("out", p.Plan.Out)
		if fl.Lookup("out") != nil { // the plan command only
			path("plan", p.Plan.JSON)
		}
	}
	boolean := func(name string, v *bool) {
		if unset(name) && v != nil {
			set(name, strconv.FormatBool(*v))
		}
	}
	boolean("mirror", p.Mirror)
	boolean("delta", p.Delta)
	boolean("verify", p.Verify)
	if unset("max-delete") && p.MaxDelete != nil {
		set("max-delete", strconv.Itoa(*p.MaxDelete))
	}
	if unset("page-size") && p.PageSize != nil {
		set("page-size", strconv.Itoa(*p.PageSize))
	}
	if unset("rate") && p.Rate != nil {
		set("rate", strconv.FormatFloat(*p.Rate, 'g', -1, 64))
	}
	if unset("hygraph-plan") && p.HygraphPlan != "" {
		set("hygraph-plan", p.HygraphPlan)
	}
	if l := p.Listen; l != nil && fl.Lookup("secret-env") != nil { // the listen command only
		queue := l.Queue
		if queue != "" && !strings.Contains(queue, "://") && !filepath.IsAbs(queue) {
			queue = filepath.Join(c.dir, queue)
		}
		depth := ""
		if l.Depth != nil {
			depth = strconv.Itoa(*l.Depth)
		}
		for _, kv := range []struct{ flag, key, v string }{
			{"addr", "addr", l.Addr}, {"secret-env", "secret_env", l.SecretEnv}, {"queue", "queue", queue},
			{"every", "every", l.Every}, {"max-age", "max_age", l.MaxAge}, {"depth", "depth", depth},
			{"source-env", "source_env", l.SourceEnv}, {"job-timeout", "job_timeout", l.JobTimeout},
		} {
			if kv.v == "" || !unset(kv.flag) {
				continue
			}
			if serr := fl.Set(kv.flag, kv.v); serr != nil {
				errs = append(errs, c.errorAt(p.key+".listen."+kv.key, "%q: %v", kv.v, serr))
			}
		}
		if l.SecretEnv != "" && !changed["secret-env"] && f.env(l.SecretEnv) == "" {
			errs = append(errs, c.errorAt(p.key+".listen.secret_env", "environment variable %s is empty or unset, and not in %s", l.SecretEnv, filepath.Join(c.dir, ".env")))
		}
		if len(errs) > 0 {
			return errs
		}
	}
	if !changed["assets"] && !changed["skip-assets"] {
		switch p.Assets {
		case "copy":
			set("assets", "true")
		case "skip":
			set("skip-assets", "true")
		}
	}
	return err
}

// decoder decodes a yaml.Node into the config structs, strictly: unknown
// keys, duplicate keys and values of the wrong type are errors at their
// line. Struct fields are matched by their yaml tag.
type decoder struct {
	file  string
	lines map[string]int
	errs  *configErrors
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	*d.errs = append(*d.errs, &configError{file: d.file, line: n.Line, key: cmp.Or(key, "(top level)"), msg: fmt.Sprintf(format, args...)})
}

// kindName says what a node is, for "want X, got Y".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (d *decoder) decode(n *yaml.Node, key string, v reflect.Value) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if _, seen := d.lines[key]; !seen {
		d.lines[key] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // as if left out
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, key, v.Elem())
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, key, "want a mapping of keys, got %s", kindName(n))
			return
		}
		t := v.Type()
		fields := map[string]int{}
		var known []string
		for i := range t.NumField() {
			if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
				fields[tag] = i
				known = append(known, tag)
			}
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			sub := join(key, k.Value)
			idx, ok := fields[k.Value]
			switch {
			case !ok:
				d.fail(k, sub, "unknown key (known here: %s)", strings.Join(known, ", "))
				continue
			case seen[k.Value]:
				d.fail(k, sub, "given twice")
				continue
			}
			seen[k.Value] = true
			d.lines[sub] = k.Line
			d.decode(val, sub, v.Field(idx))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, key, "want a mapping, got %s", kindName(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			sub := join(key, k.Value)
			if k.Kind != yaml.ScalarNode {
				d.fail(k, key, "want names as keys, got %s", kindName(k))
				continue
			}
			if v.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				d.fail(k, sub, "given twice")
				continue
			}
			d.lines[sub] = k.Line
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, sub, e)
			v.SetMapIndex(reflect.ValueOf(k.Value), e)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, key, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.decode(e, fmt.Sprintf("%s[%d]", key, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Interface: // a default's value: any YAML
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(n, key, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, key, "want %s, got %s", typeName(v.Kind()), kindName(n))
			return
		}
		if v.Kind() == reflect.String && n.Tag != "!!str" && n.Style == 0 {
			// 5 or true where text is wanted: say so rather than guess.
			d.fail(n, key, "want text, got %s (quote it if it is meant as text)", strings.TrimPrefix(n.Tag, "!!"))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(n, key, "want %s, got %s", typeName(v.Kind()), kindName(n))
		}
	}
}

func typeName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	}
	return "text"
}

func join(key, sub string) string {
	if key == "" {
		return sub
	}
	return key + "." + sub
}

// configForApply is the config file's part in applying a plan file: the
// plan recorded every flag the file set, and --config when there was a
// file; the .env beside it and the tokens written into it (never recorded)
// are read again, matched to the stages by endpoint.
func (f *syncFlags) configForApply() error {
	if f.configPath == "" {
		return nil
	}
	c, err := loadConfigFile(f.configPath)
	if err != nil {
		return err
	}
	f.dotenv = c.env
	if f.dotenv == nil {
		f.dotenv = map[string]string{}
	}
	for _, name := range c.names {
		s := c.Stages[name]
		literal := s.Token
		if literal == "" && s.TokenEnv != "" && !envName.MatchString(s.TokenEnv) {
			literal = s.TokenEnv
		}
		if s.Endpoint == f.from && f.fromTokenEnv == "" {
			f.fromToken = literal
		}
		if s.Endpoint == f.to && f.toTokenEnv == "" {
			f.toToken = literal
			if s.Assets != nil && f.assetsKeyEnv == "" {
				f.assetsKey = s.Assets.Key
			}
		}
	}
	return nil
}

// isHTTPURL reports whether s is an absolute http or https URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
