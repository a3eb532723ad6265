package format

import (
	"crypto/x509"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuildBundleOrder feeds the hierarchy in every order, with and
// without the key, and with unrelated or duplicated certificates.
func TestBuildBundleOrder(t *testing.T) {
	p := newGoPKI(t)
	otherKey := mustKey()
	stranger := mustCert("Unrelated Root", true, otherKey, nil, otherKey)
	full := []string{"leaf.example.test", "Test Go Intermediate", "Test Go Root"}
	tests := []struct {
		name       string
		certs      []*x509.Certificate
		key        bool
		trustStore bool
		wantChain  []string
		wantOthers []string
	}{
		{"ordered", []*x509.Certificate{p.leaf, p.inter, p.root}, false, false, full, nil},
		{"reversed", []*x509.Certificate{p.root, p.inter, p.leaf}, false, false, full, nil},
		{"shuffled with key", []*x509.Certificate{p.inter, p.leaf, p.root}, true, false, full, nil},
		{"duplicates", []*x509.Certificate{p.root, p.leaf, p.root, p.inter, p.leaf}, false, false, full, nil},
		{"unrelated root", []*x509.Certificate{stranger, p.root, p.leaf, p.inter}, false, false, full, []string{"Unrelated Root"}},
		{"missing intermediate", []*x509.Certificate{p.root, p.leaf}, true, false, full[:1], full[2:]},
		{"key picks the leaf", []*x509.Certificate{p.root, p.inter}, true, false, full[1:], nil},
		{"trust store", []*x509.Certificate{p.root, p.inter}, false, true, nil, []string{"Test Go Root", "Test Go Intermediate"}},
		{"key-less trust store", []*x509.Certificate{p.inter, p.root}, false, true, nil, full[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := p.key
			if !tt.key {
				key = nil
			}
			b := buildBundle(KindPEM, tt.certs, key, tt.trustStore)
			chain, others := names(b)
			if diff := cmp.Diff(tt.wantChain, chain); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOthers, others); diff != "" {
				t.Errorf("others (-want +got):\n%s", diff)
			}
			if want := key != nil && len(chain) > 0 && chain[0] == full[0]; b.KeyMatchesLeaf != want {
				t.Errorf("KeyMatchesLeaf = %v, want %v", b.KeyMatchesLeaf, want)
			}
		})
	}
}

// TestBuildBundleLookalikeIssuer checks that an issuer with the right name
// but the wrong key is not linked.
func TestBuildBundleLookalikeIssuer(t *testing.T) {
	p := newGoPKI(t)
	fakeKey := mustKey()
	fake := mustCert("Test Go Intermediate", true, fakeKey, nil, fakeKey)
	b := buildBundle(KindPEM, []*x509.Certificate{fake, p.leaf}, nil, false)
	chain, others := names(b)
	if diff := cmp.Diff([]string{"leaf.example.test"}, chain); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Test Go Intermediate"}, others); diff != "" {
		t.Errorf("others (-want +got):\n%s", diff)
	}
}

// TestBuildBundleKeyOnly checks a key without certificates.
func TestBuildBundleKeyOnly(t *testing.T) {
	p := newGoPKI(t)
	b := buildBundle(KindPEM, nil, p.key, false)
	if b.Key == nil || len(b.Chain) != 0 || b.KeyMatchesLeaf || b.Leaf() != nil {
		t.Errorf("got key %v, chain %d, match %v; want key, empty chain, false", b.Key != nil, len(b.Chain), b.KeyMatchesLeaf)
	}
}
