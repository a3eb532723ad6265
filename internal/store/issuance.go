package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ReserveSerials durably reserves serials for CA caID in one transaction.
// A serial the CA ever reserved gives inventory.ErrConflict and reserves
// nothing of the batch.
func (s *db) ReserveSerials(ctx context.Context, caID int64, serials []string) error {
	sorted := append([]string(nil), serials...)
	sort.Strings(sorted) // same lock order for concurrent batches on PostgreSQL
	now := s.t(s.now())
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		st, err := s.stmt(ctx, tx, reserveSerial)
		if err != nil {
			return wrap("reserve serials: prepare", err)
		}
		for _, serial := range sorted {
			if serial == "" {
				return errors.New("store: reserve serials: empty serial")
			}
			res, err := st.ExecContext(ctx, caID, serial, now)
			if err != nil {
				return wrap("reserve serials", err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("store: reserve serials: ca %d serial %s: %w", caID, serial, errors.Join(inventory.ErrConflict, err))
			}
		}
		return nil
	})
}

// RecordIssuances stores the issued certificates, marks their serials used
// and appends their audit events, all in one transaction. A serial not
// reserved for the CA, or already used, gives inventory.ErrConflict and
// records nothing.
func (s *db) RecordIssuances(ctx context.Context, iss []inventory.Issuance) ([]int64, error) {
	order := make([]int, len(iss))
	for i := range iss {
		if iss[i].Certificate == nil || iss[i].Certificate.SHA256 == "" || iss[i].Certificate.Serial == "" {
			return nil, fmt.Errorf("store: record issuances: item %d has no certificate, sha256 or serial", i)
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return iss[order[a]].Certificate.SHA256 < iss[order[b]].Certificate.SHA256 })
	ids := make([]int64, len(iss))
	if err := s.prepareHot(ctx); err != nil {
		return nil, err
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		b, err := s.cachedCertBatch(ctx, tx)
		if err != nil {
			return err
		}
		for _, i := range order {
			if ids[i], err = s.recordOne(ctx, tx, b, &iss[i]); err != nil {
				return err
			}
		}
		return b.index(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// recordOne stores one issuance of a RecordIssuances batch.
func (s *db) recordOne(ctx context.Context, tx *sql.Tx, b *certBatch, is *inventory.Issuance) (int64, error) {
	c := is.Certificate
	if is.Key != nil {
		if err := s.putKeyTx(ctx, tx, is.Key); err != nil {
			return 0, err
		}
	}
	res, err := b.put(ctx, c)
	if err != nil {
		return 0, err
	}
	st, err := s.stmt(ctx, tx, useSerial)
	if err != nil {
		return 0, wrap("record issuances: prepare", err)
	}
	upd, err := st.ExecContext(ctx, res.ID, is.CAID, c.Serial)
	if err != nil {
		return 0, wrap("record issuances: serial", err)
	}
	if n, err := upd.RowsAffected(); err != nil || n != 1 || !res.Added {
		return 0, fmt.Errorf("store: record issuances: ca %d serial %s not reserved or already used: %w",
			is.CAID, c.Serial, errors.Join(inventory.ErrConflict, err))
	}
	if is.Audit != nil {
		if is.Audit.Object == "" {
			is.Audit.Object = inventory.ObjectRef(inventory.KindCertificate, res.ID)
		}
		if err := s.appendAuditTx(ctx, tx, is.Audit); err != nil {
			return 0, err
		}
	}
	return res.ID, nil
}

// appendAuditTx is AppendAudit inside a transaction.
func (s *db) appendAuditTx(ctx context.Context, tx *sql.Tx, e *inventory.AuditEvent) error {
	at := s.stamp(e.Time)
	st, err := s.stmt(ctx, tx, insertAudit)
	if err != nil {
		return wrap("append audit: prepare", err)
	}
	var id int64
	err = st.QueryRowContext(ctx, s.t(at), e.Actor, e.Action, e.Object, e.Summary).Scan(&id)
	if err != nil {
		return wrap("append audit", err)
	}
	e.ID, e.Time = id, at
	return nil
}

// putKeyTx stores k in tx unless its public key is stored, and sets k.ID.
// Certificates stored after it in the transaction link to it.
func (s *db) putKeyTx(ctx context.Context, tx *sql.Tx, k *inventory.Key) error {
	if k.SPKISHA256 == "" || len(k.Sealed) == 0 {
		return errors.New("store: record issuances: key needs spki hash and sealed key")
	}
	st, err := s.stmt(ctx, tx, insertKey)
	if err != nil {
		return wrap("record issuances: prepare", err)
	}
	err = st.QueryRowContext(ctx, k.SPKISHA256, string(k.Algorithm), k.Bits, k.Sealed, joinList(k.Labels),
		s.t(s.stamp(k.CreatedAt))).Scan(&k.ID)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, s.q("SELECT id FROM keys WHERE spki_sha256 = ?"), k.SPKISHA256).Scan(&k.ID)
	}
	return wrapIf("record issuances: key", err)
}

// Statements of the issuance hot path.
const (
	reserveSerial = `INSERT INTO serials (ca_id, serial, reserved_at) VALUES (?, ?, ?)
		ON CONFLICT (ca_id, serial) DO NOTHING`
	useSerial = `UPDATE serials SET certificate_id = ?
		WHERE ca_id = ? AND serial = ? AND certificate_id IS NULL`
	insertAudit = `INSERT INTO audit_events (time, actor, action, object, summary)
		VALUES (?, ?, ?, ?, ?) RETURNING id`
	insertKey = `INSERT INTO keys (spki_sha256, algorithm, bits, sealed, labels, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (spki_sha256) DO NOTHING RETURNING id`
)

// stmtCache holds statements prepared once on the writer pool. Parsing
// the certificate insert costs about as much as running it on SQLite;
// database/sql keeps each statement prepared per connection, and
// Tx.StmtContext reuses it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// hotQueries are the statements stmt serves.
var hotQueries = []string{reserveSerial, useSerial, insertAudit, insertKey,
	insertCertificate, certificateBySHA, insertCertLabel, backfillIssuer,
	endpointExists, insertEndpointRes, setEndpointResult}

// prepareHot prepares the hot-path statements once. It must run outside a
// transaction: the SQLite writer pool has a single connection, which a
// transaction holds.
func (s *db) prepareHot(ctx context.Context) error {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if s.stmts.m != nil {
		return nil
	}
	if s.tx != nil {
		// InTx prepared them before it began; preparing on the
		// transaction would cache statements that die with it.
		return errors.New("store: statements not prepared before the transaction")
	}
	m := make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		st, err := s.wdb.PrepareContext(ctx, s.q(q))
		if err != nil {
			for _, p := range m {
				p.Close()
			}
			return wrap("prepare", err)
		}
		m[q] = st
	}
	s.stmts.m = m
	return nil
}

// stmt returns a hot query prepared by prepareHot, bound to tx.
func (s *db) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	st := s.stmts.m[query]
	s.stmts.mu.Unlock()
	if st == nil {
		return nil, fmt.Errorf("store: statement not prepared: %.40s", query)
	}
	return tx.StmtContext(ctx, st), nil
}

// cachedCertBatch is prepareCertBatch with cached statements.
func (s *db) cachedCertBatch(ctx context.Context, tx *sql.Tx) (*certBatch, error) {
	b := &certBatch{s: s}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&b.insert, insertCertificate}, {&b.existing, certificateBySHA},
		{&b.label, insertCertLabel}, {&b.relink, backfillIssuer},
	} {
		st, err := s.stmt(ctx, tx, p.query)
		if err != nil {
			return nil, wrap("record issuances: prepare", err)
		}
		*p.dst = st
	}
	return b, nil
}
