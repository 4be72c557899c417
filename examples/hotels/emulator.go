package main

import (
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

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
// served on one local port at /delta and /master, each with its own token.
type emulation struct {
	delta, master             *stagetest.Stage
	deltaSchema, masterSchema *ast.Schema
	deltaURL, masterURL       string
	deltaToken, masterToken   string

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
	e.delta, err = stagetest.NewStage(e.deltaSchema,
		stagetest.WithLimits(stagetest.Limits{Token: e.deltaToken}),
		stagetest.WithSeed(1), stagetest.WithClock(seedClock()))
	if err != nil {
		return nil, fmt.Errorf("delta: %w", err)
	}
	e.master, err = stagetest.NewStage(e.masterSchema, stagetest.WithLimits(stagetest.Limits{Token: e.masterToken}))
	if err != nil {
		return nil, fmt.Errorf("master: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
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
	return errors.Join(err, e.delta.Close(), e.master.Close())
}
