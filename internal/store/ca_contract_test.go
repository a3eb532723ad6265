package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var caContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"CAs", testCAs},
	{"CANotFound", testCANotFound},
	{"ReserveSerials", testReserveSerials},
	{"RecordIssuances", testRecordIssuances},
	{"ConcurrentReserveRecord", testConcurrentReserveRecord},
	{"Revoke", testRevoke},
	{"CRLs", testCRLs},
}

// TestCAStoreContract runs the inventory.CAStore and RevocationStore
// contracts against every backend.
func TestCAStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range caContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

// newCA stores a CA named name with a fresh key and certificate.
func newCA(t *testing.T, s inventory.Store, name string, def bool) (*inventory.CA, *issued) {
	t.Helper()
	ctx := context.Background()
	ca := issue(t, name, true, nil, newKey(t), time.Now().Add(48*time.Hour))
	keyID, _ := putKey(t, s, keyRecord(t, ca.key))
	certID := putCerts(t, s, record(ca))[0].ID
	c := &inventory.CA{Name: name, Status: inventory.CAActive, KeyID: keyID, CertificateID: certID, Default: def,
		Policy: inventory.NamePolicy{PermittedDNSDomains: []string{"example.test"}}}
	if err := s.PutCA(ctx, c); err != nil {
		t.Fatalf("PutCA(%s): %v", name, err)
	}
	if c.ID == 0 || c.CreatedAt.IsZero() {
		t.Fatalf("PutCA left ID %d, CreatedAt %v", c.ID, c.CreatedAt)
	}
	return c, ca
}

func testCAs(t *testing.T, e *env) {
	ctx := context.Background()
	a, _ := newCA(t, e.s, "a", true)
	b, _ := newCA(t, e.s, "b", false)
	dup := *a
	if err := e.s.PutCA(ctx, &dup); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("PutCA with a used name: got %v, want ErrConflict", err)
	}
	checkDefault(t, e.s, a.ID)
	b.Default, b.Status = true, inventory.CARetired
	b.Policy.PermittedIPRanges = []string{"10.0.0.0/8"}
	if err := e.s.UpdateCA(ctx, b); err != nil {
		t.Fatalf("UpdateCA: %v", err)
	}
	checkDefault(t, e.s, b.ID)
	got, err := e.s.CAByName(ctx, "b")
	if err != nil {
		t.Fatalf("CAByName: %v", err)
	}
	if got.Status != inventory.CARetired || len(got.Policy.PermittedIPRanges) != 1 || got.Policy.PermittedDNSDomains[0] != "example.test" {
		t.Errorf("CAByName(b) = %+v, want retired with both policy lists", got)
	}
	list, err := e.s.ListCAs(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[0].Default {
		t.Fatalf("ListCAs = %+v, %v; want a (not default), b", list, err)
	}
}

func checkDefault(t *testing.T, s inventory.Store, want int64) {
	t.Helper()
	d, err := s.DefaultCA(context.Background())
	if err != nil || d.ID != want {
		t.Fatalf("DefaultCA = %+v, %v; want ID %d", d, err, want)
	}
}

func testCANotFound(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.s.DefaultCA(ctx); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DefaultCA on empty store: got %v, want ErrNotFound", err)
	}
	if _, err := e.s.GetCA(ctx, 42); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetCA(42): got %v, want ErrNotFound", err)
	}
	if _, err := e.s.CAByName(ctx, "nope"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("CAByName: got %v, want ErrNotFound", err)
	}
	if err := e.s.UpdateCA(ctx, &inventory.CA{ID: 42, Status: inventory.CAActive}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("UpdateCA(42): got %v, want ErrNotFound", err)
	}
	if _, err := e.s.LatestCRL(ctx, 42); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("LatestCRL(42): got %v, want ErrNotFound", err)
	}
	if _, err := e.s.NextCRLNumber(ctx, 42); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("NextCRLNumber(42): got %v, want ErrNotFound", err)
	}
}

func testReserveSerials(t *testing.T, e *env) {
	ctx := context.Background()
	a, _ := newCA(t, e.s, "a", true)
	b, _ := newCA(t, e.s, "b", false)
	if err := e.s.ReserveSerials(ctx, a.ID, []string{"01", "02"}); err != nil {
		t.Fatalf("ReserveSerials: %v", err)
	}
	if err := e.s.ReserveSerials(ctx, a.ID, []string{"03", "02"}); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("ReserveSerials reusing 02: got %v, want ErrConflict", err)
	}
	// Nothing of the failed batch was reserved: 03 is still free.
	if err := e.s.ReserveSerials(ctx, a.ID, []string{"03"}); err != nil {
		t.Fatalf("ReserveSerials(03) after a failed batch: %v", err)
	}
	if err := e.s.ReserveSerials(ctx, b.ID, []string{"01"}); err != nil {
		t.Fatalf("another CA may use the same serial: %v", err)
	}
}

// issuance builds the issuance of a leaf signed by ca.
func issuance(t *testing.T, caID int64, ca *issued, n int) inventory.Issuance {
	leaf := issue(t, fmt.Sprintf("leaf%d", n), false, ca, newKey(t), time.Now().Add(24*time.Hour))
	return inventory.Issuance{CAID: caID, Certificate: record(leaf),
		Audit: &inventory.AuditEvent{Actor: "test", Action: "ca.issue", Object: "serial " + record(leaf).Serial}}
}

func testRecordIssuances(t *testing.T, e *env) {
	ctx := context.Background()
	a, caCert := newCA(t, e.s, "a", true)
	i1, i2 := issuance(t, a.ID, caCert, 1), issuance(t, a.ID, caCert, 2)
	leafKey := newKey(t)
	leaf := issue(t, "keyed", false, caCert, leafKey, time.Now().Add(24*time.Hour))
	i1.Certificate, i1.Key = record(leaf), keyRecord(t, leafKey)
	if err := e.s.ReserveSerials(ctx, a.ID, []string{i1.Certificate.Serial}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RecordIssuances(ctx, []inventory.Issuance{i1, i2}); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("RecordIssuances with an unreserved serial: got %v, want ErrConflict", err)
	}
	if n, _ := e.s.CountCertificates(ctx, inventory.CertificateFilter{LeafOnly: true}); n != 0 {
		t.Fatalf("failed RecordIssuances stored %d certificates, want 0", n)
	}
	ids, err := e.s.RecordIssuances(ctx, []inventory.Issuance{i1})
	if err != nil || len(ids) != 1 {
		t.Fatalf("RecordIssuances = %v, %v", ids, err)
	}
	if c := getCert(t, e.s, ids[0]); c.IssuerID != a.CertificateID || c.Serial != i1.Certificate.Serial || c.KeyID != i1.Key.ID || c.KeyID == 0 {
		t.Errorf("recorded certificate issuer %d serial %s key %d, want %d %s %d", c.IssuerID, c.Serial, c.KeyID,
			a.CertificateID, i1.Certificate.Serial, i1.Key.ID)
	}
	if got := listAllIDs(t, e.s, inventory.CertificateFilter{Text: "KEYED.example"}, 0); !slices.Equal(got, ids) {
		t.Errorf("text search for the recorded certificate = %v, want %v", got, ids)
	}
	if i1.Audit.ID == 0 || len(listAllAudit(t, e.s, time.Time{})) != 1 {
		t.Errorf("audit event not stored with the issuance")
	}
	if _, err := e.s.RecordIssuances(ctx, []inventory.Issuance{i1}); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("recording a serial twice: got %v, want ErrConflict", err)
	}
	st, err := e.s.SerialStatus(ctx, a.ID, i1.Certificate.Serial)
	if err != nil || !st.Issued || st.Revocation != nil {
		t.Fatalf("SerialStatus = %+v, %v; want issued, not revoked", st, err)
	}
	if st, _ := e.s.SerialStatus(ctx, a.ID, "ff"); st == nil || st.Issued {
		t.Fatalf("SerialStatus of an unknown serial = %+v, want not issued", st)
	}
}

func testConcurrentReserveRecord(t *testing.T, e *env) {
	ctx := context.Background()
	a, caCert := newCA(t, e.s, "a", true)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 5 {
				is := issuance(t, a.ID, caCert, g*100+n)
				if err := e.s.ReserveSerials(ctx, a.ID, []string{is.Certificate.Serial}); err != nil {
					errs <- err
					return
				}
				if _, err := e.s.RecordIssuances(ctx, []inventory.Issuance{is}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent issuance: %v", err)
	}
	if n, _ := e.s.CountCertificates(ctx, inventory.CertificateFilter{LeafOnly: true}); n != 40 {
		t.Errorf("stored %d leaves, want 40", n)
	}
}

func testRevoke(t *testing.T, e *env) {
	ctx := context.Background()
	a, caCert := newCA(t, e.s, "a", true)
	var ids []int64
	for n := range 2 {
		is := issuance(t, a.ID, caCert, n)
		if err := e.s.ReserveSerials(ctx, a.ID, []string{is.Certificate.Serial}); err != nil {
			t.Fatal(err)
		}
		got, err := e.s.RecordIssuances(ctx, []inventory.Issuance{is})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got[0])
	}
	serial := getCert(t, e.s, ids[1]).Serial
	r1 := &inventory.Revocation{CAID: a.ID, CertificateID: ids[0], Reason: 1}
	r2 := &inventory.Revocation{CAID: a.ID, Serial: serial, Reason: 4, RevokedAt: time.Now().Add(time.Minute)}
	for _, r := range []*inventory.Revocation{r1, r2} {
		if err := e.s.Revoke(ctx, r, &inventory.AuditEvent{Actor: "test", Action: "ca.revoke"}); err != nil {
			t.Fatalf("Revoke(%+v): %v", r, err)
		}
	}
	if err := e.s.Revoke(ctx, &inventory.Revocation{CAID: a.ID, CertificateID: ids[0]}, nil); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("revoking twice: got %v, want ErrConflict", err)
	}
	if err := e.s.Revoke(ctx, &inventory.Revocation{CAID: a.ID, Serial: "abcd"}, nil); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("revoking an unknown serial: got %v, want ErrNotFound", err)
	}
	list, err := e.s.ListRevocations(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].CertificateID != ids[0] || list[1].Serial != serial || list[1].Reason != 4 {
		t.Fatalf("ListRevocations = %+v, %v", list, err)
	}
	for i, r := range list {
		if want := getCert(t, e.s, ids[i]).NotAfter; !r.NotAfter.Equal(want) {
			t.Errorf("revocation %d NotAfter = %s, want the certificate's %s", i, r.NotAfter, want)
		}
	}
	if c := getCert(t, e.s, ids[1]); c.RevokedAt == nil {
		t.Errorf("certificate %d has no RevokedAt after Revoke", ids[1])
	}
	st, err := e.s.SerialStatus(ctx, a.ID, serial)
	if err != nil || !st.Issued || st.Revocation == nil || st.Revocation.Reason != 4 {
		t.Fatalf("SerialStatus = %+v, %v; want revoked with reason 4", st, err)
	}
	if n := len(listAllAudit(t, e.s, time.Time{})); n != 4 {
		t.Errorf("audit has %d events, want 4 (2 issuances, 2 revocations)", n)
	}
}

func testCRLs(t *testing.T, e *env) {
	ctx := context.Background()
	a, _ := newCA(t, e.s, "a", true)
	for want := int64(1); want <= 3; want++ {
		n, err := e.s.NextCRLNumber(ctx, a.ID)
		if err != nil || n != want {
			t.Fatalf("NextCRLNumber = %d, %v; want %d", n, err, want)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	put := func(n int64, der string) {
		t.Helper()
		c := &inventory.CRL{CAID: a.ID, Number: n, ThisUpdate: now, NextUpdate: now.Add(time.Hour), DER: []byte(der)}
		if err := e.s.PutCRL(ctx, c); err != nil {
			t.Fatalf("PutCRL(%d): %v", n, err)
		}
	}
	put(2, "two")
	put(1, "one") // older: ignored
	got, err := e.s.LatestCRL(ctx, a.ID)
	if err != nil || got.Number != 2 || string(got.DER) != "two" || !got.NextUpdate.Equal(now.Add(time.Hour)) {
		t.Fatalf("LatestCRL = %+v, %v; want number 2", got, err)
	}
	put(3, "three")
	if got, _ := e.s.LatestCRL(ctx, a.ID); got.Number != 3 {
		t.Fatalf("LatestCRL number %d, want 3", got.Number)
	}
}
