//go:build race

package filestack_test

// largeUpload is the size of the streamed-upload test; the race detector
// makes 200 MB too slow.
const largeUpload = 64 << 20
