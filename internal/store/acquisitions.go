package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const acquisitionColumns = `a.id, a.definition_id, a.kind, a.state, a.issuer_id, a.product_id, a.key_id, a.csr_id,
	a.order_data, a.certificate_id, a.differences, a.auto_switch, a.version, a.created_by, a.created_at, a.updated_at`

// openStatesSQL is inventory.OpenAcquisitionStates as an SQL list; the
// partial unique index acquisitions_open uses the same condition.
const openStatesSQL = "('csr_ready', 'ordered', 'issued')"

// acquisitionRow is the JSON-encoded part of an acquisition.
type acquisitionRow struct {
	order       any // string, or nil for no order
	differences string
}

// encodeAcquisition checks a's kind and state and encodes its JSON
// columns. The order date is stored in UTC with whole seconds, like every
// stored time.
func encodeAcquisition(a *inventory.Acquisition) (*acquisitionRow, error) {
	if !a.Kind.Valid() {
		return nil, fmt.Errorf("store: acquisition: unknown kind %q: %w", a.Kind, inventory.ErrInvalid)
	}
	if !a.State.Valid() {
		return nil, fmt.Errorf("store: acquisition: unknown state %q: %w", a.State, inventory.ErrInvalid)
	}
	r := &acquisitionRow{differences: "[]"}
	if a.Order != nil {
		o := *a.Order
		if !o.Date.IsZero() {
			o.Date = o.Date.UTC().Truncate(time.Second)
		}
		b, err := json.Marshal(o)
		if err != nil {
			return nil, wrap("encode order", err)
		}
		r.order = string(b)
	}
	if len(a.Differences) > 0 {
		b, err := json.Marshal(a.Differences)
		if err != nil {
			return nil, wrap("encode differences", err)
		}
		r.differences = string(b)
	}
	return r, nil
}

// PutAcquisition stores a new process and its first steps; see
// inventory.AcquisitionStore.
func (s *db) PutAcquisition(ctx context.Context, a *inventory.Acquisition, steps ...inventory.AcquisitionStep) error {
	r, err := encodeAcquisition(a)
	if err != nil {
		return err
	}
	created := s.stamp(a.CreatedAt)
	updated := created
	if !a.UpdatedAt.IsZero() {
		updated = s.stamp(a.UpdatedAt)
	}
	var id int64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.definitionExists(ctx, tx, "put acquisition", a.DefinitionID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO acquisitions (definition_id, kind, state, issuer_id,
			product_id, key_id, csr_id, order_data, certificate_id, differences, auto_switch, version, created_by,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`),
			a.DefinitionID, string(a.Kind), string(a.State), nullID(a.IssuerID), nullID(a.ProductID),
			nullID(a.KeyID), nullID(a.CSRID), r.order, nullID(a.CertificateID), r.differences, a.AutoSwitch,
			a.CreatedBy, s.t(created), s.t(updated)).Scan(&id)
		if err != nil {
			return s.acquisitionWriteError("put acquisition", a.DefinitionID, err)
		}
		return s.appendSteps(ctx, tx, id, steps)
	})
	if err != nil {
		return err
	}
	a.ID, a.Version, a.CreatedAt, a.UpdatedAt = id, 1, created, updated
	setStepIDs(id, steps)
	return nil
}

// definitionExists gives inventory.ErrNotFound for an unknown definition.
func (s *db) definitionExists(ctx context.Context, tx *sql.Tx, op string, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM definitions WHERE id = ?"), id).Scan(&n); err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(fmt.Sprintf("%s: definition %d", op, id), inventory.ErrNotFound)
	}
	return nil
}

// acquisitionWriteError translates a violation of acquisitions_open into
// inventory.ErrConflict.
func (s *db) acquisitionWriteError(op string, definitionID int64, err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("store: %s: definition %d has an open acquisition: %w", op, definitionID, inventory.ErrConflict)
	}
	return wrap(op, err)
}

// isUniqueViolation reports whether err is a unique-constraint violation
// of either backend.
func isUniqueViolation(err error) bool {
	const sqliteConstraintUnique = 2067 // SQLITE_CONSTRAINT_UNIQUE
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqliteConstraintUnique
}

// appendSteps inserts steps of process id in order, filling in their IDs.
// A zero step time is now.
func (s *db) appendSteps(ctx context.Context, tx *sql.Tx, id int64, steps []inventory.AcquisitionStep) error {
	for i := range steps {
		st := &steps[i]
		st.Time = s.stamp(st.Time)
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO acquisition_steps (acquisition_id, time, actor, action, detail)
			VALUES (?, ?, ?, ?, ?) RETURNING id`), id, s.t(st.Time), st.Actor, st.Action, st.Detail).Scan(&st.ID)
		if err != nil {
			return wrap(fmt.Sprintf("acquisition %d: append step", id), err)
		}
	}
	return nil
}

// setStepIDs sets the process ID of steps once their transaction committed.
func setStepIDs(id int64, steps []inventory.AcquisitionStep) {
	for i := range steps {
		steps[i].AcquisitionID = id
	}
}

// UpdateAcquisition writes a's mutable fields when the stored version is
// a.Version; see inventory.AcquisitionStore.
func (s *db) UpdateAcquisition(ctx context.Context, a *inventory.Acquisition, steps ...inventory.AcquisitionStep) error {
	return s.updateAcquisition(ctx, a, steps, false)
}

// SwitchCurrent updates a like UpdateAcquisition and makes a.CertificateID
// the current certificate of its definition in the same transaction. The
// definition is the one the stored process belongs to; a different
// a.DefinitionID is refused.
func (s *db) SwitchCurrent(ctx context.Context, a *inventory.Acquisition, steps ...inventory.AcquisitionStep) error {
	if a.CertificateID == 0 {
		return fmt.Errorf("store: switch acquisition %d: no certificate: %w", a.ID, inventory.ErrInvalid)
	}
	return s.updateAcquisition(ctx, a, steps, true)
}

func (s *db) updateAcquisition(ctx context.Context, a *inventory.Acquisition, steps []inventory.AcquisitionStep, switchCurrent bool) error {
	r, err := encodeAcquisition(a)
	if err != nil {
		return err
	}
	updated := s.stamp(time.Time{})
	op := fmt.Sprintf("update acquisition %d", a.ID)
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var definitionID int64
		err := tx.QueryRowContext(ctx, s.q(`UPDATE acquisitions SET state = ?, issuer_id = ?, product_id = ?,
			key_id = ?, csr_id = ?, order_data = ?, certificate_id = ?, differences = ?, auto_switch = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ? RETURNING definition_id`),
			string(a.State), nullID(a.IssuerID), nullID(a.ProductID), nullID(a.KeyID), nullID(a.CSRID), r.order,
			nullID(a.CertificateID), r.differences, a.AutoSwitch, s.t(updated), a.ID, a.Version).Scan(&definitionID)
		if errors.Is(err, sql.ErrNoRows) {
			return s.staleAcquisition(ctx, tx, op, a)
		}
		if err != nil {
			return s.acquisitionWriteError(op, a.DefinitionID, err)
		}
		if switchCurrent {
			if err := s.switchDefinition(ctx, tx, a, definitionID, updated); err != nil {
				return err
			}
		}
		return s.appendSteps(ctx, tx, a.ID, steps)
	})
	if err != nil {
		return err
	}
	a.Version++
	a.UpdatedAt = updated
	setStepIDs(a.ID, steps)
	return nil
}

// staleAcquisition explains why no row matched a versioned update:
// ErrNotFound for an unknown ID, else ErrConflict.
func (s *db) staleAcquisition(ctx context.Context, tx *sql.Tx, op string, a *inventory.Acquisition) error {
	var version int64
	err := tx.QueryRowContext(ctx, s.q("SELECT version FROM acquisitions WHERE id = ?"), a.ID).Scan(&version)
	if err != nil {
		return wrap(op, err)
	}
	return fmt.Errorf("store: %s: version %d is stale (stored %d): %w", op, a.Version, version, inventory.ErrConflict)
}

// switchDefinition makes a.CertificateID the current certificate of
// definition definitionID and increments the definition's version.
func (s *db) switchDefinition(ctx context.Context, tx *sql.Tx, a *inventory.Acquisition, definitionID int64, updated time.Time) error {
	op := fmt.Sprintf("switch acquisition %d", a.ID)
	if a.DefinitionID != definitionID {
		return fmt.Errorf("store: %s: belongs to definition %d, not %d: %w", op, definitionID, a.DefinitionID, inventory.ErrInvalid)
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE definitions SET current_certificate_id = ?, version = version + 1,
		updated_at = ? WHERE id = ?`), a.CertificateID, s.t(updated), definitionID)
	return wrapIf(op, affectedOne(res, err))
}

// GetAcquisition returns the process with the given ID, or
// inventory.ErrNotFound.
func (s *db) GetAcquisition(ctx context.Context, id int64) (*inventory.Acquisition, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+acquisitionColumns+" FROM acquisitions a WHERE a.id = ?"), id)
	a, err := scanAcquisition(row)
	if err != nil {
		return nil, wrap(fmt.Sprintf("acquisition %d", id), err)
	}
	return a, nil
}

// ListAcquisitions returns one page of the processes f selects, in ID
// order; the cursor is the last item's ID.
func (s *db) ListAcquisitions(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error) {
	cur, err := decodeCursor(p.After, 1)
	if err != nil {
		return nil, err
	}
	where, args := acquisitionWhere(f)
	where = append(where, "a.id > ?")
	args = append(args, cur[0])
	n := limit(p)
	query := "SELECT " + acquisitionColumns + " FROM acquisitions a" + whereClause(where) + " ORDER BY a.id LIMIT ?"
	items, err := listRows(ctx, s, "list acquisitions", query, append(args, n+1), scanAcquisition)
	if err != nil {
		return nil, err
	}
	page := &inventory.AcquisitionPage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		page.Next = encodeCursor(items[n-1].ID)
	}
	return page, nil
}

// acquisitionWhere translates f into SQL conditions on acquisitions a.
func acquisitionWhere(f inventory.AcquisitionFilter) ([]string, []any) {
	var where []string
	var args []any
	for _, c := range []struct {
		col string
		id  int64
	}{{"a.definition_id", f.DefinitionID}, {"a.issuer_id", f.IssuerID}, {"a.key_id", f.KeyID}} {
		if c.id != 0 {
			where = append(where, c.col+" = ?")
			args = append(args, c.id)
		}
	}
	if len(f.States) > 0 {
		where = append(where, "a.state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	return where, args
}

func scanAcquisition(row interface{ Scan(...any) error }) (*inventory.Acquisition, error) {
	var a inventory.Acquisition
	var kind, state, differences string
	var order sql.NullString
	err := row.Scan(&a.ID, &a.DefinitionID, &kind, &state, idCol{&a.IssuerID}, idCol{&a.ProductID},
		idCol{&a.KeyID}, idCol{&a.CSRID}, &order, idCol{&a.CertificateID}, &differences, &a.AutoSwitch,
		&a.Version, &a.CreatedBy, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt})
	if err != nil {
		return nil, err
	}
	a.Kind, a.State = inventory.AcquisitionKind(kind), inventory.AcquisitionState(state)
	if order.Valid {
		a.Order = new(inventory.Order)
		if err := json.Unmarshal([]byte(order.String), a.Order); err != nil {
			return nil, fmt.Errorf("acquisition %d: order: %w", a.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(differences), &a.Differences); err != nil {
		return nil, fmt.Errorf("acquisition %d: differences: %w", a.ID, err)
	}
	if len(a.Differences) == 0 {
		a.Differences = nil
	}
	return &a, nil
}

// AcquisitionSteps returns the steps of process id in order; an unknown
// process gives inventory.ErrNotFound.
func (s *db) AcquisitionSteps(ctx context.Context, id int64) ([]inventory.AcquisitionStep, error) {
	op := fmt.Sprintf("acquisition %d steps", id)
	var n int
	if err := s.r.QueryRowContext(ctx, s.q("SELECT count(*) FROM acquisitions WHERE id = ?"), id).Scan(&n); err != nil {
		return nil, wrap(op, err)
	}
	if n == 0 {
		return nil, wrap(op, inventory.ErrNotFound)
	}
	return listRows(ctx, s, op, `SELECT id, acquisition_id, time, actor, action, detail FROM acquisition_steps
		WHERE acquisition_id = ? ORDER BY id`, []any{id}, scanStep)
}

func scanStep(row interface{ Scan(...any) error }) (*inventory.AcquisitionStep, error) {
	var st inventory.AcquisitionStep
	err := row.Scan(&st.ID, &st.AcquisitionID, timeCol{&st.Time}, &st.Actor, &st.Action, &st.Detail)
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// ExpiringWithoutAcquisition returns the definitions whose current
// certificate's NotAfter is before before and that have no open process,
// ordered by that NotAfter then definition ID. The cursor encodes the last
// item's (NotAfter, ID).
func (s *db) ExpiringWithoutAcquisition(ctx context.Context, before time.Time, p inventory.Page) (*inventory.DefinitionPage, error) {
	cur, err := decodeCursor(p.After, 2)
	if err != nil {
		return nil, err
	}
	where, args := s.expiringWhere(before)
	if p.After != "" {
		where = append(where, "(c.not_after, d.id) > (?, ?)")
		args = append(args, s.t(time.Unix(cur[0], 0)), cur[1])
	}
	n := limit(p)
	query := "SELECT " + definitionColumns + ", c.not_after FROM definitions d JOIN certificates c ON c.id = d.current_certificate_id" +
		whereClause(where) + " ORDER BY c.not_after, d.id LIMIT ?"
	rows, err := s.r.QueryContext(ctx, s.q(query), append(args, n+1)...)
	if err != nil {
		return nil, wrap("expiring without acquisition", err)
	}
	defer rows.Close()
	page := &inventory.DefinitionPage{}
	var notAfter []time.Time
	for rows.Next() {
		d, na, err := scanDefinitionExpiry(rows)
		if err != nil {
			return nil, wrap("expiring without acquisition", err)
		}
		page.Items = append(page.Items, *d)
		notAfter = append(notAfter, na)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("expiring without acquisition", err)
	}
	if len(page.Items) > n {
		page.Items = page.Items[:n]
		page.Next = encodeCursor(notAfter[n-1].Unix(), page.Items[n-1].ID)
	}
	return page, nil
}

// expiringWhere selects, on definitions d joined with their current
// certificates c, those of ExpiringWithoutAcquisition.
func (s *db) expiringWhere(before time.Time) ([]string, []any) {
	return []string{"(c.not_after < ? OR c.revoked_at IS NOT NULL)",
			"NOT EXISTS (SELECT 1 FROM acquisitions a WHERE a.definition_id = d.id AND a.state IN " + openStatesSQL + ")"},
		[]any{s.t(ceilSecond(before))}
}

// CountExpiringWithoutAcquisition returns how many definitions
// ExpiringWithoutAcquisition selects, in one query.
func (s *db) CountExpiringWithoutAcquisition(ctx context.Context, before time.Time) (int, error) {
	where, args := s.expiringWhere(before)
	query := "SELECT count(*) FROM definitions d JOIN certificates c ON c.id = d.current_certificate_id" + whereClause(where)
	var n int
	if err := s.r.QueryRowContext(ctx, s.q(query), args...).Scan(&n); err != nil {
		return 0, wrap("count expiring without acquisition", err)
	}
	return n, nil
}

// CountAcquisitionsByState counts the processes f selects by state, in
// one query (GROUP BY state); states without a process are absent.
func (s *db) CountAcquisitionsByState(ctx context.Context, f inventory.AcquisitionFilter) (map[inventory.AcquisitionState]int, error) {
	where, args := acquisitionWhere(f)
	query := "SELECT a.state, count(*) FROM acquisitions a" + whereClause(where) + " GROUP BY a.state"
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("count acquisitions by state", err)
	}
	defer rows.Close()
	out := map[inventory.AcquisitionState]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, wrap("count acquisitions by state", err)
		}
		out[inventory.AcquisitionState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("count acquisitions by state", err)
	}
	return out, nil
}

// scanDefinitionExpiry scans definitionColumns followed by the current
// certificate's NotAfter.
func scanDefinitionExpiry(rows *sql.Rows) (*inventory.Definition, time.Time, error) {
	var notAfter time.Time
	// scanDefinition takes the row through a Scan method: append the extra
	// column to whatever it asks for.
	d, err := scanDefinition(scanFunc(func(dst ...any) error {
		return rows.Scan(append(dst, timeCol{&notAfter})...)
	}))
	return d, notAfter, err
}

// scanFunc adapts a function to the Scan method scan helpers take.
type scanFunc func(dst ...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }
