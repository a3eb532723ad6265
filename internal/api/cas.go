package api

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/cainstaller"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/revocation"
)

// caRoutes: the private CA screens' operations. GET /api/v1/cas is in
// auditRoutes. The CA certificate itself is downloaded as any
// certificate is, by its certificate_id (downloadCertificate).
//
// Issuing straight from a CA is an admin action: users get certificates
// of the CA through definitions and acquisitions, which keep the request
// and its history. Revocation is an admin action too.
func (a *API) caRoutes() []route {
	cert := typeOf[client.Certificate]()
	return []route{
		{method: "GET", pattern: "/api/v1/cas/{id}", op: "getCA", role: user,
			summary: "Get a CA with its chain", out: typeOf[client.CA](), handle: a.getCA},
		{method: "POST", pattern: "/api/v1/cas/{id}/issue", op: "issueFromCA", role: admin,
			summary: "Have a CA issue a certificate with a key it generates (audited)", in: typeOf[client.CAIssue](),
			out: cert, status: http.StatusCreated, handle: a.issueFromCA},
		{method: "GET", pattern: "/api/v1/cas/{id}/crl", op: "getCRLStatus", role: user,
			summary: "Describe the CA's current CRL", out: typeOf[client.CRLStatus](), handle: a.crlStatus},
		{method: "GET", pattern: "/api/v1/cas/{id}/installer", op: "caInstaller", role: user,
			summary: "Download a zip that installs the CA's root in trust stores", outMedia: "application/zip",
			handle: a.caInstaller},
		{method: "POST", pattern: "/api/v1/certificates/{id}/revoke", op: "revokeCertificate", role: admin,
			summary: "Revoke a certificate issued by a certkeeper CA (audited)", in: typeOf[client.Revoke](),
			out: cert, handle: a.revokeCertificate},
	}
}

// listCAs lists the CAs with what their certificates say.
func (a *API) listCAs(w http.ResponseWriter, r *http.Request) error {
	cas, err := a.Authority.List(r.Context())
	if err != nil {
		return err
	}
	out := client.CAList{Items: make([]client.CA, len(cas))}
	for i := range cas {
		out.Items[i] = caOut(&cas[i].CA, cas[i].Certificate)
	}
	return ok(w, out)
}

func (a *API) getCA(w http.ResponseWriter, r *http.Request) error {
	c, err := a.ca(r)
	if err != nil {
		return err
	}
	if c.CertificateID == 0 {
		return ok(w, caOut(c, nil))
	}
	chain, err := a.chain(r, c.CertificateID)
	if err != nil {
		return err
	}
	out := caOut(c, &chain[0])
	at := a.now()
	for i := range chain {
		x := certificateOut(&chain[i], chain[i].StatusAt(at))
		x.PEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[i].DER}))
		out.Chain = append(out.Chain, x)
	}
	return ok(w, out)
}

// ca reads CA {id}.
func (a *API) ca(r *http.Request) (*inventory.CA, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	c, err := a.Authority.CA(r.Context(), id)
	return c, missing(err, "CA", id)
}

// caOut converts a CA and its certificate (nil while pending).
func caOut(c *inventory.CA, cert *inventory.Certificate) client.CA {
	out := client.CA{ID: c.ID, Name: c.Name, Status: string(c.Status), Default: c.Default, ParentID: c.ParentID,
		CertificateID: c.CertificateID, PermittedDNSDomains: c.Policy.PermittedDNSDomains,
		PermittedIPRanges: c.Policy.PermittedIPRanges, CertificateURL: ca.CertURL("", c.ID),
		CRLURL: ca.CRLURL("", c.ID), OCSPURL: ca.OCSPURL("", c.ID), CreatedAt: c.CreatedAt.UTC()}
	if cert != nil {
		out.Subject, out.Issuer, out.Root = cert.Subject, cert.Issuer, cert.SelfSigned
		out.NotBefore, out.NotAfter = utcPtr(&cert.NotBefore), utcPtr(&cert.NotAfter)
		out.KeyAlgorithm, out.KeyBits = string(cert.KeyAlgorithm), cert.KeyBits
	}
	return out
}

// issueFromCA has CA {id} issue a certificate for the request's names
// with a key it generates and stores sealed.
func (a *API) issueFromCA(w http.ResponseWriter, r *http.Request) error {
	c, err := a.ca(r)
	if err != nil {
		return err
	}
	if c.Status != inventory.CAActive {
		return conflict("api: CA %s is %s and signs nothing", c.Name, c.Status)
	}
	var in client.CAIssue
	if err := decode(r, &in); err != nil {
		return err
	}
	req, err := caRequest(&in)
	if err != nil {
		return err
	}
	req.CA, req.Requester = c.Name, requester(r)
	issued, err := a.Authority.Issue(r.Context(), *req)
	if err != nil {
		return err // refusals are *ca.PolicyError or *ca.RequestError: 422 naming the field
	}
	out, err := a.certificateDetail(r.Context(), issued.Record.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

// issueProfiles are the profiles a certificate can be issued with through
// the API; sub-CAs are made with "certkeeper ca init", and OCSP responder
// certificates by the revocation service itself.
var issueProfiles = []ca.Profile{ca.TLSServer, ca.TLSClient, ca.TLSServerClient}

// caRequest checks what can be checked of in without the CA, naming the
// field at fault, and makes the CA request.
func caRequest(in *client.CAIssue) (*ca.Request, error) {
	req := &ca.Request{Profile: ca.Profile(in.Profile), CommonName: in.CommonName, DNSNames: in.DNSNames,
		KeySpec: ca.KeySpec(in.KeyType), Labels: in.Labels}
	if in.Profile == "" {
		req.Profile = ca.TLSServer
	}
	if !containsProfile(req.Profile) {
		return nil, inventory.Invalid("profile", "profile %q: want tls-server, tls-client or tls-server-client", in.Profile)
	}
	if _, _, known := inventory.KeyTypeParts(in.KeyType); in.KeyType != "" && !known {
		return nil, inventory.Invalid("key_type", "key type %q: want ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519", in.KeyType)
	}
	if in.ValidityDays < 0 {
		return nil, inventory.Invalid("validity_days", "%d: want a positive number of days, or 0 for the default", in.ValidityDays)
	}
	req.Validity = time.Duration(in.ValidityDays) * 24 * time.Hour
	for _, s := range in.IPAddresses {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			return nil, inventory.Invalid("ip_addresses", "%q is not an IP address", s)
		}
		req.IPAddresses = append(req.IPAddresses, ip)
	}
	if len(in.DNSNames) == 0 && len(in.IPAddresses) == 0 {
		return nil, inventory.Invalid("dns_names", "give at least one DNS name or IP address")
	}
	return req, nil
}

func containsProfile(p ca.Profile) bool {
	for _, q := range issueProfiles {
		if p == q {
			return true
		}
	}
	return false
}

// certificateDetail is a certificate with its PEM and chain IDs, as
// getCertificate answers.
func (a *API) certificateDetail(ctx context.Context, id int64) (client.Certificate, error) {
	chain, err := a.Certificates.Chain(ctx, id)
	if err != nil {
		return client.Certificate{}, missing(err, "certificate", id)
	}
	out := certificateOut(&chain[0], chain[0].StatusAt(a.now()))
	out.PEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0].DER}))
	for _, c := range chain {
		out.ChainIDs = append(out.ChainIDs, c.ID)
	}
	return out, nil
}

// revokeCertificate revokes certificate {id}; its CA publishes a new CRL
// before the answer.
func (a *API) revokeCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.Revoke
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	reason, err := revocation.ParseReason(in.Reason)
	if err != nil {
		return inventory.Invalid("reason", "%s", strings.TrimPrefix(err.Error(), "revocation: "))
	}
	if _, err := a.Revocation.Revoke(r.Context(), strconv.FormatInt(id, 10), reason, actor(r)); err != nil {
		return revokeError(err, id)
	}
	out, err := a.certificateDetail(r.Context(), id)
	if err != nil {
		return err
	}
	return ok(w, out)
}

// revokeError words the revocation service's refusals of certificate
// id: 404 for an unknown certificate, 409 for a revoked one or one no
// certkeeper CA issued.
func revokeError(err error, id int64) error {
	var revoked *revocation.AlreadyRevokedError
	var foreign *revocation.NotIssuedError
	switch {
	case errors.As(err, &revoked) && !revoked.At.IsZero():
		return conflict("api: certificate %d was revoked on %s", id, revoked.At.UTC().Format(time.RFC3339))
	case errors.Is(err, revocation.ErrAlreadyRevoked):
		return &statusError{status: http.StatusConflict, err: err}
	case errors.As(err, &foreign):
		return conflict("api: certificate %d was not issued by a certkeeper CA (issuer %q); only its own CA can revoke it",
			id, foreign.Issuer)
	case errors.Is(err, inventory.ErrNotFound):
		return missing(err, "certificate", id)
	}
	return err
}

// crlStatus describes CA {id}'s current CRL, publishing a new one when
// none is current.
func (a *API) crlStatus(w http.ResponseWriter, r *http.Request) error {
	c, err := a.ca(r)
	if err != nil {
		return err
	}
	if c.CertificateID == 0 {
		return conflict("api: CA %s is %s and publishes no CRL yet", c.Name, c.Status)
	}
	crl, err := a.Revocation.CurrentCRL(r.Context(), c.ID)
	if err != nil {
		return err
	}
	list, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		return fmt.Errorf("api: CA %s: stored CRL %d: %w", c.Name, crl.Number, err)
	}
	return ok(w, client.CRLStatus{CAID: c.ID, Number: crl.Number, ThisUpdate: crl.ThisUpdate.UTC(),
		NextUpdate: crl.NextUpdate.UTC(), Entries: len(list.RevokedCertificateEntries), URL: ca.CRLURL("", c.ID)})
}

// conflict is a 409: the object's state refuses the operation.
func conflict(format string, args ...any) error {
	return &statusError{status: http.StatusConflict, err: fmt.Errorf(format, args...)}
}

// caInstaller serves the installer zip of CA {id}'s root.
func (a *API) caInstaller(w http.ResponseWriter, r *http.Request) error {
	c, err := a.ca(r)
	if err != nil {
		return err
	}
	if c.CertificateID == 0 {
		return conflict("api: CA %s is %s and has no certificate yet", c.Name, c.Status)
	}
	stored, err := a.chain(r, c.CertificateID)
	if err != nil {
		return err
	}
	chain := make([]*x509.Certificate, len(stored))
	for i := range stored {
		if chain[i], err = x509.ParseCertificate(stored[i].DER); err != nil {
			return fmt.Errorf("api: CA %s: certificate %d: %w", c.Name, stored[i].ID, err)
		}
	}
	data, err := cainstaller.Build(chain, cainstaller.Options{})
	if err != nil {
		return err
	}
	name := cainstaller.FileName(chain[len(chain)-1]) + "-installer.zip"
	return writeFile(w, "application/zip", name, data)
}
