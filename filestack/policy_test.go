package filestack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/filestack/filestacktest"
)

// TestSign checks Sign against a policy and signature computed
// independently (Python's base64.urlsafe_b64encode and hmac).
func TestSign(t *testing.T) {
	const secret = "Z3IYZSH2UJA7VN3QYFVSVCF7PI"
	p := filestack.Policy{Expiry: 1508141504, Call: []string{"read", "stat"}, Handle: "KW9EJhYtS6y48Whm2S6D"}
	policy, sig, err := filestack.Sign(secret, p)
	if err != nil {
		t.Fatal(err)
	}
	const (
		wantPolicy = "eyJleHBpcnkiOjE1MDgxNDE1MDQsImNhbGwiOlsicmVhZCIsInN0YXQiXSwiaGFuZGxlIjoiS1c5RUpoWXRTNnk0OFdobTJTNkQifQ=="
		wantSig    = "d1f11621527d70abac95f2fc19bee84c6cee83ad65a9b967d75851a02e40ea12"
	)
	if policy != wantPolicy || sig != wantSig {
		t.Errorf("Sign = %s, %s\nwant %s, %s", policy, sig, wantPolicy, wantSig)
	}

	for name, tc := range map[string]struct {
		secret string
		p      filestack.Policy
	}{
		"empty secret": {"", p},
		"no expiry":    {secret, filestack.Policy{Call: []string{"read"}}},
	} {
		if _, _, err := filestack.Sign(tc.secret, tc.p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestVerify(t *testing.T) {
	const secret = "s3cret"
	p := filestack.Policy{Expiry: 2000000000, Call: []string{filestack.CallRemove}, Handle: "h"}
	policy, sig, err := filestack.Sign(secret, p)
	if err != nil {
		t.Fatal(err)
	}
	unpadded := strings.TrimRight(policy, "=")
	other, _, err := filestack.Sign(secret, filestack.Policy{Expiry: 2000000000})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		secret, policy, sig string
		wantErr             bool
	}{
		{"valid", secret, policy, sig, false},
		{"upper-case signature", secret, policy, strings.ToUpper(sig), false},
		{"unpadded policy signed as sent", secret, unpadded, sign(secret, unpadded), false},
		{"wrong secret", "other", policy, sig, true},
		{"empty secret", "", policy, sig, true},
		{"another policy", secret, other, sig, true},
		{"not base64", secret, "%%%", sign(secret, "%%%"), true},
		{"not JSON", secret, "bm90IGpzb24=", sign(secret, "bm90IGpzb24="), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filestack.Verify(tt.secret, tt.policy, tt.sig)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, filestack.ErrBadSignature) {
				t.Errorf("error %v is not ErrBadSignature", err)
			}
			if err == nil && (got.Expiry != p.Expiry || got.Handle != "h" || len(got.Call) != 1) {
				t.Errorf("decoded %+v", got)
			}
		})
	}
}

// sign signs a policy string as given, for policies Sign would not make
// (TestSign checks the same HMAC against independent values).
func sign(secret, policy string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(policy))
	return hex.EncodeToString(m.Sum(nil))
}

func TestPolicyAllows(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	later := now.Add(time.Hour).Unix()
	tests := []struct {
		name         string
		p            filestack.Policy
		call, handle string
		ok           bool
	}{
		{"no calls allows all", filestack.Policy{Expiry: later}, filestack.CallStore, "", true},
		{"listed call", filestack.Policy{Expiry: later, Call: []string{"read", "store"}}, "store", "", true},
		{"unlisted call", filestack.Policy{Expiry: later, Call: []string{"read"}}, "remove", "h", false},
		{"expired", filestack.Policy{Expiry: now.Unix()}, "read", "h", false},
		{"same handle", filestack.Policy{Expiry: later, Handle: "h"}, "remove", "h", true},
		{"other handle", filestack.Policy{Expiry: later, Handle: "h"}, "remove", "g", false},
		{"handle policy for a store", filestack.Policy{Expiry: later, Handle: "h"}, "store", "", false},
	}
	for _, tt := range tests {
		if err := tt.p.Allows(tt.call, tt.handle, now); (err == nil) != tt.ok {
			t.Errorf("%s: Allows = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestSecurity runs every call against a bucket with a secret, signed
// correctly, wrongly and not at all.
func TestSecurity(t *testing.T) {
	ctx := context.Background()
	fs := filestacktest.NewServer(t)
	fs.Bucket("K").SetSecret("app-secret")
	f := fs.Bucket("K").Put("a.png", "image/png", []byte("png"))
	clients := map[string]*filestack.Client{
		"unsigned":     filestack.New("K", filestack.WithAPIURL(fs.APIURL()), filestack.WithCDNURL(fs.CDNURL()), filestack.WithRetry(0, 0, 0)),
		"wrong secret": fs.Client("K", filestack.WithSecret("guess")),
	}
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			_, err := c.StoreURL(ctx, f.URL, filestack.StoreOptions{})
			checkForbidden(t, "StoreURL", err)
			_, err = c.Upload(ctx, strings.NewReader("x"), filestack.StoreOptions{})
			checkForbidden(t, "Upload", err)
			_, err = c.Metadata(ctx, f.Handle)
			checkForbidden(t, "Metadata", err)
			checkForbidden(t, "Delete", c.Delete(ctx, f.Handle))
			body, err := c.Download(ctx, f.Handle) // the CDN is public
			if err != nil {
				t.Fatalf("Download: %v", err)
			}
			body.Close()
		})
	}

	c := fs.Client("K") // signs with the bucket's secret
	g, err := c.StoreURL(ctx, f.URL, filestack.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx, strings.NewReader("x"), filestack.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Metadata(ctx, g.Handle); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, g.Handle); err != nil {
		t.Fatal(err)
	}
	if n := len(fs.Files("K")); n != 2 {
		t.Errorf("%d files, want 2", n)
	}
}

// TestSecurityPolicyLimits sends hand-made policies that the signature
// accepts but that do not allow the call.
func TestSecurityPolicyLimits(t *testing.T) {
	const secret = "app-secret"
	fs := filestacktest.NewServer(t)
	fs.Bucket("K").SetSecret(secret)
	f := fs.Bucket("K").Put("a.png", "image/png", []byte("png"))
	future := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name   string
		p      filestack.Policy
		status int
	}{
		{"expired", filestack.Policy{Expiry: time.Now().Add(-time.Minute).Unix(), Call: []string{"remove"}}, http.StatusForbidden},
		{"read only", filestack.Policy{Expiry: future, Call: []string{"read", "stat"}}, http.StatusForbidden},
		{"another file", filestack.Policy{Expiry: future, Call: []string{"remove"}, Handle: "AAAAAAAAAAAAAAAAAAAA"}, http.StatusForbidden},
		{"remove this file", filestack.Policy{Expiry: future, Call: []string{"remove"}, Handle: f.Handle}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy, sig, err := filestack.Sign(secret, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{"key": {"K"}, "policy": {policy}, "signature": {sig}}
			req, _ := http.NewRequest(http.MethodDelete, fs.APIURL()+"/api/file/"+f.Handle+"?"+q.Encode(), nil)
			resp, err := fs.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

func checkForbidden(t *testing.T, call string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want 403", call)
		return
	}
	if fe := asError(t, err); fe.Status != http.StatusForbidden || fe.Temporary() {
		t.Errorf("%s: %v, want a permanent 403", call, err)
	}
}
