package format

import (
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"runtime"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// hostileJKS is the 39-byte shape that makes keystore-go v4.5.0 allocate
// about 170 GB: a valid header announcing 2^32-1 entries, then a key entry
// whose length field claims nearly 4 GiB.
func hostileJKS() []byte {
	var b bytes.Buffer
	for _, v := range []uint32{jksMagic, 2, 0xFFFFFFFF, jksKeyTag} {
		binary.Write(&b, binary.BigEndian, v)
	}
	b.Write([]byte{0, 1, 'a'})              // alias
	b.Write(make([]byte, 8))                // timestamp
	b.Write([]byte{0xFF, 0xFF, 0xFF, 0xF0}) // key length
	b.Write([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	return b.Bytes()
}

// jksWith returns a JKS header and one entry body, without a digest.
func jksWith(version, count uint32, entry ...[]byte) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{jksMagic, version, count} {
		binary.Write(&b, binary.BigEndian, v)
	}
	for _, e := range entry {
		b.Write(e)
	}
	return b.Bytes()
}

// be32 is a big-endian uint32.
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// hostileInputs are crafted files that must fail fast and small.
func hostileInputs(t *testing.T) map[string][]byte {
	trusted := append(append(be32(jksTrustedTag), 0, 1, 'r'), make([]byte, 8)...)
	key := append(append(be32(jksKeyTag), 0, 1, 'k'), make([]byte, 8)...)
	return map[string][]byte{
		"jks 39 bytes":              hostileJKS(),
		"jks huge alias":            jksWith(2, 1, be32(jksTrustedTag), []byte{0xFF, 0xFF}, make([]byte, 64)),
		"jks huge cert length":      jksWith(2, 1, trusted, []byte{0, 5, 'X', '.', '5', '0', '9'}, be32(0xFFFFFFFF)),
		"jks v1 huge cert length":   jksWith(1, 3, trusted, be32(0x7FFFFFFF), make([]byte, 64)),
		"jks huge chain count":      jksWith(2, 1, key, be32(48), make([]byte, 48), be32(0xFFFFFFFF), make([]byte, 40)),
		"jks huge type length":      jksWith(2, 1, trusted, []byte{0xFF, 0xFF}, make([]byte, 30)),
		"jks count without entries": append(jksWith(2, 0xFFFFFFFF), make([]byte, 20)...),
		"jceks":                     append(be32(jceksMagic), make([]byte, 40)...),
		"pkcs12 huge iterations":    hugeIterationsPFX(t),
		"pkcs7 deep ber nesting":    deepBER(200000),
		"pkcs8 huge pbkdf2":         encryptedKeyWith(t, 0x7FFFFF),
		"pem many garbage blocks":   bytes.Repeat([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 100000),
	}
}

// withIterations replaces the first DER INTEGER old by new, which must
// encode to the same length, so that the file stays well formed.
func withIterations(t *testing.T, der []byte, old, new int) []byte {
	t.Helper()
	o, _ := asn1.Marshal(old)
	n, _ := asn1.Marshal(new)
	i := bytes.Index(der, o)
	if i < 0 || len(o) != len(n) {
		t.Fatalf("iteration count %d not found or %d does not fit", old, new)
	}
	out := append([]byte(nil), der...)
	copy(out[i:], n)
	return out
}

// hugeIterationsPFX is a valid PFX whose KDF and MAC iteration counts say
// 8388607 (from 65536, the same DER length).
func hugeIterationsPFX(t *testing.T) []byte {
	t.Helper()
	p := newGoPKI(t)
	b := p.bundle(true)
	pfx, err := pkcs12.Modern2023.WithIterations(65536).Encode(b.Key, b.Chain[0], b.Chain[1:], seedPassword)
	if err != nil {
		t.Fatal(err)
	}
	return withIterations(t, pfx, 65536, 0x7FFFFF)
}

// deepBER nests n indefinite-length SEQUENCEs.
func deepBER(n int) []byte {
	return append(bytes.Repeat([]byte{0x30, 0x80}, n), bytes.Repeat([]byte{0, 0}, n)...)
}

// encryptedKeyWith builds an encrypted PKCS#8 PEM with the given PBKDF2
// iteration count (the rest of the structure is valid).
func encryptedKeyWith(t *testing.T, iterations int) []byte {
	t.Helper()
	p := newGoPKI(t)
	out := mustEncode(t, &Bundle{Key: p.key}, TargetKey, seedPassword)
	block, _ := pem.Decode(out)
	block.Bytes = withIterations(t, block.Bytes, keyIterations, iterations)
	return pem.EncodeToMemory(block)
}

// TestHostileInputs decodes crafted files: each must fail within a second
// and allocate less than 64 MiB in total.
func TestHostileInputs(t *testing.T) {
	for name, data := range hostileInputs(t) {
		t.Run(name, func(t *testing.T) {
			checkBounded(t, data)
		})
	}
}

// checkBounded decodes data and checks time, memory and the error.
func checkBounded(t *testing.T, data []byte) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	b, err := Decode(data, []byte(seedPassword))
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Errorf("Decode succeeded with %d certificates, want an error", len(allCerts(b)))
	} else {
		t.Logf("error: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc >= 64<<20 {
		t.Errorf("Decode allocated %d MiB, want < 64 MiB", alloc>>20)
	}
	if elapsed > time.Second {
		t.Errorf("Decode took %v, want < 1s", elapsed)
	}
}

// TestTruncatedAndGarbage cuts every fixture at many points and flips
// bytes: decoding must fail (or succeed) quickly, never crash.
func TestTruncatedAndGarbage(t *testing.T) {
	for name, data := range validInputs(t) {
		t.Run(name, func(t *testing.T) {
			for _, n := range cutPoints(len(data)) {
				checkNoCrash(t, data[:n])
			}
			for i := 0; i < len(data); i += max(1, len(data)/64) {
				g := append([]byte(nil), data...)
				g[i] ^= 0xA5
				checkNoCrash(t, g)
			}
		})
	}
	checkBounded(t, bytes.Repeat([]byte{0x30, 0x82, 0xFF}, 1000))
}

// cutPoints lists prefix lengths to try: all short ones, then a spread.
func cutPoints(n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		if i < 64 || i%max(1, n/97) == 0 || i > n-64 {
			out = append(out, i)
		}
	}
	return out
}

// checkNoCrash decodes data and checks the result's invariants.
func checkNoCrash(t *testing.T, data []byte) {
	t.Helper()
	b, err := Decode(data, []byte(seedPassword))
	checkResult(t, b, err, []byte(seedPassword))
}

// validInputs is one valid file of each format.
func validInputs(t *testing.T) map[string][]byte {
	p := newGoPKI(t)
	out := map[string][]byte{}
	for _, target := range []Target{TargetPEM, TargetCombinedPEM, TargetDER, TargetP7B, TargetPFX, TargetPFXLegacy, TargetJKS} {
		out[string(target)] = mustEncode(t, p.bundle(true), target, seedPassword)
	}
	return out
}

// TestTooLarge rejects oversized input before parsing it.
func TestTooLarge(t *testing.T) {
	_, err := Decode(make([]byte, MaxInputSize+1), nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("Decode(8 MiB + 1) error = %v, want ErrTooLarge", err)
	}
}

// TestPanicRecovered checks that a panic in a decoder becomes ErrMalformed.
func TestPanicRecovered(t *testing.T) {
	b, err := func() (b *Bundle, err error) {
		defer recoverMalformed(&b, &err)
		panic("boom")
	}()
	if b != nil || !errors.Is(err, ErrMalformed) || err.Error() != "format: malformed input" {
		t.Errorf("got %v, %v; want nil, format: malformed input", b, err)
	}
}
