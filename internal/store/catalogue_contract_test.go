package store

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var catalogueContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"Issuers", testIssuers},
	{"Products", testProducts},
	{"VendorAccounts", testVendorAccounts},
	{"CatalogueErrors", testCatalogueErrors},
}

// TestCatalogueStoreContract runs the inventory.CatalogueStore contract
// against every backend.
func TestCatalogueStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range catalogueContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

func putIssuer(t *testing.T, s inventory.Store, i *inventory.Issuer) *inventory.Issuer {
	t.Helper()
	if err := s.PutIssuer(context.Background(), i); err != nil || i.ID == 0 {
		t.Fatalf("PutIssuer(%s): ID %d, error %v", i.Name, i.ID, err)
	}
	return i
}

func putProduct(t *testing.T, s inventory.Store, p *inventory.Product) *inventory.Product {
	t.Helper()
	if err := s.PutProduct(context.Background(), p); err != nil || p.ID == 0 {
		t.Fatalf("PutProduct(%s): ID %d, error %v", p.Name, p.ID, err)
	}
	return p
}

func testIssuers(t *testing.T, e *env) {
	ctx := context.Background()
	ca, _ := newCA(t, e.s, "Root", true)
	vendor := putIssuer(t, e.s, &inventory.Issuer{Name: "Sectigo", Kind: inventory.IssuerManualVendor,
		URL: "https://sectigo.example", Notes: "via reseller"})
	builtin := putIssuer(t, e.s, &inventory.Issuer{Name: "Root", Kind: inventory.IssuerBuiltinCA, CAID: ca.ID})
	got, err := e.s.IssuerByName(ctx, "Root")
	if err != nil {
		t.Fatalf("IssuerByName: %v", err)
	}
	if diff := cmp.Diff(builtin, got); diff != "" {
		t.Errorf("IssuerByName (-stored +got):\n%s", diff)
	}
	vendor.Name, vendor.URL, vendor.Kind = "Sectigo EU", "https://eu.sectigo.example", inventory.IssuerACME
	if err := e.s.UpdateIssuer(ctx, vendor); err != nil {
		t.Fatalf("UpdateIssuer: %v", err)
	}
	got, err = e.s.GetIssuer(ctx, vendor.ID)
	if err != nil {
		t.Fatalf("GetIssuer: %v", err)
	}
	if diff := cmp.Diff(vendor, got); diff != "" {
		t.Errorf("GetIssuer after update (-want +got):\n%s", diff)
	}
	list, err := e.s.ListIssuers(ctx)
	if err != nil {
		t.Fatalf("ListIssuers: %v", err)
	}
	if diff := cmp.Diff([]inventory.Issuer{*vendor, *builtin}, list); diff != "" {
		t.Errorf("ListIssuers (-want +got):\n%s", diff)
	}
	dup := &inventory.Issuer{Name: "Other", Kind: inventory.IssuerBuiltinCA, CAID: ca.ID}
	if err := e.s.PutIssuer(ctx, dup); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutIssuer for a CA with an issuer: error = %v, want ErrConflict", err)
	}
}

func testProducts(t *testing.T, e *env) {
	ctx := context.Background()
	a := putIssuer(t, e.s, &inventory.Issuer{Name: "A", Kind: inventory.IssuerManualVendor})
	b := putIssuer(t, e.s, &inventory.Issuer{Name: "B", Kind: inventory.IssuerManualVendor})
	p1 := putProduct(t, e.s, &inventory.Product{IssuerID: a.ID, Name: "Basic", ValidationLevel: inventory.LevelDV,
		MaxNames: 1, MaxValidityDays: 199})
	p2 := putProduct(t, e.s, &inventory.Product{IssuerID: b.ID, Name: "Basic", ValidationLevel: inventory.LevelPrivate})
	p3 := putProduct(t, e.s, &inventory.Product{IssuerID: a.ID, Name: "Wild EV", ValidationLevel: inventory.LevelEV,
		Wildcard: true, URL: "https://a.example/ev", Notes: "n"})
	p1.Name, p1.ValidationLevel, p1.Wildcard, p1.MaxNames = "Basic OV", inventory.LevelOV, true, 250
	if err := e.s.UpdateProduct(ctx, p1); err != nil {
		t.Fatalf("UpdateProduct: %v", err)
	}
	got, err := e.s.GetProduct(ctx, p1.ID)
	if err != nil {
		t.Fatalf("GetProduct: %v", err)
	}
	if diff := cmp.Diff(p1, got); diff != "" {
		t.Errorf("GetProduct after update (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		issuer int64
		want   []inventory.Product
	}{{0, []inventory.Product{*p1, *p2, *p3}}, {a.ID, []inventory.Product{*p1, *p3}}, {b.ID, []inventory.Product{*p2}}} {
		list, err := e.s.ListProducts(ctx, tc.issuer)
		if err != nil {
			t.Fatalf("ListProducts(%d): %v", tc.issuer, err)
		}
		if diff := cmp.Diff(tc.want, list); diff != "" {
			t.Errorf("ListProducts(%d) (-want +got):\n%s", tc.issuer, diff)
		}
	}
	p3.Name = "Basic OV"
	if err := e.s.UpdateProduct(ctx, p3); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateProduct to a name in use: error = %v, want ErrConflict", err)
	}
	dup := &inventory.Product{IssuerID: b.ID, Name: "Basic", ValidationLevel: inventory.LevelDV}
	if err := e.s.PutProduct(ctx, dup); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutProduct with a name in use: error = %v, want ErrConflict", err)
	}
}

func testVendorAccounts(t *testing.T, e *env) {
	ctx := context.Background()
	v := putIssuer(t, e.s, &inventory.Issuer{Name: "V", Kind: inventory.IssuerManualVendor})
	a := &inventory.VendorAccount{IssuerID: v.ID, Name: "ops", Username: "ops@example.com",
		SealedPassword: []byte("sealed"), Email: "ops@example.com", URL: "https://v.example/login"}
	if err := e.s.PutVendorAccount(ctx, a); err != nil || a.ID == 0 || a.CreatedAt.IsZero() {
		t.Fatalf("PutVendorAccount: ID %d, CreatedAt %v, error %v", a.ID, a.CreatedAt, err)
	}
	b := &inventory.VendorAccount{IssuerID: v.ID, Name: "billing"}
	if err := e.s.PutVendorAccount(ctx, b); err != nil {
		t.Fatalf("PutVendorAccount(billing): %v", err)
	}
	a.Username, a.SealedPassword, a.Notes = "ops2", []byte("resealed"), "rotated"
	if err := e.s.UpdateVendorAccount(ctx, a); err != nil {
		t.Fatalf("UpdateVendorAccount: %v", err)
	}
	got, err := e.s.GetVendorAccount(ctx, a.ID)
	if err != nil {
		t.Fatalf("GetVendorAccount: %v", err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("GetVendorAccount after update (-want +got):\n%s", diff)
	}
	list, err := e.s.ListVendorAccounts(ctx)
	if err != nil {
		t.Fatalf("ListVendorAccounts: %v", err)
	}
	if diff := cmp.Diff([]inventory.VendorAccount{*a, *b}, list); diff != "" {
		t.Errorf("ListVendorAccounts (-want +got):\n%s", diff)
	}
	b.Name = "ops"
	if err := e.s.UpdateVendorAccount(ctx, b); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateVendorAccount to a name in use: error = %v, want ErrConflict", err)
	}
}

func testCatalogueErrors(t *testing.T, e *env) {
	ctx := context.Background()
	putIssuer(t, e.s, &inventory.Issuer{Name: "X", Kind: inventory.IssuerManualVendor})
	y := putIssuer(t, e.s, &inventory.Issuer{Name: "Y", Kind: inventory.IssuerManualVendor})
	conflicts := map[string]func() error{
		"PutIssuer":    func() error { return e.s.PutIssuer(ctx, &inventory.Issuer{Name: "X", Kind: inventory.IssuerACME}) },
		"UpdateIssuer": func() error { y.Name = "X"; return e.s.UpdateIssuer(ctx, y) },
		"PutVendorAccount": func() error {
			if err := e.s.PutVendorAccount(ctx, &inventory.VendorAccount{IssuerID: y.ID, Name: "a"}); err != nil {
				return err
			}
			return e.s.PutVendorAccount(ctx, &inventory.VendorAccount{IssuerID: y.ID, Name: "a"})
		},
	}
	for name, f := range conflicts {
		if err := f(); !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("%s error = %v, want inventory.ErrConflict", name, err)
		}
	}
	notFound := map[string]func() error{
		"GetIssuer":    func() error { _, err := e.s.GetIssuer(ctx, 4242); return err },
		"IssuerByName": func() error { _, err := e.s.IssuerByName(ctx, "nope"); return err },
		"UpdateIssuer": func() error {
			return e.s.UpdateIssuer(ctx, &inventory.Issuer{ID: 4242, Name: "Z", Kind: inventory.IssuerACME})
		},
		"GetProduct": func() error { _, err := e.s.GetProduct(ctx, 4242); return err },
		"UpdateProduct": func() error {
			return e.s.UpdateProduct(ctx, &inventory.Product{ID: 4242, Name: "P", ValidationLevel: inventory.LevelDV})
		},
		"PutProduct": func() error {
			return e.s.PutProduct(ctx, &inventory.Product{IssuerID: 4242, Name: "P", ValidationLevel: inventory.LevelDV})
		},
		"GetVendorAccount":    func() error { _, err := e.s.GetVendorAccount(ctx, 4242); return err },
		"UpdateVendorAccount": func() error { return e.s.UpdateVendorAccount(ctx, &inventory.VendorAccount{ID: 4242, Name: "n"}) },
		"PutVendorAccount":    func() error { return e.s.PutVendorAccount(ctx, &inventory.VendorAccount{IssuerID: 4242, Name: "n"}) },
	}
	for name, f := range notFound {
		if err := f(); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("%s error = %v, want inventory.ErrNotFound", name, err)
		}
	}
}
