package store

import (
	"context"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// secondsPerDay is the length of a UTC day in stored seconds.
const secondsPerDay = 24 * 60 * 60

// CountCertificatesByStatus counts the certificates f selects (f.Status
// ignored) by status at f.At in one query, each row in exactly one CASE
// branch, in the order of inventory.Certificate.StatusAt: revoked, then
// expired, then not yet valid. The bounds are those of statusCond (at
// rounded down against NotBefore and up against NotAfter). Migration
// 0009's certificates_status index covers every column the branches read.
func (s *db) CountCertificatesByStatus(ctx context.Context, f inventory.CertificateFilter) (map[inventory.Status]int, error) {
	query, args, err := s.statusCountQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	var revoked, expired, notYetValid, valid int
	err = s.r.QueryRowContext(ctx, s.q(query), args...).Scan(&revoked, &expired, &notYetValid, &valid)
	if err != nil {
		return nil, wrap("count certificates by status", err)
	}
	return map[inventory.Status]int{
		inventory.StatusValid:       valid,
		inventory.StatusExpired:     expired,
		inventory.StatusNotYetValid: notYetValid,
		inventory.StatusRevoked:     revoked,
	}, nil
}

// statusCountQuery is the query of CountCertificatesByStatus, selecting
// the revoked, expired, not yet valid and valid counts, and its
// arguments.
func (s *db) statusCountQuery(ctx context.Context, f inventory.CertificateFilter) (string, []any, error) {
	at := f.At
	if at.IsZero() {
		at = s.now()
	}
	f.Status, f.At = "", at
	where, args, err := s.certWhere(ctx, f)
	if err != nil {
		return "", nil, err
	}
	floor, ceil := s.t(at), s.t(ceilSecond(at))
	query := `SELECT
		count(CASE WHEN c.revoked_at IS NOT NULL THEN 1 END),
		count(CASE WHEN c.revoked_at IS NULL AND c.not_after < ? THEN 1 END),
		count(CASE WHEN c.revoked_at IS NULL AND c.not_after >= ? AND c.not_before > ? THEN 1 END),
		count(CASE WHEN c.revoked_at IS NULL AND c.not_after >= ? AND c.not_before <= ? THEN 1 END)
		FROM certificates c` + whereClause(where)
	return query, append([]any{ceil, ceil, floor, ceil, floor}, args...), nil
}

// CountCertificatesByDay counts the certificates f selects by the UTC day
// of their NotAfter in one query: the days' span is added to f's
// conditions as a not_after range (a range scan of an index led by
// not_after) and the rows are grouped by whole days since the first
// day's midnight, worked out in unix seconds on both dialects (stored
// times are whole seconds, so the arithmetic is exact).
func (s *db) CountCertificatesByDay(ctx context.Context, f inventory.CertificateFilter, from time.Time, days int) ([]int, error) {
	if days < 0 || days > inventory.MaxCountDays {
		return nil, fmt.Errorf("store: count certificates by day: %d days, want 0 to %d: %w",
			days, inventory.MaxCountDays, inventory.ErrInvalid)
	}
	query, args, err := s.dayCountQuery(ctx, f, from, days)
	if err != nil {
		return nil, err
	}
	out := make([]int, days)
	if days == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("count certificates by day", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d int64
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, wrap("count certificates by day", err)
		}
		if d < 0 || d >= int64(days) {
			return nil, fmt.Errorf("store: count certificates by day: day %d outside 0 to %d", d, days-1)
		}
		out[d] = n
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("count certificates by day", err)
	}
	return out, nil
}

// dayCountQuery is the query of CountCertificatesByDay, selecting (day
// index, count) rows, and its arguments.
func (s *db) dayCountQuery(ctx context.Context, f inventory.CertificateFilter, from time.Time, days int) (string, []any, error) {
	where, args, err := s.certWhere(ctx, f)
	if err != nil {
		return "", nil, err
	}
	from = from.UTC()
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, days)
	where = append(where, "c.not_after >= ?", "c.not_after < ?")
	args = append(args, s.t(start), s.t(end))
	seconds := "c.not_after"
	if s.dialect == postgresDialect {
		seconds = "CAST(extract(epoch FROM c.not_after) AS BIGINT)"
	}
	query := "SELECT (" + seconds + " - ?) / " + fmt.Sprint(secondsPerDay) + " AS d, count(*) FROM certificates c" +
		whereClause(where) + " GROUP BY d"
	return query, append([]any{start.Unix()}, args...), nil
}
