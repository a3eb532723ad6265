package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedPassword protects the committed fixtures in testdata (see gen.sh).
const seedPassword = "changeit"

// addSeeds adds committed fixtures, each with the right and no password.
func addSeeds(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte(seedPassword))
		f.Add(data, []byte(nil))
	}
}

// addGenerated adds outputs of Encode for the in-process hierarchy.
func addGenerated(f *testing.F, targets ...Target) {
	f.Helper()
	p := newGoPKI(f)
	for _, target := range targets {
		f.Add(mustEncode(f, p.bundle(true), target, seedPassword), []byte(seedPassword))
	}
}

// checkResult asserts what any Decode result must satisfy.
func checkResult(t *testing.T, b *Bundle, err error, password []byte) {
	t.Helper()
	if err != nil {
		checkError(t, b, err, password)
		return
	}
	if b == nil || b.Kind == "" {
		t.Fatalf("nil error but bundle %+v", b)
	}
	if want := keyMatches(b.Key, b.Leaf()); b.KeyMatchesLeaf != want {
		t.Fatalf("KeyMatchesLeaf = %v, want %v", b.KeyMatchesLeaf, want)
	}
	seen := map[string]bool{}
	for _, c := range allCerts(b) {
		if seen[string(c.Raw)] {
			t.Fatalf("certificate %q appears twice", c.Subject)
		}
		seen[string(c.Raw)] = true
	}
	for i := 1; i < len(b.Chain); i++ {
		if !bytes.Equal(b.Chain[i].RawSubject, b.Chain[i-1].RawIssuer) {
			t.Fatalf("chain[%d] subject is not chain[%d]'s issuer", i, i-1)
		}
	}
}

// checkError asserts the shape of a Decode error.
func checkError(t *testing.T, b *Bundle, err error, password []byte) {
	t.Helper()
	msg := err.Error()
	if b != nil {
		t.Fatalf("error %q with a non-nil bundle", msg)
	}
	if !strings.HasPrefix(msg, "format: ") || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error %q: want one line starting with \"format: \"", msg)
	}
	if len(password) >= 6 && strings.Contains(msg, string(password)) {
		t.Fatalf("error %q contains the password", msg)
	}
	var fe *Error
	if !errors.As(err, &fe) && !errors.Is(err, ErrUnknownFormat) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %q is neither an *Error nor a sentinel", msg)
	}
}

// FuzzDecode fuzzes format detection and every decoder behind it.
func FuzzDecode(f *testing.F) {
	addSeeds(f, "chain.pem", "key.pem", "key-pkcs8-aes.pem", "key-legacy-aes.pem", "key-pkcs8-v1.pem", "leaf.der",
		"chain.p7b", "modern.pfx", "legacy.pfx", "keystore.jks", "trust.jks", "trust.p12", "certs.pfx", "certs-3des.pfx")
	addGenerated(f, TargetPEM, TargetCombinedPEM, TargetDER, TargetP7B, TargetJKS)
	f.Fuzz(func(t *testing.T, data, password []byte) {
		b, err := Decode(data, password)
		checkResult(t, b, err, password)
	})
}

// FuzzDecodePEM fuzzes the PEM decoder directly.
func FuzzDecodePEM(f *testing.F) {
	addSeeds(f, "chain.pem", "key.pem", "key-pkcs8-aes.pem", "key-legacy-aes.pem", "key-pkcs8-v1.pem")
	addGenerated(f, TargetPEM, TargetCombinedPEM, TargetKey)
	f.Fuzz(func(t *testing.T, data, password []byte) {
		b, err := decodePEM(data, password)
		checkResult(t, b, err, password)
	})
}

// FuzzDecodePKCS7 fuzzes the PKCS#7 decoder (and its BER pre-check).
func FuzzDecodePKCS7(f *testing.F) {
	addSeeds(f, "chain.p7b")
	addGenerated(f, TargetP7B)
	f.Fuzz(func(t *testing.T, data, _ []byte) {
		b, err := decodePKCS7(data)
		checkResult(t, b, err, nil)
	})
}

// FuzzDecodePKCS12 fuzzes the PKCS#12 decoder (and its KDF pre-check).
func FuzzDecodePKCS12(f *testing.F) {
	addSeeds(f, "modern.pfx", "legacy.pfx", "trust.p12", "certs.pfx", "certs-3des.pfx")
	addGenerated(f, TargetPFX, TargetPFXLegacy)
	f.Fuzz(func(t *testing.T, data, password []byte) {
		b, err := decodePKCS12(data, password)
		checkResult(t, b, err, password)
	})
}

// FuzzReadPKCS12Certs fuzzes certkeeper's own reader of certificate-only
// PFX files (MAC check, PBES2 and PKCS#12 PBE decryption, bag parsing)
// behind the same structural pre-check as decodePKCS12.
func FuzzReadPKCS12Certs(f *testing.F) {
	addSeeds(f, "certs.pfx", "certs-3des.pfx", "modern.pfx")
	f.Fuzz(func(t *testing.T, data, password []byte) {
		s := berScanner{kdf: true}
		if s.scan(data) != nil {
			return
		}
		certs, err := readPKCS12Certs(data, password)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
	})
}

// FuzzDecodeJKS fuzzes the guarded JKS path: checkJKS, the digest check,
// then keystore-go.
func FuzzDecodeJKS(f *testing.F) {
	addSeeds(f, "keystore.jks", "trust.jks")
	addGenerated(f, TargetJKS)
	f.Add(hostileJKS(), []byte(seedPassword))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		b, err := decodeJKS(data, password)
		checkResult(t, b, err, password)
	})
}
