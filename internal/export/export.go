// Package export hands private keys out of the inventory, alone or with
// their certificates. Every export is audited as "key.export" on the key,
// in the transaction that reads the key: no key leaves unaudited, and an
// export that fails (unknown format, missing password, store error) is
// not audited. The audit summary names the format and the certificate,
// never the password.
package export

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/bundle"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// Action is the audit action of every key export.
const Action = "key.export"

// Store is what an export needs from the inventory: certificate lookups
// and one transaction that reads the key (and certificate) and writes the
// audit event; inventory.Store is one.
type Store interface {
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	CertificateBySHA256(ctx context.Context, sha256 string) (*inventory.Certificate, error)
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// Service exports keys. Its zero value is not usable; make one with New.
type Service struct {
	store  Store
	sealer *keys.Sealer
	now    func() time.Time
}

// New returns a Service over st, opening keys with sealer; now nil means
// time.Now.
func New(st Store, sealer *keys.Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, sealer: sealer, now: now}
}

// KeyRequest asks for a key file.
type KeyRequest struct {
	// Format is pem (PKCS#8 PEM; after the chain when a certificate is
	// bundled), pkcs8 (PKCS#8 DER), pfx or jks.
	Format string
	// Password protects the file; pfx and jks need one, and it encrypts
	// pem and pkcs8 when given.
	Password []byte
	// CertificateID bundles that certificate and its chain with the key;
	// zero bundles none for pem and pkcs8, and the key's certificate that
	// expires last for pfx and jks.
	CertificateID int64
}

// File is an exported file.
type File struct {
	// Name is the suggested file name, key-ID.EXT.
	Name string
	Data []byte
}

// keyFormats are the formats of a key export: the encode target, whether
// a certificate is needed, and the file extension.
var keyFormats = map[string]struct {
	target   format.Target
	needCert bool
	ext      string
}{
	"pem":   {format.TargetKey, false, "pem"},
	"pkcs8": {format.TargetKey, false, "p8"},
	"pfx":   {format.TargetPFX, true, "pfx"},
	"jks":   {format.TargetJKS, true, "jks"},
}

// Key writes key id as a file of req.Format and audits the export as done
// by actor. An unknown format, a missing password or a certificate not
// made with the key give an inventory.FieldError; an unknown key or
// certificate a *NotFoundError (which wraps inventory.ErrNotFound).
func (s *Service) Key(ctx context.Context, actor string, id int64, req KeyRequest) (*File, error) {
	kf, found := keyFormats[req.Format]
	if !found {
		return nil, inventory.Invalid("format", "format %q: want pem, pkcs8, pfx or jks", req.Format)
	}
	var data []byte
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		b, certID, err := s.keyBundle(ctx, tx, id, req.CertificateID, kf.needCert)
		if err != nil {
			return err
		}
		if data, err = encodeKey(b, req, kf.target, certID != 0); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, id, req.Format, certID)
	})
	if err != nil {
		return nil, err
	}
	return &File{Name: fmt.Sprintf("key-%d.%s", id, kf.ext), Data: data}, nil
}

// Certificate loads cert with its known chain and, when withKey is set
// and the inventory holds cert's key, the unsealed key. A bundle with a
// key is returned once its export as as (a format's name) is audited.
func (s *Service) Certificate(ctx context.Context, actor string, cert *inventory.Certificate, as string, withKey bool) (*format.Bundle, error) {
	var b *format.Bundle
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		var keyID int64
		var err error
		if b, keyID, err = bundle.Load(ctx, tx, s.sealer, cert, withKey); err != nil || keyID == 0 {
			return err
		}
		return s.audit(ctx, tx, actor, keyID, as, cert.ID)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// audit records the export of key keyID as as, with certificate certID
// and its chain unless certID is zero.
func (s *Service) audit(ctx context.Context, tx inventory.Store, actor string, keyID int64, as string, certID int64) error {
	summary := fmt.Sprintf("private key exported as %s", as)
	if certID != 0 {
		summary += fmt.Sprintf(" with certificate %d and its chain", certID)
	}
	return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: Action,
		Object: inventory.ObjectRef(inventory.KindKey, keyID), Summary: summary})
}

// keyBundle loads key id with certificate certID (or, when a certificate
// is needed and none is named, the key's latest-expiring certificate) and
// its chain.
func (s *Service) keyBundle(ctx context.Context, tx inventory.Store, id, certID int64, needCert bool) (*format.Bundle, int64, error) {
	if _, err := tx.GetKey(ctx, id); err != nil {
		return nil, 0, notFound(err, "key", id)
	}
	if certID == 0 && needCert {
		var err error
		if certID, err = latestCertificate(ctx, tx, id); err != nil {
			return nil, 0, err
		}
	}
	b := &format.Bundle{}
	if certID != 0 {
		c, err := tx.GetCertificate(ctx, certID)
		if err != nil {
			return nil, 0, notFound(err, "certificate", certID)
		}
		if c.KeyID != id {
			return nil, 0, inventory.Invalid("certificate_id", "certificate %d is not made with key %d", certID, id)
		}
		if b, err = bundle.Certificates(ctx, tx, certID); err != nil {
			return nil, 0, err
		}
	}
	return b, certID, bundle.AddKey(ctx, tx, s.sealer, b, id)
}

// NotFoundError says that the key or certificate an export names does
// not exist. It wraps inventory.ErrNotFound.
type NotFoundError struct {
	// Kind is "key" or "certificate".
	Kind string
	ID   int64
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("export: no %s %d", e.Kind, e.ID) }

// Unwrap returns inventory.ErrNotFound.
func (e *NotFoundError) Unwrap() error { return inventory.ErrNotFound }

func notFound(err error, kind string, id int64) error {
	if errors.Is(err, inventory.ErrNotFound) {
		return &NotFoundError{Kind: kind, ID: id}
	}
	return err
}

// latestCertificate returns the key's certificate that expires last.
func latestCertificate(ctx context.Context, st inventory.Store, keyID int64) (int64, error) {
	f := inventory.CertificateFilter{KeyID: keyID}
	var last int64
	for p := (inventory.Page{Limit: inventory.MaxPageSize}); ; {
		res, err := st.ListCertificates(ctx, f, p)
		if err != nil {
			return 0, err
		}
		if n := len(res.Items); n > 0 {
			last = res.Items[n-1].ID
		}
		if res.Next == "" {
			break
		}
		p.After = res.Next
	}
	if last == 0 {
		return 0, inventory.Invalid("certificate_id", "key %d has no certificate; pfx and jks hold a certificate with the key", keyID)
	}
	return last, nil
}

// encodeKey writes the bundle: pem is the key (after the full chain when
// a certificate was asked for), pkcs8 the key in DER.
func encodeKey(b *format.Bundle, req KeyRequest, t format.Target, withCert bool) ([]byte, error) {
	if (t == format.TargetPFX || t == format.TargetJKS) && len(req.Password) == 0 {
		return nil, inventory.Invalid("password", "format %s needs a password", req.Format)
	}
	if req.Format == "pem" && withCert {
		t = format.TargetCombinedPEM
	}
	data, err := format.Encode(b, t, format.EncodeOptions{Password: req.Password})
	if err != nil || req.Format != "pkcs8" {
		return data, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("export: key: no PEM block")
	}
	return block.Bytes, nil
}
