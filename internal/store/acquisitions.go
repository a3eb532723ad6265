package store

import (
	"context"
	"errors"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var errAcqTODO = errors.New("store: acquisitions not yet implemented")

func (s *db) PutAcquisition(ctx context.Context, a *inventory.Acquisition, steps ...inventory.AcquisitionStep) error {
	return errAcqTODO
}
func (s *db) UpdateAcquisition(ctx context.Context, a *inventory.Acquisition, steps ...inventory.AcquisitionStep) error {
	return errAcqTODO
}
func (s *db) SwitchCurrent(ctx context.Context, a *inventory.Acquisition, steps ...inventory.AcquisitionStep) error {
	return errAcqTODO
}
func (s *db) GetAcquisition(ctx context.Context, id int64) (*inventory.Acquisition, error) {
	return nil, errAcqTODO
}
func (s *db) ListAcquisitions(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error) {
	return nil, errAcqTODO
}
func (s *db) AcquisitionSteps(ctx context.Context, id int64) ([]inventory.AcquisitionStep, error) {
	return nil, errAcqTODO
}
func (s *db) ExpiringWithoutAcquisition(ctx context.Context, before time.Time, p inventory.Page) (*inventory.DefinitionPage, error) {
	return nil, errAcqTODO
}
