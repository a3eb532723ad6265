package format

import (
	"testing"
)

// BenchmarkDecode decodes one in-process hierarchy (ECDSA P-256, leaf,
// intermediate, root and key) per container format. The password-protected
// inputs pay for their KDF: PBKDF2 2048 (pfx), 100000 (the encrypted key of
// combined-pem-encrypted).
func BenchmarkDecode(b *testing.B) {
	p := newGoPKI(b)
	full := p.bundle(true)
	inputs := []struct {
		name   string
		target Target
		bundle *Bundle
	}{
		{"pem-chain", TargetPEM, full},
		{"combined-pem-encrypted", TargetCombinedPEM, full},
		{"der", TargetDER, full},
		{"p7b", TargetP7B, full},
		{"pfx-modern", TargetPFX, full},
		{"pfx-legacy", TargetPFXLegacy, full},
		{"jks", TargetJKS, full},
	}
	for _, in := range inputs {
		data := mustEncode(b, in.bundle, in.target, seedPassword)
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(data, []byte(seedPassword)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode encodes the same hierarchy to every target. Targets
// with a password ("key", "combined-pem") pay for PBKDF2 key encryption.
func BenchmarkEncode(b *testing.B) {
	full := newGoPKI(b).bundle(true)
	for _, target := range Targets {
		opts := EncodeOptions{}
		if target == TargetPFX || target == TargetPFXLegacy || target == TargetJKS {
			opts.Password = []byte(seedPassword)
		}
		b.Run(string(target), func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := Encode(full, target, opts)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
	b.Run("key-encrypted", func(b *testing.B) {
		for b.Loop() {
			if _, err := Encode(full, TargetKey, EncodeOptions{Password: []byte(seedPassword)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
