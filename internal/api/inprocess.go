package api

import (
	"net/http"
	"net/http/httptest"
)

// Transport returns a RoundTripper that hands requests straight to h in
// the same process. The caller's identity must already be in the request
// context (WithUser or WithLocalAdmin): the web UI and the local command
// line call the API this way, so that they run the same checks as a
// network client.
func Transport(h http.Handler) http.RoundTripper { return transport{h: h} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}
