package stagesync_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// flakyIntrospection stands in front of an emulated stage and fails the
// first introspection requests it receives, one fault each: a 500, a
// connection dropped without an answer, a 429. Other requests pass.
type flakyIntrospection struct {
	next   http.Handler
	faults []string // "500", "drop", "429"

	mu     sync.Mutex
	seen   int // introspection requests received
	failed int
}

func (f *flakyIntrospection) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !bytes.Contains(body, []byte("__schema")) {
		f.next.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	f.seen++
	fault := ""
	if f.seen <= len(f.faults) {
		fault = f.faults[f.seen-1]
		f.failed++
	}
	f.mu.Unlock()
	switch fault {
	case "500":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"errors":[{"message":"internal server error"}],"data":null}`))
	case "drop":
		panic(http.ErrAbortHandler) // the connection is closed without an answer
	case "429":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"errors":[{"message":"Too many requests"}],"data":null}`))
	default:
		f.next.ServeHTTP(w, r)
	}
}

func (f *flakyIntrospection) counts() (seen, failed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen, f.failed
}

// flakyServer serves h on a server of the test's own and returns its
// content API endpoint.
func flakyServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/content/stagetest/master"
}

// TestSyncIntrospectionRetried: the pre-flight introspection of each stage
// (no schema given) goes through the stage's retry policy, like its reads:
// a 500, a dropped connection and a 429 in a row do not end the run.
func TestSyncIntrospectionRetried(t *testing.T) {
	s := librarySchema(t, nil)
	p := newPair(t, s, s)
	p.seedLibrary(t, 6)
	faults := []string{"500", "drop", "429"}
	srcGate := &flakyIntrospection{next: p.src.Stage, faults: faults}
	dstGate := &flakyIntrospection{next: p.dst.Stage, faults: faults}
	p.source = fastStageAt("source", flakyServer(t, srcGate), p.src.Token)
	p.dest = fastStageAt("dest", flakyServer(t, dstGate), p.dst.Token)

	cfg := p.config()
	cfg.SourceSchema, cfg.DestSchema = nil, nil // introspect both stages
	mustSync(t, cfg)
	for name, g := range map[string]*flakyIntrospection{"source": srcGate, "dest": dstGate} {
		seen, failed := g.counts()
		if failed != len(faults) || seen != len(faults)+1 {
			t.Errorf("%s: %d introspection requests, %d of them failed; want %d, %d", name, seen, failed, len(faults)+1, len(faults))
		}
	}
	p.compare(t)

	// Retries end: a stage that keeps failing stops the run before
	// anything is written, and the error says which stage and why.
	always := &flakyIntrospection{next: p.dst.Stage, faults: []string{"500", "500", "500", "500"}}
	cfg.Dest = fastStageAt("dest", flakyServer(t, always), p.dst.Token, stagesync.WithRetryMax(2))
	before := p.dst.Stage.Counters().Mutations
	_, _, err := stagesync.Sync(t.Context(), cfg)
	var herr *stagesync.HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusInternalServerError || !strings.Contains(err.Error(), `"dest"`) {
		t.Errorf("sync against a failing introspection: err = %v, want an HTTP 500 error naming the stage", err)
	}
	if seen, _ := always.counts(); seen != 3 {
		t.Errorf("%d introspection requests with 2 retries, want 3", seen)
	}
	if n := p.dst.Stage.Counters().Mutations - before; n != 0 {
		t.Errorf("the failed run wrote %d mutations", n)
	}
}
