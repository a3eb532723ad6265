package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
)

// BenchmarkListExpiringCommand runs the real binary,
// "certkeeper list --expiring-within 30d --json", against a SQLite
// inventory of 100,000 certificates whose expiry dates are spread over two
// years: what a user waits for, process start-up included. The "version"
// sub-benchmark is the floor: starting the binary and doing nothing.
func BenchmarkListExpiringCommand(b *testing.B) {
	dir := b.TempDir()
	populate(b, filepath.Join(dir, "certkeeper.db"), 100_000)
	env := append(os.Environ(), "CERTKEEPER_DATA_DIR="+dir, "CERTKEEPER_DATABASE=", "CERTKEEPER_MASTER_KEY=")
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"version", []string{"version"}},
		{"list-expiring-30d", []string{"list", "--expiring-within", "30d", "--json"}},
		{"list-all-first-page", []string{"list", "--json"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(binary, bc.args...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", bc.args, err, out)
				}
			}
		})
	}
}

// populate stores n synthetic certificate records directly (the list
// command reads columns, never DER, so the DER is a placeholder).
func populate(b *testing.B, path string, n int) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Second)
	batch := make([]*inventory.Certificate, 0, 1000)
	for i := 0; i < n; i++ {
		fp := fmt.Sprintf("%064x", i+1)
		batch = append(batch, &inventory.Certificate{
			SHA256: fp, SHA1: fp[:40], Serial: fmt.Sprintf("%x", i+1),
			Subject: fmt.Sprintf("CN=host%d.bench.example", i), CommonName: fmt.Sprintf("host%d.bench.example", i),
			Issuer: "CN=Bench CA", SANs: []string{fmt.Sprintf("host%d.bench.example", i)},
			NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(time.Duration(i%730+1) * 24 * time.Hour),
			KeyAlgorithm: inventory.ECDSA, KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256",
			SPKISHA256: fmt.Sprintf("%064x", i+1), DER: []byte{0x30, 0x00}, Source: "bench",
		})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := st.PutCertificates(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}
