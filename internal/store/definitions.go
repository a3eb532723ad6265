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

const definitionColumns = `d.id, d.name, d.subject, d.sans, d.key_algorithm, d.key_bits, d.requirements, d.requester,
	d.contact, d.targets, d.renewal_policy, d.labels, d.notes, d.current_certificate_id, d.version, d.created_at, d.updated_at`

// definitionRow is a definition in column form.
type definitionRow struct {
	subject, requirements, renewal []byte
	keyAlg                         string
	keyBits                        int
}

// encodeDefinition turns the structured fields of d into column values.
func encodeDefinition(d *inventory.Definition) (*definitionRow, error) {
	alg, bits, ok := inventory.KeyTypeParts(d.KeyType)
	if !ok {
		return nil, fmt.Errorf("store: definition %q: unknown key type %q", d.Name, d.KeyType)
	}
	r := &definitionRow{keyAlg: string(alg), keyBits: bits}
	var err error
	if r.subject, err = json.Marshal(d.Subject); err != nil {
		return nil, wrap("encode subject", err)
	}
	if r.requirements, err = json.Marshal(d.Requirements); err != nil {
		return nil, wrap("encode requirements", err)
	}
	if r.renewal, err = json.Marshal(d.Renewal); err != nil {
		return nil, wrap("encode renewal policy", err)
	}
	return r, nil
}

// PutDefinition stores a new definition with version 1. A name in use
// gives inventory.ErrConflict.
func (s *db) PutDefinition(ctx context.Context, d *inventory.Definition) error {
	r, err := encodeDefinition(d)
	if err != nil {
		return err
	}
	created := s.stamp(d.CreatedAt)
	updated := created
	if !d.UpdatedAt.IsZero() {
		updated = s.stamp(d.UpdatedAt)
	}
	var id int64
	err = s.w.QueryRowContext(ctx, s.q(`INSERT INTO definitions (name, subject, sans, key_algorithm, key_bits,
		requirements, requester, contact, targets, renewal_policy, labels, notes, current_certificate_id, version,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`),
		d.Name, string(r.subject), joinList(d.SANs), r.keyAlg, r.keyBits, string(r.requirements), d.Requester,
		d.ContactEmail, joinList(d.Targets), string(r.renewal), joinList(d.Labels), d.Notes,
		nullID(d.CurrentCertificateID), s.t(created), s.t(updated)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: put definition: name %q in use: %w", d.Name, inventory.ErrConflict)
	}
	if err != nil {
		return wrap("put definition", err)
	}
	d.ID, d.Version, d.CreatedAt, d.UpdatedAt = id, 1, created, updated
	return nil
}

// UpdateDefinition writes d when the stored version is d.Version and
// increments it; see inventory.DefinitionStore.
func (s *db) UpdateDefinition(ctx context.Context, d *inventory.Definition) error {
	r, err := encodeDefinition(d)
	if err != nil {
		return err
	}
	updated := s.stamp(d.UpdatedAt)
	op := fmt.Sprintf("update definition %d", d.ID)
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkDefinitionWrite(ctx, tx, d); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE definitions SET name = ?, subject = ?, sans = ?, key_algorithm = ?,
			key_bits = ?, requirements = ?, requester = ?, contact = ?, targets = ?, renewal_policy = ?, labels = ?,
			notes = ?, current_certificate_id = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`),
			d.Name, string(r.subject), joinList(d.SANs), r.keyAlg, r.keyBits, string(r.requirements), d.Requester,
			d.ContactEmail, joinList(d.Targets), string(r.renewal), joinList(d.Labels), d.Notes,
			nullID(d.CurrentCertificateID), s.t(updated), d.ID, d.Version)
		if err := affectedOne(res, err); errors.Is(err, inventory.ErrNotFound) {
			return fmt.Errorf("store: %s: changed meanwhile: %w", op, inventory.ErrConflict)
		} else if err != nil {
			return wrap(op, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.Version++
	d.UpdatedAt = updated
	return nil
}

// checkDefinitionWrite refuses an update of an unknown definition, of a
// stale version, or to a name another definition has.
func (s *db) checkDefinitionWrite(ctx context.Context, tx *sql.Tx, d *inventory.Definition) error {
	op := fmt.Sprintf("update definition %d", d.ID)
	var version int64
	err := tx.QueryRowContext(ctx, s.q("SELECT version FROM definitions WHERE id = ?"), d.ID).Scan(&version)
	if err != nil {
		return wrap(op, err)
	}
	if version != d.Version {
		return fmt.Errorf("store: %s: version %d is stale (stored %d): %w", op, d.Version, version, inventory.ErrConflict)
	}
	var n int
	err = tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM definitions WHERE name = ? AND id <> ?"), d.Name, d.ID).Scan(&n)
	if err != nil {
		return wrap(op, err)
	}
	if n > 0 {
		return fmt.Errorf("store: %s: name %q in use: %w", op, d.Name, inventory.ErrConflict)
	}
	return nil
}

// GetDefinition returns the definition with the given ID, or
// inventory.ErrNotFound.
func (s *db) GetDefinition(ctx context.Context, id int64) (*inventory.Definition, error) {
	return s.oneDefinition(ctx, fmt.Sprintf("definition %d", id), "d.id = ?", id)
}

// DefinitionByName returns the definition named name, or
// inventory.ErrNotFound.
func (s *db) DefinitionByName(ctx context.Context, name string) (*inventory.Definition, error) {
	return s.oneDefinition(ctx, fmt.Sprintf("definition %q", name), "d.name = ?", name)
}

func (s *db) oneDefinition(ctx context.Context, op, cond string, arg any) (*inventory.Definition, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+definitionColumns+" FROM definitions d WHERE "+cond), arg)
	d, err := scanDefinition(row)
	if err != nil {
		return nil, wrap(op, err)
	}
	return d, nil
}

// ListDefinitions returns one page of the definitions f selects, in ID
// order; the cursor is the last item's ID.
func (s *db) ListDefinitions(ctx context.Context, f inventory.DefinitionFilter, p inventory.Page) (*inventory.DefinitionPage, error) {
	cur, err := decodeCursor(p.After, 1)
	if err != nil {
		return nil, err
	}
	where, args := s.definitionWhere(f)
	where = append(where, "d.id > ?")
	args = append(args, cur[0])
	n := limit(p)
	query := "SELECT " + definitionColumns + " FROM definitions d" + whereClause(where) + " ORDER BY d.id LIMIT ?"
	rows, err := s.r.QueryContext(ctx, s.q(query), append(args, n+1)...)
	if err != nil {
		return nil, wrap("list definitions", err)
	}
	defer rows.Close()
	page := &inventory.DefinitionPage{}
	for rows.Next() {
		d, err := scanDefinition(rows)
		if err != nil {
			return nil, wrap("list definitions", err)
		}
		page.Items = append(page.Items, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list definitions", err)
	}
	if len(page.Items) > n {
		page.Items = page.Items[:n]
		page.Next = encodeCursor(page.Items[n-1].ID)
	}
	return page, nil
}

// CountDefinitions returns how many definitions f selects, in one query.
func (s *db) CountDefinitions(ctx context.Context, f inventory.DefinitionFilter) (int, error) {
	where, args := s.definitionWhere(f)
	var n int
	err := s.r.QueryRowContext(ctx, s.q("SELECT count(*) FROM definitions d"+whereClause(where)), args...).Scan(&n)
	if err != nil {
		return 0, wrap("count definitions", err)
	}
	return n, nil
}

// definitionWhere translates f into SQL conditions on definitions d.
// Labels are stored newline-joined, so a label matches as a whole line.
func (s *db) definitionWhere(f inventory.DefinitionFilter) ([]string, []any) {
	var where []string
	var args []any
	if f.Label != "" {
		where = append(where, "(CAST(? AS TEXT) || d.labels || CAST(? AS TEXT)) LIKE ? ESCAPE '\\'")
		args = append(args, "\n", "\n", containsPattern("\n"+f.Label+"\n"))
	}
	if f.Text != "" {
		like, text := s.ilike(), containsPattern(f.Text)
		where = append(where, "(d.name "+like+" ? ESCAPE '\\' OR d.subject "+like+" ? ESCAPE '\\' OR d.sans "+like+
			" ? ESCAPE '\\' OR d.requester "+like+" ? ESCAPE '\\' OR d.notes "+like+" ? ESCAPE '\\')")
		args = append(args, text, text, text, text, text)
	}
	if f.CurrentCertificateID != 0 {
		where = append(where, "d.current_certificate_id = ?")
		args = append(args, f.CurrentCertificateID)
	}
	return where, args
}

func scanDefinition(row interface{ Scan(...any) error }) (*inventory.Definition, error) {
	var d inventory.Definition
	var subject, sans, alg, requirements, targets, renewal, labels string
	var bits int
	var current sql.NullInt64
	err := row.Scan(&d.ID, &d.Name, &subject, &sans, &alg, &bits, &requirements, &d.Requester, &d.ContactEmail,
		&targets, &renewal, &labels, &d.Notes, &current, &d.Version, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt})
	if err != nil {
		return nil, err
	}
	d.SANs, d.Targets, d.Labels = splitList(sans), splitList(targets), splitList(labels)
	d.KeyType = inventory.KeyTypeOf(inventory.KeyAlgorithm(alg), bits)
	d.CurrentCertificateID = current.Int64
	for _, f := range []struct {
		src string
		dst any
	}{{subject, &d.Subject}, {requirements, &d.Requirements}, {renewal, &d.Renewal}} {
		if f.src == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return nil, fmt.Errorf("definition %d: %w", d.ID, err)
		}
	}
	return &d, nil
}

// PutDocument stores a new document in a definition's folder; see
// inventory.DefinitionStore.
func (s *db) PutDocument(ctx context.Context, doc *inventory.Document) error {
	created := s.stamp(doc.CreatedAt)
	content := doc.Content
	if content == nil {
		content = []byte{}
	}
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM definitions WHERE id = ?"), doc.DefinitionID).Scan(&n)
		if err != nil {
			return wrap("put document", err)
		}
		if n == 0 {
			return wrap(fmt.Sprintf("put document: definition %d", doc.DefinitionID), inventory.ErrNotFound)
		}
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO documents (definition_id, name, content, size, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			doc.DefinitionID, doc.Name, content, int64(len(content)), s.t(created)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: put document: name %q in use: %w", doc.Name, inventory.ErrConflict)
		}
		return wrapIf("put document", err)
	})
	if err != nil {
		return err
	}
	doc.ID, doc.Size, doc.CreatedAt = id, int64(len(content)), created
	return nil
}

// ListDocuments returns the definition's documents in name order, without
// content.
func (s *db) ListDocuments(ctx context.Context, definitionID int64) ([]inventory.Document, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, definition_id, name, size, created_at FROM documents
		WHERE definition_id = ? ORDER BY name`), definitionID)
	if err != nil {
		return nil, wrap("list documents", err)
	}
	defer rows.Close()
	var out []inventory.Document
	for rows.Next() {
		var d inventory.Document
		if err := rows.Scan(&d.ID, &d.DefinitionID, &d.Name, &d.Size, timeCol{&d.CreatedAt}); err != nil {
			return nil, wrap("list documents", err)
		}
		out = append(out, d)
	}
	return out, wrapIf("list documents", rows.Err())
}

// GetDocument returns the named document with its content, or
// inventory.ErrNotFound.
func (s *db) GetDocument(ctx context.Context, definitionID int64, name string) (*inventory.Document, error) {
	var d inventory.Document
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, definition_id, name, size, content, created_at FROM documents
		WHERE definition_id = ? AND name = ?`), definitionID, name).
		Scan(&d.ID, &d.DefinitionID, &d.Name, &d.Size, &d.Content, timeCol{&d.CreatedAt})
	if err != nil {
		return nil, wrap(fmt.Sprintf("document %q", name), err)
	}
	return &d, nil
}

// DeleteDocument removes the named document; an unknown one gives
// inventory.ErrNotFound.
func (s *db) DeleteDocument(ctx context.Context, definitionID int64, name string) error {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM documents WHERE definition_id = ? AND name = ?"), definitionID, name)
	return wrapIf(fmt.Sprintf("delete document %q", name), affectedOne(res, err))
}

// DefinitionCertificates returns the definitions with a current
// certificate and that certificate, in definition ID order; see
// inventory.DefinitionStore.
func (s *db) DefinitionCertificates(ctx context.Context) ([]inventory.DefinitionCertificate, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.id, d.name, c.id, c.common_name, c.serial, c.sha256,
		c.not_before, c.not_after, c.revoked_at FROM definitions d JOIN certificates c ON c.id = d.current_certificate_id
		ORDER BY d.id`)
	if err != nil {
		return nil, wrap("definition certificates", err)
	}
	defer rows.Close()
	var out []inventory.DefinitionCertificate
	for rows.Next() {
		var dc inventory.DefinitionCertificate
		var revoked *time.Time
		if err := rows.Scan(&dc.DefinitionID, &dc.Definition, &dc.CertificateID, &dc.CommonName, &dc.Serial,
			&dc.SHA256, timeCol{&dc.NotBefore}, timeCol{&dc.NotAfter}, nullTimeCol{&revoked}); err != nil {
			return nil, wrap("definition certificates", err)
		}
		dc.Revoked = revoked != nil
		out = append(out, dc)
	}
	return out, wrapIf("definition certificates", rows.Err())
}
