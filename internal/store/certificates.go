package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// insertCertificate adds one certificate unless its sha256 is stored, and
// links it to its key (by SPKI hash) and to its issuer when those are
// stored. The issuer is a CA or self-signed certificate whose subject DN is
// the certificate's issuer DN and, when both key identifiers are present,
// whose subject key ID is the certificate's authority key ID; among several
// it prefers a matching key ID, then the latest NotAfter. A self-signed
// certificate gets no issuer (NULL).
const insertCertificate = `INSERT INTO certificates (sha256, sha1, serial, subject, common_name, issuer, sans,
	not_before, not_after, is_ca, self_signed, subject_key_id, authority_key_id, key_algorithm, key_bits,
	signature_algorithm, spki_sha256, der, source, internal, revoked_at, created_at, key_id, issuer_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
	(SELECT k.id FROM keys k WHERE k.spki_sha256 = ?),
	CASE WHEN ? THEN NULL ELSE (SELECT i.id FROM certificates i
		WHERE i.subject = ? AND (i.is_ca OR i.self_signed)
		AND (? = '' OR i.subject_key_id = '' OR i.subject_key_id = ?)
		ORDER BY CASE WHEN i.subject_key_id = ? THEN 0 ELSE 1 END, i.not_after DESC, i.id
		LIMIT 1) END)
ON CONFLICT (sha256) DO NOTHING RETURNING id`

// backfillIssuer links stored certificates still without an issuer to a
// newly added CA certificate, by the same rule as insertCertificate.
const backfillIssuer = `UPDATE certificates SET issuer_id = ?
WHERE issuer = ? AND issuer_id IS NULL AND NOT self_signed AND id <> ?
	AND (? = '' OR authority_key_id = '' OR authority_key_id = ?)`

const (
	certificateBySHA = "SELECT id FROM certificates WHERE sha256 = ?"
	insertCertLabel  = "INSERT INTO certificate_labels (certificate_id, label) VALUES (?, ?) ON CONFLICT DO NOTHING"
)

// indexCertificates adds certificates, given as a JSON array of IDs, to the
// SQLite text-search index (migration 0007). It runs once per transaction,
// after the inserts: FTS5 writes its pending index data at every statement
// savepoint once it is part of a transaction, so indexing row by row (by a
// trigger) would write a tiny index segment per certificate and merge them
// all, more than halving the import rate.
const indexCertificates = `INSERT INTO certificates_search (rowid, subject, sans, serial, sha256)
SELECT id, subject, sans, serial, sha256 FROM certificates WHERE id IN (SELECT value FROM json_each(?))`

// certBatch holds the statements PutCertificates prepares once per
// transaction, and the IDs of the certificates it added.
type certBatch struct {
	s                               *db
	insert, existing, label, relink *sql.Stmt
	added                           []int64
}

// PutCertificates stores certs in one transaction; see inventory.Store.
// Certificates already stored (same SHA256) are not changed except that
// new labels are added to them. Input ID, IssuerID and KeyID are ignored:
// links are always derived from the stored keys and certificates (a
// self-signed certificate has IssuerID 0). CreatedAt defaults to now.
// Rows are written in SHA256 order so that concurrent batches on
// PostgreSQL take row locks in the same order and do not deadlock.
func (s *db) PutCertificates(ctx context.Context, certs []*inventory.Certificate) ([]inventory.PutResult, error) {
	if err := checkCerts(certs); err != nil {
		return nil, err
	}
	var results []inventory.PutResult
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		results, err = s.putCertsTx(ctx, tx, certs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// putCertsTx is PutCertificates inside tx. certs were checked by
// checkCerts.
func (s *db) putCertsTx(ctx context.Context, tx *sql.Tx, certs []*inventory.Certificate) ([]inventory.PutResult, error) {
	order := make([]int, len(certs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return certs[order[a]].SHA256 < certs[order[b]].SHA256 })
	results := make([]inventory.PutResult, len(certs))
	b, err := s.prepareCertBatch(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer b.close()
	for _, i := range order {
		if results[i], err = b.put(ctx, certs[i]); err != nil {
			return nil, err
		}
	}
	return results, b.index(ctx, tx)
}

func checkCerts(certs []*inventory.Certificate) error {
	for i, c := range certs {
		if c == nil || c.SHA256 == "" {
			return fmt.Errorf("store: put certificates: item %d has no sha256", i)
		}
	}
	return nil
}

func (s *db) prepareCertBatch(ctx context.Context, tx *sql.Tx) (*certBatch, error) {
	b := &certBatch{s: s}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&b.insert, insertCertificate},
		{&b.existing, certificateBySHA},
		{&b.label, insertCertLabel},
		{&b.relink, backfillIssuer},
	} {
		st, err := tx.PrepareContext(ctx, s.q(p.query))
		if err != nil {
			b.close()
			return nil, wrap("put certificates: prepare", err)
		}
		*p.dst = st
	}
	return b, nil
}

func (b *certBatch) close() {
	for _, st := range []*sql.Stmt{b.insert, b.existing, b.label, b.relink} {
		if st != nil {
			st.Close()
		}
	}
}

// put stores one certificate of the batch.
func (b *certBatch) put(ctx context.Context, c *inventory.Certificate) (inventory.PutResult, error) {
	var res inventory.PutResult
	err := b.insert.QueryRowContext(ctx, b.insertArgs(c)...).Scan(&res.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = b.existing.QueryRowContext(ctx, c.SHA256).Scan(&res.ID)
		if err != nil {
			return res, wrap("put certificates: existing "+c.SHA256, err)
		}
	case err != nil:
		return res, wrap("put certificates: insert "+c.SHA256, err)
	default:
		res.Added = true
		b.added = append(b.added, res.ID)
	}
	for _, l := range c.Labels {
		if _, err := b.label.ExecContext(ctx, res.ID, l); err != nil {
			return res, wrap("put certificates: label", err)
		}
	}
	if res.Added && (c.IsCA || c.SelfSigned) {
		_, err := b.relink.ExecContext(ctx, res.ID, c.Subject, res.ID, c.SubjectKeyID, c.SubjectKeyID)
		if err != nil {
			return res, wrap("put certificates: link issued certificates", err)
		}
	}
	return res, nil
}

// index adds the certificates of the batch to the SQLite text-search
// index; it must be the batch's last statement in tx. PostgreSQL indexes
// rows itself.
func (b *certBatch) index(ctx context.Context, tx *sql.Tx) error {
	if b.s.dialect != sqliteDialect || len(b.added) == 0 {
		return nil
	}
	ids, err := json.Marshal(b.added)
	if err != nil {
		return wrap("put certificates: index", err)
	}
	_, err = tx.ExecContext(ctx, indexCertificates, string(ids))
	return wrapIf("put certificates: index", err)
}

func (b *certBatch) insertArgs(c *inventory.Certificate) []any {
	s := b.s
	return []any{
		c.SHA256, c.SHA1, c.Serial, c.Subject, c.CommonName, c.Issuer, joinList(c.SANs),
		s.t(c.NotBefore), s.t(c.NotAfter), c.IsCA, c.SelfSigned, c.SubjectKeyID, c.AuthorityKeyID,
		string(c.KeyAlgorithm), c.KeyBits, c.SignatureAlgorithm, c.SPKISHA256, c.DER, c.Source, c.Internal,
		s.nullT(c.RevokedAt), s.t(s.stamp(c.CreatedAt)),
		c.SPKISHA256,
		c.SelfSigned, c.Issuer, c.AuthorityKeyID, c.AuthorityKeyID, c.AuthorityKeyID,
	}
}

// GetCertificate returns the certificate with the given ID, or
// inventory.ErrNotFound.
func (s *db) GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error) {
	return s.oneCertificate(ctx, "get certificate", "c.id = ?", id)
}

// CertificateBySHA256 returns the certificate with the given lowercase hex
// SHA-256 fingerprint, or inventory.ErrNotFound.
func (s *db) CertificateBySHA256(ctx context.Context, sha256 string) (*inventory.Certificate, error) {
	return s.oneCertificate(ctx, "certificate by sha256", "c.sha256 = ?", sha256)
}

func (s *db) oneCertificate(ctx context.Context, op, cond string, arg any) (*inventory.Certificate, error) {
	certs, err := s.queryCertificates(ctx, "SELECT "+certColumns+" FROM certificates c WHERE "+cond, arg)
	if err != nil {
		return nil, wrap(op, err)
	}
	if len(certs) == 0 {
		return nil, wrap(op, inventory.ErrNotFound)
	}
	return &certs[0], nil
}

// maxChain bounds Chain, which also stops at a certificate seen before.
const maxChain = 10

// Chain returns the certificate with the given ID followed by its stored
// issuers, up to a self-signed root, the first issuer not in the store, or
// maxChain certificates.
func (s *db) Chain(ctx context.Context, id int64) ([]inventory.Certificate, error) {
	seen := make(map[int64]bool)
	var out []inventory.Certificate
	for next := id; next != 0 && !seen[next] && len(out) < maxChain; {
		c, err := s.GetCertificate(ctx, next)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
		seen[next] = true
		next = c.IssuerID
		if c.SelfSigned {
			next = 0
		}
	}
	return out, nil
}
