package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// onEmptyDatabases runs test on a fresh SQLite file and a fresh
// PostgreSQL database with no migration applied, for tests of what a
// migration does to rows written under an earlier schema.
func onEmptyDatabases(t *testing.T, test func(t *testing.T, d *db)) {
	for _, b := range []struct {
		name    string
		dialect dialect
		pool    func(t *testing.T) *sql.DB
	}{
		{"sqlite", sqliteDialect, func(t *testing.T) *sql.DB {
			p, err := openSQLitePool(filepath.Join(t.TempDir(), "old.db"), true, 1)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"postgres", postgresDialect, func(t *testing.T) *sql.DB {
			p, err := sql.Open("pgx", testenv.PostgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			pool := b.pool(t)
			d := newDB(pool, pool, b.dialect)
			t.Cleanup(func() { d.Close() })
			test(t, d)
		})
	}
}

// migrateBefore applies the migrations numbered below version and returns
// them all, for the test to apply the rest.
func migrateBefore(t *testing.T, d *db, version int64) []migration {
	t.Helper()
	all, err := migrations(d.dialect)
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range all {
		if m.version < version {
			before = append(before, m)
		}
	}
	if err := d.apply(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	return all
}

// insertOldCertificate stores c with the columns of migration 0001 only,
// as code before later migrations did, with its labels, and returns its
// ID.
func insertOldCertificate(t *testing.T, d *db, c *inventory.Certificate) int64 {
	t.Helper()
	ctx := context.Background()
	const insert = `INSERT INTO certificates (sha256, sha1, serial, subject, common_name, issuer, sans,
		not_before, not_after, is_ca, self_signed, subject_key_id, authority_key_id, key_algorithm, key_bits,
		signature_algorithm, spki_sha256, der, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	var id int64
	err := d.w.QueryRowContext(ctx, d.q(insert), c.SHA256, c.SHA1, c.Serial, c.Subject, c.CommonName, c.Issuer,
		joinList(c.SANs), d.t(c.NotBefore), d.t(c.NotAfter), c.IsCA, c.SelfSigned, c.SubjectKeyID,
		c.AuthorityKeyID, string(c.KeyAlgorithm), c.KeyBits, c.SignatureAlgorithm, c.SPKISHA256, c.DER,
		c.Source, d.t(time.Now())).Scan(&id)
	if err != nil {
		t.Fatalf("insert certificate as before: %v", err)
	}
	for _, l := range c.Labels {
		if _, err := d.w.ExecContext(ctx, d.q(insertCertLabel), id, l); err != nil {
			t.Fatalf("insert label as before: %v", err)
		}
	}
	return id
}
