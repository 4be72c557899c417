//go:build !race

package filestack_test

// largeUpload is the size of the streamed-upload test.
const largeUpload = 200 << 20
