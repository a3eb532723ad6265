package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const (
	issuerColumns  = "id, name, kind, ca_id, url, notes"
	productColumns = "id, issuer_id, name, validation_level, wildcard, max_names, max_validity_days, url, notes"
	accountColumns = "id, issuer_id, name, username, sealed_password, email, url, notes, created_at"
)

// issuerKinds maps inventory issuer kinds to the values the issuers table
// has stored since the first schema.
var issuerKinds = map[inventory.IssuerKind]string{
	inventory.IssuerBuiltinCA:    "builtin",
	inventory.IssuerManualVendor: "manual",
	inventory.IssuerACME:         "acme",
}

func kindColumn(k inventory.IssuerKind) (string, error) {
	v, ok := issuerKinds[k]
	if !ok {
		return "", fmt.Errorf("store: unknown issuer kind %q", k)
	}
	return v, nil
}

func kindFromColumn(v string) inventory.IssuerKind {
	for k, c := range issuerKinds {
		if c == v {
			return k
		}
	}
	return inventory.IssuerKind(v)
}

// PutIssuer stores a new issuer and sets i.ID. A name in use gives
// inventory.ErrConflict.
func (s *db) PutIssuer(ctx context.Context, i *inventory.Issuer) error {
	kind, err := kindColumn(i.Kind)
	if err != nil {
		return err
	}
	now := s.t(s.stamp(s.now()))
	var id int64
	err = s.w.QueryRowContext(ctx, s.q(`INSERT INTO issuers (name, kind, ca_id, url, notes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
		i.Name, kind, nullID(i.CAID), i.URL, i.Notes, now, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: put issuer: name %q or CA %d in use: %w", i.Name, i.CAID, inventory.ErrConflict)
	}
	if err != nil {
		return wrap("put issuer", err)
	}
	i.ID = id
	return nil
}

// UpdateIssuer changes every field of i but its ID. An unknown ID gives
// inventory.ErrNotFound, a name in use inventory.ErrConflict.
func (s *db) UpdateIssuer(ctx context.Context, i *inventory.Issuer) error {
	kind, err := kindColumn(i.Kind)
	if err != nil {
		return err
	}
	op := fmt.Sprintf("update issuer %d", i.ID)
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.nameFree(ctx, tx, op, "issuers", "name = ?", i.ID, i.Name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE issuers SET name = ?, kind = ?, ca_id = ?, url = ?, notes = ?,
			updated_at = ? WHERE id = ?`), i.Name, kind, nullID(i.CAID), i.URL, i.Notes, s.t(s.stamp(s.now())), i.ID)
		return wrapIf(op, affectedOne(res, err))
	})
}

// nameFree returns inventory.ErrConflict when a row of table other than id
// matches cond with args.
func (s *db) nameFree(ctx context.Context, tx *sql.Tx, op, table, cond string, id int64, args ...any) error {
	var n int
	err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM "+table+" WHERE "+cond+" AND id <> ?"),
		append(args, id)...).Scan(&n)
	if err != nil {
		return wrap(op, err)
	}
	if n > 0 {
		return fmt.Errorf("store: %s: name %v in use: %w", op, args[len(args)-1], inventory.ErrConflict)
	}
	return nil
}

// GetIssuer returns the issuer with the given ID, or inventory.ErrNotFound.
func (s *db) GetIssuer(ctx context.Context, id int64) (*inventory.Issuer, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+issuerColumns+" FROM issuers WHERE id = ?"), id)
	i, err := scanIssuer(row)
	return i, wrapIf(fmt.Sprintf("issuer %d", id), err)
}

// IssuerByName returns the issuer named name, or inventory.ErrNotFound.
func (s *db) IssuerByName(ctx context.Context, name string) (*inventory.Issuer, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+issuerColumns+" FROM issuers WHERE name = ?"), name)
	i, err := scanIssuer(row)
	return i, wrapIf(fmt.Sprintf("issuer %q", name), err)
}

// ListIssuers returns every issuer in ID order.
func (s *db) ListIssuers(ctx context.Context) ([]inventory.Issuer, error) {
	return listRows(ctx, s, "list issuers", "SELECT "+issuerColumns+" FROM issuers ORDER BY id", nil, scanIssuer)
}

func scanIssuer(row interface{ Scan(...any) error }) (*inventory.Issuer, error) {
	var i inventory.Issuer
	var kind string
	var caID sql.NullInt64
	if err := row.Scan(&i.ID, &i.Name, &kind, &caID, &i.URL, &i.Notes); err != nil {
		return nil, err
	}
	i.Kind, i.CAID = kindFromColumn(kind), caID.Int64
	return &i, nil
}

// listRows runs a query and scans every row with scan.
func listRows[T any](ctx context.Context, s *db, op, query string, args []any,
	scan func(interface{ Scan(...any) error }) (*T, error)) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, *v)
	}
	return out, wrapIf(op, rows.Err())
}

// issuerExists returns inventory.ErrNotFound unless the issuer exists.
func (s *db) issuerExists(ctx context.Context, tx *sql.Tx, op string, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM issuers WHERE id = ?"), id).Scan(&n); err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(fmt.Sprintf("%s: issuer %d", op, id), inventory.ErrNotFound)
	}
	return nil
}

// PutProduct stores a new product and sets p.ID. An unknown issuer gives
// inventory.ErrNotFound, a name in use at the issuer inventory.ErrConflict.
func (s *db) PutProduct(ctx context.Context, p *inventory.Product) error {
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.issuerExists(ctx, tx, "put product", p.IssuerID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO products (issuer_id, name, validation_level, wildcard,
			max_names, max_validity_days, url, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			p.IssuerID, p.Name, string(p.ValidationLevel), p.Wildcard, p.MaxNames, p.MaxValidityDays, p.URL, p.Notes).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: put product: name %q in use: %w", p.Name, inventory.ErrConflict)
		}
		return wrapIf("put product", err)
	})
	if err != nil {
		return err
	}
	p.ID = id
	return nil
}

// UpdateProduct changes every field of p but its ID and IssuerID. An
// unknown ID gives inventory.ErrNotFound, a name in use at the issuer
// inventory.ErrConflict.
func (s *db) UpdateProduct(ctx context.Context, p *inventory.Product) error {
	op := fmt.Sprintf("update product %d", p.ID)
	return s.withTx(ctx, func(tx *sql.Tx) error {
		cond := "issuer_id = (SELECT issuer_id FROM products WHERE id = ?) AND name = ?"
		if err := s.nameFree(ctx, tx, op, "products", cond, p.ID, p.ID, p.Name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE products SET name = ?, validation_level = ?, wildcard = ?,
			max_names = ?, max_validity_days = ?, url = ?, notes = ? WHERE id = ?`), p.Name, string(p.ValidationLevel),
			p.Wildcard, p.MaxNames, p.MaxValidityDays, p.URL, p.Notes, p.ID)
		return wrapIf(op, affectedOne(res, err))
	})
}

// GetProduct returns the product with the given ID, or
// inventory.ErrNotFound.
func (s *db) GetProduct(ctx context.Context, id int64) (*inventory.Product, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+productColumns+" FROM products WHERE id = ?"), id)
	p, err := scanProduct(row)
	return p, wrapIf(fmt.Sprintf("product %d", id), err)
}

// ListProducts returns the issuer's products, or all when issuerID is
// zero, in ID order.
func (s *db) ListProducts(ctx context.Context, issuerID int64) ([]inventory.Product, error) {
	query, args := "SELECT "+productColumns+" FROM products ORDER BY id", []any(nil)
	if issuerID != 0 {
		query, args = "SELECT "+productColumns+" FROM products WHERE issuer_id = ? ORDER BY id", []any{issuerID}
	}
	return listRows(ctx, s, "list products", query, args, scanProduct)
}

func scanProduct(row interface{ Scan(...any) error }) (*inventory.Product, error) {
	var p inventory.Product
	var level string
	err := row.Scan(&p.ID, &p.IssuerID, &p.Name, &level, &p.Wildcard, &p.MaxNames, &p.MaxValidityDays, &p.URL, &p.Notes)
	if err != nil {
		return nil, err
	}
	p.ValidationLevel = inventory.ValidationLevel(level)
	return &p, nil
}

// PutVendorAccount stores a new account and sets a.ID, and a.CreatedAt
// when zero. An unknown issuer gives inventory.ErrNotFound, a name in use
// inventory.ErrConflict.
func (s *db) PutVendorAccount(ctx context.Context, a *inventory.VendorAccount) error {
	created := s.stamp(a.CreatedAt)
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.issuerExists(ctx, tx, "put vendor account", a.IssuerID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO vendor_accounts (issuer_id, name, username, sealed_password,
			email, url, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			a.IssuerID, a.Name, a.Username, a.SealedPassword, a.Email, a.URL, a.Notes, s.t(created), s.t(created)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: put vendor account: name %q in use: %w", a.Name, inventory.ErrConflict)
		}
		return wrapIf("put vendor account", err)
	})
	if err != nil {
		return err
	}
	a.ID, a.CreatedAt = id, created
	return nil
}

// UpdateVendorAccount changes every field of a but its ID, IssuerID and
// CreatedAt. An unknown ID gives inventory.ErrNotFound, a name in use
// inventory.ErrConflict.
func (s *db) UpdateVendorAccount(ctx context.Context, a *inventory.VendorAccount) error {
	op := fmt.Sprintf("update vendor account %d", a.ID)
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.nameFree(ctx, tx, op, "vendor_accounts", "name = ?", a.ID, a.Name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE vendor_accounts SET name = ?, username = ?, sealed_password = ?,
			email = ?, url = ?, notes = ?, updated_at = ? WHERE id = ?`), a.Name, a.Username, a.SealedPassword,
			a.Email, a.URL, a.Notes, s.t(s.stamp(s.now())), a.ID)
		return wrapIf(op, affectedOne(res, err))
	})
}

// GetVendorAccount returns the account with the given ID, or
// inventory.ErrNotFound.
func (s *db) GetVendorAccount(ctx context.Context, id int64) (*inventory.VendorAccount, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+accountColumns+" FROM vendor_accounts WHERE id = ?"), id)
	a, err := scanAccount(row)
	return a, wrapIf(fmt.Sprintf("vendor account %d", id), err)
}

// ListVendorAccounts returns every account in ID order.
func (s *db) ListVendorAccounts(ctx context.Context) ([]inventory.VendorAccount, error) {
	return listRows(ctx, s, "list vendor accounts", "SELECT "+accountColumns+" FROM vendor_accounts ORDER BY id",
		nil, scanAccount)
}

func scanAccount(row interface{ Scan(...any) error }) (*inventory.VendorAccount, error) {
	var a inventory.VendorAccount
	err := row.Scan(&a.ID, &a.IssuerID, &a.Name, &a.Username, &a.SealedPassword, &a.Email, &a.URL, &a.Notes,
		timeCol{&a.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &a, nil
}
