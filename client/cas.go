package client

import (
	"context"
	"fmt"
	"io"
	"mime"
	"time"
)

// CA is one of certkeeper's own certificate authorities. The fields
// taken from its certificate are empty while the CA is pending (a
// subordinate CA waiting for its outside PKI to sign it).
type CA struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Status is active, pending or retired.
	Status  string `json:"status"`
	Default bool   `json:"default"`
	// ParentID is the certkeeper CA that signed this one; 0 for roots and
	// for CAs signed outside certkeeper.
	ParentID      int64      `json:"parent_id,omitempty"`
	CertificateID int64      `json:"certificate_id,omitempty"`
	Subject       string     `json:"subject,omitempty"`
	Issuer        string     `json:"issuer,omitempty"`
	Root          bool       `json:"root"`
	NotBefore     *time.Time `json:"not_before,omitempty"`
	NotAfter      *time.Time `json:"not_after,omitempty"`
	KeyAlgorithm  string     `json:"key_algorithm,omitempty"`
	KeyBits       int        `json:"key_bits,omitempty"`
	// PermittedDNSDomains and PermittedIPRanges are the CA's name policy;
	// both empty means it signs for any name.
	PermittedDNSDomains []string `json:"permitted_dns_domains,omitempty"`
	PermittedIPRanges   []string `json:"permitted_ip_ranges,omitempty"`
	// CertificateURL, CRLURL and OCSPURL are where "certkeeper serve"
	// publishes the CA certificate (DER), its latest CRL (DER) and its
	// OCSP responder, as paths under the server's base URL
	// ("/pki/crl/3.crl").
	CertificateURL string    `json:"certificate_url"`
	CRLURL         string    `json:"crl_url"`
	OCSPURL        string    `json:"ocsp_url"`
	CreatedAt      time.Time `json:"created_at"`
	// Chain is the CA certificate followed by its known issuers, up to
	// the root, each with its PEM. GetCA sets it; ListCAs does not.
	Chain []Certificate `json:"chain,omitempty"`
}

// CAList lists the CAs in ID order.
type CAList struct {
	Items []CA `json:"items"`
}

// CAIssue asks a CA for a certificate whose key certkeeper generates and
// keeps (sealed); the key is exported with ExportKey.
type CAIssue struct {
	// CommonName is the subject CN; "" means the first DNS name or IP
	// address. For the server profiles it must be one of the names.
	CommonName  string   `json:"common_name,omitempty"`
	DNSNames    []string `json:"dns_names,omitempty"`
	IPAddresses []string `json:"ip_addresses,omitempty"`
	// Profile is tls-server (the default), tls-client or
	// tls-server-client.
	Profile string `json:"profile,omitempty"`
	// ValidityDays is the lifetime; 0 means the profile's default (365
	// days, cut at the CA's own expiry).
	ValidityDays int `json:"validity_days,omitempty"`
	// KeyType is ecdsa-p256 (the default), ecdsa-p384, rsa-2048,
	// rsa-3072, rsa-4096 or ed25519.
	KeyType string   `json:"key_type,omitempty"`
	Labels  []string `json:"labels,omitempty"`
}

// Revoke says why a certificate is revoked.
type Revoke struct {
	// Reason is an RFC 5280 section 5.3.1 reason name: unspecified (the
	// default), keyCompromise, cACompromise, affiliationChanged,
	// superseded, cessationOfOperation or privilegeWithdrawn.
	Reason string `json:"reason,omitempty"`
}

// CRLStatus describes a CA's current CRL.
type CRLStatus struct {
	CAID       int64     `json:"ca_id"`
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
	// Entries is the number of revoked certificates the CRL lists.
	Entries int `json:"entries"`
	// URL is where the CRL is published, a path under the server's base
	// URL.
	URL string `json:"url"`
}

// ListCAs returns certkeeper's CAs.
func (c *Client) ListCAs(ctx context.Context) (*CAList, error) {
	var out CAList
	return &out, c.do(ctx, call{method: "GET", path: path("cas"), out: &out})
}

// GetCA returns a CA with its chain.
func (c *Client) GetCA(ctx context.Context, id int64) (*CA, error) {
	var out CA
	return &out, c.do(ctx, call{method: "GET", path: path("cas", id), out: &out})
}

// IssueFromCA has CA id issue a certificate (admin only; audited) and
// returns it with its PEM and chain IDs.
func (c *Client) IssueFromCA(ctx context.Context, id int64, in CAIssue) (*Certificate, error) {
	var out Certificate
	return &out, c.do(ctx, call{method: "POST", path: path("cas", id, "issue"), in: in, out: &out})
}

// RevokeCertificate revokes a certificate issued by one of certkeeper's
// CAs (admin only; audited) and returns it. The CA publishes a new CRL at
// once.
func (c *Client) RevokeCertificate(ctx context.Context, id int64, in Revoke) (*Certificate, error) {
	var out Certificate
	return &out, c.do(ctx, call{method: "POST", path: path("certificates", id, "revoke"), in: in, out: &out})
}

// GetCRLStatus describes CA id's current CRL.
func (c *Client) GetCRLStatus(ctx context.Context, id int64) (*CRLStatus, error) {
	var out CRLStatus
	return &out, c.do(ctx, call{method: "GET", path: path("cas", id, "crl"), out: &out})
}

// CAInstaller returns CA id's installer, a zip of the root certificate in
// PEM, DER and PKCS#7 (with the chain) and install instructions, and its
// file name.
func (c *Client) CAInstaller(ctx context.Context, id int64) ([]byte, string, error) {
	return c.download(ctx, call{method: "GET", path: path("cas", id, "installer")})
}

// download is do for a file: it returns the body and the file name of
// the Content-Disposition header ("" when there is none).
func (c *Client) download(ctx context.Context, cl call) ([]byte, string, error) {
	req, err := c.request(ctx, cl)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("client: %s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, "", fmt.Errorf("client: %s %s: read response: %w", cl.method, cl.path, err)
	}
	if resp.StatusCode >= 400 {
		return nil, "", newError(resp, body)
	}
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	return body, params["filename"], nil
}

// CAByName returns the CA called name; none is an error that IsNotFound
// reports.
func (c *Client) CAByName(ctx context.Context, name string) (*CA, error) {
	if name == "" {
		return nil, errEmptyName
	}
	return c.findCA(ctx, func(x *CA) bool { return x.Name == name }, "no CA %q", name)
}

// DefaultCA returns the default CA; none is an error that IsNotFound
// reports.
func (c *Client) DefaultCA(ctx context.Context) (*CA, error) {
	return c.findCA(ctx, func(x *CA) bool { return x.Default }, "no default CA")
}

// findCA returns the first CA match accepts, or a not-found error made
// of format and args.
func (c *Client) findCA(ctx context.Context, match func(*CA) bool, format string, args ...any) (*CA, error) {
	list, err := c.ListCAs(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		if match(&list.Items[i]) {
			return &list.Items[i], nil
		}
	}
	return nil, notFound(format, args...)
}
