package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// minExportPassword is the shortest password the export form accepts.
const minExportPassword = 8

// revocationReasons are the RFC 5280 reasons the revoke form offers.
var revocationReasons = []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "privilegeWithdrawn"}

// certificateDownloads are the formats anyone may download, by name.
var certificateDownloads = map[string]struct{ ctype, ext string }{
	"pem": {"application/x-pem-file", "pem"},
	"der": {"application/pkix-cert", "cer"},
	"p7b": {"application/x-pkcs7-certificates", "p7b"},
}

// keyExports are the formats of the admin-only export, with the key.
var keyExports = map[string]struct{ ctype, ext string }{
	"pfx": {"application/x-pkcs12", "pfx"},
	"jks": {"application/octet-stream", "jks"},
	"pem": {"application/x-pem-file", "key.pem"},
}

func (ui *UI) certificateRoutes() []route {
	return []route{
		{"GET", "/certificates", user, ui.certificateList},
		{"GET", "/certificates/{id}", user, ui.certificateShow},
		{"GET", "/certificates/{id}/download", user, ui.certificateDownload},
		// The API decides who may export keys and revoke (admins): a
		// user who posts anyway gets its refusal.
		{"POST", "/certificates/{id}/export", user, ui.certificateExport},
		{"POST", "/certificates/{id}/revoke", user, ui.certificateRevoke},
	}
}

type certificateListData struct {
	Items    []client.Certificate
	Next     string
	Filtered bool
}

func (ui *UI) certificateList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cq := client.CertificateQuery{Status: q.Get("status"), Issuer: strings.TrimSpace(q.Get("issuer")),
		Label: strings.TrimSpace(q.Get("label")), ExpiringWithin: strings.TrimSpace(q.Get("expiring_within")),
		Q: strings.TrimSpace(q.Get("q")), Page: listPage(r)}
	cq.CA, cq.Internal = triState(q.Get("ca")), triState(q.Get("internal"))
	l, err := ui.api.ListCertificates(r.Context(), cq)
	if err != nil {
		return err
	}
	filtered := cq.Status != "" || cq.Issuer != "" || cq.Label != "" || cq.ExpiringWithin != "" || cq.Q != "" || cq.CA != nil || cq.Internal != nil
	ui.render(w, r, page{name: "certificates", title: "Certificates", section: "certificates",
		data: certificateListData{Items: l.Items, Next: l.Next, Filtered: filtered}})
	return nil
}

// triState reads a select of all (""), "true" and "false".
func triState(s string) *bool {
	switch s {
	case "true", "false":
		b := s == "true"
		return &b
	}
	return nil
}

// certificateData fills a certificate's page.
type certificateData struct {
	C     *client.Certificate
	Chain []client.Certificate
	// OwnCA says one of certkeeper's CAs issued it (it can be revoked
	// here).
	OwnCA   bool
	Reasons []string
	// Format is the export format chosen in a refused form.
	Format string
	// Targets are the choices of the "Deploy to" form (certificates with
	// a key only).
	Targets []client.Target
}

func (ui *UI) certificateShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return ui.renderCertificate(w, r, id, 0, "", nil, "")
}

func (ui *UI) renderCertificate(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, fields map[string]string, format string) error {
	ctx := r.Context()
	c, err := ui.api.GetCertificate(ctx, id)
	if err != nil {
		return err
	}
	chain, err := ui.api.CertificateChain(ctx, id)
	if err != nil {
		return err
	}
	data := certificateData{C: c, Chain: chain.Items, OwnCA: c.IssuedByCAID != 0, Reasons: revocationReasons, Format: format}
	if c.KeyID != 0 {
		targets, err := ui.api.ListTargets(ctx, client.Page{Limit: 1000})
		if err != nil {
			return err
		}
		data.Targets = targets.Items
	}
	title := c.CommonName
	if title == "" {
		title = fmt.Sprintf("Certificate #%d", c.ID)
	}
	ui.render(w, r, page{name: "certificate", title: title, section: "certificates", data: data, status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) certificateDownload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("format")
	if name == "" {
		name = "pem"
	}
	f, ok := certificateDownloads[name]
	if !ok {
		return apiError(http.StatusBadRequest, fmt.Sprintf("There is no download format %q: choose pem, der or p7b.", name))
	}
	data, err := ui.api.DownloadCertificate(r.Context(), id, name)
	if err != nil {
		return err
	}
	sendFile(w, f.ctype, fmt.Sprintf("certificate-%d.%s", id, f.ext), data)
	return nil
}

// certificateExport sends the certificate with its private key: PFX or
// JKS (password required) or PEM (password optional, encrypting the
// key). The API refuses users that are not admins.
func (ui *UI) certificateExport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	name, password := r.PostFormValue("format"), r.PostFormValue("password")
	refuse := func(msg, field string) error {
		return ui.renderCertificate(w, r, id, http.StatusUnprocessableEntity, msg, map[string]string{field: msg}, name)
	}
	f, ok := keyExports[name]
	if !ok {
		return refuse("Choose PFX, JKS or PEM.", "format")
	}
	switch {
	case password == "" && name != "pem":
		return refuse(fmt.Sprintf("A %s file needs a password: give one of at least %d characters.", strings.ToUpper(name), minExportPassword), "password")
	case password != "" && len(password) < minExportPassword:
		return refuse(fmt.Sprintf("The password is too short: use at least %d characters.", minExportPassword), "password")
	}
	c, err := ui.api.GetCertificate(ctx, id)
	if err != nil {
		return err
	}
	if c.KeyID == 0 {
		return refuse("certkeeper does not hold this certificate's private key, so it cannot be exported with it.", "format")
	}
	data, err := ui.api.ExportKey(ctx, c.KeyID, client.KeyExport{Format: name, Password: password, CertificateID: id})
	if msg, _, ok := formError(err); ok {
		return refuse("The export was refused: "+msg, "format")
	}
	if err != nil {
		return err
	}
	sendFile(w, f.ctype, fmt.Sprintf("certificate-%d.%s", id, f.ext), data)
	return nil
}

func (ui *UI) certificateRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	reason := r.PostFormValue("reason")
	c, err := ui.api.RevokeCertificate(r.Context(), id, client.Revoke{Reason: reason})
	if msg, fields, ok := formError(err); ok {
		return ui.renderCertificate(w, r, id, http.StatusUnprocessableEntity, "The certificate was not revoked: "+msg, fields, "")
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/certificates/%d", id), fmt.Sprintf("Certificate #%d revoked (%s). Its CA published a new CRL.", c.ID, reason))
	return nil
}
