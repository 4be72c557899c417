package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/internal/gcmssig"
)

// Webhook is a webhook of an emulated stage: after every committed change
// the stage posts a Hygraph-shaped event to URL, as Hygraph does: the
// body is {"operation": "create"|"update"|"delete"|"publish"|"unpublish",
// "data": {"__typename", "id", "stage", system fields, non-localized
// fields, relations as {"__typename", "id"}}}; create, update and delete
// carry the DRAFT version, publish and unpublish the PUBLISHED one. With a
// Secret, the gcms-signature header signs it (see internal/gcmssig).
//
// Delivery is queued, in order, away from the request that made the
// change; each attempt times out after Timeout, and a failed delivery (no
// 2xx) is tried again, Attempts times in all, then dropped (counted in
// WebhookStats).
type Webhook struct {
	URL    string
	Secret string
	// Env is the environment named in the signature (default "master").
	Env string
	// Models, when set, are the only models whose changes are sent.
	Models []string
	// Timeout bounds one attempt (default 3 s, as Hygraph's).
	Timeout time.Duration
	// Attempts bounds the attempts of one event (default 5, as Hygraph's).
	Attempts int
	// Backoff is the wait after a failed attempt, times the number of
	// attempts so far (default 1 s).
	Backoff time.Duration
	// Client sends the requests (default a plain http.Client).
	Client *http.Client
}

// WithWebhook makes the stage send webhooks (see Webhook); it may be given
// more than once.
func WithWebhook(h Webhook) Option {
	return func(c *config) { c.webhooks = append(c.webhooks, h) }
}

// WebhookStats counts a stage's webhook deliveries.
type WebhookStats struct {
	// Queued counts the events not yet delivered or dropped.
	Queued int
	// Delivered and Dropped count the events answered 2xx, and those that
	// failed every attempt; Attempts counts every request sent.
	Delivered, Dropped, Attempts int
}

// WebhookStats returns the counts of the stage's webhook deliveries.
func (s *Stage) WebhookStats() WebhookStats {
	var out WebhookStats
	for _, h := range s.hooks {
		h.mu.Lock()
		st := h.stats
		st.Queued = len(h.queue)
		if h.busy {
			st.Queued++
		}
		h.mu.Unlock()
		out.Queued += st.Queued
		out.Delivered += st.Delivered
		out.Dropped += st.Dropped
		out.Attempts += st.Attempts
	}
	return out
}

// hook delivers the events of one Webhook.
type hook struct {
	cfg    Webhook
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	wake  chan struct{}
	queue [][]byte // event bodies
	busy  bool
	stats WebhookStats
}

func (s *Stage) startHooks() {
	for _, cfg := range s.cfg.webhooks {
		if cfg.Env == "" {
			cfg.Env = "master"
		}
		if cfg.Timeout <= 0 {
			cfg.Timeout = 3 * time.Second
		}
		if cfg.Attempts <= 0 {
			cfg.Attempts = 5
		}
		if cfg.Backoff <= 0 {
			cfg.Backoff = time.Second
		}
		if cfg.Client == nil {
			cfg.Client = &http.Client{}
		}
		h := &hook{cfg: cfg, done: make(chan struct{}), wake: make(chan struct{}, 1)}
		h.ctx, h.cancel = context.WithCancel(context.Background())
		s.hooks = append(s.hooks, h)
		go h.run()
	}
}

func (s *Stage) stopHooks() {
	for _, h := range s.hooks {
		h.cancel()
		<-h.done
	}
}

// notifyHooks queues the events of a committed tx (under the stage lock).
func (t *tx) notifyHooks() {
	s := t.s
	if len(s.hooks) == 0 {
		return
	}
	draft, pub := s.cat.Draft, -1
	if i, ok := s.cat.StageIdx["PUBLISHED"]; ok {
		pub = i
	}
	type event struct {
		Operation string         `json:"operation"`
		Data      map[string]any `json:"data"`
	}
	var events []event
	add := func(d *store.Document, op string, st int) {
		var data map[string]any
		if v := d.Versions[st]; v != nil {
			data = s.payload(d, st)
		} else {
			data = map[string]any{"id": d.ID, "stage": s.cat.Stages[st]}
		}
		data["__typename"] = d.Model.Name
		events = append(events, event{Operation: op, Data: data})
	}
	for _, d := range t.Order {
		old := t.Saved[d]
		_, isNew := t.Created[d.ID]
		gone := t.Deleted[d] || !store.HasVersion(d)
		switch {
		case isNew && gone:
		case isNew:
			add(d, "create", draft)
			if pub >= 0 && d.Versions[pub] != nil {
				add(d, "publish", pub)
			}
		case gone:
			add(d, "delete", draft)
		default:
			if old[draft] != d.Versions[draft] && d.Versions[draft] != nil {
				add(d, "update", draft)
			}
			switch {
			case pub < 0:
			case old[pub] != d.Versions[pub] && d.Versions[pub] != nil:
				add(d, "publish", pub)
			case old[pub] != nil && d.Versions[pub] == nil:
				add(d, "unpublish", pub)
			}
		}
	}
	for _, h := range s.hooks {
		for _, ev := range events {
			if len(h.cfg.Models) > 0 && !slices.Contains(h.cfg.Models, ev.Data["__typename"].(string)) {
				continue
			}
			b, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			h.push(b)
		}
	}
}

// payload renders a version as a webhook's data: system fields, the
// values in the default locale, relations as {"__typename", "id"}.
func (s *Stage) payload(d *store.Document, st int) map[string]any {
	out := s.plain(d, st)
	delete(out, "localizations")
	v := d.Versions[st]
	for k, x := range v.Vals {
		refs, ok := x.([]store.Ref)
		if !ok {
			continue
		}
		list := make([]any, len(refs))
		for i, r := range refs {
			list[i] = map[string]any{"__typename": r.Type, "id": r.ID}
		}
		if f := d.Model.ByName[k]; f != nil && !f.List {
			out[k] = nil
			if len(list) > 0 {
				out[k] = list[0]
			}
			continue
		}
		out[k] = list
	}
	return out
}

func (h *hook) push(body []byte) {
	h.mu.Lock()
	h.queue = append(h.queue, body)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// run delivers the queued events in order until the stage closes.
func (h *hook) run() {
	defer close(h.done)
	for {
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.mu.Unlock()
			select {
			case <-h.wake:
				continue
			case <-h.ctx.Done():
				return
			}
		}
		body := h.queue[0]
		h.queue = h.queue[1:]
		h.busy = true
		h.mu.Unlock()
		ok := h.deliver(body)
		h.mu.Lock()
		h.busy = false
		if ok {
			h.stats.Delivered++
		} else {
			h.stats.Dropped++
		}
		h.mu.Unlock()
		if h.ctx.Err() != nil {
			return
		}
	}
}

// deliver sends one event, up to Attempts times.
func (h *hook) deliver(body []byte) bool {
	for attempt := 1; attempt <= h.cfg.Attempts; attempt++ {
		h.mu.Lock()
		h.stats.Attempts++
		h.mu.Unlock()
		if h.send(body) {
			return true
		}
		if attempt == h.cfg.Attempts {
			break
		}
		select {
		case <-time.After(h.cfg.Backoff * time.Duration(attempt)):
		case <-h.ctx.Done():
			return false
		}
	}
	return false
}

func (h *hook) send(body []byte) bool {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	if h.cfg.Secret != "" {
		req.Header.Set(gcmssig.Header, gcmssig.Sign(h.cfg.Secret, body, h.cfg.Env, time.Now()))
	}
	resp, err := h.cfg.Client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}
