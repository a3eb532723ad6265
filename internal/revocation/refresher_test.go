package revocation_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/revocation"
)

// TestRefresher drives the loop with a fake clock and hand-made ticks: a
// CRL at start, none while the latest is younger than the refresh
// interval, a new one once it is older, and none after cancellation.
func TestRefresher(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{CRLValidity: 24 * time.Hour, CRLRefresh: 12 * time.Hour})
	ticks := make(chan time.Time)
	r := revocation.NewRefresher(f.svc, ticks, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// An unbuffered send returns once the loop waits again, so the pass
	// before it has finished; the pass it starts changes nothing unless
	// the clock moved.
	tick := func() {
		ticks <- f.clock.Now()
		ticks <- f.clock.Now()
	}
	number := func() int64 { return f.crl(t).Number.Int64() }

	tick()
	if n := number(); n != 1 {
		t.Fatalf("CRL number after start = %d, want 1", n)
	}
	f.clock.Advance(11 * time.Hour)
	tick()
	if n := number(); n != 1 {
		t.Errorf("CRL number after 11h = %d, want still 1 (refresh every 12h)", n)
	}
	f.clock.Advance(time.Hour)
	tick()
	l := f.crl(t)
	if l.Number.Int64() != 2 || !l.ThisUpdate.Equal(f.clock.Now()) || !l.NextUpdate.Equal(f.clock.Now().Add(24*time.Hour)) {
		t.Errorf("CRL after 12h = #%v %s..%s, want #2 now..now+24h", l.Number, l.ThisUpdate, l.NextUpdate)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancellation, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancellation")
	}
}

// TestRefreshConcurrent refreshes one CA's CRL from many goroutines (as
// several instances would): every CRL gets its own number and the stored
// latest is the highest.
func TestRefreshConcurrent(t *testing.T) {
	for name, loc := range locations() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, loc(t), revocation.Config{})
			const workers, each = 8, 5
			var (
				mu      sync.Mutex
				numbers []int64
				wg      sync.WaitGroup
			)
			for range workers {
				wg.Go(func() {
					for range each {
						crl, err := f.svc.RefreshCRL(context.Background(), f.ca.ID)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						numbers = append(numbers, crl.Number)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			slices.Sort(numbers)
			if len(slices.Compact(slices.Clone(numbers))) != workers*each {
				t.Fatalf("CRL numbers %v repeat, want %d distinct", numbers, workers*each)
			}
			if got, want := f.crl(t).Number.Int64(), numbers[len(numbers)-1]; got != want {
				t.Errorf("latest stored CRL number = %d, want the highest, %d", got, want)
			}
		})
	}
}

func TestConfigRefused(t *testing.T) {
	for _, cfg := range []revocation.Config{
		{CRLValidity: time.Hour, CRLRefresh: time.Hour},
		{CRLValidity: time.Second},
		{OCSPValidity: time.Second},
	} {
		if _, err := revocation.New(nil, nil, nil, cfg, discard()); err == nil {
			t.Errorf("New(%+v) accepted, want an error", cfg)
		}
	}
}

// failingSigner is the real Authority whose Signer fails while fail is set.
type failingSigner struct {
	*ca.Authority
	fail atomic.Bool
}

func (a *failingSigner) Signer(ctx context.Context, caID int64) (crypto.Signer, *x509.Certificate, error) {
	if a.fail.Load() {
		return nil, nil, errors.New("key unavailable")
	}
	return a.Authority.Signer(ctx, caID)
}

// TestRefresherRetriesAfterRevocation: when the CRL cannot be published
// at revocation time, the revocation stands and the next refresher pass
// publishes the CRL although it is not due by age; Wake asks for that
// pass.
func TestRefresherRetriesAfterRevocation(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{})
	auth := &failingSigner{Authority: f.auth}
	svc, err := revocation.New(f.st, auth, nil, revocation.Config{Now: f.clock.Now}, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.RefreshCRL(ctx, f.ca.ID); err != nil {
		t.Fatal(err)
	}
	leaf := f.issue(t, "retry.example")
	auth.fail.Store(true)
	_, err = svc.Revoke(ctx, leaf.Record.SHA256, revocation.KeyCompromise, "test")
	if err == nil || !strings.Contains(err.Error(), "is revoked, but") {
		t.Fatalf("Revoke with the CA key unavailable: %v, want \"is revoked, but ... CRL\"", err)
	}
	if n := len(f.crl(t).RevokedCertificateEntries); n != 0 {
		t.Fatalf("CRL lists %d entries before the retry, want 0", n)
	}
	auth.fail.Store(false)
	r := revocation.NewRefresher(svc, nil, discard())
	select {
	case <-r.Wake():
	default:
		t.Fatal("Wake delivered nothing after the failed post-revocation refresh")
	}
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.crl(t).RevokedCertificateEntries); n != 1 {
		t.Errorf("CRL lists %d entries after the refresher pass, want the revoked certificate", n)
	}
}
