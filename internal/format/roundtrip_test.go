package format

import (
	"errors"
	"strings"
	"testing"

	"crypto/x509"

	"github.com/google/go-cmp/cmp"
)

// names lists the common names of certificates, for readable diffs.
func names(b *Bundle) (chain, others []string) {
	for _, c := range b.Chain {
		chain = append(chain, c.Subject.CommonName)
	}
	for _, c := range b.Others {
		others = append(others, c.Subject.CommonName)
	}
	return chain, others
}

// TestEncodeDecodeRoundTrip encodes the in-process hierarchy to every
// target and decodes it back with this package.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	p := newGoPKI(t)
	full := []string{"leaf.example.test", "Test Go Intermediate", "Test Go Root"}
	tests := []struct {
		target    Target
		password  string
		wantKind  Kind
		wantChain []string
		wantKey   bool
	}{
		{TargetPEM, "", KindPEM, full, false},
		{TargetCert, "", KindPEM, full[:1], false},
		{TargetChain, "", KindPEM, full[1:], false},
		{TargetFullchain, "", KindPEM, full[:2], false},
		{TargetKey, "", KindPEM, nil, true},
		{TargetKey, "s3cret-pass", KindPEM, nil, true},
		{TargetCombinedPEM, "", KindPEM, full[:2], true},
		{TargetCombinedPEM, "s3cret-pass", KindPEM, full[:2], true},
		{TargetDER, "", KindDER, full[:1], false},
		{TargetP7B, "", KindPKCS7, full, false},
		{TargetPFX, "s3cret-pass", KindPKCS12, full, true},
		{TargetPFXLegacy, "s3cret-pass", KindPKCS12, full, true},
		{TargetJKS, "s3cret-pass", KindJKS, full, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.target)+"/"+tt.password, func(t *testing.T) {
			out := mustEncode(t, p.bundle(true), tt.target, tt.password)
			b, err := Decode(out, []byte(tt.password))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			chain, _ := names(b)
			if b.Kind != tt.wantKind {
				t.Errorf("Kind = %q, want %q", b.Kind, tt.wantKind)
			}
			if diff := cmp.Diff(tt.wantChain, chain); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
			if (b.Key != nil) != tt.wantKey {
				t.Errorf("key present = %v, want %v", b.Key != nil, tt.wantKey)
			}
			if tt.wantKey && len(b.Chain) > 0 && !b.KeyMatchesLeaf {
				t.Errorf("KeyMatchesLeaf = false, want true")
			}
		})
	}
}

// TestTrustStoreRoundTrip encodes a key-less bundle to the key-store
// targets: they become trust stores, which decode into Others.
func TestTrustStoreRoundTrip(t *testing.T) {
	p := newGoPKI(t)
	in := &Bundle{Others: []*x509.Certificate{p.root, p.inter}}
	for _, target := range []Target{TargetPFX, TargetPFXLegacy, TargetJKS} {
		t.Run(string(target), func(t *testing.T) {
			b, err := Decode(mustEncode(t, in, target, "changeit"), []byte("changeit"))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			chain, others := names(b)
			if len(chain) != 0 || len(others) != 2 {
				t.Errorf("chain %v, others %v; want no chain and 2 others", chain, others)
			}
		})
	}
}

// TestEncodeErrors covers missing keys, leaves and passwords.
func TestEncodeErrors(t *testing.T) {
	p := newGoPKI(t)
	keyOnly := &Bundle{Key: p.key}
	certsOnly := p.bundle(false)
	mismatch := &Bundle{Chain: []*x509.Certificate{p.inter}, Key: p.key}
	tests := []struct {
		name   string
		b      *Bundle
		target Target
		pass   string
		want   error
	}{
		{"cert without certificate", keyOnly, TargetCert, "", ErrNothingToEncode},
		{"der without certificate", keyOnly, TargetDER, "", ErrNothingToEncode},
		{"key without key", certsOnly, TargetKey, "", ErrNothingToEncode},
		{"combined without key", certsOnly, TargetCombinedPEM, "", ErrNothingToEncode},
		{"chain of a lone leaf", &Bundle{Chain: []*x509.Certificate{p.leaf}}, TargetChain, "", ErrNothingToEncode},
		{"pfx without password", p.bundle(true), TargetPFX, "", ErrPasswordNeeded},
		{"pfx-legacy without password", p.bundle(true), TargetPFXLegacy, "", ErrPasswordNeeded},
		{"jks without password", p.bundle(true), TargetJKS, "", ErrPasswordNeeded},
		{"pfx with a key only", keyOnly, TargetPFX, "pw123456", ErrNothingToEncode},
		{"jks with a key only", keyOnly, TargetJKS, "pw123456", ErrNothingToEncode},
		{"pfx with a foreign key", mismatch, TargetPFX, "pw123456", nil},
		{"unknown target", certsOnly, Target("zip"), "", ErrUnknownTarget},
		{"nil bundle", nil, TargetPEM, "", ErrNothingToEncode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.b, tt.target, EncodeOptions{Password: []byte(tt.pass)})
			if err == nil {
				t.Fatalf("Encode succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q does not wrap %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "format: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line starting with \"format: \"", err)
			}
		})
	}
}

// TestParseTarget checks every target name and the error listing them.
func TestParseTarget(t *testing.T) {
	for _, want := range Targets {
		got, err := ParseTarget(" " + strings.ToUpper(string(want)) + " ")
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q, nil", want, got, err, want)
		}
	}
	_, err := ParseTarget("p12")
	if !errors.Is(err, ErrUnknownTarget) || !strings.Contains(err.Error(), "pfx-legacy, jks") {
		t.Errorf("ParseTarget(p12) error = %v, want ErrUnknownTarget listing the targets", err)
	}
}
