// Package gcmssig signs and verifies Hygraph's webhook signature, the
// gcms-signature header: "sign=<signature>, env=<environment>, t=<timestamp>".
//
// The signature is base64(HMAC-SHA256(secret, input)), where input is the
// JSON text JavaScript's JSON.stringify makes of
// {"Body": <raw request body>, "EnvironmentName": <env>, "TimeStamp": <t>}
// (as Hygraph's own @hygraph/utils verifyWebhookSignature computes it). The
// timestamp is Unix time; Hygraph's unit is not documented, so Verify reads
// values past 1e12 as milliseconds and smaller ones as seconds.
package gcmssig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the name of the signature header.
const Header = "gcms-signature"

// Errors of Verify, for errors.Is.
var (
	ErrMissing   = errors.New("gcms-signature: missing")
	ErrMalformed = errors.New("gcms-signature: malformed")
	ErrMismatch  = errors.New("gcms-signature: signature does not match")
	ErrStale     = errors.New("gcms-signature: timestamp outside the accepted window")
)

// Sign returns the header value for body sent from environment env at t
// (written in milliseconds).
func Sign(secret string, body []byte, env string, t time.Time) string {
	ts := t.UnixMilli()
	return fmt.Sprintf("sign=%s, env=%s, t=%d", signature(secret, body, env, ts), env, ts)
}

// Verify checks header against body: the signature, and that its timestamp
// lies within maxAge of now (either way; 0 skips the check). It returns
// the environment named in the header.
func Verify(secret, header string, body []byte, now time.Time, maxAge time.Duration) (env string, err error) {
	if strings.TrimSpace(header) == "" {
		return "", ErrMissing
	}
	var sign, t string
	found := map[string]bool{}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", ErrMalformed
		}
		switch k {
		case "sign":
			// base64 may end in '=': Cut splits at the first one.
			sign = v
		case "env":
			env = v
		case "t":
			t = v
		default:
			continue
		}
		found[k] = true
	}
	if !found["sign"] || !found["t"] || !found["env"] {
		return "", ErrMalformed
	}
	ts, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return "", ErrMalformed
	}
	want := signature(secret, body, env, ts)
	if !hmac.Equal([]byte(want), []byte(sign)) {
		return "", ErrMismatch
	}
	if maxAge > 0 {
		at := time.Unix(ts, 0)
		if ts > 1e12 {
			at = time.UnixMilli(ts)
		}
		if d := now.Sub(at); d > maxAge || d < -maxAge {
			return "", fmt.Errorf("%w: signed at %s, %s from now", ErrStale, at.UTC().Format(time.RFC3339), d.Round(time.Second))
		}
	}
	return env, nil
}

func signature(secret string, body []byte, env string, ts int64) string {
	var b strings.Builder
	b.WriteString(`{"Body":`)
	jsString(&b, string(body))
	b.WriteString(`,"EnvironmentName":`)
	jsString(&b, env)
	b.WriteString(`,"TimeStamp":`)
	b.WriteString(strconv.FormatInt(ts, 10))
	b.WriteString("}")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// jsString writes s as JSON.stringify quotes a string: only '"', '\\' and
// control characters are escaped (unlike encoding/json, which escapes
// HTML characters and U+2028/U+2029 too).
func jsString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
