package ca

import (
	"context"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// CA returns the stored CA id. An unknown CA gives inventory.ErrNotFound.
func (a *Authority) CA(ctx context.Context, id int64) (*inventory.CA, error) {
	return a.st.GetCA(ctx, id)
}
