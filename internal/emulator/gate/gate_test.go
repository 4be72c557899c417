package gate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	gateToken        = "full-secret-token"
	gateReadToken    = "read-secret-token"
	gateQueryBody    = `{"query":"{ posts { id } }"}`
	gateMutationBody = `{"query":"mutation { createPost(data: {title: \"x\"}) { id } }"}`
)

// gateEchoHandler stands in for the GraphQL handler: it answers 200 with the
// body it was given, so tests see what the gate passed on.
func gateEchoHandler(called chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if called != nil {
			called <- struct{}{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
}

func newGateRequest(ctx context.Context, token, body string) *http.Request {
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// decodeGateError checks a gate refusal is in Hygraph's shape and returns
// its message.
func decodeGateError(t *testing.T, res *http.Response, body []byte) string {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var got struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
		Data       *json.RawMessage `json:"data"`
		Extensions struct {
			RequestID string `json:"requestId"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if !strings.Contains(string(body), `"data":null`) {
		t.Errorf("body %s: want \"data\":null", body)
	}
	if len(got.Errors) != 1 || got.Errors[0].Message == "" {
		t.Fatalf("body %s: want one error with a message", body)
	}
	if got.Extensions.RequestID == "" {
		t.Errorf("body %s: want extensions.requestId", body)
	}
	return got.Errors[0].Message
}

func TestGateRefusals(t *testing.T) {
	auth := Limits{Token: gateToken, ReadToken: gateReadToken}
	capped := auth
	capped.MaxBody = int64(len(gateQueryBody))

	cases := []struct {
		name     string
		limits   Limits
		token    string
		body     string
		header   map[string]string
		status   int
		message  string // substring of the error message; "" for 200
		rejected int64
	}{
		{"no auth configured", Limits{}, "", gateQueryBody, nil, 200, "", 0},
		{"no token", auth, "", gateQueryBody, nil, 401, "Unauthorized", 1},
		{"wrong token", auth, "wrong-token-value", gateQueryBody, nil, 401, "Unauthorized", 1},
		{"basic scheme", auth, "", gateQueryBody, map[string]string{"Authorization": "Basic " + gateToken}, 401, "Unauthorized", 1},
		{"lower-case bearer", auth, "", gateQueryBody, map[string]string{"Authorization": "bearer " + gateToken}, 200, "", 0},
		{"full token query", auth, gateToken, gateQueryBody, nil, 200, "", 0},
		{"full token mutation", auth, gateToken, gateMutationBody, nil, 200, "", 0},
		{"read token query", auth, gateReadToken, gateQueryBody, nil, 200, "", 0},
		{"read token mutation", auth, gateReadToken, gateMutationBody, nil, 403, "read-only", 1},
		{"read token only: query", Limits{ReadToken: gateReadToken}, gateReadToken, gateQueryBody, nil, 200, "", 0},
		{"read token only: no token", Limits{ReadToken: gateReadToken}, "", gateQueryBody, nil, 401, "Unauthorized", 1},
		{"body at cap", capped, gateToken, gateQueryBody, nil, 200, "", 0},
		{"body over cap", capped, gateToken, gateQueryBody + " ", nil, 413, "Payload too large", 1},
		{"auth before body cap", capped, "", gateQueryBody + " ", nil, 401, "Unauthorized", 1},
		{"body cap before read-only check", capped, gateReadToken, gateMutationBody, nil, 413, "Payload too large", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Counters
			h := New(tc.limits, &c, nil).Wrap(gateEchoHandler(nil))
			r := newGateRequest(t.Context(), tc.token, tc.body)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			res := rec.Result()
			body := rec.Body.Bytes()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				if string(body) != tc.body {
					t.Errorf("next got body %q, want %q", body, tc.body)
				}
			} else {
				msg := decodeGateError(t, res, body)
				if !strings.Contains(msg, tc.message) {
					t.Errorf("message %q, want it to contain %q", msg, tc.message)
				}
				for _, secret := range []string{gateToken, gateReadToken, tc.token} {
					if secret != "" && strings.Contains(string(body), secret) {
						t.Errorf("body %s echoes the token %q", body, secret)
					}
				}
			}
			if s := c.Snapshot(); s.Requests != 1 || s.Rejected != tc.rejected {
				t.Errorf("counters %+v, want Requests 1, Rejected %d", s, tc.rejected)
			}
		})
	}
}

// TestGateBodyCapChunked covers a body without Content-Length: the cap is
// enforced on what is read.
func TestGateBodyCapChunked(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		status int
	}{
		{"under", strings.Repeat("a", 99), 200},
		{"at", strings.Repeat("a", 100), 200},
		{"over", strings.Repeat("a", 101), 413},
		{"far over", strings.Repeat("a", 1<<20), 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := New(Limits{MaxBody: 100}, nil, nil).Wrap(gateEchoHandler(nil))
			r := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(tc.body)))
			r.ContentLength = -1
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
		})
	}
}

func TestGateRateLimit(t *testing.T) {
	cases := []struct {
		name       string
		retryAfter bool
	}{
		{"without Retry-After", false},
		{"with Retry-After", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Counters
			// At 1e-6 requests per second the bucket does not refill
			// during the test; the clock is fixed anyway.
			g := New(Limits{Rate: 1e-6, Burst: 1, RetryAfter: tc.retryAfter}, &c, nil)
			now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			g.now = func() time.Time { return now }
			h := g.Wrap(gateEchoHandler(nil))

			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newGateRequest(t.Context(), "", gateQueryBody))
			if rec.Code != 200 {
				t.Fatalf("first request: status %d, want 200", rec.Code)
			}

			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, newGateRequest(t.Context(), "", gateQueryBody))
			res := rec.Result()
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("second request: status %d, want 429", res.StatusCode)
			}
			if msg := decodeGateError(t, res, rec.Body.Bytes()); msg != "Too many requests" {
				t.Errorf("message %q, want %q", msg, "Too many requests")
			}
			ra := res.Header.Get("Retry-After")
			switch {
			case !tc.retryAfter && ra != "":
				t.Errorf("Retry-After %q, want none", ra)
			case tc.retryAfter:
				// One token at 1e-6/s is 1e6 seconds away.
				if secs, err := strconv.Atoi(ra); err != nil || secs != 1_000_000 {
					t.Errorf("Retry-After %q, want 1000000", ra)
				}
			}
			if s := c.Snapshot(); s.Requests != 2 || s.Rejected != 1 {
				t.Errorf("counters %+v, want Requests 2, Rejected 1", s)
			}
		})
	}
}

func TestGateRetryAfterRoundsUp(t *testing.T) {
	cases := []struct {
		rate float64
		want int
	}{
		{2, 1},   // half a second, rounded up to 1
		{0.5, 2}, // two seconds
		{0.3, 4}, // 3.33 seconds
	}
	for _, tc := range cases {
		t.Run(strconv.FormatFloat(tc.rate, 'g', -1, 64), func(t *testing.T) {
			g := New(Limits{Rate: tc.rate, Burst: 1, RetryAfter: true}, nil, nil)
			now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			if !g.limiter.AllowN(now, 1) {
				t.Fatal("first token refused")
			}
			if got := g.retryAfter(now); got != tc.want {
				t.Errorf("retryAfter = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestGateInjectedFailure(t *testing.T) {
	var c Counters
	h := New(Limits{FailRate: 1, Seed: 7}, &c, nil).Wrap(gateEchoHandler(nil))
	seen := map[int]bool{}
	for range 30 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newGateRequest(t.Context(), "", gateQueryBody))
		res := rec.Result()
		switch res.StatusCode {
		case 500, 502, 503:
			seen[res.StatusCode] = true
		default:
			t.Fatalf("status %d, want 500, 502 or 503", res.StatusCode)
		}
		decodeGateError(t, res, rec.Body.Bytes())
	}
	if len(seen) != 3 {
		t.Errorf("statuses seen %v, want all of 500, 502, 503 in 30 draws", seen)
	}
	if s := c.Snapshot(); s.Requests != 30 || s.Rejected != 30 {
		t.Errorf("counters %+v, want Requests 30, Rejected 30", s)
	}
}

func TestGateDropConnection(t *testing.T) {
	var c Counters
	called := make(chan struct{}, 1)
	srv := httptest.NewServer(New(Limits{DropRate: 1, Seed: 1}, &c, nil).Wrap(gateEchoHandler(called)))
	defer srv.Close()

	res, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(gateQueryBody))
	if err == nil {
		res.Body.Close()
		t.Fatalf("got a response (status %d), want a connection error", res.StatusCode)
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		t.Fatalf("error %v (%T), want a *url.Error", err, err)
	}
	select {
	case <-called:
		t.Error("the request reached the handler")
	default:
	}
	if s := c.Snapshot(); s.Requests < 1 || s.Rejected != s.Requests {
		t.Errorf("counters %+v, want every request rejected", s)
	}
}

// gateFakeTimer replaces the gate's timer: the test sees the requested duration
// and decides when it fires.
type gateFakeTimer struct {
	created chan time.Duration
	fire    chan time.Time
	stopped chan struct{}
}

func installGateFakeTimer(g *Gate) *gateFakeTimer {
	ft := &gateFakeTimer{
		created: make(chan time.Duration, 1),
		fire:    make(chan time.Time),
		stopped: make(chan struct{}, 1),
	}
	g.newTimer = func(d time.Duration) (<-chan time.Time, func() bool) {
		ft.created <- d
		return ft.fire, func() bool { ft.stopped <- struct{}{}; return true }
	}
	return ft
}

func TestGateLatency(t *testing.T) {
	const latency = 250 * time.Millisecond
	cases := []struct {
		name   string
		cancel bool // cancel the request instead of letting the timer fire
	}{
		{"honoured", false},
		{"cancelled", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Counters
			g := New(Limits{Latency: latency}, &c, nil)
			ft := installGateFakeTimer(g)
			called := make(chan struct{}, 1)
			h := g.Wrap(gateEchoHandler(called))

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			rec := httptest.NewRecorder()
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(rec, newGateRequest(ctx, "", gateQueryBody))
			}()

			if d := <-ft.created; d != latency {
				t.Errorf("timer for %v, want %v", d, latency)
			}
			select {
			case <-called:
				t.Fatal("handler ran before the latency elapsed")
			default:
			}
			if tc.cancel {
				cancel()
				<-done
				<-ft.stopped
				select {
				case <-called:
					t.Error("handler ran for a cancelled request")
				default:
				}
				return
			}
			ft.fire <- time.Now()
			<-done
			<-called
			if rec.Code != 200 {
				t.Errorf("status %d, want 200", rec.Code)
			}
		})
	}
}

// TestGateLatencyRealTimer checks the default timer gives way to
// cancellation: an hour of latency ends as soon as the request is cancelled.
func TestGateLatencyRealTimer(t *testing.T) {
	h := New(Limits{Latency: time.Hour}, nil, nil).Wrap(gateEchoHandler(nil))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newGateRequest(ctx, "", gateQueryBody))
	if rec.Body.Len() != 0 {
		t.Errorf("a cancelled request got a body: %s", rec.Body)
	}
}

func TestGateSeededFaults(t *testing.T) {
	sequence := func(seed int64) []string {
		g := New(Limits{FailRate: 0.3, DropRate: 0.2, Seed: seed}, nil, nil)
		var out []string
		for range 200 {
			f, status := g.decide()
			out = append(out, strconv.Itoa(int(f))+"/"+strconv.Itoa(status))
		}
		return out
	}
	statuses := func(seed int64) []int {
		h := New(Limits{FailRate: 0.5, Seed: seed}, nil, nil).Wrap(gateEchoHandler(nil))
		var out []int
		for range 100 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newGateRequest(context.Background(), "", gateQueryBody))
			out = append(out, rec.Code)
		}
		return out
	}
	cases := []struct {
		name   string
		a, b   int64
		wantEq bool
	}{
		{"same seed", 42, 42, true},
		{"other seed", 42, 43, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := sequence(tc.a), sequence(tc.b)
			if eq := strings.Join(a, ",") == strings.Join(b, ","); eq != tc.wantEq {
				t.Errorf("decisions equal = %v, want %v", eq, tc.wantEq)
			}
			sa, sb := statuses(tc.a), statuses(tc.b)
			eq := len(sa) == len(sb)
			for i := range sa {
				eq = eq && sa[i] == sb[i]
			}
			if eq != tc.wantEq {
				t.Errorf("statuses equal = %v, want %v\n%v\n%v", eq, tc.wantEq, sa, sb)
			}
		})
	}
	// The draws are a fixed number per request, so the fault mix of the
	// sequence is plausible for the rates.
	var drops, fails int
	for _, d := range sequence(1) {
		switch d[0] {
		case '1':
			drops++
		case '2':
			fails++
		}
	}
	if drops == 0 || fails == 0 || drops+fails == 200 {
		t.Errorf("drops %d, fails %d of 200: want a mix", drops, fails)
	}
}

func TestGateConcurrent(t *testing.T) {
	var c Counters
	l := Limits{
		Token: gateToken, ReadToken: gateReadToken,
		Rate: 1e6, Burst: 1000, RetryAfter: true,
		MaxBody:  1 << 10,
		FailRate: 0.2, DropRate: 0.1, Seed: 3,
	}
	srv := httptest.NewServer(New(l, &c, nil).Wrap(gateEchoHandler(nil)))
	defer srv.Close()
	// A fresh connection per request: the transport never retries a
	// request on a new connection, so each request reaches the gate once.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	const workers, each = 8, 25
	var mu sync.Mutex
	var refused int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				token := []string{gateToken, gateReadToken, ""}[(w+i)%3]
				body := []string{gateQueryBody, gateMutationBody}[i%2]
				req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				res, err := client.Do(req)
				if err != nil {
					mu.Lock()
					refused++
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					mu.Lock()
					refused++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	s := c.Snapshot()
	if s.Requests != workers*each || s.Rejected != refused {
		t.Errorf("counters %+v, want Requests %d, Rejected %d", s, workers*each, refused)
	}
}

func TestRequestShapeOf(t *testing.T) {
	cases := []struct {
		name   string
		method string
		target string
		body   string
		want   bool
		ops    int
	}{
		{"query", "POST", "/", gateQueryBody, false, 1},
		{"anonymous mutation", "POST", "/", gateMutationBody, true, 1},
		{"named mutation", "POST", "/", `{"query":"mutation M { deletePost(where:{id:\"1\"}) { id } }"}`, true, 1},
		{"comment first", "POST", "/", `{"query":"# hi\nmutation { x }"}`, true, 1},
		{"pick the query", "POST", "/", `{"query":"query Q { a } mutation M { b }","operationName":"Q"}`, false, 1},
		{"pick the mutation", "POST", "/", `{"query":"query Q { a } mutation M { b }","operationName":"M"}`, true, 1},
		{"ambiguous", "POST", "/", `{"query":"query Q { a } mutation M { b }"}`, false, 1},
		{"not JSON", "POST", "/", `mutation { x }`, false, 1},
		{"syntax error", "POST", "/", `{"query":"mutation {"}`, false, 1},
		{"GET query", "GET", "/?query=" + url.QueryEscape("{ a }"), "", false, 1},
		{"GET mutation", "GET", "/?query=" + url.QueryEscape("mutation { a }"), "", true, 1},
		{"aliased mutations", "POST", "/", `{"query":"mutation { a: x b: x c: y }"}`, true, 3},
		{"fields through fragments", "POST", "/", `{"query":"query { a ...F ... on Query { c d } } fragment F on Query { b }"}`, false, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			got := requestShapeOf(r, []byte(tc.body))
			if got.Mutation != tc.want || got.Ops != tc.ops {
				t.Errorf("requestShapeOf = %+v, want mutation %v with %d operations", got, tc.want, tc.ops)
			}
		})
	}
}
