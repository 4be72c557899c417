package importapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Client talks to a stage's legacy import/export API: POST <endpoint>/import
// and POST <endpoint>/export, with a system token as a bearer token. The
// token is never logged, printed or put in an error.
type Client struct {
	endpoint string
	token    string
	hc       *http.Client
	// MaxRequestBytes caps the body of an import request (default
	// DefaultMaxFileSize, the legacy soft cap of 1 MB); values are sent in
	// as many requests as that takes. A single value larger than the cap is
	// sent alone.
	MaxRequestBytes int
}

// NewClient returns a client of the legacy API of the stage at endpoint
// (its content-API URL). hc nil means http.DefaultClient.
func NewClient(endpoint, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{endpoint: strings.TrimSuffix(endpoint, "/"), token: token, hc: hc, MaxRequestBytes: DefaultMaxFileSize}
}

// String names the client by its endpoint only.
func (c *Client) String() string { return "legacy API of " + c.endpoint }

// TokenFromEnv reads a system token from the environment variable name;
// the error names the variable, never a value.
func TokenFromEnv(name string) (string, error) {
	if name == "" {
		return "", errors.New("importapi: no environment variable named for the token")
	}
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return "", fmt.Errorf("importapi: the environment variable %s holding the system token is empty or unset", name)
	}
	return v, nil
}

// APIError is a non-200 answer of the legacy API.
type APIError struct {
	URL     string
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("importapi: %s: HTTP %d: %s", e.URL, e.Status, e.Message)
}

func (c *Client) post(ctx context.Context, path string, body []byte, out any) error {
	url := c.endpoint + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("importapi: %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("importapi: %s: %w", url, redact(err, c.token))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("importapi: %s: reading the answer: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(b))
		var e struct{ Errors []struct{ Message string } }
		if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
			msg = e.Errors[0].Message
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return &APIError{URL: url, Status: resp.StatusCode, Message: redactString(msg, c.token)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("importapi: %s: the answer is not what the legacy API sends: %w", url, err)
	}
	return nil
}

func redactString(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[REDACTED]")
}

func redact(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(redactString(err.Error(), token))
}

// Cursor is the position of a legacy export.
type Cursor struct {
	Table int `json:"table"`
	Row   int `json:"row"`
	Field int `json:"field"`
	Array int `json:"array"`
}

func (c Cursor) done() bool { return c == Cursor{-1, -1, -1, -1} }

// Export reads every value of type vt the stage's /export gives, chunk by
// chunk, repeating with the returned cursor until its four values are -1.
func (c *Client) Export(ctx context.Context, vt ValueType) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		var cur Cursor
		for {
			body, _ := json.Marshal(map[string]any{"fileType": vt, "cursor": cur})
			var out struct {
				Out struct {
					JSONElements []json.RawMessage `json:"jsonElements"`
				} `json:"out"`
				Cursor *Cursor `json:"cursor"`
				IsFull bool    `json:"isFull"`
			}
			if err := c.post(ctx, "/export", body, &out); err != nil {
				yield(nil, err)
				return
			}
			for _, e := range out.Out.JSONElements {
				if !yield(e, nil) {
					return
				}
			}
			if out.Cursor == nil {
				yield(nil, fmt.Errorf("importapi: %s/export answered without a cursor", c.endpoint))
				return
			}
			if out.Cursor.done() {
				return
			}
			if *out.Cursor == cur && len(out.Out.JSONElements) == 0 {
				yield(nil, fmt.Errorf("importapi: %s/export does not move on from cursor %+v", c.endpoint, cur))
				return
			}
			cur = *out.Cursor
		}
	}
}

// Failure is a value the stage refused.
type Failure struct {
	Value   Value // where it came from; Raw is nil
	Message string
}

func (f Failure) Error() string {
	return (&InputError{File: f.Value.File, Line: f.Value.Line, Index: f.Value.Index, Err: errors.New(f.Message)}).Error()
}

// ImportResult is what an import sent.
type ImportResult struct {
	Requests int
	Sent     int
	// Skipped counts the list values and relations left out because the
	// stage holds them already (or the import sent them before), and the
	// values of stages other than DRAFT, which the legacy API does not know.
	Skipped  int
	Failures []Failure
}

// Import sends values of type vt to the stage's /import, as few requests as
// MaxRequestBytes allows, and collects the failures the stage answers with
// ([{index, message}]) by the value they concern. It does not de-duplicate;
// see ImportSnapshot. A request that fails as a whole stops the import: it
// is not retried, since lists and relations are not idempotent.
func (c *Client) Import(ctx context.Context, vt ValueType, values iter.Seq2[Value, error]) (ImportResult, error) {
	var res ImportResult
	max := c.MaxRequestBytes
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	head := []byte(`{"valueType":"` + string(vt) + `","values":[`)
	var body bytes.Buffer
	var where []Value
	flush := func() error {
		if len(where) == 0 {
			return nil
		}
		body.WriteString("]}")
		var failures []struct {
			Index   int    `json:"index"`
			Message string `json:"message"`
		}
		res.Requests++
		if err := c.post(ctx, "/import", body.Bytes(), &failures); err != nil {
			return fmt.Errorf("importing %d %s from %s: %w", len(where), vt, where[0].File, err)
		}
		for _, f := range failures {
			if f.Index < 0 || f.Index >= len(where) {
				return fmt.Errorf("importapi: %s/import reported a failure of value %d of %d: %s", c.endpoint, f.Index, len(where), f.Message)
			}
			res.Failures = append(res.Failures, Failure{Value: where[f.Index], Message: f.Message})
		}
		res.Sent += len(where)
		body.Reset()
		where = where[:0]
		return nil
	}
	for v, err := range values {
		if err != nil {
			return res, err
		}
		if len(where) > 0 && body.Len()+1+len(v.Raw)+2 > max {
			if err := flush(); err != nil {
				return res, err
			}
		}
		if len(where) == 0 {
			body.Write(head)
		} else {
			body.WriteByte(',')
		}
		body.Write(v.Raw)
		v.Raw = nil
		where = append(where, v)
	}
	return res, flush()
}

// ImportSnapshot sends the DRAFT content of an NDF directory (a snapshot
// or a legacy export) through the stage's /import: nodes, then lists,
// then relations. Because the legacy import appends lists and relations
// whatever the stage holds, it first reads the stage's own lists and
// relations through /export and leaves out every list value and relation
// the stage holds already or that this import sent before: running it
// twice links nothing twice. A snapshot's one-sided relation pairs (with
// "_position") are sent as legacy pairs, once per relation; the legacy
// import keeps no order on the other side. Values of other stages
// (PUBLISHED) are left out: the legacy API knows one stage (CheckLegacy
// finds the entries whose PUBLISHED version differs). Check the
// directory first (see Check): ImportSnapshot stops at the first file that
// does not parse, possibly after earlier files were sent.
func (c *Client) ImportSnapshot(ctx context.Context, dir string) (ImportResult, error) {
	var total ImportResult
	add := func(r ImportResult) {
		total.Requests += r.Requests
		total.Sent += r.Sent
		total.Skipped += r.Skipped
		total.Failures = append(total.Failures, r.Failures...)
	}
	for _, vt := range ValueTypes {
		// The list values and relations seen (the stage's, then those
		// sent), on disk: they grow with the stage and the snapshot.
		var seen *diskSet
		if vt != Nodes {
			var err error
			if seen, err = newDiskSet(); err != nil {
				return total, err
			}
			for raw, err := range c.Export(ctx, vt) {
				if err != nil {
					seen.close()
					return total, err
				}
				if k, _, ok := dedupeKey(vt, raw); ok {
					if _, err := seen.add(k); err != nil {
						seen.close()
						return total, err
					}
				}
			}
		}
		skipped := 0
		values := func(yield func(Value, error) bool) {
			for v, err := range ReadDir(dir, vt) {
				if err != nil {
					yield(v, err)
					return
				}
				k, raw, ok := dedupeKey(vt, v.Raw)
				if !ok { // another stage, or not parseable: the stage reports the latter
					if raw == nil {
						skipped++
						continue
					}
				} else if seen != nil {
					fresh, err := seen.add(k)
					if err != nil {
						yield(v, err)
						return
					}
					if !fresh {
						skipped++
						continue
					}
				}
				v.Raw = raw
				if !yield(v, nil) {
					return
				}
			}
		}
		r, err := c.Import(ctx, vt, values)
		if seen != nil {
			seen.close()
		}
		r.Skipped += skipped
		add(r)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// dedupeKey returns the identity of a list value or relation (two
// relation pairs of the same relation, whichever side comes first, have
// the same key) and the raw value to send: a one-sided relation pair as a
// legacy pair. raw is nil for a value of a stage other than DRAFT; ok is
// false when the value does not parse (it is sent as is).
func dedupeKey(vt ValueType, raw json.RawMessage) (key string, send json.RawMessage, ok bool) {
	switch vt {
	case Relations:
		r, err := ParseRelation(raw)
		if err != nil {
			return "", raw, false
		}
		if r.Stage() != StageDraft {
			return "", nil, false
		}
		sides := []string{
			r[0].TypeName + "\x00" + r[0].ID + "\x00" + r[0].FieldName,
			r[1].TypeName + "\x00" + r[1].ID + "\x00" + r[1].FieldName,
		}
		slices.Sort(sides)
		if r.Directed() {
			r[0].Position, r[0].Stage = nil, ""
			raw, _ = json.Marshal(r)
		}
		return sides[0] + "\x01" + sides[1], raw, true
	default:
		n, err := ParseNode(raw)
		if err != nil {
			return "", raw, false
		}
		if n.Stage != StageDraft {
			return "", nil, false
		}
		b, _ := json.Marshal(n.Fields)
		return n.TypeName + "\x00" + n.ID + "\x00" + n.Locale + "\x00" + string(b), raw, true
	}
}

// ExportDir writes what the stage's /export gives for each value type
// into NDF files in dir (dir/<valueType>/000001.json, ...), cut at
// maxFile bytes (0: DefaultMaxFileSize), streaming: one chunk in memory at
// a time. It returns the files written.
func (c *Client) ExportDir(ctx context.Context, dir string, maxFile int64, types ...ValueType) ([]FileInfo, error) {
	if len(types) == 0 {
		types = ValueTypes
	}
	var files []FileInfo
	for _, vt := range types {
		w := NewWriter(dir, vt, maxFile)
		for raw, err := range c.Export(ctx, vt) {
			if err != nil {
				w.Close()
				return files, err
			}
			if err := w.WriteRaw(raw); err != nil {
				return files, err
			}
		}
		if err := w.Close(); err != nil {
			return files, err
		}
		files = append(files, w.Files()...)
	}
	return files, nil
}
