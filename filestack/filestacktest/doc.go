// Package filestacktest emulates Filestack in-process, in the manner of
// net/http/httptest: the API and the CDN of any number of applications
// served from one local port, so that tests and examples of asset copying
// run with no network and no account.
//
// NewServer starts an emulator for a test and closes it when the test ends:
//
//	fs := filestacktest.NewServer(t)
//	src := fs.Bucket("SRC")           // one bucket per API key
//	f := src.Put("a.png", "image/png", png)
//	c := fs.Client("DST")             // a *filestack.Client for the DST bucket
//	file, err := c.StoreURL(ctx, f.URL, filestack.StoreOptions{})
//
// The API is served under APIURL()+"/api/..." and the CDN at
// CDNURL()+"/<handle>"; pass them to filestack.WithAPIURL and
// filestack.WithCDNURL, or let Client do it.
//
// # Behaviour
//
//   - POST /api/store/<location>?key=... stores by URL (form field url,
//     fetched with the server's own HTTP client, so often from this or
//     another emulator's CDN), by multipart upload (field fileUpload) or
//     by raw body. The filename, mimetype, path and container parameters
//     are honoured; the answer is Filestack's {url, size, type, filename,
//     key[, container]}. An unknown key is refused with 403.
//   - GET /api/file/<handle>/metadata answers the fields asked for with
//     field=true parameters (md5 and sha256 included), or the default set
//     (size, mimetype, filename, uploaded, writeable, container, path,
//     location, key).
//   - DELETE /api/file/<handle>?key=... deletes, when key owns the file.
//   - GET /cdn/<handle> (any path ending in the handle, so transformation
//     URLs serve the original) and GET /api/file/<handle> serve the bytes
//     with Content-Type, Content-Length and range support. Unknown handles
//     are 404.
//
// A bucket with a secret (Bucket.SetSecret) requires every store, upload,
// metadata and delete call to carry a policy and signature that allow it,
// as filestack.Sign makes them; the CDN stays public.
//
// Handles look like Filestack's: 20 random letters and digits. Files of up
// to 4 MiB stay in memory, larger ones go to a temporary directory (see
// WithMemoryThreshold and WithDir), so that a test can upload hundreds of
// megabytes without holding them.
//
// # Inspection and faults
//
// Files lists a bucket's files with their sizes and hashes; Counters says
// how many stores, uploads, bytes, downloads, deletes and failures the
// server has seen, so that a test can assert that a second run uploads
// nothing. WithLatency slows every request; WithFailRate and WithFault
// inject failures, decided from the call (operation, key, file name,
// attempt number) and a seed rather than from arrival order, so that
// concurrent runs fail the same calls every time:
//
//	fs := filestacktest.NewServer(t, filestacktest.WithFault(func(c filestacktest.Call) int {
//		switch {
//		case c.Op != filestacktest.OpUpload:
//			return 0
//		case c.Filename == "broken.png":
//			return http.StatusInternalServerError // fails every time
//		case c.N == 1 && filestacktest.Chance(1, c.Filename) < 0.2:
//			return http.StatusServiceUnavailable // a fifth fail once
//		}
//		return 0
//	}))
//
// Not emulated: transformations (the original is served), the picker,
// workflows, overwrite, and the maxSize, minSize, url, path and container
// limits of a policy.
package filestacktest
