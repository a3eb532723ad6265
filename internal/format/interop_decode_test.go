package format

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeCase is one file made by openssl or keytool and what Decode must
// find in it.
type decodeCase struct {
	file     string
	password string
	kind     Kind
	chain    int  // how many of leaf, intermediate, root, in that order
	others   int  // trust-store entries expected in Others
	key      bool // a key matching the leaf
	alias    string
}

// decodeCases lists every container of a family.
func decodeCases() []decodeCase {
	return []decodeCase{
		{file: "chain.pem", kind: KindPEM, chain: 3},
		{file: "shuffled.pem", kind: KindPEM, chain: 3},
		{file: "shuffled-key.pem", kind: KindPEM, chain: 3, key: true},
		{file: "dump.pem", kind: KindPEM, chain: 3, key: true},
		{file: "leaf.crt", kind: KindPEM, chain: 1},
		{file: "leaf.der", kind: KindDER, chain: 1},
		{file: "chain.p7b", kind: KindPKCS7, chain: 3},
		{file: "chain.p7b.pem", kind: KindPEM, chain: 3},
		{file: "leaf.key", kind: KindPEM, key: true},
		{file: "leaf.key.der", kind: KindDER, key: true},
		{file: "traditional.pem", kind: KindPEM, key: true},
		{file: "p8aes.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "p8des3.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "p8scrypt.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "trusted.pem", kind: KindPEM, chain: 1},
		{file: "legacy-enc.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "modern.pfx", password: interopPass, kind: KindPKCS12, chain: 3, key: true, alias: "web"},
		{file: "legacy.pfx", password: interopPass, kind: KindPKCS12, chain: 3, key: true, alias: "web"},
		{file: "empty.pfx", kind: KindPKCS12, chain: 3, key: true, alias: "web"},
		{file: "keystore.jks", password: interopPass, kind: KindJKS, chain: 3, key: true, alias: "web"},
		{file: "keystore.p12", password: interopPass, kind: KindPKCS12, chain: 3, key: true, alias: "web"},
		{file: "trust.jks", password: interopPass, kind: KindJKS, others: 2},
		{file: "trust.p12", password: interopPass, kind: KindPKCS12, others: 2},
		{file: "p8v1-3des.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "p8v1-2des.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "p8v1-md5des.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "p8v1-sha1des.pem", password: interopPass, kind: KindPEM, key: true},
		{file: "certs.pfx", password: interopPass, kind: KindPKCS12, chain: 3},
		{file: "certs-3des.pfx", password: interopPass, kind: KindPKCS12, chain: 3},
		{file: "certs-nomac.pfx", password: interopPass, kind: KindPKCS12, chain: 3},
		{file: "certs-plain.pfx", password: interopPass, kind: KindPKCS12, chain: 3},
		{file: "certs-empty.pfx", kind: KindPKCS12, chain: 3},
	}
}

// TestInteropDecode decodes every container openssl and keytool made and
// compares leaf, chain order (by SHA-256 fingerprint, as openssl prints
// it) and key.
func TestInteropDecode(t *testing.T) {
	fx := interop(t)
	for _, f := range fx.families {
		leafPub := mustLeafPub(t, f)
		for _, tc := range decodeCases() {
			t.Run(f.alg+"/"+tc.file, func(t *testing.T) {
				data, err := os.ReadFile(f.files[tc.file])
				if err != nil {
					t.Fatal(err)
				}
				b, err := Decode(data, []byte(tc.password))
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				checkDecoded(t, f, tc, b, leafPub)
			})
		}
	}
}

// checkDecoded compares a bundle with what tc expects.
func checkDecoded(t *testing.T, f *family, tc decodeCase, b *Bundle, leafPub crypto.PublicKey) {
	t.Helper()
	if b.Kind != tc.kind {
		t.Errorf("Kind = %q, want %q", b.Kind, tc.kind)
	}
	if diff := cmp.Diff(f.fp[:tc.chain], fingerprints(b.Chain)); diff != "" {
		t.Errorf("chain fingerprints (-want +got):\n%s", diff)
	}
	if len(b.Others) != tc.others {
		t.Errorf("len(Others) = %d, want %d", len(b.Others), tc.others)
	}
	if got := b.Key != nil; got != tc.key {
		t.Fatalf("key present = %v, want %v", got, tc.key)
	}
	if tc.key && !b.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(leafPub) {
		t.Errorf("key is not the leaf's key")
	}
	if want := tc.key && tc.chain > 0; b.KeyMatchesLeaf != want {
		t.Errorf("KeyMatchesLeaf = %v, want %v", b.KeyMatchesLeaf, want)
	}
	if b.Alias != tc.alias {
		t.Errorf("Alias = %q, want %q", b.Alias, tc.alias)
	}
}

// fingerprints returns the lower-case hex SHA-256 of each certificate.
func fingerprints(certs []*x509.Certificate) []string {
	out := []string{}
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		out = append(out, hex.EncodeToString(sum[:]))
	}
	return out
}

// mustLeafPub reads the public key of the family's leaf.
func mustLeafPub(t *testing.T, f *family) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(f.files["leaf.crt"])
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.PublicKey
}

// TestInteropEd25519Key decodes an Ed25519 key made by openssl genpkey.
func TestInteropEd25519Key(t *testing.T) {
	fx := interop(t)
	data, err := os.ReadFile(fx.ed25519)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(data, nil)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	block, _ := pem.Decode([]byte(fx.edPub))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if b.Key == nil || !b.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
		t.Errorf("key %T does not match openssl's public key", b.Key)
	}
	if len(b.Chain) != 0 || b.KeyMatchesLeaf {
		t.Errorf("chain %d, KeyMatchesLeaf %v; want an empty chain, false", len(b.Chain), b.KeyMatchesLeaf)
	}
}

// TestInteropPasswords checks wrong and missing passwords on every
// protected container.
func TestInteropPasswords(t *testing.T) {
	fx := interop(t)
	files := []string{"modern.pfx", "legacy.pfx", "keystore.jks", "keystore.p12", "trust.jks",
		"trust.p12", "p8aes.pem", "p8des3.pem", "p8scrypt.pem", "legacy-enc.pem",
		"p8v1-3des.pem", "p8v1-2des.pem", "p8v1-md5des.pem", "p8v1-sha1des.pem", "certs.pfx", "certs-3des.pfx"}
	for _, f := range fx.families {
		for _, file := range files {
			data, err := os.ReadFile(f.files[file])
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name     string
				password []byte
				want     error
			}{
				{"wrong", []byte("not-" + interopPass), ErrWrongPassword},
				{"missing", nil, ErrPasswordNeeded},
			} {
				t.Run(f.alg+"/"+file+"/"+tc.name, func(t *testing.T) {
					_, err := Decode(data, tc.password)
					if !errors.Is(err, tc.want) {
						t.Errorf("Decode error = %v, want %v", err, tc.want)
					}
				})
			}
		}
	}
}

// TestInteropUnsupportedEncryption: RC2 (openssl's -legacy certificate
// encryption, pkcs8 -v1 PBE-SHA1-RC2-64) is refused with a one-line error
// that names it and says how to re-encrypt, not as a broken file.
func TestInteropUnsupportedEncryption(t *testing.T) {
	fx := interop(t)
	for _, f := range fx.families {
		for _, file := range []string{"p8v1-rc2.pem", "certs-rc2.pfx"} {
			t.Run(f.alg+"/"+file, func(t *testing.T) {
				data, err := os.ReadFile(f.files[file])
				if err != nil {
					t.Fatal(err)
				}
				_, err = Decode(data, []byte(interopPass))
				var fe *Error
				if !errors.As(err, &fe) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrWrongPassword) ||
					!strings.Contains(err.Error(), "RC2") || !strings.Contains(err.Error(), "AES") {
					t.Errorf("Decode error = %v, want a one-line refusal naming RC2 and AES", err)
				}
			})
		}
	}
}
