package store

import (
	"context"
	"errors"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// PutCSR stores a certificate signing request and returns its ID. When
// c.KeyID is zero the request is linked to the stored key with the same
// public key, if any. CreatedAt defaults to now.
func (s *db) PutCSR(ctx context.Context, c *inventory.CSR) (int64, error) {
	if len(c.DER) == 0 || c.SPKISHA256 == "" {
		return 0, errors.New("store: put csr: der and spki hash are required")
	}
	var id int64
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO csrs (subject, sans, spki_sha256, der, created_at, key_id)
		VALUES (?, ?, ?, ?, ?, COALESCE(?, (SELECT k.id FROM keys k WHERE k.spki_sha256 = ?))) RETURNING id`),
		c.Subject, joinList(c.SANs), c.SPKISHA256, c.DER, s.t(s.stamp(c.CreatedAt)), nullID(c.KeyID), c.SPKISHA256,
	).Scan(&id)
	if err != nil {
		return 0, wrap("put csr", err)
	}
	return id, nil
}

// GetCSR returns the request with the given ID, or inventory.ErrNotFound.
func (s *db) GetCSR(ctx context.Context, id int64) (*inventory.CSR, error) {
	var c inventory.CSR
	var sans string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, subject, sans, spki_sha256, key_id, der, created_at
		FROM csrs WHERE id = ?`), id).Scan(&c.ID, &c.Subject, &sans, &c.SPKISHA256, idCol{&c.KeyID}, &c.DER, timeCol{&c.CreatedAt})
	if err != nil {
		return nil, wrap("get csr", err)
	}
	c.SANs = splitList(sans)
	return &c, nil
}
