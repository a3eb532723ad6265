package certificates

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// fake holds chains by leaf ID, and certkeeper's CAs.
type fake struct {
	chains map[int64][]inventory.Certificate
	cas    []inventory.CA
}

func (f *fake) ListCAs(context.Context) ([]inventory.CA, error) {
	if len(f.cas) == 0 {
		return nil, inventory.ErrNotFound
	}
	return f.cas, nil
}

func (f *fake) Chain(_ context.Context, id int64) ([]inventory.Certificate, error) {
	return f.chains[id], nil
}

func (f *fake) GetKey(context.Context, int64) (*inventory.Key, error) {
	return nil, inventory.ErrNotFound
}

func (f *fake) ListCertificates(_ context.Context, _ inventory.CertificateFilter, _ inventory.Page) (*inventory.CertificatePage, error) {
	p := &inventory.CertificatePage{}
	for _, c := range f.chains {
		p.Items = append(p.Items, c[0])
	}
	return p, nil
}

func (f *fake) CountCertificates(_ context.Context, fl inventory.CertificateFilter) (int, error) {
	if fl.CAOnly {
		return 0, nil
	}
	return len(f.chains), nil
}

// selfSigned returns the DER of a throwaway self-signed certificate.
func selfSigned(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestChain(t *testing.T) {
	s := New(&fake{chains: map[int64][]inventory.Certificate{1: {{ID: 1}, {ID: 2}}}})
	chain, err := s.Chain(context.Background(), 1)
	if err != nil || len(chain) != 2 || chain[0].ID != 1 {
		t.Errorf("Chain(1) = %v, %v; want certificates 1 and 2", chain, err)
	}
	if _, err := s.Chain(context.Background(), 9); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Chain(9) error = %v, want ErrNotFound", err)
	}
}

func TestEncode(t *testing.T) {
	der := selfSigned(t)
	s := New(&fake{chains: map[int64][]inventory.Certificate{1: {{ID: 1, DER: der}}}})
	got, err := s.Encode(context.Background(), 1, format.TargetDER)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(der) {
		t.Errorf("Encode(1, DER) = %d bytes, want the stored %d", len(got), len(der))
	}
	if _, err := s.Encode(context.Background(), 9, format.TargetPEM); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Encode(9) error = %v, want ErrNotFound", err)
	}
}

func TestList(t *testing.T) {
	s := New(&fake{chains: map[int64][]inventory.Certificate{1: {{ID: 1}}}})
	p, err := s.List(context.Background(), inventory.CertificateFilter{}, inventory.Page{})
	if err != nil || len(p.Items) != 1 {
		t.Errorf("List = %v, %v; want one certificate", p, err)
	}
}

// TestListAndCount checks that List and Count pass the filter to the
// store and return what it gives.
func TestListAndCount(t *testing.T) {
	s := New(&fake{chains: map[int64][]inventory.Certificate{1: {{ID: 1}}, 2: {{ID: 2}}}})
	ctx := context.Background()
	p, err := s.List(ctx, inventory.CertificateFilter{}, inventory.Page{Limit: 10})
	if err != nil || len(p.Items) != 2 {
		t.Errorf("List = %v, %v; want 2 certificates", p, err)
	}
	if n, err := s.Count(ctx, inventory.CertificateFilter{}); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}
	if n, err := s.Count(ctx, inventory.CertificateFilter{CAOnly: true}); err != nil || n != 0 {
		t.Errorf("Count(CA only) = %d, %v; want 0", n, err)
	}
}

func TestIssuingCA(t *testing.T) {
	s := New(&fake{cas: []inventory.CA{{ID: 7, CertificateID: 70}, {ID: 8, CertificateID: 80}}})
	tests := []struct {
		name string
		c    inventory.Certificate
		want int64
	}{
		{"issued by a certkeeper CA", inventory.Certificate{ID: 1, IssuerID: 80}, 8},
		{"issuer not a certkeeper CA", inventory.Certificate{ID: 1, IssuerID: 90}, 0},
		{"issuer unknown", inventory.Certificate{ID: 1}, 0},
		{"self-signed", inventory.Certificate{ID: 70, IssuerID: 70, SelfSigned: true}, 0},
	}
	for _, tt := range tests {
		if got, err := s.IssuingCA(context.Background(), &tt.c); err != nil || got != tt.want {
			t.Errorf("%s: IssuingCA = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
	none := New(&fake{})
	if got, err := none.IssuingCA(context.Background(), &inventory.Certificate{ID: 1, IssuerID: 70}); err != nil || got != 0 {
		t.Errorf("IssuingCA without CAs = %d, %v; want 0", got, err)
	}
}
