package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const keyColumns = "id, spki_sha256, algorithm, bits, sealed, labels, created_at"

// rewrapChunk is how many sealed keys RewrapKeys holds in memory at once.
const rewrapChunk = 100

// PutKey stores k unless a key with the same SPKISHA256 exists, and links
// the certificates and CSRs with that public key to it. k.ID and
// k.CreatedAt are ignored (CreatedAt defaults to now when zero).
func (s *db) PutKey(ctx context.Context, k *inventory.Key) (int64, bool, error) {
	if err := checkKey(k); err != nil {
		return 0, false, err
	}
	var res inventory.PutResult
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = s.putKeyLinked(ctx, tx, k)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return res.ID, res.Added, nil
}

func checkKey(k *inventory.Key) error {
	if k.SPKISHA256 == "" || len(k.Sealed) == 0 {
		return errors.New("store: put key: spki hash and sealed key are required")
	}
	for _, l := range k.Labels {
		if l == "" || strings.ContainsRune(l, '\n') {
			return fmt.Errorf("store: put key: bad label %q", l)
		}
	}
	return nil
}

// putKeyLinked is PutKey inside tx: a new key is linked to the stored
// certificates and CSRs of its public key.
func (s *db) putKeyLinked(ctx context.Context, tx *sql.Tx, k *inventory.Key) (inventory.PutResult, error) {
	var id int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO keys (spki_sha256, algorithm, bits, sealed, labels, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (spki_sha256) DO NOTHING RETURNING id`),
		k.SPKISHA256, string(k.Algorithm), k.Bits, k.Sealed, joinList(k.Labels), s.t(s.stamp(k.CreatedAt)),
	).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, s.q("SELECT id FROM keys WHERE spki_sha256 = ?"), k.SPKISHA256).Scan(&id)
		return inventory.PutResult{ID: id}, wrapIf("put key: existing", err)
	}
	if err != nil {
		return inventory.PutResult{}, wrap("put key", err)
	}
	return inventory.PutResult{ID: id, Added: true}, s.linkKey(ctx, tx, id, k.SPKISHA256)
}

// linkKey points unlinked certificates and CSRs with public key spki at key id.
func (s *db) linkKey(ctx context.Context, tx *sql.Tx, id int64, spki string) error {
	for _, table := range []string{"certificates", "csrs"} {
		query := "UPDATE " + table + " SET key_id = ? WHERE spki_sha256 = ? AND key_id IS NULL"
		if _, err := tx.ExecContext(ctx, s.q(query), id, spki); err != nil {
			return wrap("link key to "+table, err)
		}
	}
	return nil
}

// GetKey returns the key with the given ID, or inventory.ErrNotFound.
func (s *db) GetKey(ctx context.Context, id int64) (*inventory.Key, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+keyColumns+" FROM keys WHERE id = ?"), id)
	k, err := scanKey(row)
	if err != nil {
		return nil, wrap("get key", err)
	}
	return k, nil
}

// KeyBySPKI returns the key whose public key hash is spkiSHA256, or
// inventory.ErrNotFound.
func (s *db) KeyBySPKI(ctx context.Context, spkiSHA256 string) (*inventory.Key, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+keyColumns+" FROM keys WHERE spki_sha256 = ?"), spkiSHA256)
	k, err := scanKey(row)
	if err != nil {
		return nil, wrap("key by spki", err)
	}
	return k, nil
}

// ListKeys returns one page of keys in ID order and the cursor of the next
// page ("" on the last page).
func (s *db) ListKeys(ctx context.Context, p inventory.Page) ([]inventory.Key, string, error) {
	cur, err := decodeCursor(p.After, 1)
	if err != nil {
		return nil, "", err
	}
	n := limit(p)
	rows, err := s.r.QueryContext(ctx, s.q("SELECT "+keyColumns+" FROM keys WHERE id > ? ORDER BY id LIMIT ?"), cur[0], n+1)
	if err != nil {
		return nil, "", wrap("list keys", err)
	}
	defer rows.Close()
	var out []inventory.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, "", wrap("list keys", err)
		}
		out = append(out, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("list keys", err)
	}
	if len(out) <= n {
		return out, "", nil
	}
	out = out[:n]
	return out, encodeCursor(out[n-1].ID), nil
}

// RewrapKeys replaces every key's sealed form with rewrap's result in one
// transaction, reading the keys in chunks so memory stays bounded. When
// rewrap fails nothing is changed.
func (s *db) RewrapKeys(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error) {
	total := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		total = 0
		for after := int64(0); ; {
			ids, sealed, err := s.sealedChunk(ctx, tx, after)
			if err != nil || len(ids) == 0 {
				return err
			}
			for i, id := range ids {
				if err := s.rewrapOne(ctx, tx, id, sealed[i], rewrap); err != nil {
					return err
				}
			}
			total += len(ids)
			after = ids[len(ids)-1]
		}
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// sealedChunk reads the next rewrapChunk keys after ID after.
func (s *db) sealedChunk(ctx context.Context, tx *sql.Tx, after int64) ([]int64, [][]byte, error) {
	rows, err := tx.QueryContext(ctx, s.q("SELECT id, sealed FROM keys WHERE id > ? ORDER BY id LIMIT ?"), after, rewrapChunk)
	if err != nil {
		return nil, nil, wrap("rewrap keys: read", err)
	}
	defer rows.Close()
	var ids []int64
	var sealed [][]byte
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, nil, wrap("rewrap keys: read", err)
		}
		ids, sealed = append(ids, id), append(sealed, b)
	}
	return ids, sealed, wrapIf("rewrap keys: read", rows.Err())
}

func (s *db) rewrapOne(ctx context.Context, tx *sql.Tx, id int64, old []byte, rewrap func([]byte) ([]byte, error)) error {
	fresh, err := rewrap(old)
	if err != nil {
		return fmt.Errorf("store: rewrap key %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, s.q("UPDATE keys SET sealed = ? WHERE id = ?"), fresh, id); err != nil {
		return wrap(fmt.Sprintf("rewrap key %d: update", id), err)
	}
	return nil
}

// scanKey reads one row of keyColumns.
func scanKey(row interface{ Scan(...any) error }) (*inventory.Key, error) {
	var k inventory.Key
	var alg, labels string
	err := row.Scan(&k.ID, &k.SPKISHA256, &alg, &k.Bits, &k.Sealed, &labels, timeCol{&k.CreatedAt})
	if err != nil {
		return nil, err
	}
	k.Algorithm = inventory.KeyAlgorithm(alg)
	k.Labels = splitList(labels)
	return &k, nil
}

// sealedSampleQueries each read at most one sealed secret: the oldest and
// the newest private key, a vendor-account password, a target's secrets
// and a notification channel's secret.
var sealedSampleQueries = []string{
	"SELECT sealed FROM keys ORDER BY id LIMIT 1",
	"SELECT sealed FROM keys ORDER BY id DESC LIMIT 1",
	"SELECT sealed_password FROM vendor_accounts WHERE sealed_password IS NOT NULL ORDER BY id LIMIT 1",
	"SELECT sealed_secrets FROM targets WHERE sealed_secrets IS NOT NULL ORDER BY id LIMIT 1",
	"SELECT sealed_secret FROM channels WHERE sealed_secret IS NOT NULL ORDER BY id LIMIT 1",
}

// SealedSamples returns a few of the secrets sealed under the master key
// (see sealedSampleQueries); none when the inventory holds no sealed
// secret.
func (s *db) SealedSamples(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	for _, q := range sealedSampleQueries {
		var b []byte
		err := s.r.QueryRowContext(ctx, q).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, wrap("sealed samples", err)
		}
		if len(b) > 0 {
			out = append(out, b)
		}
	}
	return out, nil
}
