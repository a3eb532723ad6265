package web

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// The private CA screens: certkeeper's CAs, one CA with its chain, CRL
// and downloads, and (admins) issuing a certificate straight from it.
// Revoking is done on the certificate's own page.
func (ui *UI) caRoutes() []route {
	return []route{
		{"GET", "/ca", user, ui.caList},
		{"GET", "/ca/{id}", user, ui.caPage},
		{"GET", "/ca/{id}/certificate", user, ui.caCertificateFile},
		{"GET", "/ca/{id}/installer", user, ui.caInstallerFile},
		{"POST", "/ca/{id}/issue", admin, ui.caIssue},
	}
}

func (ui *UI) caList(w http.ResponseWriter, r *http.Request) error {
	list, err := ui.api.ListCAs(r.Context())
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "cas", title: "Private CA", section: "ca", data: list.Items})
	return nil
}

// admCAIssueForm is the issue form's values, kept when it is refused.
type admCAIssueForm struct {
	CommonName, DNSNames, IPAddresses, Profile, ValidityDays, KeyType string
}

type admCAData struct {
	CA *client.CA
	// CRL is nil when the CA has none (pending) or it could not be read;
	// CRLError then says why.
	CRL      *client.CRLStatus
	CRLError string
	// IssuedLink lists the certificates this CA issued.
	IssuedLink string
	Form       admCAIssueForm
	// Policy is the CA's issuance policy.
	Policy *client.CAPolicy
}

func (ui *UI) admRenderCA(w http.ResponseWriter, r *http.Request, id int64, f admCAIssueForm, status int, msg string, fields map[string]string) error {
	c, err := ui.api.GetCA(r.Context(), id)
	if err != nil {
		return err
	}
	d := admCAData{CA: c, Form: f}
	if d.Policy, err = ui.api.GetCAPolicy(r.Context(), id); err != nil {
		return err
	}
	if c.CertificateID != 0 {
		crl, err := ui.api.GetCRLStatus(r.Context(), id)
		var ce *client.Error
		switch {
		case err == nil:
			d.CRL = crl
		case errors.As(err, &ce) && ce.Problem.Status < 500:
			d.CRLError = problemText(ce)
		default:
			return err
		}
		if c.Subject != "" {
			d.IssuedLink = "/certificates?" + url.Values{"issuer": {c.Subject}, "ca": {"false"}}.Encode()
		}
	} else {
		d.CRLError = "The CA is " + c.Status + " and publishes no CRL yet."
	}
	ui.render(w, r, page{name: "ca", title: "CA " + c.Name, section: "ca", data: d, status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) caPage(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	return ui.admRenderCA(w, r, id, admCAIssueForm{Profile: "tls-server", KeyType: "ecdsa-p256"}, 0, "", nil)
}

// adminAttachment sends data as a file download.
func adminAttachment(w http.ResponseWriter, ctype, name string, data []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// adminFileName makes a safe file name stem from a CA name.
func adminFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
	s = strings.Trim(s, "-.")
	if s == "" {
		return "ca"
	}
	return s
}

// caCertificateFile downloads the CA certificate, as pem (with its chain)
// or der.
func (ui *UI) caCertificateFile(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	c, err := ui.api.GetCA(r.Context(), id)
	if err != nil {
		return err
	}
	if c.CertificateID == 0 {
		_ = ui.notFound(w, r)
		return nil
	}
	format := r.URL.Query().Get("format")
	ctype, ext := "application/x-pem-file", ".pem"
	switch format {
	case "", "pem":
		format = "pem"
	case "der":
		ctype, ext = "application/pkix-cert", ".cer"
	default:
		_ = ui.notFound(w, r)
		return nil
	}
	data, err := ui.api.DownloadCertificate(r.Context(), c.CertificateID, format)
	if err != nil {
		return err
	}
	adminAttachment(w, ctype, adminFileName(c.Name)+ext, data)
	return nil
}

// caInstallerFile downloads the installer zip of the CA's root.
func (ui *UI) caInstallerFile(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	data, name, err := ui.api.CAInstaller(r.Context(), id)
	if err != nil {
		return err
	}
	if name == "" {
		name = "ca-installer.zip"
	}
	adminAttachment(w, "application/zip", name, data)
	return nil
}

// adminSplitList splits a list typed one per line, or separated by
// commas or spaces.
func adminSplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// caIssue has the CA issue a certificate and opens its page.
func (ui *UI) caIssue(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	f := admCAIssueForm{CommonName: strings.TrimSpace(r.PostFormValue("common_name")), DNSNames: r.PostFormValue("dns_names"),
		IPAddresses: r.PostFormValue("ip_addresses"), Profile: r.PostFormValue("profile"),
		ValidityDays: strings.TrimSpace(r.PostFormValue("validity_days")), KeyType: r.PostFormValue("key_type")}
	fields := map[string]string{}
	in := client.CAIssue{CommonName: f.CommonName, DNSNames: adminSplitList(f.DNSNames),
		IPAddresses: adminSplitList(f.IPAddresses), Profile: f.Profile, KeyType: f.KeyType,
		ValidityDays: adminAtoi(r, "validity_days", fields)}
	if len(fields) > 0 {
		return ui.admRenderCA(w, r, id, f, http.StatusUnprocessableEntity, "Some fields are not right; see below.", fields)
	}
	cert, err := ui.api.IssueFromCA(r.Context(), id, in)
	if msg, fields, ok := formError(err); ok {
		return ui.admRenderCA(w, r, id, f, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	name := cert.CommonName
	if name == "" {
		name = cert.Subject
	}
	redirect(w, r, "/certificates/"+strconv.FormatInt(cert.ID, 10), "Certificate for "+name+" issued.")
	return nil
}
