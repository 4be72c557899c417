// Package filestack is a client for the Filestack REST API as Hygraph's
// legacy asset system uses it: every content stage of a legacy project has
// its own Filestack application (its API key is the stage's
// assetConfig.apiKey), and copying an asset from one stage to another means
// storing the file into the destination application and writing the asset
// entry with the new handle.
//
// A Client covers the calls that copy needs:
//
//   - StoreURL asks Filestack to fetch a public URL and store the file
//     (POST /api/store/S3 with a url form field);
//   - Upload, UploadFunc and UploadFile send the bytes themselves as a
//     multipart fileUpload field, streamed through an io.Pipe so that a
//     file is never held whole in memory;
//   - Metadata reads a file's size, type, name and hashes;
//   - Delete removes a file;
//   - Download and DownloadURL stream a file from the CDN.
//
// Every call takes a context first. Transient failures (network errors,
// 429 and 5xx answers) are retried with capped exponential backoff, waiting
// at most as long as the context allows and honouring Retry-After; other
// 4xx answers are never retried. A streamed upload can only be retried when
// its body can be produced again: Upload retries when the reader is an
// io.Seeker, UploadFunc and UploadFile reopen the body for every attempt,
// and any other reader gets exactly one attempt. Note that store and upload
// are not idempotent on Filestack's side: a retry after a lost answer may
// leave an orphaned copy of the file in the application.
//
// Failures are *Error values: test for a missing file with
// errors.Is(err, ErrNotFound) and for a transient one with Temporary.
// Error messages never carry the API key, the policy or the signature.
//
// When the application has security enabled, give the client its app
// secret with WithSecret: each call is then sent with a short-lived policy
// limited to that call (and to the file's handle where there is one),
// signed as Sign describes.
//
// The filestacktest package emulates the API and the CDN in-process, for
// tests and examples that run with no network and no account.
package filestack
