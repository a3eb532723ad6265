package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The trust store screen: what vendor uploads and deploy checks trust.
// Everyone reads it; admins mark and remove roots and switch the system
// roots. A self-signed CA certificate's page offers admins "Mark as
// trusted root", which posts here.
func (ui *UI) trustRoutes() []route {
	return []route{
		{"GET", "/trust-store", user, ui.trustStorePage},
		{"POST", "/trust-store/roots", admin, ui.trustAdd},
		{"POST", "/trust-store/roots/{id}/remove", admin, ui.trustRemove},
		{"POST", "/trust-store/system-roots", admin, ui.trustSystemRoots},
	}
}

func (ui *UI) trustStorePage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderTrustStore(w, r, 0, "", nil)
}

// renderTrustStore shows the trust store, with a refused form's message.
func (ui *UI) renderTrustStore(w http.ResponseWriter, r *http.Request, status int, msg string, fields map[string]string) error {
	ts, err := ui.api.GetTrustStore(r.Context())
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "trust_store", title: "Trust store", section: "trust", data: ts,
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) trustAdd(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("certificate_id")), "#"), 10, 64)
	if err != nil || id <= 0 {
		return ui.renderTrustStore(w, r, http.StatusUnprocessableEntity, "The root was not marked.",
			map[string]string{"certificate_id": "give the ID of a self-signed CA certificate of the inventory"})
	}
	root, err := ui.api.AddTrustRoot(r.Context(), id)
	if msg, fields, ok := formError(err); ok {
		return ui.renderTrustStore(w, r, http.StatusUnprocessableEntity, "The root was not marked: "+msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/trust-store", fmt.Sprintf("Certificate #%d (%s) is now a trusted root.", id, root.Certificate.Subject))
	return nil
}

func (ui *UI) trustRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	err = ui.api.RemoveTrustRoot(r.Context(), id)
	if msg, _, ok := formError(err); ok {
		return ui.renderTrustStore(w, r, http.StatusConflict, "The root was not removed: "+msg, nil)
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/trust-store", fmt.Sprintf("Certificate #%d is no longer a trusted root.", id))
	return nil
}

func (ui *UI) trustSystemRoots(w http.ResponseWriter, r *http.Request) error {
	on := r.PostFormValue("enabled") == "on"
	ts, err := ui.api.SetSystemRoots(r.Context(), on)
	if err != nil {
		return err
	}
	msg := "System roots are trusted."
	if !ts.SystemRoots {
		msg = "System roots are not trusted."
	}
	redirect(w, r, "/trust-store", msg)
	return nil
}
