package keys

import (
	"context"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// UsageStore is what UsageOf reads; the inventory store is one.
type UsageStore interface {
	ListCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error)
	ListAcquisitions(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error)
}

// Usage is what uses a stored key.
type Usage struct {
	// Certificates and Acquisitions are the IDs of the key's certificates
	// and acquisition processes, the first page of each in ID order;
	// empty, not nil, when there is none.
	Certificates, Acquisitions []int64
}

// UsageOf returns what uses key id.
func UsageOf(ctx context.Context, st UsageStore, id int64) (*Usage, error) {
	u := &Usage{Certificates: []int64{}, Acquisitions: []int64{}}
	certs, err := st.ListCertificates(ctx, inventory.CertificateFilter{KeyID: id}, inventory.Page{})
	if err != nil {
		return nil, err
	}
	for _, c := range certs.Items {
		u.Certificates = append(u.Certificates, c.ID)
	}
	acqs, err := st.ListAcquisitions(ctx, inventory.AcquisitionFilter{KeyID: id}, inventory.Page{})
	if err != nil {
		return nil, err
	}
	for _, q := range acqs.Items {
		u.Acquisitions = append(u.Acquisitions, q.ID)
	}
	return u, nil
}
