package gcmssig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"operation":"update","data":{"__typename":"Hotel","id":"x","name":"<b>&\u2028"}}`)
	good := Sign("s3cret", body, "master", now)
	// The signing input, written out by hand as JSON.stringify makes it.
	input := fmt.Sprintf(`{"Body":%q,"EnvironmentName":"master","TimeStamp":%d}`, string(body), now.UnixMilli())
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(input))
	byHand := fmt.Sprintf("sign=%s, env=master, t=%d", base64.StdEncoding.EncodeToString(mac.Sum(nil)), now.UnixMilli())
	seconds := func() string {
		ts := now.Add(-time.Minute).Unix()
		return fmt.Sprintf("sign=%s, env=master, t=%d", signature("s3cret", body, "master", ts), ts)
	}()
	tests := []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"signed", good, body, now, nil},
		{"by hand", byHand, body, now, nil},
		{"seconds", seconds, body, now, nil},
		{"missing", "", body, now, ErrMissing},
		{"malformed", "sign=abc", body, now, ErrMalformed},
		{"other secret", Sign("other", body, "master", now), body, now, ErrMismatch},
		{"other body", good, []byte(`{}`), now, ErrMismatch},
		{"other env", Sign("s3cret", body, "dev", now)[:0] + good[:len(good)-len(fmt.Sprint(now.UnixMilli()))-len("master, t=")] + "dev, t=" + fmt.Sprint(now.UnixMilli()), body, now, ErrMismatch},
		{"stale", good, body, now.Add(10 * time.Minute), ErrStale},
		{"future", good, body, now.Add(-10 * time.Minute), ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Verify("s3cret", tt.header, tt.body, tt.at, 5*time.Minute)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			if err == nil && env != "master" {
				t.Errorf("env %q, want master", env)
			}
		})
	}
}
