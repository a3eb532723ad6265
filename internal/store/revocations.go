package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Revoke records r, sets the certificate's revoked_at and revocation
// reason, and appends audit, in one transaction. When r.CertificateID is
// zero the certificate is found by the CA's serial record; when r.Serial
// is empty it is taken from the certificate. A certificate or serial
// already revoked gives inventory.ErrConflict; an unknown one
// inventory.ErrNotFound.
func (s *db) Revoke(ctx context.Context, r *inventory.Revocation, audit *inventory.AuditEvent) error {
	at := s.stamp(r.RevokedAt)
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.resolveRevoked(ctx, tx, r); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO revocations (ca_id, serial, certificate_id, revoked_at, reason)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (ca_id, serial) DO NOTHING`), r.CAID, r.Serial, r.CertificateID, s.t(at), r.Reason)
		if err != nil {
			return wrap("revoke", err)
		}
		if err := oneRow(res, "revoke: serial "+r.Serial+" already revoked"); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, s.q(`UPDATE certificates SET revoked_at = ?, revocation_reason = ?
			WHERE id = ? AND revoked_at IS NULL`), s.t(at), r.Reason, r.CertificateID)
		if err != nil {
			return wrap("revoke: certificate", err)
		}
		if err := oneRow(res, fmt.Sprintf("revoke: certificate %d already revoked", r.CertificateID)); err != nil {
			return err
		}
		if audit == nil {
			return nil
		}
		return s.appendAuditTx(ctx, tx, audit)
	})
	if err != nil {
		return err
	}
	r.RevokedAt = at
	return nil
}

// oneRow turns an update that touched no row into inventory.ErrConflict.
func oneRow(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(what, err)
	}
	if n != 1 {
		return fmt.Errorf("store: %s: %w", what, inventory.ErrConflict)
	}
	return nil
}

// resolveRevoked fills in the certificate ID or serial of r.
func (s *db) resolveRevoked(ctx context.Context, tx *sql.Tx, r *inventory.Revocation) error {
	switch {
	case r.CertificateID == 0 && r.Serial == "":
		return errors.New("store: revoke: a certificate ID or serial is required")
	case r.CertificateID == 0:
		var id sql.NullInt64
		err := tx.QueryRowContext(ctx, s.q("SELECT certificate_id FROM serials WHERE ca_id = ? AND serial = ?"),
			r.CAID, r.Serial).Scan(&id)
		if err == nil && !id.Valid {
			err = sql.ErrNoRows
		}
		r.CertificateID = id.Int64
		return wrapIf("revoke: serial "+r.Serial, err)
	case r.Serial == "":
		err := tx.QueryRowContext(ctx, s.q("SELECT serial FROM certificates WHERE id = ?"), r.CertificateID).Scan(&r.Serial)
		return wrapIf(fmt.Sprintf("revoke: certificate %d", r.CertificateID), err)
	}
	return nil
}

// ListRevocations returns every revocation of CA caID, oldest first.
func (s *db) ListRevocations(ctx context.Context, caID int64) ([]inventory.Revocation, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT r.ca_id, r.certificate_id, r.serial, r.revoked_at, r.reason, c.not_after
		FROM revocations r JOIN certificates c ON c.id = r.certificate_id
		WHERE r.ca_id = ? ORDER BY r.revoked_at, r.serial`), caID)
	if err != nil {
		return nil, wrap("list revocations", err)
	}
	defer rows.Close()
	var out []inventory.Revocation
	for rows.Next() {
		var r inventory.Revocation
		if err := rows.Scan(&r.CAID, &r.CertificateID, &r.Serial, timeCol{&r.RevokedAt}, &r.Reason, timeCol{&r.NotAfter}); err != nil {
			return nil, wrap("list revocations", err)
		}
		out = append(out, r)
	}
	return out, wrapIf("list revocations", rows.Err())
}

// SerialStatus reports whether CA caID recorded a certificate with serial
// and whether it was revoked. An unknown serial is not an error: Issued is
// false.
func (s *db) SerialStatus(ctx context.Context, caID int64, serial string) (*inventory.SerialStatus, error) {
	var st inventory.SerialStatus
	var certID sql.NullInt64
	err := s.r.QueryRowContext(ctx, s.q("SELECT certificate_id FROM serials WHERE ca_id = ? AND serial = ?"),
		caID, serial).Scan(&certID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap("serial status", err)
	}
	st.Issued = certID.Valid
	var r inventory.Revocation
	err = s.r.QueryRowContext(ctx, s.q(`SELECT ca_id, certificate_id, serial, revoked_at, reason
		FROM revocations WHERE ca_id = ? AND serial = ?`), caID, serial).
		Scan(&r.CAID, &r.CertificateID, &r.Serial, timeCol{&r.RevokedAt}, &r.Reason)
	switch {
	case err == nil:
		st.Revocation = &r
	case !errors.Is(err, sql.ErrNoRows):
		return nil, wrap("serial status", err)
	}
	return &st, nil
}

// NextCRLNumber increments and returns CA caID's CRL number (1 for the
// first CRL), or inventory.ErrNotFound for an unknown CA.
func (s *db) NextCRLNumber(ctx context.Context, caID int64) (int64, error) {
	var n int64
	err := s.w.QueryRowContext(ctx, s.q("UPDATE cas SET crl_number = crl_number + 1 WHERE id = ? RETURNING crl_number"),
		caID).Scan(&n)
	if err != nil {
		return 0, wrap(fmt.Sprintf("next crl number of ca %d", caID), err)
	}
	return n, nil
}

// PutCRL stores c as the CA's latest CRL unless one with a higher or equal
// number is stored already (then it does nothing).
func (s *db) PutCRL(ctx context.Context, c *inventory.CRL) error {
	if len(c.DER) == 0 {
		return errors.New("store: put crl: der is required")
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO crls (ca_id, number, this_update, next_update, der)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (ca_id) DO UPDATE SET number = excluded.number,
		this_update = excluded.this_update, next_update = excluded.next_update, der = excluded.der
		WHERE crls.number < excluded.number`), c.CAID, c.Number, s.t(c.ThisUpdate), s.t(c.NextUpdate), c.DER)
	return wrapIf("put crl", err)
}

// LatestCRL returns CA caID's newest CRL, or inventory.ErrNotFound.
func (s *db) LatestCRL(ctx context.Context, caID int64) (*inventory.CRL, error) {
	var c inventory.CRL
	err := s.r.QueryRowContext(ctx, s.q("SELECT ca_id, number, this_update, next_update, der FROM crls WHERE ca_id = ?"),
		caID).Scan(&c.CAID, &c.Number, timeCol{&c.ThisUpdate}, timeCol{&c.NextUpdate}, &c.DER)
	if err != nil {
		return nil, wrap(fmt.Sprintf("latest crl of ca %d", caID), err)
	}
	return &c, nil
}
