package acquisition

import (
	"errors"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestResolve(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := t.Context()
	d := f.definition(t, "shop", "shop.example.test")
	f.vendor(t, "Vendor", "main", "dv", "ov")
	f.vendor(t, "Other", "", "ev")
	issuers, err := f.st.ListIssuers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, i := range issuers {
		ids[i.Name] = i.ID
		products, err := f.st.ListProducts(ctx, i.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range products {
			ids[p.Name] = p.ID
		}
	}
	accounts, err := f.st.ListVendorAccounts(ctx)
	if err != nil || len(accounts) != 1 {
		t.Fatalf("vendor accounts = %v, %v", accounts, err)
	}
	for _, tc := range []struct {
		name  string
		refs  Refs
		want  Names
		field string
	}{
		{"nothing", Refs{}, Names{}, ""},
		{"all", Refs{DefinitionID: d.ID, VendorAccountID: accounts[0].ID, IssuerID: ids["Vendor"], ProductID: ids["ov"]},
			Names{Definition: "shop", VendorAccount: "main", Issuer: "Vendor", Product: "ov"}, ""},
		{"product implies issuer", Refs{ProductID: ids["ev"]}, Names{Issuer: "Other", Product: "ev"}, ""},
		{"product of another issuer", Refs{IssuerID: ids["Vendor"], ProductID: ids["ev"]}, Names{}, "product_id"},
		{"unknown definition", Refs{DefinitionID: 999, ProductID: 999}, Names{}, "definition_id"},
		{"unknown account before product", Refs{VendorAccountID: 999, ProductID: 999}, Names{}, "vendor_account_id"},
		{"unknown product", Refs{ProductID: 999}, Names{}, "product_id"},
		{"unknown issuer", Refs{IssuerID: 999}, Names{}, "issuer_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.svc.Resolve(ctx, tc.refs)
			if tc.field != "" {
				var fe *inventory.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Fatalf("Resolve = %v, want a field error on %s", err, tc.field)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
