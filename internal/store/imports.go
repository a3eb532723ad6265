package store

import (
	"context"
	"database/sql"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ImportBatch stores keys (as PutKey does), then certs (as
// PutCertificates does), then the audit events audit makes of the
// results, all in one transaction; see inventory.Store.
func (s *db) ImportBatch(ctx context.Context, keys []*inventory.Key, certs []*inventory.Certificate,
	audit func(keys, certs []inventory.PutResult) []inventory.AuditEvent) (inventory.ImportResults, error) {
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return inventory.ImportResults{}, err
		}
	}
	if err := checkCerts(certs); err != nil {
		return inventory.ImportResults{}, err
	}
	if err := s.prepareHot(ctx); err != nil { // the audit insert
		return inventory.ImportResults{}, err
	}
	var out inventory.ImportResults
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = s.importTx(ctx, tx, keys, certs); err != nil {
			return err
		}
		events := audit(out.Keys, out.Certificates)
		for i := range events {
			if err := s.appendAuditTx(ctx, tx, &events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return inventory.ImportResults{}, err
	}
	return out, nil
}

func (s *db) importTx(ctx context.Context, tx *sql.Tx, keys []*inventory.Key, certs []*inventory.Certificate) (inventory.ImportResults, error) {
	out := inventory.ImportResults{Keys: make([]inventory.PutResult, len(keys))}
	for i, k := range keys {
		var err error
		if out.Keys[i], err = s.putKeyLinked(ctx, tx, k); err != nil {
			return out, err
		}
	}
	if len(certs) == 0 {
		return out, nil
	}
	var err error
	out.Certificates, err = s.putCertsTx(ctx, tx, certs)
	return out, err
}
