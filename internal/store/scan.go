package store

import (
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// wrap prefixes err with the package and operation, mapping sql.ErrNoRows
// to inventory.ErrNotFound.
func wrap(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		err = inventory.ErrNotFound
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// timeCol scans a time column of either dialect (unix seconds or
// timestamptz) into a UTC time; NULL leaves the zero time.
type timeCol struct{ dst *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.dst = time.Time{}
	case int64:
		*c.dst = time.Unix(v, 0).UTC()
	case time.Time:
		*c.dst = v.UTC()
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	return nil
}

// nullTimeCol scans an optional time column; NULL becomes nil.
type nullTimeCol struct{ dst **time.Time }

// Scan implements sql.Scanner.
func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.dst = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(src); err != nil {
		return err
	}
	*c.dst = &t
	return nil
}

// idCol scans a nullable ID; NULL becomes 0.
type idCol struct{ dst *int64 }

// Scan implements sql.Scanner.
func (c idCol) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*c.dst = n.Int64
	return nil
}

// Cursors are opaque to callers: base64url of comma-separated integers.

func encodeCursor(parts ...int64) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = strconv.FormatInt(p, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(s, ",")))
}

// decodeCursor reads a cursor of n integers; the empty cursor is n zeros.
func decodeCursor(c string, n int) ([]int64, error) {
	out := make([]int64, n)
	if c == "" {
		return out, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, inventory.ErrBadCursor
	}
	parts := strings.Split(string(raw), ",")
	if len(parts) != n {
		return nil, inventory.ErrBadCursor
	}
	for i, p := range parts {
		if out[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return nil, inventory.ErrBadCursor
		}
	}
	return out, nil
}

// wrapIf is wrap for an error that may be nil.
func wrapIf(op string, err error) error {
	if err == nil {
		return nil
	}
	return wrap(op, err)
}
