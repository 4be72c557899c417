package main

import (
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/filestack/filestacktest"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// The schemas of the two stages, synthesized from schema/*.yaml.
var (
	//go:embed schema/delta.graphql
	deltaSDL string
	//go:embed schema/master.graphql
	masterSDL string
)

// loadSchemas parses the schemas of delta and master.
func loadSchemas() (delta, master *ast.Schema, err error) {
	if delta, err = schema.LoadString("delta.graphql", deltaSDL); err != nil {
		return nil, nil, err
	}
	if master, err = schema.LoadString("master.graphql", masterSDL); err != nil {
		return nil, nil, err
	}
	return delta, master, nil
}

// emulation is the pair of local stages the example runs against when no
// real ones are configured: delta and master, emulated by stagetest and
// served on one local port at /delta and /master, each with its own token
// and its own asset bucket (legacy asset system: a Filestack application)
// in one emulated Filestack.
type emulation struct {
	delta, master             *stagetest.Stage
	deltaSchema, masterSchema *ast.Schema
	deltaURL, masterURL       string
	deltaToken, masterToken   string
	// files is the emulated Filestack; deltaKey and masterKey are the
	// API keys of the stages' buckets.
	files               *filestacktest.Server
	deltaKey, masterKey string

	srv    *http.Server
	served chan error
}

// startEmulation starts the emulated stages on addr ("127.0.0.1:0" picks a
// free port). Empty tokens are generated. delta's content and ids are the
// same on every run (see seedClock); master starts empty.
func startEmulation(addr, deltaToken, masterToken string) (*emulation, error) {
	e := &emulation{deltaToken: deltaToken, masterToken: masterToken}
	if e.deltaToken == "" {
		e.deltaToken = rand.Text()
	}
	if e.masterToken == "" {
		e.masterToken = rand.Text()
	}
	var err error
	if e.deltaSchema, e.masterSchema, err = loadSchemas(); err != nil {
		return nil, err
	}
	e.files, e.deltaKey, e.masterKey = filestacktest.New(), "delta-"+rand.Text(), "master-"+rand.Text()
	e.delta, err = stagetest.NewStage(e.deltaSchema,
		stagetest.WithLimits(stagetest.Limits{Token: e.deltaToken}),
		stagetest.WithAssets(e.files, e.deltaKey),
		stagetest.WithSeed(1), stagetest.WithClock(seedClock()))
	if err != nil {
		e.files.Close()
		return nil, fmt.Errorf("delta: %w", err)
	}
	e.master, err = stagetest.NewStage(e.masterSchema, stagetest.WithLimits(stagetest.Limits{Token: e.masterToken}),
		stagetest.WithAssets(e.files, e.masterKey))
	if err != nil {
		e.files.Close()
		return nil, fmt.Errorf("master: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.files.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/delta", e.delta)
	mux.Handle("/master", e.master)
	base := "http://" + ln.Addr().String()
	e.deltaURL, e.masterURL = base+"/delta", base+"/master"
	e.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // clients hanging up early
	}
	e.served = make(chan error, 1)
	go func() { e.served <- e.srv.Serve(ln) }()
	return e, nil
}

// Close stops the server and the stages.
func (e *emulation) Close() error {
	err := e.srv.Close()
	if serr := <-e.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	err = errors.Join(err, e.delta.Close(), e.master.Close())
	e.files.Close()
	return err
}

// fileCounts are files and bytes stored.
type fileCounts struct{ files, bytes int64 }

// stored returns how many files, and bytes, the emulated Filestack has
// stored by upload or by URL since it started (seeding puts files into
// delta's bucket directly, uncounted).
func (e *emulation) stored() fileCounts {
	c := e.files.Counters()
	return fileCounts{files: c.Stores + c.Uploads, bytes: c.BytesUploaded}
}

// compareFiles compares the file of each of master's assets with the file
// of delta's asset of the same name (the seed's names are unique) by
// SHA-256. It returns how many are the same, how many master has, and a
// line per asset that differs or that either stage lacks.
func (e *emulation) compareFiles() (same, total int, diffs []string) {
	sha := func(st *stagetest.Stage) map[string]string {
		out := map[string]string{}
		for _, a := range st.All("Asset", "DRAFT") {
			name, _ := a["fileName"].(string)
			handle, _ := a["handle"].(string)
			if f, ok := e.files.File(handle); ok {
				out[name] = f.SHA256
			} else {
				out[name] = "(no file " + handle + ")"
			}
		}
		return out
	}
	src, dst := sha(e.delta), sha(e.master)
	for _, name := range slices.Sorted(maps.Keys(dst)) {
		total++
		switch want, ok := src[name]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: not in delta", name))
		case want != dst[name]:
			diffs = append(diffs, fmt.Sprintf("%s: SHA-256 %s in master, %s in delta", name, dst[name], want))
		default:
			same++
		}
	}
	for _, name := range slices.Sorted(maps.Keys(src)) {
		if _, ok := dst[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: not in master", name))
		}
	}
	return same, total, diffs
}
