package outbound

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HTTP limits of HTTPClient.
const (
	// HTTPTimeout bounds a whole request, redirects and body included.
	HTTPTimeout = 15 * time.Second
	// MaxRedirects is how many redirects a request follows.
	MaxRedirects = 3
	// DefaultMaxBody caps a response body when HTTPClient is given 0:
	// OCSP responses, CRLs and AIA certificates are far smaller.
	DefaultMaxBody = 1 << 20
)

// ErrTooLarge is read from a response body longer than the client's cap.
var ErrTooLarge = errors.New("outbound: the response is larger than allowed")

// HTTPClient returns a client whose every connection, redirects included,
// goes through d (a nil d connects directly) and is dialled afresh. It
// uses no proxy (a proxy would be the only address checked), follows at
// most MaxRedirects http(s) redirects, gives up after HTTPTimeout, and a
// body read past maxBody bytes (0: DefaultMaxBody) fails with
// ErrTooLarge.
func (d *Dialer) HTTPClient(maxBody int64) *http.Client {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  10 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		// Every request dials afresh, so that each is checked against the
		// policy in force then, and nothing lingers after the call.
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: &capped{next: tr, max: maxBody}, Timeout: HTTPTimeout, CheckRedirect: checkRedirect}
}

// checkRedirect allows MaxRedirects http(s) redirects; where each leads
// is checked by the dialer when it connects.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("outbound: more than %d redirects", MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("outbound: redirect to a %q URL", req.URL.Scheme)
	}
	return nil
}

// capped limits the body of every response.
type capped struct {
	next http.RoundTripper
	max  int64
}

func (c *capped) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > c.max {
		resp.Body.Close()
		return nil, ErrTooLarge
	}
	resp.Body = &cappedBody{r: resp.Body, left: c.max}
	return resp, nil
}

// cappedBody fails with ErrTooLarge once more than left bytes came.
type cappedBody struct {
	r    io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.r.Close() }
