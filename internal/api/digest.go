package api

import (
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/digest"
)

// digestRoutes: the daily digest's preview (anyone signed in) and a send
// on request (admins).
func (a *API) digestRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/digest", op: "previewDigest", role: user,
			summary: "The digest as it would be sent now; sends and changes nothing", out: typeOf[client.Digest](),
			handle: a.previewDigest},
		{method: "POST", pattern: "/api/v1/digest/send", op: "sendDigest", role: admin,
			summary: "Send the digest now, unless there is nothing to say (audited)", out: typeOf[client.DigestSent](),
			handle: a.sendDigest},
	}
}

func (a *API) previewDigest(w http.ResponseWriter, r *http.Request) error {
	d, err := a.Digest.Preview(r.Context())
	if err != nil {
		return err
	}
	return ok(w, digestOut(d))
}

func (a *API) sendDigest(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Digest.SendNow(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return ok(w, client.DigestSent{Digest: digestOut(res.Digest), Sent: res.Sent, Reason: res.Reason})
}

func digestOut(d *digest.Digest) client.Digest {
	return client.Digest{At: d.At.UTC(), Since: d.Since.UTC(), Subject: d.Subject(), Text: d.Text(),
		Needs: sectionsOut(d.Needs), Changed: sectionsOut(d.Changed), Empty: d.Empty()}
}

func sectionsOut(in []digest.Section) []client.DigestSection {
	out := make([]client.DigestSection, len(in))
	for i, s := range in {
		lines := make([]client.DigestLine, len(s.Lines))
		for j, l := range s.Lines {
			lines[j] = client.DigestLine{Text: l.Text, Link: l.Link}
		}
		out[i] = client.DigestSection{Title: s.Title, Total: s.Total, Lines: lines, Link: s.Link}
	}
	return out
}
