package listen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/stagesync/stagesync/internal/gcmssig"
)

// MaxBody is the largest webhook body accepted (413 above it).
const MaxBody = 1 << 20

// answerWithin bounds the work of one webhook request, inside Hygraph's
// 3 s timeout.
const answerWithin = 2500 * time.Millisecond

// operations are the webhook operations Hygraph sends.
var operations = map[string]bool{"create": true, "update": true, "delete": true, "publish": true, "unpublish": true}

// Handler serves the webhook endpoint (POST on any path), GET /healthz
// and GET /metrics.
func (l *Listener) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", l.serveHealth)
	mux.HandleFunc("GET /metrics", l.serveMetrics)
	mux.HandleFunc("POST /", l.serveWebhook)
	return mux
}

// serveWebhook verifies a webhook, enqueues its job and answers 202; see
// the package documentation of the command for the error answers.
func (l *Listener) serveWebhook(w http.ResponseWriter, r *http.Request) {
	got := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), answerWithin)
	defer cancel()
	refuse := func(code int, result, msg string, args ...any) {
		l.metrics.event(result)
		l.log.Warn("webhook refused", append([]any{"status", code, "reason", msg}, args...)...)
		http.Error(w, msg, code)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			refuse(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", MaxBody))
			return
		}
		refuse(http.StatusBadRequest, "bad_request", "reading the body: "+err.Error())
		return
	}
	env, err := gcmssig.Verify(l.cfg.Secret, r.Header.Get(gcmssig.Header), body, got, l.cfg.MaxAge)
	if err != nil {
		refuse(http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	if l.cfg.Environment != "" && env != l.cfg.Environment {
		refuse(http.StatusForbidden, "wrong_environment", fmt.Sprintf(
			"the webhook is signed for environment %q, and this listener follows %q: point the webhook of %q at its own listener, or set --source-env", env, l.cfg.Environment, env))
		return
	}
	var in struct {
		Operation string `json:"operation"`
		Data      struct {
			Typename string `json:"__typename"`
			ID       string `json:"id"`
			Stage    string `json:"stage"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		refuse(http.StatusBadRequest, "bad_request", "malformed JSON: "+err.Error())
		return
	}
	ev := Event{Operation: strings.ToLower(in.Operation), Model: in.Data.Typename, ID: in.Data.ID, Stage: in.Data.Stage}
	switch {
	case !operations[ev.Operation]:
		refuse(http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown operation %q", in.Operation))
		return
	case ev.Model == "" || ev.ID == "":
		refuse(http.StatusBadRequest, "bad_request", "data.__typename and data.id are required")
		return
	case !l.known[ev.Model]:
		refuse(http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown model %q: the source has no such model", ev.Model))
		return
	case !l.models[ev.Model]:
		l.metrics.event("ignored")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "{\"ignored\":%q}\n", "model "+ev.Model+" is not synced")
		return
	}
	id, pending, err := l.Enqueue(ctx, ev, got)
	if err != nil {
		l.metrics.event("error")
		l.log.Error("webhook not enqueued", "model", ev.Model, "id", ev.ID, "err", err)
		http.Error(w, "the job could not be enqueued; send it again", http.StatusServiceUnavailable)
		return
	}
	l.metrics.event("accepted")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "{\"job\":%d,\"coalesced\":%t}\n", id, pending)
}

func (l *Listener) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), answerWithin)
	defer cancel()
	if _, err := l.q.JobList(ctx, river.NewJobListParams().First(1)); err != nil {
		http.Error(w, "queue: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}
