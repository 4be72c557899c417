package stagesync

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
)

// fieldHashes are the content hashes of one version of an entry in its
// destination-shaped canonical form (see canonEntry), keyed like it:
// "field" for a field's value in the default locale, "field@locale" for a
// localized field's value in another locale.
type fieldHashes map[string]uint64

// hashValue hashes a canonical value: the first 8 bytes of the SHA-256 of
// its JSON encoding (map keys sorted, numbers as read).
func hashValue(v any) uint64 {
	b, err := json.Marshal(v)
	if err != nil {
		// Canonical values come from JSON; this does not happen. Hash the
		// error text so that the entry is written rather than skipped.
		b = []byte("!" + err.Error())
	}
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// hashVersion hashes every key of a canonical version.
func hashVersion(v map[string]any) fieldHashes {
	h := make(fieldHashes, len(v))
	for k, x := range v {
		h[k] = hashValue(x)
	}
	return h
}

// hashNil is the hash of an absent value.
var hashNil = hashValue(nil)

// changedKeys returns, sorted, the keys whose desired value differs from
// the actual one: keys of want whose hash differs from have's (a key have
// lacks counts as null), and localized keys ("f@locale") that have holds
// but want does not, since a locale the source lacks is deleted.
func changedKeys(want, have fieldHashes) []string {
	var out []string
	for k, h := range want {
		hh, ok := have[k]
		if !ok {
			hh = hashNil
		}
		if h != hh {
			out = append(out, k)
		}
	}
	for k, h := range have {
		if _, ok := want[k]; ok || !isLocalizedKey(k) || h == hashNil {
			continue
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// staleLocales returns, sorted, the non-default locales in which have
// holds a value (not null) and want has no key at all: localizations the
// actual version has and the desired one lacks. (A locale of want whose
// values are all null exists; its values are changes, not a deletion.)
func staleLocales(want, have fieldHashes) []string {
	in := map[string]bool{}
	for k := range want {
		if _, l, ok := strings.Cut(k, "@"); ok {
			in[l] = true
		}
	}
	var out []string
	for k, h := range have {
		_, l, ok := strings.Cut(k, "@")
		if !ok || h == hashNil || in[l] || slices.Contains(out, l) {
			continue
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// isLocalizedKey reports whether k names a field in a non-default locale.
func isLocalizedKey(k string) bool {
	for i := range len(k) {
		if k[i] == '@' {
			return true
		}
	}
	return false
}
