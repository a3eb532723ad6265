package ca

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestListNamedAndRequest: List gives every CA with its certificate (none
// for a pending subordinate), Named and NamedChain find CAs by name or the
// default one, and RequestPEM gives a pending CA's request.
func TestListNamedAndRequest(t *testing.T) {
	ctx := context.Background()
	a, _, def := newAuthority(t, Config{})
	sub, err := a.Init(ctx, InitOptions{Name: "outside", Subordinate: true, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := a.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]*inventory.Certificate{}
	for _, l := range list {
		found[l.CA.Name] = l.Certificate
	}
	if c, ok := found[def.Name]; !ok || c == nil || c.ID != def.CertificateID {
		t.Errorf("List gives %s with certificate %+v, want certificate %d", def.Name, c, def.CertificateID)
	}
	if c, ok := found["outside"]; !ok || c != nil {
		t.Errorf("List gives the pending CA with %+v (listed %v), want it without a certificate", c, ok)
	}
	got, chain, err := a.NamedChain(ctx, "")
	if err != nil || got.ID != def.ID || len(chain) != 2 {
		t.Errorf("NamedChain(\"\") = %v, %d certificates, %v; want the default CA %d and its root", got, len(chain), err, def.ID)
	}
	if c, _, err := a.NamedChain(ctx, "nope"); c != nil || !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("NamedChain(nope) = %v, %v; want nil and ErrNotFound", c, err)
	}
	if c, err := a.Named(ctx, "outside"); err != nil || c.ID != sub.ID {
		t.Errorf("Named(outside) = %v, %v; want CA %d", c, err, sub.ID)
	}
	data, err := a.RequestPEM(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("RequestPEM gave %q, want a PEM certificate request", data)
	}
	if _, err := x509.ParseCertificateRequest(blk.Bytes); err != nil {
		t.Errorf("RequestPEM's request does not parse: %v", err)
	}
}
