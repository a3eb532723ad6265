package revocation

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ErrAlreadyRevoked is returned, wrapped in an *AlreadyRevokedError,
// when a certificate is revoked a second time.
var ErrAlreadyRevoked = errors.New("already revoked")

// AlreadyRevokedError refuses to revoke a revoked certificate. It wraps
// ErrAlreadyRevoked.
type AlreadyRevokedError struct {
	CertificateID int64
	Serial        string
	// At is when it was revoked; zero when another revocation won a race
	// and the time is not known.
	At time.Time
}

func (e *AlreadyRevokedError) Error() string {
	if e.At.IsZero() {
		return fmt.Sprintf("revocation: certificate %d (serial %s): %v", e.CertificateID, e.Serial, ErrAlreadyRevoked)
	}
	return fmt.Sprintf("revocation: certificate %d (serial %s): %v on %s", e.CertificateID, e.Serial, ErrAlreadyRevoked,
		e.At.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrAlreadyRevoked.
func (e *AlreadyRevokedError) Unwrap() error { return ErrAlreadyRevoked }

// NotIssuedError refuses to revoke a certificate that no certkeeper CA
// issued: only its own CA can revoke it. It wraps inventory.ErrState.
type NotIssuedError struct {
	CertificateID int64
	// Issuer is the certificate's issuer name.
	Issuer string
}

func (e *NotIssuedError) Error() string {
	return fmt.Sprintf("revocation: certificate %d was not issued by a certkeeper CA (issuer %q); only its CA can revoke it",
		e.CertificateID, e.Issuer)
}

// Unwrap returns inventory.ErrState.
func (e *NotIssuedError) Unwrap() error { return inventory.ErrState }

// Revoked reports a revocation and the CRL that lists it.
type Revoked struct {
	Certificate *inventory.Certificate
	CA          *inventory.CA
	Revocation  inventory.Revocation
	// CRL is the issuing CA's new CRL.
	CRL *inventory.CRL
}

// Revoke revokes the certificate ref names (its decimal ID or its SHA-256
// fingerprint, colons allowed) for reason, recording actor in the audit
// trail, and publishes a new CRL of the issuing CA at once. The issuing
// CA is the certkeeper CA whose certificate issued it. When the new CRL
// cannot be made the revocation stands (OCSP reports it already), the
// error says so, and the Refresher retries the CRL. An unknown
// certificate gives an error wrapping inventory.ErrNotFound, a revoked
// one an *AlreadyRevokedError, one no certkeeper CA issued a
// *NotIssuedError.
func (s *Service) Revoke(ctx context.Context, ref string, reason Reason, actor string) (*Revoked, error) {
	if !reason.accepted() {
		return nil, fmt.Errorf("revocation: reason %s is not accepted", reason)
	}
	cert, err := s.certificate(ctx, ref)
	if err != nil {
		return nil, err
	}
	if cert.RevokedAt != nil {
		return nil, alreadyRevoked(cert, *cert.RevokedAt)
	}
	issuer, err := s.issuingCA(ctx, cert)
	if err != nil {
		return nil, err
	}
	out := &Revoked{Certificate: cert, CA: issuer, Revocation: inventory.Revocation{
		CAID: issuer.ID, CertificateID: cert.ID, Serial: cert.Serial,
		RevokedAt: s.now().Truncate(time.Second), Reason: int(reason),
	}}
	if err := s.record(ctx, out, actor); err != nil {
		return nil, err
	}
	if out.CRL, err = s.RefreshCRL(ctx, issuer.ID); err != nil {
		s.markPending(issuer.ID)
		return nil, fmt.Errorf("revocation: certificate %d is revoked, but CA %q could not publish a new CRL (retried in the background): %w", cert.ID, issuer.Name, err)
	}
	return out, nil
}

// record stores the revocation with its audit event.
func (s *Service) record(ctx context.Context, r *Revoked, actor string) error {
	rev := &r.Revocation
	audit := &inventory.AuditEvent{
		Time: rev.RevokedAt, Actor: actor, Action: "certificate.revoke",
		Object: inventory.ObjectRef(inventory.KindCertificate, r.Certificate.ID),
		Summary: fmt.Sprintf("certificate %q (serial %s) revoked by CA %q, reason %s",
			r.Certificate.Subject, rev.Serial, r.CA.Name, Reason(rev.Reason)),
	}
	err := s.st.Revoke(ctx, rev, audit)
	if errors.Is(err, inventory.ErrConflict) {
		return alreadyRevoked(r.Certificate, time.Time{})
	}
	if err != nil {
		return fmt.Errorf("revocation: certificate %d: %w", r.Certificate.ID, err)
	}
	return nil
}

func alreadyRevoked(c *inventory.Certificate, at time.Time) error {
	return &AlreadyRevokedError{CertificateID: c.ID, Serial: c.Serial, At: at}
}

var sha256Ref = regexp.MustCompile(`^[0-9a-f]{64}$`)

// certificate finds a certificate by decimal ID or SHA-256 fingerprint.
func (s *Service) certificate(ctx context.Context, ref string) (*inventory.Certificate, error) {
	fp := strings.ToLower(strings.ReplaceAll(ref, ":", ""))
	var (
		c   *inventory.Certificate
		err error
	)
	if sha256Ref.MatchString(fp) {
		c, err = s.st.CertificateBySHA256(ctx, fp)
	} else if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil && id > 0 {
		c, err = s.st.GetCertificate(ctx, id)
	} else {
		return nil, fmt.Errorf("revocation: %q is neither a certificate ID nor a SHA-256 fingerprint", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("revocation: certificate %s: %w", ref, err)
	}
	return c, nil
}

// issuingCA finds the certkeeper CA whose certificate issued c.
func (s *Service) issuingCA(ctx context.Context, c *inventory.Certificate) (*inventory.CA, error) {
	if c.IssuerID != 0 {
		cas, err := s.st.ListCAs(ctx)
		if err != nil {
			return nil, fmt.Errorf("revocation: %w", err)
		}
		for i := range cas {
			if cas[i].CertificateID == c.IssuerID {
				return &cas[i], nil
			}
		}
	}
	return nil, &NotIssuedError{CertificateID: c.ID, Issuer: c.Issuer}
}
