package catalogue

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// selectFixture is a catalogue of two vendors and one active built-in CA
// (a retired one is left out of every selection).
func selectFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.putCA(t, "Internal", inventory.CAActive)
	f.putCA(t, "Old", inventory.CAActive)
	if err := f.svc.SyncBuiltin(context.Background()); err != nil {
		t.Fatal(err)
	}
	old, err := f.st.CAByName(context.Background(), "Old")
	if err != nil {
		t.Fatal(err)
	}
	old.Status = inventory.CARetired
	if err := f.st.UpdateCA(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	f.vendor(t, "Beta",
		inventory.Product{Name: "Single DV", ValidationLevel: inventory.LevelDV, MaxNames: 1, MaxValidityDays: 397},
		inventory.Product{Name: "Wildcard DV", ValidationLevel: inventory.LevelDV, Wildcard: true, MaxNames: 2, MaxValidityDays: 397},
		inventory.Product{Name: "EV", ValidationLevel: inventory.LevelEV, MaxNames: 5, MaxValidityDays: 397},
	)
	f.vendor(t, "Alpha",
		inventory.Product{Name: "OV Multi", ValidationLevel: inventory.LevelOV, MaxNames: 100, MaxValidityDays: 199},
		inventory.Product{Name: "Any DV", ValidationLevel: inventory.LevelDV, Wildcard: true},
	)
	return f
}

func TestSelect(t *testing.T) {
	f := selectFixture(t)
	tests := []struct {
		name string
		req  Requirements
		want []string
	}{
		{"everything, closest level first", Requirements{},
			[]string{"Internal/private", "Alpha/Any DV", "Beta/Single DV", "Beta/Wildcard DV", "Alpha/OV Multi", "Beta/EV"}},
		{"DV is a minimum", Requirements{ValidationLevel: inventory.LevelDV},
			[]string{"Alpha/Any DV", "Beta/Single DV", "Beta/Wildcard DV", "Alpha/OV Multi", "Beta/EV"}},
		{"OV accepts EV", Requirements{ValidationLevel: inventory.LevelOV}, []string{"Alpha/OV Multi", "Beta/EV"}},
		{"EV needed", Requirements{ValidationLevel: inventory.LevelEV}, []string{"Beta/EV"}},
		{"EV with more names than offered", Requirements{ValidationLevel: inventory.LevelEV, Names: 6}, nil},
		{"private is exact", Requirements{ValidationLevel: inventory.LevelPrivate}, []string{"Internal/private"}},
		{"wildcard needed", Requirements{Wildcard: true, ValidationLevel: inventory.LevelDV},
			[]string{"Alpha/Any DV", "Beta/Wildcard DV"}},
		{"wildcard needed at OV, no product has it", Requirements{Wildcard: true, ValidationLevel: inventory.LevelOV}, nil},
		{"too many names", Requirements{ValidationLevel: inventory.LevelDV, Names: 3},
			[]string{"Alpha/Any DV", "Alpha/OV Multi", "Beta/EV"}},
		{"names at the limit", Requirements{ValidationLevel: inventory.LevelDV, Names: 2, Wildcard: true},
			[]string{"Alpha/Any DV", "Beta/Wildcard DV"}},
		{"validity too long", Requirements{ValidationLevel: inventory.LevelOV, ValidityDays: 200}, []string{"Beta/EV"}},
		{"validity at the limit", Requirements{ValidationLevel: inventory.LevelOV, ValidityDays: 199},
			[]string{"Alpha/OV Multi", "Beta/EV"}},
		{"validity beyond every limit", Requirements{ValidationLevel: inventory.LevelDV, ValidityDays: 398},
			[]string{"Alpha/Any DV"}},
		{"one issuer", Requirements{Issuer: "Beta", ValidationLevel: inventory.LevelDV},
			[]string{"Beta/Single DV", "Beta/Wildcard DV", "Beta/EV"}},
		{"retired built-in CA by name", Requirements{Issuer: "Old"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			matches, err := f.svc.Select(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Select(%+v): %v", tc.req, err)
			}
			var got []string
			for _, m := range matches {
				if m.Product.IssuerID != m.Issuer.ID {
					t.Errorf("match %+v names the wrong issuer", m)
				}
				got = append(got, m.Issuer.Name+"/"+m.Product.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Select(%+v) (-want +got):\n%s", tc.req, diff)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	f := selectFixture(t)
	tests := map[string]Requirements{
		"unknown level":  {ValidationLevel: "gold"},
		"negative names": {Names: -1},
		"negative days":  {ValidityDays: -1},
		"unknown issuer": {Issuer: "Nobody"},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Select(context.Background(), req)
			if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "catalogue: ") {
				t.Errorf("Select(%+v): error = %v, want a one-line catalogue error", req, err)
			}
		})
	}
}

func TestRequirementsOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    inventory.Definition
		want Requirements
	}{
		{"names from SANs", inventory.Definition{SANs: []string{"a.example", "b.example"},
			Requirements: inventory.Requirements{Issuer: "V", ValidationLevel: "OV", Wildcard: true, ValidityDays: 90}},
			Requirements{Issuer: "V", ValidationLevel: inventory.LevelOV, Wildcard: true, Names: 2, ValidityDays: 90}},
		{"names stated", inventory.Definition{SANs: []string{"a.example"}, Requirements: inventory.Requirements{Names: 5}},
			Requirements{Names: 5}},
		{"nothing", inventory.Definition{}, Requirements{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RequirementsOf(&tc.d)); diff != "" {
				t.Errorf("RequirementsOf (-want +got):\n%s", diff)
			}
		})
	}
}
