package web

import (
	"net/http"

	"github.com/certkeeper/certkeeper/client"
)

// digestRoutes: the daily digest's preview, with a send-now button
// (admins only).
func (ui *UI) digestRoutes() []route {
	return []route{
		{"GET", "/digest", admin, ui.digestPage},
		{"POST", "/digest/send", admin, ui.sendDigest},
	}
}

// digestData fills the digest page: the digest as it would go out now,
// and the outcome of a send just asked for.
type digestData struct {
	Digest *client.Digest
	Sent   *client.DigestSent
}

func (ui *UI) renderDigest(w http.ResponseWriter, r *http.Request, d digestData) {
	ui.render(w, r, page{name: "digest", title: "Daily digest", section: "digest", data: d})
}

func (ui *UI) digestPage(w http.ResponseWriter, r *http.Request) error {
	d, err := ui.api.PreviewDigest(r.Context())
	if err != nil {
		return err
	}
	ui.renderDigest(w, r, digestData{Digest: d})
	return nil
}

// sendDigest sends the digest now; one that had nothing to say, or
// nobody to say it to, is shown with the reason.
func (ui *UI) sendDigest(w http.ResponseWriter, r *http.Request) error {
	res, err := ui.api.SendDigest(r.Context())
	if err != nil {
		return err
	}
	if res.Sent {
		redirect(w, r, "/digest", "Digest sent: "+res.Digest.Subject)
		return nil
	}
	d, err := ui.api.PreviewDigest(r.Context())
	if err != nil {
		return err
	}
	ui.renderDigest(w, r, digestData{Digest: d, Sent: res})
	return nil
}
