package filestack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The calls a Policy can allow. A policy without calls allows every call.
const (
	CallRead    = "read"    // download from the CDN
	CallStat    = "stat"    // read metadata
	CallStore   = "store"   // store by URL or upload
	CallRemove  = "remove"  // delete
	CallWrite   = "write"   // overwrite
	CallConvert = "convert" // transformations
	CallPick    = "pick"    // the picker
)

// Policy is a Filestack security policy: what a signed request may do and
// until when. Its JSON form, base64url-encoded, is the policy parameter of
// a request.
type Policy struct {
	// Expiry is when the policy stops being valid, in Unix seconds.
	Expiry int64 `json:"expiry"`
	// Call lists the calls the policy allows (CallStore, CallRemove, ...);
	// empty allows all.
	Call []string `json:"call,omitempty"`
	// Handle limits the policy to one file.
	Handle string `json:"handle,omitempty"`
	// URL limits store-by-URL to URLs matching this regular expression.
	URL string `json:"url,omitempty"`
	// MaxSize and MinSize bound the size of a stored file, in bytes.
	MaxSize int64 `json:"maxSize,omitempty"`
	MinSize int64 `json:"minSize,omitempty"`
	// Path limits storage to paths matching this regular expression.
	Path string `json:"path,omitempty"`
	// Container limits storage to containers matching this regular
	// expression.
	Container string `json:"container,omitempty"`
}

// ErrBadSignature reports a policy whose signature does not match the app
// secret, or that cannot be decoded.
var ErrBadSignature = errors.New("filestack: policy signature does not match")

// Sign encodes p and signs it with the app secret: policy is the
// base64url-encoded JSON of p and signature is the hex-encoded
// HMAC-SHA256 of policy under secret. Both go in the query of a request as
// policy= and signature=.
func Sign(secret string, p Policy) (policy, signature string, err error) {
	if secret == "" {
		return "", "", errors.New("filestack: sign: empty app secret")
	}
	if p.Expiry <= 0 {
		return "", "", errors.New("filestack: sign: policy has no expiry")
	}
	js, err := json.Marshal(p)
	if err != nil {
		return "", "", fmt.Errorf("filestack: sign: %w", err)
	}
	policy = base64.URLEncoding.EncodeToString(js)
	return policy, signPolicy(secret, policy), nil
}

func signPolicy(secret, policy string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(policy))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks that signature signs policy under secret and decodes the
// policy. It accepts base64url with or without padding. It does not check
// what the policy allows; see Policy.Allows.
func Verify(secret, policy, signature string) (Policy, error) {
	var p Policy
	want := signPolicy(secret, policy)
	if secret == "" || !hmac.Equal([]byte(want), []byte(strings.ToLower(signature))) {
		return p, ErrBadSignature
	}
	js, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(policy, "="))
	if err != nil {
		return p, fmt.Errorf("%w: policy is not base64url: %v", ErrBadSignature, err)
	}
	if err := json.Unmarshal(js, &p); err != nil {
		return p, fmt.Errorf("%w: policy is not JSON: %v", ErrBadSignature, err)
	}
	return p, nil
}

// Allows reports, as a nil error, whether the policy allows call on the
// file handle (empty for calls that name no file, such as CallStore) at
// time now.
func (p Policy) Allows(call, handle string, now time.Time) error {
	if p.Expiry <= now.Unix() {
		return fmt.Errorf("filestack: policy expired at %s", time.Unix(p.Expiry, 0).UTC().Format(time.RFC3339))
	}
	if len(p.Call) > 0 && !slices.Contains(p.Call, call) {
		return fmt.Errorf("filestack: policy does not allow %q (allows %s)", call, strings.Join(p.Call, ", "))
	}
	if p.Handle != "" && handle != "" && p.Handle != handle {
		return fmt.Errorf("filestack: policy is for another file than %s", handle)
	}
	if p.Handle != "" && handle == "" {
		return fmt.Errorf("filestack: policy is limited to file %s and does not allow %q", p.Handle, call)
	}
	return nil
}
