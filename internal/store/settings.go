package store

import (
	"context"
	"fmt"
)

// GetSetting returns the stored value of the named setting, or
// inventory.ErrNotFound.
func (s *db) GetSetting(ctx context.Context, name string) ([]byte, error) {
	var value []byte
	err := s.r.QueryRowContext(ctx, s.q("SELECT value FROM settings WHERE name = ?"), name).Scan(&value)
	if err != nil {
		return nil, wrap(fmt.Sprintf("get setting %q", name), err)
	}
	if value == nil {
		value = []byte{}
	}
	return value, nil
}

// PutSetting stores value under name, replacing any earlier value. A nil
// value is stored as empty.
func (s *db) PutSetting(ctx context.Context, name string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
		name, value, s.t(s.now()))
	return wrapIf(fmt.Sprintf("put setting %q", name), err)
}
