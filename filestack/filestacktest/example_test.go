package filestacktest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/filestack/filestacktest"
)

// Seed a source application, copy its files into a destination whose first
// upload of each file fails once, and check what happened.
func Example() {
	fs := filestacktest.New(filestacktest.WithFault(func(c filestacktest.Call) int {
		if c.Op == filestacktest.OpStore && c.N == 1 {
			return http.StatusServiceUnavailable
		}
		return 0
	}))
	defer fs.Close()
	ctx := context.Background()

	src := fs.Bucket("SOURCE")
	src.Put("a.png", "image/png", []byte("not really a png"))
	src.Put("b.txt", "", []byte("hello"))

	dst := fs.Client("DEST") // retries quickly
	for _, f := range src.Files() {
		if _, err := dst.StoreURL(ctx, f.URL, filestack.StoreOptions{Filename: f.Filename}); err != nil {
			fmt.Println(err)
		}
	}
	for _, f := range fs.Files("DEST") {
		fmt.Println(f.Filename, f.MimeType, f.Size)
	}
	c := fs.Counters()
	fmt.Println("stores:", c.Stores, "bytes:", c.BytesUploaded, "faults:", c.Faults)

	// An upload with a key that has no bucket is refused.
	_, err := filestack.New("UNKNOWN", filestack.WithAPIURL(fs.APIURL())).
		Upload(ctx, strings.NewReader("x"), filestack.StoreOptions{})
	fmt.Println(err)
	// Output:
	// a.png image/png 16
	// b.txt text/plain 5
	// stores: 2 bytes: 21 faults: 2
	// filestack: upload: HTTP 403 Forbidden: invalid application key
}
