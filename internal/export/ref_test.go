package export

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestFind finds a certificate by ID and by SHA-256, and refuses other
// references.
func TestFind(t *testing.T) {
	f := newFixture(t)
	s := New(f.st, f.sealer, nil)
	ctx := context.Background()
	for _, ref := range []string{itoa(f.cert.ID), f.cert.SHA256} {
		if c, err := s.Find(ctx, ref); err != nil || c.ID != f.cert.ID {
			t.Errorf("Find(%s) = %v, %v; want certificate %d", ref, c, err, f.cert.ID)
		}
	}
	if _, err := s.Find(ctx, "abc"); err == nil || !strings.Contains(err.Error(), "neither a certificate ID nor a SHA-256 fingerprint") {
		t.Errorf("Find(abc) = %v, want a refusal", err)
	}
	if _, err := s.Find(ctx, "99"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Find(99) = %v, want ErrNotFound", err)
	}
	b, err := s.CertificateByRef(ctx, "cli:bob", f.cert.SHA256, "pem", false)
	if err != nil || len(b.Chain) != 1 || b.Key != nil {
		t.Errorf("CertificateByRef = %v, %v; want the certificate alone", b, err)
	}
}
