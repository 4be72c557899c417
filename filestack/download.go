package filestack

import (
	"context"
	"io"
)

// Download streams the file with the handle from the CDN. The caller must
// close the returned body; reading it fails once ctx is done. Failures
// before the first byte are retried when transient; a missing file is
// ErrNotFound.
func (c *Client) Download(ctx context.Context, handle string) (io.ReadCloser, error) {
	if err := checkHandle("download", handle); err != nil {
		return nil, err
	}
	return c.download(ctx, c.CDNURL(handle), handle)
}

// DownloadURL is Download for a full file URL, such as the url of a Hygraph
// asset or a CDN URL with transformations. Errors name the URL's last path
// segment as the handle.
func (c *Client) DownloadURL(ctx context.Context, u string) (io.ReadCloser, error) {
	return c.download(ctx, u, HandleFromURL(u))
}

func (c *Client) download(ctx context.Context, u, handle string) (io.ReadCloser, error) {
	resp, release, err := c.send(ctx, "download", handle, true, getRequest(u))
	if err != nil {
		return nil, err
	}
	release()
	return resp.Body, nil
}
