package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Certificate is an X.509 certificate in the inventory.
type Certificate struct {
	ID int64 `json:"id"`
	// SHA256 and SHA1 are lowercase hex fingerprints of the DER.
	SHA256 string `json:"sha256"`
	SHA1   string `json:"sha1"`
	// Serial is lowercase hex.
	Serial     string    `json:"serial"`
	Subject    string    `json:"subject"`
	CommonName string    `json:"common_name,omitempty"`
	Issuer     string    `json:"issuer"`
	SANs       []string  `json:"sans,omitempty"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	// Status is valid, expired, not_yet_valid or revoked, as of the
	// response.
	Status             string `json:"status"`
	IsCA               bool   `json:"is_ca"`
	SelfSigned         bool   `json:"self_signed"`
	SubjectKeyID       string `json:"subject_key_id,omitempty"`
	AuthorityKeyID     string `json:"authority_key_id,omitempty"`
	KeyAlgorithm       string `json:"key_algorithm"`
	KeyBits            int    `json:"key_bits"`
	SignatureAlgorithm string `json:"signature_algorithm"`
	// SPKISHA256 identifies the public key.
	SPKISHA256 string `json:"spki_sha256"`
	// IssuerCertificateID is the issuing certificate when the inventory
	// has it; 0 otherwise.
	IssuerCertificateID int64 `json:"issuer_certificate_id,omitempty"`
	// KeyID is the private key when the inventory holds it; 0 otherwise.
	KeyID   int64    `json:"key_id,omitempty"`
	KeyHeld bool     `json:"key_held"`
	Source  string   `json:"source,omitempty"`
	Labels  []string `json:"labels,omitempty"`
	// Internal marks a certificate certkeeper issued for itself (web UI,
	// agent endpoint, agents, OCSP responders) and renews on its own.
	Internal  bool       `json:"internal,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	// PEM is the certificate in PEM; ChainIDs are the certificate and its
	// known issuers, leaf first. Both are set by GetCertificate only.
	PEM      string  `json:"pem,omitempty"`
	ChainIDs []int64 `json:"chain_ids,omitempty"`
	// IssuedByCAID is the certkeeper CA that issued the certificate, which
	// can revoke it; 0 when none of certkeeper's CAs did. Set by
	// GetCertificate only.
	IssuedByCAID int64 `json:"issued_by_ca_id,omitempty"`
	// Deployments counts the certificate's deployments by outcome. Set by
	// GetCertificate only.
	Deployments *DeploymentCounts `json:"deployments,omitempty"`
}

// CertificateList is one page of certificates, ordered by expiry then ID.
type CertificateList struct {
	Items []Certificate `json:"items"`
	// Next is the cursor of the following page; "" on the last page.
	Next string `json:"next,omitempty"`
}

// CertificateQuery filters ListCertificates. The zero value lists all.
type CertificateQuery struct {
	// Status is valid, expired, not_yet_valid or revoked; "" means any.
	Status string
	// Issuer keeps certificates whose issuer DN contains this text.
	Issuer string
	Label  string
	// ExpiringWithin keeps certificates still valid that expire within
	// this many days ("30") or this Go duration ("720h"); "" means no
	// limit.
	ExpiringWithin string
	// Q keeps certificates whose subject, SANs, serial or fingerprint
	// contain this text.
	Q string
	// CA, when set, keeps CA certificates (true) or leaf ones (false).
	CA *bool
	// Internal, when set, keeps the certificates certkeeper issued for
	// itself (true) or leaves them out (false).
	Internal *bool
	// KeyID keeps the certificates made with this stored key.
	KeyID int64
	Page
}

func (q CertificateQuery) values() url.Values {
	v := q.Page.values()
	setNonZero(v, "status", q.Status)
	setNonZero(v, "issuer", q.Issuer)
	setNonZero(v, "label", q.Label)
	setNonZero(v, "expiring_within", q.ExpiringWithin)
	setNonZero(v, "q", q.Q)
	setNonZero(v, "key_id", strconv.FormatInt(q.KeyID, 10))
	if q.CA != nil {
		v.Set("ca", strconv.FormatBool(*q.CA))
	}
	if q.Internal != nil {
		v.Set("internal", strconv.FormatBool(*q.Internal))
	}
	return v
}

// CertificateImport is a file of certificates and possibly a key to add
// to the inventory.
type CertificateImport struct {
	// Data is the file: PEM, DER, PKCS#7, PKCS#12 or JKS (at most 8 MiB).
	Data []byte `json:"data"`
	// Password opens an encrypted file.
	Password string   `json:"password,omitempty"`
	Labels   []string `json:"labels,omitempty"`
}

// ImportResult says what an import stored.
type ImportResult struct {
	Certificates []ImportedCertificate `json:"certificates"`
	// Key is the file's private key, when it had one.
	Key *ImportedKey `json:"key,omitempty"`
}

// ImportedCertificate is one certificate of an imported file.
type ImportedCertificate struct {
	ID       int64     `json:"id"`
	SHA256   string    `json:"sha256"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"not_after"`
	// Added is false when the inventory had the certificate already.
	Added bool `json:"added"`
}

// ImportedKey is the private key of an imported file.
type ImportedKey struct {
	ID          int64  `json:"id"`
	Algorithm   string `json:"algorithm"`
	Bits        int    `json:"bits"`
	SPKISHA256  string `json:"spki_sha256"`
	Added       bool   `json:"added"`
	MatchesLeaf bool   `json:"matches_leaf"`
}

// ListCertificates returns one page of the certificates q selects.
func (c *Client) ListCertificates(ctx context.Context, q CertificateQuery) (*CertificateList, error) {
	var out CertificateList
	return &out, c.do(ctx, call{method: "GET", path: path("certificates"), query: q.values(), out: &out})
}

// GetCertificate returns a certificate with its PEM and chain IDs.
func (c *Client) GetCertificate(ctx context.Context, id int64) (*Certificate, error) {
	var out Certificate
	return &out, c.do(ctx, call{method: "GET", path: path("certificates", id), out: &out})
}

// CertificateChain returns the certificate and its known issuers, leaf
// first.
func (c *Client) CertificateChain(ctx context.Context, id int64) (*CertificateList, error) {
	var out CertificateList
	return &out, c.do(ctx, call{method: "GET", path: path("certificates", id, "chain"), out: &out})
}

// DownloadCertificate returns the certificate, without any key, as pem
// (the chain, leaf first), der (the leaf) or p7b (the chain, PKCS#7).
func (c *Client) DownloadCertificate(ctx context.Context, id int64, format string) ([]byte, error) {
	var out []byte
	q := url.Values{"format": {format}}
	return out, c.do(ctx, call{method: "GET", path: path("certificates", id, "download"), query: q, rawOut: &out})
}

// ImportCertificates adds the certificates and key of a file.
func (c *Client) ImportCertificates(ctx context.Context, in CertificateImport) (*ImportResult, error) {
	var out ImportResult
	return &out, c.do(ctx, call{method: "POST", path: path("certificates"), in: in, out: &out})
}
