package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var acquisitionContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"RoundTrip", testAcquisitionRoundTrip},
	{"OneOpenPerDefinition", testAcquisitionOnePerDefinition},
	{"Versions", testAcquisitionVersions},
	{"SwitchCurrent", testAcquisitionSwitch},
	{"ListFilterPages", testAcquisitionList},
	{"ExpiringWithoutAcquisition", testExpiringWithoutAcquisition},
}

// TestAcquisitionStoreContract runs the inventory.AcquisitionStore
// contract against every backend.
func TestAcquisitionStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range acquisitionContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

// acqFixture is what an acquisition points at: a definition, an issuer
// with a product, a key with a CSR, and two certificates.
type acqFixture struct {
	def                  *inventory.Definition
	issuer, product      int64
	key, csr             int64
	oldCert, newCert     int64
	otherIssuer, otherKy int64
}

func newAcqFixture(t *testing.T, s inventory.Store) *acqFixture {
	t.Helper()
	return buildAcqFixture(t, s, func(certs ...*inventory.Certificate) []int64 {
		var ids []int64
		for _, r := range putCerts(t, s, certs...) {
			ids = append(ids, r.ID)
		}
		return ids
	})
}

// newOldAcqFixture is newAcqFixture on a database migrated only part of
// the way: certificates are stored with the columns of migration 0001.
func newOldAcqFixture(t *testing.T, d *db) *acqFixture {
	t.Helper()
	return buildAcqFixture(t, d, func(certs ...*inventory.Certificate) []int64 {
		var ids []int64
		for _, c := range certs {
			ids = append(ids, insertOldCertificate(t, d, c))
		}
		return ids
	})
}

func buildAcqFixture(t *testing.T, s inventory.Store, storeCerts func(...*inventory.Certificate) []int64) *acqFixture {
	t.Helper()
	ctx := context.Background()
	f := &acqFixture{}
	f.issuer = putIssuer(t, s, &inventory.Issuer{Name: "Vendor", Kind: inventory.IssuerManualVendor}).ID
	f.otherIssuer = putIssuer(t, s, &inventory.Issuer{Name: "Other", Kind: inventory.IssuerManualVendor}).ID
	f.product = putProduct(t, s, &inventory.Product{IssuerID: f.issuer, Name: "OV", ValidationLevel: "OV"}).ID
	kr := keyRecord(t, newKey(t))
	f.key, _ = putKey(t, s, kr)
	f.otherKy, _ = putKey(t, s, keyRecord(t, newKey(t)))
	csr, err := s.PutCSR(ctx, &inventory.CSR{Subject: "CN=shop", SPKISHA256: kr.SPKISHA256, DER: []byte{0x30, 0}})
	if err != nil {
		t.Fatalf("PutCSR: %v", err)
	}
	f.csr = csr
	now := time.Now().UTC().Truncate(time.Second)
	ids := storeCerts(fakeCertificate(1, &inventory.Certificate{}, now.Add(10*24*time.Hour)),
		fakeCertificate(2, &inventory.Certificate{}, now.Add(400*24*time.Hour)))
	f.oldCert, f.newCert = ids[0], ids[1]
	d := sampleDefinition("shop")
	d.CurrentCertificateID = f.oldCert
	f.def = putDefinition(t, s, d)
	return f
}

func (f *acqFixture) acquisition(state inventory.AcquisitionState) *inventory.Acquisition {
	return &inventory.Acquisition{DefinitionID: f.def.ID, Kind: inventory.AcquisitionRenewal, State: state,
		IssuerID: f.issuer, KeyID: f.key, CreatedBy: "alice"}
}

func putAcquisition(t *testing.T, s inventory.Store, a *inventory.Acquisition, steps ...inventory.AcquisitionStep) *inventory.Acquisition {
	t.Helper()
	if err := s.PutAcquisition(context.Background(), a, steps...); err != nil {
		t.Fatalf("PutAcquisition(definition %d, %s): %v", a.DefinitionID, a.State, err)
	}
	if a.ID == 0 || a.Version != 1 || a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Fatalf("PutAcquisition left ID %d, Version %d, CreatedAt %v, UpdatedAt %v", a.ID, a.Version, a.CreatedAt, a.UpdatedAt)
	}
	return a
}

func getAcquisition(t *testing.T, s inventory.Store, id int64) *inventory.Acquisition {
	t.Helper()
	a, err := s.GetAcquisition(context.Background(), id)
	if err != nil {
		t.Fatalf("GetAcquisition(%d): %v", id, err)
	}
	return a
}

func testAcquisitionRoundTrip(t *testing.T, e *env) {
	ctx := context.Background()
	f := newAcqFixture(t, e.s)
	created := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	want := &inventory.Acquisition{DefinitionID: f.def.ID, Kind: inventory.AcquisitionNew, State: inventory.StateCSRReady,
		IssuerID: f.issuer, ProductID: f.product, KeyID: f.key, CSRID: f.csr, CreatedBy: "alice", CreatedAt: created}
	steps := []inventory.AcquisitionStep{
		{Time: created, Actor: "alice", Action: "created", Detail: "renewal of shop"},
		{Actor: "alice", Action: "key_generated", Detail: "ecdsa-p256"},
	}
	putAcquisition(t, e.s, want, steps...)
	if !want.CreatedAt.Equal(created) {
		t.Errorf("CreatedAt = %v, want %v", want.CreatedAt, created)
	}
	for i, st := range steps {
		if st.ID == 0 || st.AcquisitionID != want.ID || st.Time.IsZero() {
			t.Errorf("step %d after put = %+v, want ID, AcquisitionID %d and a time", i, st, want.ID)
		}
	}
	if diff := cmp.Diff(want, getAcquisition(t, e.s, want.ID)); diff != "" {
		t.Errorf("GetAcquisition after put (-want +got):\n%s", diff)
	}

	got := getAcquisition(t, e.s, want.ID)
	got.State, got.CertificateID, got.AutoSwitch = inventory.StateIssued, f.newCert, true
	got.Order = &inventory.Order{VendorAccountID: 0, Number: "SO-4711", ProductID: f.product, Notes: "PO 12",
		Date: time.Date(2026, 3, 2, 14, 0, 5, 0, time.FixedZone("CET", 3600))}
	got.Differences = []string{"missing: b.example.com", "extra: c.example.com"}
	more := []inventory.AcquisitionStep{{Actor: "bob", Action: "ordered", Detail: "SO-4711"},
		{Actor: "bob", Action: "certificate_uploaded"}}
	if err := e.s.UpdateAcquisition(ctx, got, more...); err != nil {
		t.Fatalf("UpdateAcquisition: %v", err)
	}
	if got.Version != 2 || got.UpdatedAt.IsZero() {
		t.Errorf("after update: Version %d, UpdatedAt %v; want 2 and a time", got.Version, got.UpdatedAt)
	}
	again := getAcquisition(t, e.s, want.ID)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("GetAcquisition after update (-want +got):\n%s", diff)
	}
	if again.Order.Date.Location() != time.UTC {
		t.Errorf("order date location = %v, want UTC", again.Order.Date.Location())
	}

	listed, err := e.s.AcquisitionSteps(ctx, want.ID)
	if err != nil {
		t.Fatalf("AcquisitionSteps: %v", err)
	}
	if diff := cmp.Diff(append(steps, more...), listed); diff != "" {
		t.Errorf("AcquisitionSteps (-want +got):\n%s", diff)
	}

	// Clearing optional fields writes NULLs and empty lists back.
	again.Order, again.Differences, again.CertificateID, again.AutoSwitch = nil, nil, 0, false
	again.State = inventory.StateCancelled
	if err := e.s.UpdateAcquisition(ctx, again); err != nil {
		t.Fatalf("UpdateAcquisition(clear): %v", err)
	}
	if diff := cmp.Diff(again, getAcquisition(t, e.s, want.ID)); diff != "" {
		t.Errorf("after clearing (-want +got):\n%s", diff)
	}
}

func testAcquisitionOnePerDefinition(t *testing.T, e *env) {
	ctx := context.Background()
	f := newAcqFixture(t, e.s)
	other := putDefinition(t, e.s, sampleDefinition("other"))
	first := putAcquisition(t, e.s, f.acquisition(inventory.StateOrdered))
	for _, st := range inventory.OpenAcquisitionStates {
		if err := e.s.PutAcquisition(ctx, f.acquisition(st)); !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("second open process (%s): %v, want ErrConflict", st, err)
		}
	}
	for _, st := range []inventory.AcquisitionState{inventory.StateCompleted, inventory.StateCancelled} {
		putAcquisition(t, e.s, f.acquisition(st))
	}
	o := f.acquisition(inventory.StateCSRReady)
	o.DefinitionID = other.ID
	putAcquisition(t, e.s, o)

	first.State = inventory.StateCancelled
	if err := e.s.UpdateAcquisition(ctx, first); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	second := putAcquisition(t, e.s, f.acquisition(inventory.StateCSRReady))
	first.State = inventory.StateIssued
	if err := e.s.UpdateAcquisition(ctx, first); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("reopen while another is open: %v, want ErrConflict", err)
	}
	if got := getAcquisition(t, e.s, first.ID); got.State != inventory.StateCancelled || got.Version != 2 {
		t.Errorf("refused reopen left state %s, version %d; want cancelled, 2", got.State, got.Version)
	}
	second.State = inventory.StateOrdered
	if err := e.s.UpdateAcquisition(ctx, second); err != nil {
		t.Errorf("open to open: %v", err)
	}

	unknown := &inventory.Acquisition{DefinitionID: 999, Kind: inventory.AcquisitionNew, State: inventory.StateCSRReady}
	if err := e.s.PutAcquisition(ctx, unknown); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("process of unknown definition: %v, want ErrNotFound", err)
	}
	for _, a := range []*inventory.Acquisition{
		{DefinitionID: other.ID, Kind: "later", State: inventory.StateCancelled},
		{DefinitionID: other.ID, Kind: inventory.AcquisitionNew, State: "lost"},
	} {
		if err := e.s.PutAcquisition(ctx, a); !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("PutAcquisition(kind %q, state %q): %v, want ErrInvalid", a.Kind, a.State, err)
		}
	}
}

func testAcquisitionVersions(t *testing.T, e *env) {
	ctx := context.Background()
	f := newAcqFixture(t, e.s)
	a := putAcquisition(t, e.s, f.acquisition(inventory.StateCSRReady))
	first, second := getAcquisition(t, e.s, a.ID), getAcquisition(t, e.s, a.ID)
	first.State = inventory.StateOrdered
	if err := e.s.UpdateAcquisition(ctx, first, inventory.AcquisitionStep{Action: "ordered"}); err != nil {
		t.Fatalf("first update: %v", err)
	}
	second.State = inventory.StateCancelled
	stale := []inventory.AcquisitionStep{{Action: "cancelled"}}
	if err := e.s.UpdateAcquisition(ctx, second, stale...); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("stale update: %v, want ErrConflict", err)
	}
	if second.Version != 1 || stale[0].ID != 0 {
		t.Errorf("refused update changed its input: version %d, step ID %d", second.Version, stale[0].ID)
	}
	if got := getAcquisition(t, e.s, a.ID); got.State != inventory.StateOrdered || got.Version != 2 {
		t.Errorf("stored = %s v%d, want ordered v2", got.State, got.Version)
	}
	if steps, err := e.s.AcquisitionSteps(ctx, a.ID); err != nil || len(steps) != 1 {
		t.Errorf("AcquisitionSteps = %d steps, %v; want 1 (the refused update's step not kept)", len(steps), err)
	}
	unknown := f.acquisition(inventory.StateCSRReady)
	unknown.ID, unknown.Version = 999, 1
	for name, err := range map[string]error{
		"GetAcquisition":    errOf(e.s.GetAcquisition(ctx, 999)),
		"AcquisitionSteps":  errOf(e.s.AcquisitionSteps(ctx, 999)),
		"UpdateAcquisition": e.s.UpdateAcquisition(ctx, unknown),
		"SwitchCurrent":     e.s.SwitchCurrent(ctx, &inventory.Acquisition{ID: 999, Version: 1, DefinitionID: f.def.ID, Kind: inventory.AcquisitionNew, State: inventory.StateCompleted, CertificateID: f.newCert}),
	} {
		if !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("%s(unknown): %v, want ErrNotFound", name, err)
		}
	}
}

func testAcquisitionSwitch(t *testing.T, e *env) {
	ctx := context.Background()
	f := newAcqFixture(t, e.s)
	a := f.acquisition(inventory.StateIssued)
	a.CertificateID = f.newCert
	putAcquisition(t, e.s, a)
	stale := *a

	// A refused switch changes neither the process nor the definition.
	wrong := *a
	wrong.DefinitionID = putDefinition(t, e.s, sampleDefinition("other")).ID
	wrong.State = inventory.StateCompleted
	if err := e.s.SwitchCurrent(ctx, &wrong); err == nil {
		t.Error("SwitchCurrent with another definition's ID succeeded")
	}
	if got := getAcquisition(t, e.s, a.ID); got.State != inventory.StateIssued || got.Version != 1 {
		t.Errorf("after refused switch: %s v%d, want issued v1", got.State, got.Version)
	}

	a.State = inventory.StateCompleted
	steps := []inventory.AcquisitionStep{{Actor: "bob", Action: "switched"}}
	if err := e.s.SwitchCurrent(ctx, a, steps...); err != nil {
		t.Fatalf("SwitchCurrent: %v", err)
	}
	if a.Version != 2 || steps[0].ID == 0 || steps[0].AcquisitionID != a.ID {
		t.Errorf("after switch: version %d, step %+v", a.Version, steps[0])
	}
	got := getAcquisition(t, e.s, a.ID)
	d, err := e.s.GetDefinition(ctx, f.def.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != inventory.StateCompleted || got.Version != 2 {
		t.Errorf("process = %s v%d, want completed v2", got.State, got.Version)
	}
	if d.CurrentCertificateID != f.newCert || d.Version != f.def.Version+1 || !d.UpdatedAt.Equal(a.UpdatedAt) {
		t.Errorf("definition current %d v%d updated %v; want %d v%d updated %v",
			d.CurrentCertificateID, d.Version, d.UpdatedAt, f.newCert, f.def.Version+1, a.UpdatedAt)
	}
	for cert, want := range map[int64]int{f.newCert: 1, f.oldCert: 0} {
		page, err := e.s.ListDefinitions(ctx, inventory.DefinitionFilter{CurrentCertificateID: cert}, inventory.Page{})
		if err != nil || len(page.Items) != want || (want == 1 && page.Items[0].ID != f.def.ID) {
			t.Errorf("ListDefinitions(current %d) = %+v, %v; want %d definition(s)", cert, page, err, want)
		}
	}

	// A stale switch changes nothing either.
	stale.CertificateID = f.oldCert
	if err := e.s.SwitchCurrent(ctx, &stale); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("stale switch: %v, want ErrConflict", err)
	}
	if d2, _ := e.s.GetDefinition(ctx, f.def.ID); d2.CurrentCertificateID != f.newCert || d2.Version != d.Version {
		t.Errorf("stale switch changed the definition: current %d v%d", d2.CurrentCertificateID, d2.Version)
	}
	noCert := *got
	noCert.CertificateID = 0
	if err := e.s.SwitchCurrent(ctx, &noCert); err == nil {
		t.Error("SwitchCurrent without a certificate succeeded")
	}
}

func testAcquisitionList(t *testing.T, e *env) {
	ctx := context.Background()
	f := newAcqFixture(t, e.s)
	defs := []int64{f.def.ID}
	for i := 1; i < 4; i++ {
		defs = append(defs, putDefinition(t, e.s, sampleDefinition(fmt.Sprintf("site%d", i))).ID)
	}
	// Per definition: one cancelled, one completed, and (for all but the
	// last) one open process; issuers and keys alternate.
	states := []inventory.AcquisitionState{inventory.StateCSRReady, inventory.StateOrdered, inventory.StateIssued}
	var all []*inventory.Acquisition
	for i, d := range defs {
		for j, st := range []inventory.AcquisitionState{inventory.StateCancelled, inventory.StateCompleted, states[i%3]} {
			if i == 3 && j == 2 {
				break
			}
			a := f.acquisition(st)
			a.DefinitionID = d
			if (i+j)%2 == 1 {
				a.IssuerID, a.KeyID = f.otherIssuer, f.otherKy
			}
			all = append(all, putAcquisition(t, e.s, a))
		}
	}
	ids := func(filter inventory.AcquisitionFilter) []int64 {
		var out []int64
		p := inventory.Page{Limit: 2}
		for {
			page, err := e.s.ListAcquisitions(ctx, filter, p)
			if err != nil {
				t.Fatalf("ListAcquisitions(%+v): %v", filter, err)
			}
			if page.Next != "" && len(page.Items) != 2 {
				t.Fatalf("page with a next cursor has %d items", len(page.Items))
			}
			for _, a := range page.Items {
				out = append(out, a.ID)
			}
			if page.Next == "" {
				return out
			}
			p.After = page.Next
		}
	}
	for name, filter := range map[string]inventory.AcquisitionFilter{
		"all":        {},
		"open":       {States: inventory.OpenAcquisitionStates},
		"ordered":    {States: []inventory.AcquisitionState{inventory.StateOrdered}},
		"definition": {DefinitionID: defs[2]},
		"issuer":     {IssuerID: f.otherIssuer},
		"key":        {KeyID: f.key},
		"combined":   {IssuerID: f.issuer, States: []inventory.AcquisitionState{inventory.StateCompleted, inventory.StateCSRReady}},
		"none":       {DefinitionID: 999},
	} {
		var want []int64
		for _, a := range all {
			if acquisitionMatches(a, filter) {
				want = append(want, a.ID)
			}
		}
		if diff := cmp.Diff(want, ids(filter)); diff != "" {
			t.Errorf("ListAcquisitions %s (-want +got):\n%s", name, diff)
		}
		wantCounts := map[inventory.AcquisitionState]int{}
		for _, a := range all {
			if acquisitionMatches(a, filter) {
				wantCounts[a.State]++
			}
		}
		counts, err := e.s.CountAcquisitionsByState(ctx, filter)
		if err != nil {
			t.Fatalf("CountAcquisitionsByState(%+v): %v", filter, err)
		}
		if diff := cmp.Diff(wantCounts, counts); diff != "" {
			t.Errorf("CountAcquisitionsByState %s (-want +got):\n%s", name, diff)
		}
	}
	if _, err := e.s.ListAcquisitions(ctx, inventory.AcquisitionFilter{}, inventory.Page{After: "!!"}); err == nil {
		t.Error("bad cursor accepted")
	}
}

// acquisitionMatches is the reference implementation of
// AcquisitionFilter.
func acquisitionMatches(a *inventory.Acquisition, f inventory.AcquisitionFilter) bool {
	state := len(f.States) == 0
	for _, st := range f.States {
		state = state || st == a.State
	}
	return state && (f.DefinitionID == 0 || f.DefinitionID == a.DefinitionID) &&
		(f.IssuerID == 0 || f.IssuerID == a.IssuerID) && (f.KeyID == 0 || f.KeyID == a.KeyID)
}

func testExpiringWithoutAcquisition(t *testing.T, e *env) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour
	revokedAt := now.Add(-time.Hour)
	def := func(name string, notAfter time.Duration, n int) *inventory.Definition {
		d := sampleDefinition(name)
		if notAfter != 0 {
			c := fakeCertificate(n, &inventory.Certificate{}, now.Add(notAfter))
			if strings.HasPrefix(name, "revoked") {
				c.RevokedAt = &revokedAt
			}
			d.CurrentCertificateID = putCerts(t, e.s, c)[0].ID
		}
		return putDefinition(t, e.s, d)
	}
	process := func(d *inventory.Definition, st inventory.AcquisitionState) {
		putAcquisition(t, e.s, &inventory.Acquisition{DefinitionID: d.ID, Kind: inventory.AcquisitionRenewal, State: st})
	}
	late := def("late", 20*day, 1)                 // expires soon, created first
	open := def("open", 5*day, 2)                  // has an open process: excluded
	closed := def("closed", 10*day, 3)             // only closed processes: included
	def("none", 0, 0)                              // no current certificate: excluded
	def("far", 90*day, 4)                          // expires after the bound: excluded
	expired := def("expired", -day, 5)             // already expired: included
	tie := def("tie", 20*day, 6)                   // same NotAfter as late: ID order
	edge := def("edge", 30*day, 7)                 // NotAfter equal to the bound: excluded
	revoked := def("revoked", 200*day, 8)          // far off but revoked: included last
	revokedOpen := def("revoked open", 200*day, 9) // revoked, with an open process: excluded
	process(revokedOpen, inventory.StateCSRReady)
	process(open, inventory.StateOrdered)
	process(closed, inventory.StateCompleted)
	process(closed, inventory.StateCancelled)
	process(tie, inventory.StateCancelled)

	before := now.Add(30 * day)
	want := []string{expired.Name, closed.Name, late.Name, tie.Name, revoked.Name}
	for _, size := range []int{1, 3, 0} {
		var got []string
		p := inventory.Page{Limit: size}
		for {
			page, err := e.s.ExpiringWithoutAcquisition(ctx, before, p)
			if err != nil {
				t.Fatalf("ExpiringWithoutAcquisition: %v", err)
			}
			for _, d := range page.Items {
				got = append(got, d.Name)
			}
			if page.Next == "" {
				break
			}
			p.After = page.Next
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ExpiringWithoutAcquisition page size %d (-want +got):\n%s", size, diff)
		}
	}
	page, err := e.s.ExpiringWithoutAcquisition(ctx, before.Add(time.Millisecond), inventory.Page{})
	if err != nil || len(page.Items) != 6 || page.Items[4].Name != edge.Name {
		t.Errorf("bound just after edge's NotAfter: %d items, %v; want 6 with edge fifth", len(page.Items), err)
	}
	for bound, want := range map[time.Time]int{before: 5, before.Add(time.Millisecond): 6} {
		if n, err := e.s.CountExpiringWithoutAcquisition(ctx, bound); err != nil || n != want {
			t.Errorf("CountExpiringWithoutAcquisition(%v) = %d, %v; want %d", bound, n, err, want)
		}
	}
	if _, err := e.s.ExpiringWithoutAcquisition(ctx, before, inventory.Page{After: "!!"}); err == nil {
		t.Error("bad cursor accepted")
	}
}
