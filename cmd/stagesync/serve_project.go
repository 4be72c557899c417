package main

// `stagesync serve --env NAME=FILE ...`: several environments of one
// emulated project on one port, each at Hygraph's content-API path
// /content/<project>/<environment>, and the Management API queries that
// list them (what `stagesync init` asks), at /management/graphql.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/stagesync/stagesync/internal/emulator"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/filestackemu"
	"github.com/stagesync/stagesync/schema"
)

// projectFlags are the serve flags of a project of several environments.
type projectFlags struct {
	envs      []string // NAME=FILE[,FILE...]
	project   string
	mgmtToken string
	mgmtSet   bool // --management-token given
	assets    bool
}

func (p *projectFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&p.envs, "env", nil, "serve the environment `NAME=FILE` (SDL; comma-separate several files) of one project; repeat for each environment, instead of --schema")
	f.StringVar(&p.project, "project", "local", "project `ID` of --env environments: their endpoints are /content/ID/NAME")
	f.StringVar(&p.mgmtToken, "management-token", "", "bearer `TOKEN` of the Management API of --env environments (default: the --token)")
	f.BoolVar(&p.assets, "assets", false, "give every environment an asset bucket in an emulated Filestack (in memory, also with --data)")
}

// projectEnv is one --env flag.
type projectEnv struct {
	name  string
	files []string
}

// parseEnvs parses the --env flags.
func (p *projectFlags) parseEnvs() ([]projectEnv, error) {
	var out []projectEnv
	var errs []error
	seen := map[string]bool{}
	for _, v := range p.envs {
		name, files, ok := strings.Cut(v, "=")
		switch {
		case !ok || name == "" || files == "":
			errs = append(errs, fmt.Errorf("--env %q: want NAME=FILE, e.g. --env master=schema.graphql", v))
			continue
		case seen[name]:
			errs = append(errs, fmt.Errorf("--env %s: given twice", name))
			continue
		}
		seen[name] = true
		out = append(out, projectEnv{name: name, files: strings.Split(files, ",")})
	}
	return out, errors.Join(errs...)
}

// serveProject serves the --env environments of c as one project until ctx
// is done, like serveWithContext serves one stage.
func serveProject(ctx context.Context, c serveConfig, stdout, stderr io.Writer) (err error) {
	if len(c.schemas) > 0 {
		return withCode(exitUsage, errors.New("--schema and --env: give the stage's schema with --schema, or each environment's with --env NAME=FILE"))
	}
	if err := c.validate(); err != nil {
		return withCode(exitUsage, err)
	}
	envs, err := c.project.parseEnvs()
	if err != nil {
		return withCode(exitUsage, err)
	}
	limits := c.limits
	limits.Token, limits.ReadToken = c.token, c.readToken
	generated := false
	if !c.tokenSet {
		limits.Token, generated = rand.Text(), true
	}
	mgmtToken := c.project.mgmtToken
	if !c.project.mgmtSet {
		mgmtToken = limits.Token
	}

	project := emulator.NewProject(emulator.ProjectConfig{ID: c.project.project, ManagementToken: mgmtToken})
	defer func() {
		if cerr := project.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	var files *filestackemu.Server
	if c.project.assets {
		files = filestackemu.New()
		defer files.Close()
	}
	for _, e := range envs {
		s, err := schema.Load(e.files...)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--env %s: %w", e.name, err))
		}
		opts := []emulator.Option{emulator.WithLimits(limits)}
		if c.maxPage > 0 {
			opts = append(opts, emulator.WithMaxPage(c.maxPage))
		}
		if c.defPage > 0 {
			opts = append(opts, emulator.WithDefaultPage(c.defPage))
		}
		if c.plan != "" {
			opts = append(opts, emulator.WithPlan(c.plan))
		}
		if files != nil {
			opts = append(opts, emulator.WithAssets(files, e.name+"-"+strings.ToLower(rand.Text()[:10])))
		}
		if c.dataDir != "" {
			backend, err := store.OpenBolt(filepath.Join(c.dataDir, e.name))
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("--env %s: %w", e.name, err))
			}
			opts = append(opts, emulator.WithBackend(backend)) // closed with the stage
		}
		stage, err := emulator.NewStage(s, opts...)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--env %s: %s: %w", e.name, strings.Join(e.files, ", "), err))
		}
		if err := project.AddEnvironment(e.name, stage); err != nil {
			_ = stage.Close()
			return withCode(exitUsage, fmt.Errorf("--env %s: %w", e.name, err))
		}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--addr: %w", err))
	}
	base := strings.TrimSuffix(endpointURL(ln.Addr()), "/")
	srv := &http.Server{
		Handler:           project,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute + limits.Latency,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(stderr, "stagesync: http: ", 0),
	}
	fmt.Fprintf(stdout, "stagesync: serving project %s at %s/:", project.ID(), base)
	for _, e := range envs {
		names := make([]string, len(e.files))
		for i, f := range e.files {
			names[i] = filepath.Base(f)
		}
		fmt.Fprintf(stdout, " %s (%s)", e.name, strings.Join(names, ", "))
	}
	fmt.Fprintln(stdout)
	for _, e := range envs {
		fmt.Fprintf(stdout, "endpoint %s: %s%s\n", e.name, base, project.ContentPath(e.name))
	}
	if generated {
		fmt.Fprintf(stdout, "token: %s\n", limits.Token)
	}
	if c.dataDir != "" {
		path := c.dataDir
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		fmt.Fprintf(stdout, "data: %s\n", path)
	}
	if files != nil {
		// Each environment's bucket key is its assetConfig.apiKey in the
		// Management API (stagesync init puts it in .env).
		fmt.Fprintf(stdout, "filestack: %s (copy files into it with sync --filestack-url %s)\n", files.URL(), files.URL())
	}
	fmt.Fprintf(stdout, "management: %s%s\n", base, emulator.ManagementPath)

	if err := serveUntilDone(ctx, srv, ln, stderr); err != nil {
		return fmt.Errorf("serve %s: %w", base, err)
	}
	for _, e := range envs {
		n := project.Environment(e.name).Counters()
		fmt.Fprintf(stdout, "stagesync: %s stopped; requests %d, rejected %d, queries %d, mutations %d, entries written %d\n",
			e.name, n.Requests, n.Rejected, n.Queries, n.Mutations, n.EntriesWritten)
	}
	return nil
}
