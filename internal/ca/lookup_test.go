package ca

import (
	"context"
	"errors"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestCALookup(t *testing.T) {
	a, _, c := newAuthority(t, Config{})
	got, err := a.CA(context.Background(), c.ID)
	if err != nil || got.Name != c.Name {
		t.Errorf("CA(%d) = %+v, %v; want %s", c.ID, got, err, c.Name)
	}
	if _, err := a.CA(context.Background(), c.ID+100); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("CA(unknown) error = %v, want ErrNotFound", err)
	}
}
