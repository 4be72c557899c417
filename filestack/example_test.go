package filestack_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/stagesync/stagesync/filestack"
	"github.com/stagesync/stagesync/filestack/filestacktest"
)

// Copy an asset's file from one stage's Filestack application to another's:
// store it into the destination by its source URL, then download the copy.
func Example() {
	fs := filestacktest.New() // an emulated Filestack, API and CDN
	defer fs.Close()
	ctx := context.Background()

	// The source stage's application already holds the file.
	src := fs.Bucket("SOURCE_KEY").Put("hello.txt", "text/plain", []byte("Hello, Filestack!"))

	// A client for the destination stage's application. Against the real
	// service: filestack.New(apiKey).
	dst := filestack.New("DEST_KEY",
		filestack.WithAPIURL(fs.APIURL()),
		filestack.WithCDNURL(fs.CDNURL()),
	)
	fs.Bucket("DEST_KEY")

	f, err := dst.StoreURL(ctx, src.URL, filestack.StoreOptions{Filename: src.Filename})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Filename, f.Type, f.Size, "bytes; new handle:", f.Handle != src.Handle)

	body, err := dst.Download(ctx, f.Handle)
	if err != nil {
		log.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// hello.txt text/plain 17 bytes; new handle: true
	// Hello, Filestack!
}

// Upload streams a reader; with a secret, each call is signed.
func ExampleClient_Upload() {
	fs := filestacktest.New()
	defer fs.Close()
	fs.Bucket("KEY").SetSecret("app-secret")

	c := filestack.New("KEY",
		filestack.WithAPIURL(fs.APIURL()),
		filestack.WithCDNURL(fs.CDNURL()),
		filestack.WithSecret("app-secret"),
	)
	f, err := c.Upload(context.Background(), strings.NewReader("a,b\n1,2\n"), filestack.StoreOptions{
		Filename: "table.csv",
		MimeType: "text/csv",
	})
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.Metadata(context.Background(), f.Handle)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Filename, m.MimeType, m.Size, m.SHA256[:12])
	// Output:
	// table.csv text/csv 8 492d5ea49605
}

func ExampleSign() {
	policy, signature, err := filestack.Sign("app-secret", filestack.Policy{
		Expiry: 1700000000,
		Call:   []string{filestack.CallRemove},
		Handle: "KW9EJhYtS6y48Whm2S6D",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(policy)
	fmt.Println(len(signature))
	// Output:
	// eyJleHBpcnkiOjE3MDAwMDAwMDAsImNhbGwiOlsicmVtb3ZlIl0sImhhbmRsZSI6IktXOUVKaFl0UzZ5NDhXaG0yUzZEIn0=
	// 64
}
