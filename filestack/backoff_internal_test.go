package filestack

import (
	"net/http"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	c := New("K", WithRetry(10, 100*time.Millisecond, time.Second))
	for n := range 40 {
		want := min(100*time.Millisecond<<min(n, 30), time.Second)
		if n >= 30 {
			want = time.Second
		}
		for range 20 {
			if d := c.backoff(n, 0); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if d := c.backoff(0, 30*time.Second); d != 30*time.Second {
		t.Errorf("Retry-After 30s: waited %v", d)
	}
	if d := c.backoff(0, time.Hour); d != time.Minute {
		t.Errorf("Retry-After 1h: waited %v, want the 1m cap", d)
	}
	if d := New("K", WithRetry(1, 0, 0)).backoff(3, 0); d != 0 {
		t.Errorf("zero waits: waited %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("https://www.filestackapi.com/api/file/H?key=K&policy=P&signature=S&x=1")
	want := "https://www.filestackapi.com/api/file/H?key=REDACTED&policy=REDACTED&signature=REDACTED&x=1"
	if got != want {
		t.Errorf("redactURL = %q, want %q", got, want)
	}
}
