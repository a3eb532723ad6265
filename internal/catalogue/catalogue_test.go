package catalogue

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

const actor = "test:alice"

type fixture struct {
	svc *Service
	st  inventory.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }
	return &fixture{svc: New(st, sealer, now), st: st}
}

// putCA stores a CA record (with a placeholder key) in the given status.
func (f *fixture) putCA(t *testing.T, name string, status inventory.CAStatus) *inventory.CA {
	t.Helper()
	ctx := context.Background()
	keyID, _, err := f.st.PutKey(ctx, &inventory.Key{SPKISHA256: name, Algorithm: inventory.ECDSA, Bits: 256,
		Sealed: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	ca := &inventory.CA{Name: name, Status: status, KeyID: keyID}
	if err := f.st.PutCA(ctx, ca); err != nil {
		t.Fatal(err)
	}
	return ca
}

func (f *fixture) actions(t *testing.T) []string {
	t.Helper()
	events, _, err := f.st.ListAudit(context.Background(), time.Time{}, inventory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Action+" "+e.Object)
	}
	return out
}

func (f *fixture) vendor(t *testing.T, name string, products ...inventory.Product) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.AddIssuer(ctx, actor, inventory.Issuer{Name: name, Kind: inventory.IssuerManualVendor}); err != nil {
		t.Fatal(err)
	}
	for _, p := range products {
		if _, err := f.svc.AddProduct(ctx, actor, name, p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSyncBuiltin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	root := f.putCA(t, "Root CA", inventory.CAActive)
	f.putCA(t, "Pending CA", inventory.CAPending)
	for range 2 {
		if err := f.svc.SyncBuiltin(ctx); err != nil {
			t.Fatalf("SyncBuiltin: %v", err)
		}
	}
	issuers, err := f.svc.Issuers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(issuers) != 1 || issuers[0].Name != "Root CA" || issuers[0].Kind != inventory.IssuerBuiltinCA ||
		issuers[0].CAID != root.ID {
		t.Fatalf("issuers = %+v, want one builtin-ca issuer for Root CA", issuers)
	}
	products, err := f.svc.Products(ctx, "Root CA")
	if err != nil {
		t.Fatal(err)
	}
	if len(products) != 1 || products[0].ValidationLevel != inventory.LevelPrivate {
		t.Fatalf("products = %+v, want one private product", products)
	}
	want := []string{"issuer.create issuer:1", "product.create product:1"}
	if diff := cmp.Diff(want, f.actions(t)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	_, err = f.svc.AddProduct(ctx, actor, "Root CA", inventory.Product{Name: "DV", ValidationLevel: inventory.LevelDV})
	if err == nil {
		t.Error("AddProduct DV to a built-in CA succeeded, want an error")
	}
}

func TestSyncBuiltinNameTaken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.vendor(t, "corp")
	ca := f.putCA(t, "corp", inventory.CAActive)
	if err := f.svc.SyncBuiltin(ctx); err != nil {
		t.Fatalf("SyncBuiltin: %v", err)
	}
	if err := f.svc.SyncBuiltin(ctx); err != nil {
		t.Fatalf("SyncBuiltin again: %v", err)
	}
	i, err := f.svc.Issuer(ctx, "ca:corp")
	if err != nil || i.CAID != ca.ID || i.Kind != inventory.IssuerBuiltinCA {
		t.Fatalf("Issuer(ca:corp) = %+v, %v; want the built-in issuer of CA corp", i, err)
	}
	list, err := f.svc.Issuers(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Issuers = %+v, %v; want the vendor and the CA", list, err)
	}
}

func TestValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.vendor(t, "Acme Vendor")
	issuerCases := map[string]inventory.Issuer{
		"empty name":   {Name: "  ", Kind: inventory.IssuerManualVendor},
		"unknown kind": {Name: "X", Kind: "reseller"},
		"builtin":      {Name: "X", Kind: inventory.IssuerBuiltinCA},
	}
	for name, i := range issuerCases {
		if _, err := f.svc.AddIssuer(ctx, actor, i); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("AddIssuer(%s): error = %v, want a one-line error", name, err)
		}
	}
	_, err := f.svc.AddIssuer(ctx, actor, inventory.Issuer{Name: "Acme Vendor", Kind: inventory.IssuerManualVendor})
	if !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("AddIssuer duplicate: error = %v, want ErrConflict", err)
	}
	productCases := map[string]inventory.Product{
		"empty name":       {Name: "", ValidationLevel: inventory.LevelDV},
		"unknown level":    {Name: "P", ValidationLevel: "dv"},
		"private":          {Name: "P", ValidationLevel: inventory.LevelPrivate},
		"negative names":   {Name: "P", ValidationLevel: inventory.LevelDV, MaxNames: -1},
		"negative days":    {Name: "P", ValidationLevel: inventory.LevelDV, MaxValidityDays: -5},
		"no level at all":  {Name: "P"},
		"unknown issuer X": {Name: "P", ValidationLevel: inventory.LevelDV},
	}
	for name, p := range productCases {
		issuer := "Acme Vendor"
		if strings.HasPrefix(name, "unknown issuer") {
			issuer = "Nobody"
		}
		if _, err := f.svc.AddProduct(ctx, actor, issuer, p); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("AddProduct(%s): error = %v, want a one-line error", name, err)
		}
	}
}

func TestEdit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.vendor(t, "V", inventory.Product{Name: "Basic", ValidationLevel: inventory.LevelDV})
	i, err := f.svc.EditIssuer(ctx, actor, "V", func(i *inventory.Issuer) {
		i.Name, i.URL, i.Kind = "Vendor", "https://v.example", inventory.IssuerBuiltinCA
	})
	if err != nil || i.Kind != inventory.IssuerManualVendor || i.URL != "https://v.example" {
		t.Fatalf("EditIssuer = %+v, %v; want renamed, URL set, kind kept", i, err)
	}
	p, err := f.svc.EditProduct(ctx, actor, "Vendor", "Basic", func(p *inventory.Product) { p.Wildcard = true })
	if err != nil || !p.Wildcard {
		t.Fatalf("EditProduct = %+v, %v; want wildcard", p, err)
	}
	if _, err := f.svc.EditProduct(ctx, actor, "Vendor", "Basic", func(p *inventory.Product) { p.MaxNames = -2 }); err == nil {
		t.Error("EditProduct to negative names succeeded")
	}
	if _, err := f.svc.EditProduct(ctx, actor, "Vendor", "Nope", func(*inventory.Product) {}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("EditProduct unknown: error = %v, want ErrNotFound", err)
	}
	want := []string{"issuer.create issuer:1", "product.create product:1", "issuer.update issuer:1",
		"product.update product:1"}
	if diff := cmp.Diff(want, f.actions(t)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestByID(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.vendor(t, "V", inventory.Product{Name: "Basic", ValidationLevel: inventory.LevelDV})
	i, err := f.svc.Issuer(ctx, "V")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.IssuerByID(ctx, i.ID); err != nil || got.Name != "V" {
		t.Errorf("IssuerByID(%d) = %+v, %v; want V", i.ID, got, err)
	}
	ps, err := f.svc.Products(ctx, "V")
	if err != nil || len(ps) != 1 {
		t.Fatalf("Products(V) = %v, %v", ps, err)
	}
	if got, err := f.svc.ProductByID(ctx, ps[0].ID); err != nil || got.Name != "Basic" {
		t.Errorf("ProductByID(%d) = %+v, %v; want Basic", ps[0].ID, got, err)
	}
	p, err := f.svc.EditProductByID(ctx, actor, ps[0].ID, func(p *inventory.Product) { p.Wildcard = true })
	if err != nil || !p.Wildcard || p.IssuerID != i.ID {
		t.Errorf("EditProductByID = %+v, %v; want wildcard, issuer kept", p, err)
	}
	if _, err := f.svc.EditProductByID(ctx, actor, 999, func(*inventory.Product) {}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("EditProductByID unknown: error = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.IssuerByID(ctx, 999); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("IssuerByID unknown: error = %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff([]string{"issuer.create issuer:1", "product.create product:1", "product.update product:1"}, f.actions(t)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestVendorAccounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.vendor(t, "V")
	const secret = "s3cret-vendor-pass"
	a, err := f.svc.AddVendorAccount(ctx, actor, "V", NewAccount{Name: "ops", Username: "ops@example.com", Password: secret})
	if err != nil || !a.HasPassword {
		t.Fatalf("AddVendorAccount = %+v, %v", a, err)
	}
	b, err := f.svc.AddVendorAccount(ctx, actor, "V", NewAccount{Name: "nopw"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddVendorAccount(ctx, actor, "V", NewAccount{Name: "ops"}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("duplicate account: error = %v, want ErrConflict", err)
	}
	if _, err := f.svc.AddVendorAccount(ctx, actor, "V", NewAccount{Name: " "}); err == nil {
		t.Error("account with an empty name accepted")
	}
	raw, err := f.st.GetVendorAccount(ctx, a.ID)
	if err != nil || len(raw.SealedPassword) == 0 || bytes.Contains(raw.SealedPassword, []byte(secret)) {
		t.Fatalf("stored account %+v, %v: want a sealed password", raw, err)
	}
	pw, err := f.svc.Password(ctx, actor, a.ID)
	if err != nil || pw != secret {
		t.Fatalf("Password = %q, %v; want %q", pw, err, secret)
	}
	if _, err := f.svc.Password(ctx, actor, b.ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Password of an account without one: error = %v, want ErrNotFound", err)
	}
	// A sealed password moved to another account does not open.
	other, _ := f.st.GetVendorAccount(ctx, b.ID)
	other.SealedPassword = raw.SealedPassword
	if err := f.st.UpdateVendorAccount(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Password(ctx, actor, b.ID); !errors.Is(err, keys.ErrCorrupt) {
		t.Errorf("Password of a moved blob: error = %v, want keys.ErrCorrupt", err)
	}
	events, _, err := f.st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var read bool
	for _, e := range events {
		if strings.Contains(e.Summary+e.Object, secret) {
			t.Errorf("audit event %+v contains the password", e)
		}
		read = read || e.Action == "vendor_account.password_read"
	}
	if !read {
		t.Error("Password was not audited")
	}
}

func TestEditVendorAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.vendor(t, "V")
	const first, second = "first-vendor-pass", "second-vendor-pass"
	pw := first
	a, err := f.svc.AddVendorAccount(ctx, actor, "V", NewAccount{Name: "ops", Username: "ops", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	password := func() string {
		t.Helper()
		got, err := f.svc.Password(ctx, actor, a.ID)
		if errors.Is(err, inventory.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	next := second
	empty := ""
	tests := []struct {
		name   string
		change AccountChange
		want   string // the password afterwards
	}{
		{"kept", AccountChange{Name: "ops", Username: "ops2", Email: "ops@example.com"}, first},
		{"changed", AccountChange{Username: "ops2", Password: &next}, second},
		{"removed", AccountChange{Username: "ops3", Password: &empty}, ""},
	}
	for _, tc := range tests {
		got, err := f.svc.EditVendorAccount(ctx, actor, a.ID, tc.change)
		if err != nil || got.Username != tc.change.Username || got.HasPassword != (tc.want != "") {
			t.Fatalf("%s: EditVendorAccount = %+v, %v", tc.name, got, err)
		}
		if pw := password(); pw != tc.want {
			t.Errorf("%s: password = %q, want %q", tc.name, pw, tc.want)
		}
	}
	for _, c := range []AccountChange{{Name: "other"}, {IssuerID: a.IssuerID + 1}} {
		if _, err := f.svc.EditVendorAccount(ctx, actor, a.ID, c); !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("EditVendorAccount(%+v) = %v, want ErrInvalid", c, err)
		}
	}
	if _, err := f.svc.EditVendorAccount(ctx, actor, 999, AccountChange{}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
	events, _, err := f.st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, e := range events {
		if e.Action == "vendor_account.update" {
			summaries = append(summaries, e.Summary)
		}
		if strings.Contains(e.Summary+e.Object, "vendor-pass") {
			t.Errorf("audit event %+v contains a password", e)
		}
	}
	want := []string{`ops: username "ops2", password kept`, `ops: username "ops2", password changed`, `ops: username "ops3", password removed`}
	if diff := cmp.Diff(want, summaries); diff != "" {
		t.Errorf("update audit summaries (-want +got):\n%s", diff)
	}
}

// TestRewrapPasswords: after a master-key rotation the vendor passwords
// open under the new key alone.
func TestRewrapPasswords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.vendor(t, "V")
	a, err := f.svc.AddVendorAccount(ctx, "test", "V", NewAccount{Name: "ops", Password: "s3cret vendor pw"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddVendorAccount(ctx, "test", "V", NewAccount{Name: "nopw"}); err != nil {
		t.Fatal(err)
	}
	oldKey, newKey := bytes.Repeat([]byte{7}, keys.MasterKeySize), bytes.Repeat([]byte{9}, keys.MasterKeySize)
	ring, err := keys.NewSealer(nil, newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.RewrapPasswords(ctx, ring.Rewrap); err != nil || n != 1 {
		t.Fatalf("RewrapPasswords = %d, %v; want 1", n, err)
	}
	only, err := keys.NewSealer(nil, newKey)
	if err != nil {
		t.Fatal(err)
	}
	after := New(f.st, only, nil)
	if pw, err := after.Password(ctx, "test", a.ID); err != nil || pw != "s3cret vendor pw" {
		t.Fatalf("password under the new key alone = %q, %v", pw, err)
	}
}
