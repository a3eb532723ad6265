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

// Monitored endpoints and their results: the inventory.EndpointStore
// part of the store.

var _ inventory.EndpointStore = (*db)(nil)

const endpointColumns = `e.id, e.address, e.server_name, e.starttls, e.client_certificate_id, e.interval_s,
	e.source, e.source_id, e.labels, e.created_at, e.next_check_at, e.failures`

const resultColumns = `r.id, r.endpoint_id, r.time, r.check_result, r.chain_sha256, r.leaf_not_after,
	r.leaf_lifetime_s, r.chain_not_after, r.chain_days_left, r.not_yet_valid`

// endpointSelect reads endpoints with their latest result (NULL columns
// when there is none).
const endpointSelect = `SELECT ` + endpointColumns + `, ` + resultColumns + `
	FROM endpoints e LEFT JOIN endpoint_results r ON r.id = e.last_result_id`

func validEndpoint(e *inventory.Endpoint) error {
	switch {
	case e.Address == "":
		return fmt.Errorf("store: endpoint: no address: %w", inventory.ErrInvalid)
	case e.Interval < 0:
		return fmt.Errorf("store: endpoint %s: negative interval: %w", e.Address, inventory.ErrInvalid)
	}
	switch e.Source {
	case inventory.EndpointDeployment, inventory.EndpointCertificate, inventory.EndpointDefinition, inventory.EndpointManual:
		return nil
	}
	return fmt.Errorf("store: endpoint %s: unknown source %q: %w", e.Address, e.Source, inventory.ErrInvalid)
}

func duplicateEndpoint(op string, e *inventory.Endpoint) error {
	return fmt.Errorf("store: %s: %s (server name %q, STARTTLS %q) is already monitored for this %s: %w",
		op, e.Address, e.ServerName, e.StartTLS, e.Source, inventory.ErrConflict)
}

// PutEndpoint implements inventory.EndpointStore.
func (s *db) PutEndpoint(ctx context.Context, e *inventory.Endpoint) error {
	if err := validEndpoint(e); err != nil {
		return err
	}
	created := s.stamp(e.CreatedAt)
	next := created
	if !e.NextCheckAt.IsZero() {
		next = e.NextCheckAt.UTC().Truncate(time.Second)
	}
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO endpoints (address, server_name, starttls,
			client_certificate_id, interval_s, source, source_id, labels, created_at, next_check_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			e.Address, e.ServerName, e.StartTLS, nullID(e.ClientCertificateID), int64(e.Interval/time.Second),
			e.Source, e.SourceID, joinList(e.Labels), s.t(created), s.t(next)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return duplicateEndpoint("put endpoint", e)
		}
		return wrapIf("put endpoint", err)
	})
	if err != nil {
		return err
	}
	e.ID, e.CreatedAt, e.NextCheckAt = id, created, next
	return nil
}

// UpdateEndpoint implements inventory.EndpointStore.
func (s *db) UpdateEndpoint(ctx context.Context, e *inventory.Endpoint) error {
	if err := validEndpoint(e); err != nil {
		return err
	}
	op := fmt.Sprintf("update endpoint %d", e.ID)
	return s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE endpoints SET address = ?, server_name = ?, starttls = ?,
			client_certificate_id = ?, interval_s = ?, labels = ?, next_check_at = ? WHERE id = ?`),
			e.Address, e.ServerName, e.StartTLS, nullID(e.ClientCertificateID), int64(e.Interval/time.Second),
			joinList(e.Labels), s.t(e.NextCheckAt), e.ID)
		if isUniqueViolation(err) {
			return duplicateEndpoint(op, e)
		}
		return wrapIf(op, affectedOne(res, err))
	})
}

// DeleteEndpoint implements inventory.EndpointStore.
func (s *db) DeleteEndpoint(ctx context.Context, id int64) error {
	op := fmt.Sprintf("delete endpoint %d", id)
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM endpoint_results WHERE endpoint_id = ?`), id); err != nil {
			return wrap(op, err)
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM endpoints WHERE id = ?`), id)
		return wrapIf(op, affectedOne(res, err))
	})
}

// GetEndpoint implements inventory.EndpointStore.
func (s *db) GetEndpoint(ctx context.Context, id int64) (*inventory.Endpoint, error) {
	e, err := s.scanEndpoint(s.r.QueryRowContext(ctx, s.q(endpointSelect+` WHERE e.id = ?`), id))
	if err != nil {
		return nil, wrap(fmt.Sprintf("get endpoint %d", id), err)
	}
	return e, nil
}

// AllEndpoints implements inventory.EndpointReader.
func (s *db) AllEndpoints(ctx context.Context) ([]inventory.Endpoint, error) {
	return s.queryEndpoints(ctx, "all endpoints", endpointSelect+` ORDER BY e.id`)
}

// DueEndpoints implements inventory.EndpointStore.
func (s *db) DueEndpoints(ctx context.Context, now time.Time, limit int) ([]inventory.Endpoint, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.queryEndpoints(ctx, "due endpoints",
		s.q(endpointSelect+` WHERE e.next_check_at <= ? ORDER BY e.next_check_at, e.id LIMIT ?`), s.t(now), limit)
}

func (s *db) queryEndpoints(ctx context.Context, op, query string, args ...any) ([]inventory.Endpoint, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []inventory.Endpoint
	for rows.Next() {
		e, err := s.scanEndpoint(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, *e)
	}
	return out, wrapIf(op, rows.Err())
}

// resultScan holds the columns of an endpoint_results row, nullable so
// that an endpoint without a result scans too.
type resultScan struct {
	id, endpointID, lifetime, daysLeft sql.NullInt64
	time, leafEnd, chainEnd            time.Time
	check, chain                       sql.NullString
	notYetValid                        sql.NullBool
}

func (r *resultScan) dest() []any {
	return []any{&r.id, &r.endpointID, timeCol{&r.time}, &r.check, &r.chain, timeCol{&r.leafEnd},
		&r.lifetime, timeCol{&r.chainEnd}, &r.daysLeft, &r.notYetValid}
}

func (r *resultScan) result() (*inventory.EndpointResult, error) {
	if !r.id.Valid {
		return nil, nil
	}
	out := &inventory.EndpointResult{ID: r.id.Int64, EndpointID: r.endpointID.Int64,
		ChainSHA256: splitList(r.chain.String), LeafNotAfter: r.leafEnd, ChainNotAfter: r.chainEnd,
		LeafLifetime: time.Duration(r.lifetime.Int64) * time.Second, ChainDaysLeft: int(r.daysLeft.Int64),
		NotYetValid: r.notYetValid.Bool}
	if err := json.Unmarshal([]byte(r.check.String), &out.Check); err != nil {
		return nil, fmt.Errorf("decode check result %d: %w", r.id.Int64, err)
	}
	out.Check.Time = r.time
	return out, nil
}

func (s *db) scanEndpoint(row interface{ Scan(...any) error }) (*inventory.Endpoint, error) {
	var e inventory.Endpoint
	var interval int64
	var labels string
	var r resultScan
	dest := append([]any{&e.ID, &e.Address, &e.ServerName, &e.StartTLS, idCol{&e.ClientCertificateID}, &interval,
		&e.Source, &e.SourceID, &labels, timeCol{&e.CreatedAt}, timeCol{&e.NextCheckAt}, &e.Failures}, r.dest()...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	e.Interval, e.Labels = time.Duration(interval)*time.Second, splitList(labels)
	last, err := r.result()
	if err != nil {
		return nil, err
	}
	e.Last = last
	return &e, nil
}

// zeroNullT is t for times whose zero value is stored as NULL.
func (s *db) zeroNullT(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	return s.t(v)
}

// Statements of recording a result, prepared once (see prepareHot).
const (
	endpointExists    = `SELECT 1 FROM endpoints WHERE id = ?`
	insertEndpointRes = `INSERT INTO endpoint_results (endpoint_id, time, check_result, chain_sha256, leaf_not_after,
		leaf_lifetime_s, chain_not_after, chain_days_left, not_yet_valid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	setEndpointResult = `UPDATE endpoints SET last_result_id = ?, next_check_at = ?,
		failures = CASE WHEN ? THEN failures + 1 ELSE 0 END WHERE id = ?`
)

// resultWriter records endpoint results in one transaction with the
// prepared statements.
type resultWriter struct {
	s                      *db
	exists, insert, update *sql.Stmt
}

func (s *db) resultWriter(ctx context.Context, tx *sql.Tx) (*resultWriter, error) {
	w := &resultWriter{s: s}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{{&w.exists, endpointExists}, {&w.insert, insertEndpointRes}, {&w.update, setEndpointResult}} {
		st, err := s.stmt(ctx, tx, p.query)
		if err != nil {
			return nil, err
		}
		*p.dst = st
	}
	return w, nil
}

// write stores r as its endpoint's latest result and returns its ID and
// stored time, leaving r as it is; an unknown endpoint gives
// sql.ErrNoRows.
func (w *resultWriter) write(ctx context.Context, r *inventory.EndpointResult, next time.Time) (int64, time.Time, error) {
	check, err := json.Marshal(r.Check)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("encode check result: %w", err)
	}
	s, at := w.s, w.s.stamp(r.Check.Time)
	var one int
	if err := w.exists.QueryRowContext(ctx, r.EndpointID).Scan(&one); err != nil {
		return 0, at, err
	}
	var id int64
	err = w.insert.QueryRowContext(ctx, r.EndpointID, s.t(at), string(check), joinList(r.ChainSHA256), s.zeroNullT(r.LeafNotAfter),
		int64(r.LeafLifetime/time.Second), s.zeroNullT(r.ChainNotAfter), r.ChainDaysLeft, r.NotYetValid).Scan(&id)
	if err != nil {
		return 0, at, err
	}
	res, err := w.update.ExecContext(ctx, id, s.t(next), r.Check.Error != "", r.EndpointID)
	return id, at, affectedOne(res, err)
}

// RecordEndpointResult implements inventory.EndpointStore.
func (s *db) RecordEndpointResult(ctx context.Context, r *inventory.EndpointResult, next time.Time) error {
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	op := fmt.Sprintf("record result of endpoint %d", r.EndpointID)
	var id int64
	var at time.Time
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		w, err := s.resultWriter(ctx, tx)
		if err != nil {
			return err
		}
		id, at, err = w.write(ctx, r, next)
		return wrapIf(op, err)
	})
	if err != nil {
		return err
	}
	r.ID, r.Check.Time = id, at
	return nil
}

// RecordEndpointResults implements inventory.EndpointStore.
func (s *db) RecordEndpointResults(ctx context.Context, recs []inventory.EndpointRecord) (int, error) {
	if err := s.prepareHot(ctx); err != nil {
		return 0, err
	}
	ids, ats := make([]int64, len(recs)), make([]time.Time, len(recs))
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		w, err := s.resultWriter(ctx, tx)
		if err != nil {
			return err
		}
		for i, rec := range recs {
			ids[i], ats[i], err = w.write(ctx, rec.Result, rec.Next)
			if errors.Is(err, sql.ErrNoRows) {
				ids[i] = 0 // the endpoint is gone: nothing was written for it
				continue
			}
			if err != nil {
				return wrap(fmt.Sprintf("record result of endpoint %d", rec.Result.EndpointID), err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for i, rec := range recs {
		if ids[i] != 0 {
			rec.Result.ID, rec.Result.Check.Time = ids[i], ats[i]
			n++
		}
	}
	return n, nil
}

// EndpointHistory implements inventory.EndpointStore.
func (s *db) EndpointHistory(ctx context.Context, endpointID int64, p inventory.Page) ([]inventory.EndpointResult, string, error) {
	cur, err := decodeCursor(p.After, 2)
	if err != nil {
		return nil, "", err
	}
	n := limit(p)
	query := `SELECT ` + resultColumns + ` FROM endpoint_results r WHERE r.endpoint_id = ?`
	args := []any{endpointID}
	if p.After != "" {
		at := time.Unix(cur[0], 0)
		query += ` AND (r.time < ? OR (r.time = ? AND r.id < ?))`
		args = append(args, s.t(at), s.t(at), cur[1])
	}
	rows, err := s.r.QueryContext(ctx, s.q(query+` ORDER BY r.time DESC, r.id DESC LIMIT ?`), append(args, n+1)...)
	if err != nil {
		return nil, "", wrap("endpoint history", err)
	}
	defer rows.Close()
	var out []inventory.EndpointResult
	for rows.Next() {
		var rs resultScan
		if err := rows.Scan(rs.dest()...); err != nil {
			return nil, "", wrap("endpoint history", err)
		}
		r, err := rs.result()
		if err != nil {
			return nil, "", wrap("endpoint history", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("endpoint history", err)
	}
	if len(out) <= n {
		return out, "", nil
	}
	out = out[:n]
	last := out[n-1]
	return out, encodeCursor(last.Check.Time.Unix(), last.ID), nil
}

// PruneEndpointResults implements inventory.EndpointStore.
func (s *db) PruneEndpointResults(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM endpoint_results WHERE time < ?
			AND id NOT IN (SELECT last_result_id FROM endpoints WHERE last_result_id IS NOT NULL)`), s.t(before))
		if err != nil {
			return wrap("prune endpoint results", err)
		}
		n, err = res.RowsAffected()
		return wrapIf("prune endpoint results", err)
	})
	return int(n), err
}
