package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const caColumns = "id, name, status, parent_id, key_id, certificate_id, csr_id, policy, issuance, is_default, created_at"

// PutCA stores a new CA and sets c.ID (and c.CreatedAt when zero). A name
// in use gives inventory.ErrConflict. When c.Default is set the previous
// default CA stops being the default, in the same transaction.
func (s *db) PutCA(ctx context.Context, c *inventory.CA) error {
	policy, issuance, err := caPolicies(c)
	if err != nil {
		return fmt.Errorf("store: put ca: %w", err)
	}
	created := s.stamp(c.CreatedAt)
	var id int64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.clearDefault(ctx, tx, c.Default); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO cas (name, status, parent_id, key_id, certificate_id, csr_id,
			policy, issuance, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`),
			c.Name, string(c.Status), nullID(c.ParentID), c.KeyID, nullID(c.CertificateID), nullID(c.CSRID),
			string(policy), issuance, c.Default, s.t(created)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: put ca: name %q in use: %w", c.Name, inventory.ErrConflict)
		}
		return wrapIf("put ca", err)
	})
	if err != nil {
		return err
	}
	c.ID, c.CreatedAt = id, created
	return nil
}

// caPolicies encodes a CA's name policy and issuance policy (NULL when
// nil: the default).
func caPolicies(c *inventory.CA) (string, sql.NullString, error) {
	policy, err := json.Marshal(c.Policy)
	if err != nil {
		return "", sql.NullString{}, fmt.Errorf("policy: %w", err)
	}
	if c.Issuance == nil {
		return string(policy), sql.NullString{}, nil
	}
	issuance, err := json.Marshal(c.Issuance)
	if err != nil {
		return "", sql.NullString{}, fmt.Errorf("issuance policy: %w", err)
	}
	return string(policy), sql.NullString{String: string(issuance), Valid: true}, nil
}

// clearDefault removes the default flag from every CA when on is set.
func (s *db) clearDefault(ctx context.Context, tx *sql.Tx, on bool) error {
	if !on {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.q("UPDATE cas SET is_default = ? WHERE is_default"), false)
	return wrapIf("clear default ca", err)
}

// UpdateCA changes c's status, certificate, request, policies and
// default flag. An unknown ID gives inventory.ErrNotFound.
func (s *db) UpdateCA(ctx context.Context, c *inventory.CA) error {
	policy, issuance, err := caPolicies(c)
	if err != nil {
		return fmt.Errorf("store: update ca: %w", err)
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.clearDefault(ctx, tx, c.Default); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE cas SET status = ?, certificate_id = ?, csr_id = ?, policy = ?,
			issuance = ?, is_default = ? WHERE id = ?`), string(c.Status), nullID(c.CertificateID), nullID(c.CSRID),
			policy, issuance, c.Default, c.ID)
		if err != nil {
			return wrap("update ca", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return wrap(fmt.Sprintf("update ca %d", c.ID), errors.Join(inventory.ErrNotFound, err))
		}
		return nil
	})
}

// GetCA returns the CA with the given ID, or inventory.ErrNotFound.
func (s *db) GetCA(ctx context.Context, id int64) (*inventory.CA, error) {
	return s.oneCA(ctx, "get ca", "id = ?", id)
}

// CAByName returns the CA named name, or inventory.ErrNotFound.
func (s *db) CAByName(ctx context.Context, name string) (*inventory.CA, error) {
	return s.oneCA(ctx, fmt.Sprintf("ca %q", name), "name = ?", name)
}

// DefaultCA returns the default CA, or inventory.ErrNotFound.
func (s *db) DefaultCA(ctx context.Context) (*inventory.CA, error) {
	return s.oneCA(ctx, "default ca", "is_default = ?", true)
}

func (s *db) oneCA(ctx context.Context, op, cond string, arg any) (*inventory.CA, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+caColumns+" FROM cas WHERE "+cond), arg)
	c, err := scanCA(row)
	if err != nil {
		return nil, wrap(op, err)
	}
	return c, nil
}

// ListCAs returns every CA in ID order.
func (s *db) ListCAs(ctx context.Context) ([]inventory.CA, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+caColumns+" FROM cas ORDER BY id")
	if err != nil {
		return nil, wrap("list cas", err)
	}
	defer rows.Close()
	var out []inventory.CA
	for rows.Next() {
		c, err := scanCA(rows)
		if err != nil {
			return nil, wrap("list cas", err)
		}
		out = append(out, *c)
	}
	return out, wrapIf("list cas", rows.Err())
}

func scanCA(row interface{ Scan(...any) error }) (*inventory.CA, error) {
	var c inventory.CA
	var status, policy string
	var issuance sql.NullString
	err := row.Scan(&c.ID, &c.Name, &status, idCol{&c.ParentID}, &c.KeyID, idCol{&c.CertificateID},
		idCol{&c.CSRID}, &policy, &issuance, &c.Default, timeCol{&c.CreatedAt})
	if err != nil {
		return nil, err
	}
	c.Status = inventory.CAStatus(status)
	if err := json.Unmarshal([]byte(policy), &c.Policy); err != nil {
		return nil, fmt.Errorf("ca %d: policy: %w", c.ID, err)
	}
	if issuance.Valid {
		c.Issuance = new(inventory.IssuancePolicy)
		if err := json.Unmarshal([]byte(issuance.String), c.Issuance); err != nil {
			return nil, fmt.Errorf("ca %d: issuance policy: %w", c.ID, err)
		}
	}
	return &c, nil
}
