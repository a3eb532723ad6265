package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// trustSettingName is the settings document holding the system-roots
// switch of the trust store.
const trustSettingName = "trust_store"

// trustSetting is the shape of the "trust_store" settings document.
type trustSetting struct {
	SystemRoots bool `json:"system_roots"`
}

// ListTrustRoots returns the marked roots with their certificates (without
// labels), by certificate ID.
func (s *db) ListTrustRoots(ctx context.Context) ([]inventory.TrustRoot, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+certColumns+`, t.added_by, t.added_at
		FROM trust_roots t JOIN certificates c ON c.id = t.certificate_id ORDER BY c.id`))
	if err != nil {
		return nil, wrap("list trust roots", err)
	}
	defer rows.Close()
	var out []inventory.TrustRoot
	for rows.Next() {
		var r inventory.TrustRoot
		err := scanCertificate(extraScan{rows, []any{&r.AddedBy, timeCol{&r.AddedAt}}}, &r.Certificate)
		if err != nil {
			return nil, wrap("list trust roots", err)
		}
		out = append(out, r)
	}
	return out, wrapIf("list trust roots", rows.Err())
}

// extraScan scans the columns scanCertificate asks for followed by extra.
type extraScan struct {
	row   interface{ Scan(...any) error }
	extra []any
}

// Scan implements the row scanner scanCertificate takes.
func (e extraScan) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

// AddTrustRoot marks certificateID as a trusted root and appends audit,
// in one transaction.
func (s *db) AddTrustRoot(ctx context.Context, certificateID int64, actor string, at time.Time, audit *inventory.AuditEvent) error {
	const op = "add trust root"
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO trust_roots (certificate_id, added_by, added_at)
			SELECT id, ?, ? FROM certificates WHERE id = ? ON CONFLICT (certificate_id) DO NOTHING`),
			actor, s.t(s.stamp(at)), certificateID)
		if err != nil {
			return wrap(op, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(wrapIf(op, err), s.whyNotMarked(ctx, tx, certificateID))
		}
		return s.auditTxIf(ctx, tx, audit)
	})
}

// whyNotMarked explains an insert into trust_roots that stored nothing:
// the certificate is unknown (ErrNotFound) or marked already
// (ErrConflict).
func (s *db) whyNotMarked(ctx context.Context, tx *sql.Tx, certificateID int64) error {
	const op = "add trust root"
	var n int
	err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM certificates WHERE id = ?`), certificateID).Scan(&n)
	switch {
	case err != nil:
		return wrap(op, err)
	case n == 0:
		return fmt.Errorf("store: %s: certificate %d: %w", op, certificateID, inventory.ErrNotFound)
	}
	return fmt.Errorf("store: %s: certificate %d is marked already: %w", op, certificateID, inventory.ErrConflict)
}

// RemoveTrustRoot unmarks certificateID and appends audit, in one
// transaction.
func (s *db) RemoveTrustRoot(ctx context.Context, certificateID int64, audit *inventory.AuditEvent) error {
	const op = "remove trust root"
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM trust_roots WHERE certificate_id = ?`), certificateID)
		if err != nil {
			return wrap(op, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return wrap(op, errors.Join(err, fmt.Errorf("certificate %d is not marked: %w", certificateID, inventory.ErrNotFound)))
		}
		return s.auditTxIf(ctx, tx, audit)
	})
}

// TrustSystemRoots reports the system-roots switch; on when never set.
func (s *db) TrustSystemRoots(ctx context.Context) (bool, error) {
	data, err := s.GetSetting(ctx, trustSettingName)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	var v trustSetting
	if err := json.Unmarshal(data, &v); err != nil {
		return false, fmt.Errorf("store: setting %q: %w", trustSettingName, err)
	}
	return v.SystemRoots, nil
}

// SetTrustSystemRoots stores the system-roots switch and appends audit,
// in one transaction.
func (s *db) SetTrustSystemRoots(ctx context.Context, on bool, audit *inventory.AuditEvent) error {
	value, err := json.Marshal(trustSetting{SystemRoots: on})
	if err != nil {
		return err
	}
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
			trustSettingName, value, s.t(s.now()))
		if err != nil {
			return wrap("set trust system roots", err)
		}
		return s.auditTxIf(ctx, tx, audit)
	})
}

// auditTxIf appends audit in tx unless it is nil.
func (s *db) auditTxIf(ctx context.Context, tx *sql.Tx, audit *inventory.AuditEvent) error {
	if audit == nil {
		return nil
	}
	return s.appendAuditTx(ctx, tx, audit)
}
