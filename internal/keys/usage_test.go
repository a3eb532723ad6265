package keys

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// usageStore holds certificates and processes by key.
type usageStore struct {
	certs []inventory.Certificate
	acqs  []inventory.Acquisition
}

func (s *usageStore) ListCertificates(_ context.Context, f inventory.CertificateFilter, _ inventory.Page) (*inventory.CertificatePage, error) {
	p := &inventory.CertificatePage{}
	for _, c := range s.certs {
		if c.KeyID == f.KeyID {
			p.Items = append(p.Items, c)
		}
	}
	return p, nil
}

func (s *usageStore) ListAcquisitions(_ context.Context, f inventory.AcquisitionFilter, _ inventory.Page) (*inventory.AcquisitionPage, error) {
	p := &inventory.AcquisitionPage{}
	for _, a := range s.acqs {
		if a.KeyID == f.KeyID {
			p.Items = append(p.Items, a)
		}
	}
	return p, nil
}

func TestUsageOf(t *testing.T) {
	st := &usageStore{
		certs: []inventory.Certificate{{ID: 1, KeyID: 7}, {ID: 2, KeyID: 8}, {ID: 3, KeyID: 7}},
		acqs:  []inventory.Acquisition{{ID: 4, KeyID: 7}},
	}
	for _, tc := range []struct {
		key         int64
		certs, acqs []int64
	}{
		{7, []int64{1, 3}, []int64{4}},
		{9, []int64{}, []int64{}},
	} {
		u, err := UsageOf(context.Background(), st, tc.key)
		if err != nil || !slices.Equal(u.Certificates, tc.certs) || !slices.Equal(u.Acquisitions, tc.acqs) ||
			u.Certificates == nil || u.Acquisitions == nil {
			t.Errorf("UsageOf(%d) = %+v, %v; want certificates %v, acquisitions %v, never nil", tc.key, u, err, tc.certs, tc.acqs)
		}
	}
}

// keyStore adds the keys to usageStore.
type keyStore struct {
	usageStore
	keys []inventory.Key
}

func (s *keyStore) GetKey(_ context.Context, id int64) (*inventory.Key, error) {
	for _, k := range s.keys {
		if k.ID == id {
			return &k, nil
		}
	}
	return nil, inventory.ErrNotFound
}

func (s *keyStore) ListKeys(context.Context, inventory.Page) ([]inventory.Key, string, error) {
	return s.keys, "", nil
}

func TestServiceGet(t *testing.T) {
	st := &keyStore{usageStore: usageStore{certs: []inventory.Certificate{{ID: 1, KeyID: 7}}}, keys: []inventory.Key{{ID: 7}}}
	s := NewService(st)
	k, u, err := s.Get(context.Background(), 7)
	if err != nil || k.ID != 7 || !slices.Equal(u.Certificates, []int64{1}) {
		t.Errorf("Get(7) = %+v, %+v, %v; want key 7 used by certificate 1", k, u, err)
	}
	if _, _, err := s.Get(context.Background(), 8); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Get(8) error = %v, want ErrNotFound", err)
	}
	if list, _, err := s.List(context.Background(), inventory.Page{}); err != nil || len(list) != 1 {
		t.Errorf("List = %v, %v; want key 7", list, err)
	}
}
