package main

import (
	"context"
	"regexp"
	"strings"
)

// defaultTwitterHandle is the handle a hotel gets in master when delta has
// none for it, or one that is not a Twitter handle: Hotel.twitterHandle is
// required in master, so every hotel needs one (the tutorial's "required
// field gotcha").
const defaultTwitterHandle = "stagesynchotels"

// twitterHandleRE is what Twitter accepts as a handle: 1 to 15 letters,
// digits and underscores (lower-cased here).
var twitterHandleRE = regexp.MustCompile(`^[a-z0-9_]{1,15}$`)

// transformHotel changes a hotel read from delta into what master needs: a
// valid, normalized twitterHandle, required in master (see
// normalizeTwitterHandle). It runs on the draft and, for published hotels,
// on the published version.
func transformHotel(_ context.Context, h *Hotel) error {
	handle := normalizeTwitterHandle(h.TwitterHandle)
	h.TwitterHandle = &handle
	return nil
}

// normalizeTwitterHandle returns the handle editors meant by s: surrounding
// space, a profile URL (twitter.com, x.com, with or without scheme and
// www.), a leading "@", a trailing path, query or fragment are removed and
// the rest is lower-cased. When s is nil or empty, or what is left is not a
// valid handle (1 to 15 letters, digits and underscores), it returns
// defaultTwitterHandle.
func normalizeTwitterHandle(s *string) string {
	if s == nil {
		return defaultTwitterHandle
	}
	h := strings.ToLower(strings.TrimSpace(*s))
	for _, prefix := range []string{"https://", "http://"} {
		h = strings.TrimPrefix(h, prefix)
	}
	for _, prefix := range []string{"www.", "mobile."} {
		h = strings.TrimPrefix(h, prefix)
	}
	for _, host := range []string{"twitter.com/", "x.com/"} {
		h = strings.TrimPrefix(h, host)
	}
	h = strings.TrimPrefix(h, "@")
	if i := strings.IndexAny(h, "/?#"); i >= 0 {
		h = h[:i]
	}
	if !twitterHandleRE.MatchString(h) {
		return defaultTwitterHandle
	}
	return h
}
