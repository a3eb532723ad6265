package store

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestCatalogueMigrationKeepsRows checks that 0004_catalogue converts rows
// written under the first schema (lower-case levels, multi_domain) and
// keeps the links of definitions to products.
func TestCatalogueMigrationKeepsRows(t *testing.T) {
	onEmptyDatabases(t, testCatalogueMigration)
}

func testCatalogueMigration(t *testing.T, d *db) {
	ctx := context.Background()
	all := migrateBefore(t, d, 4)
	now := d.t(d.now())
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := d.w.ExecContext(ctx, d.q(query), args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec("INSERT INTO issuers (name, kind, created_at, updated_at) VALUES ('V', 'manual', ?, ?)", now, now)
	exec(`INSERT INTO products (issuer_id, name, validation_level, wildcard, multi_domain, max_validity_days)
		SELECT id, 'Single', 'dv', ?, ?, 397 FROM issuers`, true, false)
	exec(`INSERT INTO products (issuer_id, name, validation_level, wildcard, multi_domain, max_validity_days)
		SELECT id, 'Multi', 'ov', ?, ?, 0 FROM issuers`, false, true)
	exec(`INSERT INTO definitions (name, product_id, created_at, updated_at)
		SELECT 'web', id, ?, ? FROM products WHERE name = 'Multi'`, now, now)
	var issuerID, singleID, multiID int64
	for dst, query := range map[*int64]string{&issuerID: "SELECT id FROM issuers", &singleID: "SELECT id FROM products WHERE name = 'Single'",
		&multiID: "SELECT id FROM products WHERE name = 'Multi'"} {
		if err := d.r.QueryRowContext(ctx, query).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.apply(ctx, all); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	got, err := d.ListProducts(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Product{
		{ID: singleID, IssuerID: issuerID, Name: "Single", ValidationLevel: inventory.LevelDV, Wildcard: true, MaxNames: 1,
			MaxValidityDays: 397},
		{ID: multiID, IssuerID: issuerID, Name: "Multi", ValidationLevel: inventory.LevelOV},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("products after migration (-want +got):\n%s", diff)
	}
	i, err := d.GetIssuer(ctx, issuerID)
	if err != nil || i.Kind != inventory.IssuerManualVendor {
		t.Errorf("issuer after migration = %+v, %v; want manual-vendor", i, err)
	}
	var productID sql.NullInt64
	if err := d.r.QueryRowContext(ctx, "SELECT product_id FROM definitions").Scan(&productID); err != nil ||
		productID.Int64 != multiID {
		t.Errorf("definition's product = %v, %v; want %d", productID, err, multiID)
	}
	// The definition still refers to the (rebuilt) products table: new
	// products get fresh IDs, and deleting one clears the link.
	p := &inventory.Product{IssuerID: issuerID, Name: "New", ValidationLevel: inventory.LevelEV}
	if err := d.PutProduct(ctx, p); err != nil || p.ID <= multiID {
		t.Errorf("PutProduct after migration: ID %d, %v; want an ID above %d", p.ID, err, multiID)
	}
	exec("DELETE FROM products WHERE id = ?", multiID)
	var link sql.NullInt64
	if err := d.r.QueryRowContext(ctx, "SELECT product_id FROM definitions").Scan(&link); err != nil || link.Valid {
		t.Errorf("definition's product after deleting it = %v, %v; want NULL (ON DELETE SET NULL)", link, err)
	}
}
