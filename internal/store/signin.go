package store

import (
	"context"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const signInColumns = "name, addr, failures, last_failure_at"

// AddSignInFailure counts one failed sign-in of (name, addr) at at (now
// when zero) in one statement, so concurrent failures are all counted. A
// record last failed before forgetBefore starts again from one; a later
// failure than the stored one moves Last on. It returns the record
// afterwards.
func (s *db) AddSignInFailure(ctx context.Context, name, addr string, at, forgetBefore time.Time) (*inventory.SignInFailures, error) {
	row := s.w.QueryRowContext(ctx, s.q(`INSERT INTO sign_in_failures (`+signInColumns+`) VALUES (?, ?, 1, ?)
		ON CONFLICT (name, addr) DO UPDATE SET
		failures = CASE WHEN sign_in_failures.last_failure_at < ? THEN 1 ELSE sign_in_failures.failures + 1 END,
		last_failure_at = CASE WHEN sign_in_failures.last_failure_at < excluded.last_failure_at
			THEN excluded.last_failure_at ELSE sign_in_failures.last_failure_at END
		RETURNING `+signInColumns), name, addr, s.t(s.stamp(at)), s.t(ceilSecond(forgetBefore)))
	f, err := scanSignIn(row)
	return f, wrapIf("add sign-in failure", err)
}

// SignInFailures returns the records of (name, addr) and ("", addr) that
// exist.
func (s *db) SignInFailures(ctx context.Context, name, addr string) ([]inventory.SignInFailures, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT "+signInColumns+
		" FROM sign_in_failures WHERE addr = ? AND name IN ('', ?)"), addr, name)
	if err != nil {
		return nil, wrap("sign-in failures", err)
	}
	defer rows.Close()
	var out []inventory.SignInFailures
	for rows.Next() {
		f, err := scanSignIn(rows)
		if err != nil {
			return nil, wrap("sign-in failures", err)
		}
		out = append(out, *f)
	}
	return out, wrapIf("sign-in failures", rows.Err())
}

func scanSignIn(row interface{ Scan(...any) error }) (*inventory.SignInFailures, error) {
	var f inventory.SignInFailures
	if err := row.Scan(&f.Name, &f.Addr, &f.Failures, timeCol{&f.Last}); err != nil {
		return nil, err
	}
	return &f, nil
}

// ClearSignInFailures removes every record of name and the address
// records of the addresses those were at, in one statement, and returns
// how many it removed. An empty name removes nothing.
func (s *db) ClearSignInFailures(ctx context.Context, name string) (int, error) {
	if name == "" {
		return 0, nil
	}
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM sign_in_failures WHERE name = ?
		OR (name = '' AND addr IN (SELECT addr FROM sign_in_failures WHERE name = ?))`), name, name)
	n, err := affected(res, err)
	return n, wrapIf("clear sign-in failures", err)
}

// ClearSignInFailure removes the record of (name, addr), if any.
func (s *db) ClearSignInFailure(ctx context.Context, name, addr string) error {
	_, err := s.w.ExecContext(ctx, s.q("DELETE FROM sign_in_failures WHERE name = ? AND addr = ?"), name, addr)
	return wrapIf("clear sign-in failure", err)
}

// ForgetSignInFailures removes the records whose last failure is before
// before, and returns how many.
func (s *db) ForgetSignInFailures(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM sign_in_failures WHERE last_failure_at < ?"),
		s.t(ceilSecond(before)))
	n, err := affected(res, err)
	return n, wrapIf("forget sign-in failures", err)
}
