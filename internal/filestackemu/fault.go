package filestackemu

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
)

// Op names a call of the API or the CDN.
type Op string

// The calls the emulator serves.
const (
	OpStore    Op = "store"    // store by URL
	OpUpload   Op = "upload"   // multipart or raw upload
	OpMetadata Op = "metadata" // GET /api/file/<handle>/metadata
	OpDelete   Op = "delete"   // DELETE /api/file/<handle>
	OpDownload Op = "download" // GET /cdn/<handle> or /api/file/<handle>
)

// Call is what a fault hook is told about a call.
type Call struct {
	// Op is the call.
	Op Op
	// APIKey is the application the call concerns: the key parameter of a
	// store or upload, the owner of the file otherwise.
	APIKey string
	// Filename is the name the file is being stored under (store, upload)
	// or has (other calls).
	Filename string
	// Handle is the file's handle; empty for store and upload.
	Handle string
	// URL is the source URL of a store by URL.
	URL string
	// N counts the calls so far with the same Op, APIKey and Filename (for
	// store and upload) or Handle (other calls), this one included: 1 for
	// a first attempt, 2 for its first retry, and so on.
	N int
	// Request is the HTTP request. Its body must not be read.
	Request *http.Request
}

// Chance returns a number in [0, 1) determined by seed and key alone, for
// fault hooks that must pick the same calls on every run:
//
//	if c.N == 1 && filestacktest.Chance(seed, c.Filename) < 0.2 {
//		return http.StatusServiceUnavailable // a fifth of the files fail once
//	}
func Chance(seed uint64, key string) float64 {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(key))
	sum := h.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}
