package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var definitionContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"RoundTrip", testDefinitionRoundTrip},
	{"Conflicts", testDefinitionConflicts},
	{"ListFilterPages", testDefinitionList},
	{"Documents", testDocuments},
	{"DefinitionCertificates", testDefinitionCertificates},
}

// TestDefinitionStoreContract runs the inventory.DefinitionStore contract
// against every backend.
func TestDefinitionStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range definitionContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

func sampleDefinition(name string) *inventory.Definition {
	return &inventory.Definition{
		Name:         name,
		Subject:      inventory.Subject{CommonName: name + ".example.test", Organization: "Example", Country: "DE"},
		SANs:         []string{name + ".example.test", "10.0.0.1"},
		KeyType:      "rsa-3072",
		Requirements: inventory.Requirements{Issuer: "internal", ValidationLevel: "DV", Names: 2, ValidityDays: 90},
		Requester:    "Ops",
		ContactEmail: "ops@example.test",
		Targets:      []string{"web1", "web2"},
		Renewal:      inventory.Renewal{LifetimeFraction: 0.33},
		Labels:       []string{"prod", "web"},
		Notes:        "note",
	}
}

func putDefinition(t *testing.T, s inventory.Store, d *inventory.Definition) *inventory.Definition {
	t.Helper()
	if err := s.PutDefinition(context.Background(), d); err != nil {
		t.Fatalf("PutDefinition(%s): %v", d.Name, err)
	}
	if d.ID == 0 || d.Version != 1 || d.CreatedAt.IsZero() {
		t.Fatalf("PutDefinition left ID %d, Version %d, CreatedAt %v", d.ID, d.Version, d.CreatedAt)
	}
	return d
}

func testDefinitionRoundTrip(t *testing.T, e *env) {
	ctx := context.Background()
	h := newHierarchy(t, "def")
	res := putCerts(t, e.s, record(h.leaf))
	want := sampleDefinition("shop")
	want.CurrentCertificateID = res[0].ID
	putDefinition(t, e.s, want)
	got, err := e.s.GetDefinition(ctx, want.ID)
	if err != nil {
		t.Fatalf("GetDefinition: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetDefinition differs (-want +got):\n%s", diff)
	}
	byName, err := e.s.DefinitionByName(ctx, "shop")
	if err != nil || byName.ID != want.ID {
		t.Fatalf("DefinitionByName(shop) = %v, %v; want ID %d", byName, err, want.ID)
	}
	got.KeyType, got.Renewal = "ed25519", inventory.Renewal{DaysBefore: 30}
	got.Labels = nil
	if err := e.s.UpdateDefinition(ctx, got); err != nil {
		t.Fatalf("UpdateDefinition: %v", err)
	}
	again, _ := e.s.GetDefinition(ctx, want.ID)
	if again.Version != 2 || got.Version != 2 || again.KeyType != "ed25519" || again.Renewal.DaysBefore != 30 || again.Labels != nil {
		t.Errorf("after update: %+v, want version 2, ed25519, 30 days, no labels", again)
	}
	for _, err := range []error{
		errOf(e.s.GetDefinition(ctx, 999)), errOf(e.s.DefinitionByName(ctx, "nope")),
		e.s.UpdateDefinition(ctx, &inventory.Definition{ID: 999, Name: "x", KeyType: "ed25519", Version: 1}),
	} {
		if !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("unknown definition: %v, want ErrNotFound", err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

func testDefinitionConflicts(t *testing.T, e *env) {
	ctx := context.Background()
	a := putDefinition(t, e.s, sampleDefinition("a"))
	putDefinition(t, e.s, sampleDefinition("b"))
	if err := e.s.PutDefinition(ctx, sampleDefinition("a")); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("duplicate name: %v, want ErrConflict", err)
	}
	first, _ := e.s.GetDefinition(ctx, a.ID)
	second, _ := e.s.GetDefinition(ctx, a.ID)
	first.Notes = "first"
	if err := e.s.UpdateDefinition(ctx, first); err != nil {
		t.Fatalf("first update: %v", err)
	}
	second.Notes = "second"
	if err := e.s.UpdateDefinition(ctx, second); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("stale update: %v, want ErrConflict", err)
	}
	first.Name = "b"
	if err := e.s.UpdateDefinition(ctx, first); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("rename to a name in use: %v, want ErrConflict", err)
	}
	stored, _ := e.s.GetDefinition(ctx, a.ID)
	if stored.Notes != "first" || stored.Name != "a" || stored.Version != 2 {
		t.Errorf("stored = %q %q v%d, want a, first, v2", stored.Name, stored.Notes, stored.Version)
	}
	bad := sampleDefinition("c")
	bad.KeyType = "dsa-1024"
	if err := e.s.PutDefinition(ctx, bad); err == nil {
		t.Error("unknown key type stored")
	}
}

func testDefinitionList(t *testing.T, e *env) {
	ctx := context.Background()
	for i := range 7 {
		d := sampleDefinition(fmt.Sprintf("site%d", i))
		if i%2 == 1 {
			d.Labels = []string{"test"}
		}
		if i == 4 {
			d.Notes = "Legacy 50%_box"
		}
		putDefinition(t, e.s, d)
	}
	names := func(f inventory.DefinitionFilter, size int) []string {
		var out []string
		p := inventory.Page{Limit: size}
		for {
			page, err := e.s.ListDefinitions(ctx, f, p)
			if err != nil {
				t.Fatalf("ListDefinitions(%+v): %v", f, err)
			}
			for _, d := range page.Items {
				out = append(out, d.Name)
			}
			if page.Next == "" {
				return out
			}
			p.After = page.Next
		}
	}
	for _, tc := range []struct {
		f    inventory.DefinitionFilter
		want []string
	}{
		{inventory.DefinitionFilter{}, []string{"site0", "site1", "site2", "site3", "site4", "site5", "site6"}},
		{inventory.DefinitionFilter{Label: "test"}, []string{"site1", "site3", "site5"}},
		{inventory.DefinitionFilter{Label: "tes"}, nil},
		{inventory.DefinitionFilter{Label: "web"}, []string{"site0", "site2", "site4", "site6"}},
		{inventory.DefinitionFilter{Text: "SITE3.example"}, []string{"site3"}},
		{inventory.DefinitionFilter{Text: "50%_"}, []string{"site4"}},
		{inventory.DefinitionFilter{Text: "%"}, []string{"site4"}},
	} {
		if got := names(tc.f, 2); !cmp.Equal(got, tc.want) {
			t.Errorf("ListDefinitions(%+v) = %v, want %v", tc.f, got, tc.want)
		}
		if n, err := e.s.CountDefinitions(ctx, tc.f); err != nil || n != len(tc.want) {
			t.Errorf("CountDefinitions(%+v) = %d, %v; want %d", tc.f, n, err, len(tc.want))
		}
	}
	if _, err := e.s.ListDefinitions(ctx, inventory.DefinitionFilter{}, inventory.Page{After: "!!"}); err == nil {
		t.Error("bad cursor accepted")
	}
}

func testDocuments(t *testing.T, e *env) {
	ctx := context.Background()
	d := putDefinition(t, e.s, sampleDefinition("docs"))
	other := putDefinition(t, e.s, sampleDefinition("other"))
	content := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)
	doc := &inventory.Document{DefinitionID: d.ID, Name: "order.pdf", Content: content}
	if err := e.s.PutDocument(ctx, doc); err != nil || doc.ID == 0 || doc.Size != 4000 {
		t.Fatalf("PutDocument = %v, ID %d, size %d", err, doc.ID, doc.Size)
	}
	if err := e.s.PutDocument(ctx, &inventory.Document{DefinitionID: d.ID, Name: "empty.txt"}); err != nil {
		t.Fatalf("PutDocument(empty): %v", err)
	}
	if err := e.s.PutDocument(ctx, &inventory.Document{DefinitionID: d.ID, Name: "order.pdf", Content: []byte("x")}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("duplicate document: %v, want ErrConflict", err)
	}
	if err := e.s.PutDocument(ctx, &inventory.Document{DefinitionID: other.ID, Name: "order.pdf", Content: []byte("x")}); err != nil {
		t.Errorf("same name in another definition: %v", err)
	}
	if err := e.s.PutDocument(ctx, &inventory.Document{DefinitionID: 999, Name: "x"}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("document of unknown definition: %v, want ErrNotFound", err)
	}
	list, err := e.s.ListDocuments(ctx, d.ID)
	if err != nil || len(list) != 2 || list[0].Name != "empty.txt" || list[1].Size != 4000 || list[1].Content != nil {
		t.Fatalf("ListDocuments = %+v, %v; want empty.txt and order.pdf without content", list, err)
	}
	got, err := e.s.GetDocument(ctx, d.ID, "order.pdf")
	if err != nil || !bytes.Equal(got.Content, content) {
		t.Fatalf("GetDocument = %v; content equal %v", err, got != nil && bytes.Equal(got.Content, content))
	}
	if err := e.s.DeleteDocument(ctx, d.ID, "order.pdf"); err != nil {
		t.Fatalf("DeleteDocument: %v", err)
	}
	if err := e.s.DeleteDocument(ctx, d.ID, "order.pdf"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := e.s.GetDocument(ctx, d.ID, "order.pdf"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("deleted document: %v, want ErrNotFound", err)
	}
}

// testDefinitionCertificates: only definitions with a current certificate
// are listed, in ID order, with that certificate's fields and revocation.
func testDefinitionCertificates(t *testing.T, e *env) {
	ctx := context.Background()
	if got, err := e.s.DefinitionCertificates(ctx); err != nil || len(got) != 0 {
		t.Fatalf("DefinitionCertificates on an empty store = %v, %v; want none", got, err)
	}
	h := newHierarchy(t, "cur")
	res := putCerts(t, e.s, record(h.leaf), record(h.inter))
	putDefinition(t, e.s, sampleDefinition("none"))
	second := sampleDefinition("second")
	second.CurrentCertificateID = res[1].ID
	putDefinition(t, e.s, second)
	first := sampleDefinition("first")
	first.CurrentCertificateID = res[0].ID
	putDefinition(t, e.s, first)
	if _, err := dbOf(e.s).w.ExecContext(ctx, dbOf(e.s).q("UPDATE certificates SET revoked_at = created_at WHERE id = ?"),
		res[1].ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.DefinitionCertificates(ctx)
	if err != nil {
		t.Fatalf("DefinitionCertificates: %v", err)
	}
	leaf, inter := getCert(t, e.s, res[0].ID), getCert(t, e.s, res[1].ID)
	want := []inventory.DefinitionCertificate{
		{DefinitionID: second.ID, Definition: "second", CertificateID: inter.ID, CommonName: inter.CommonName,
			Serial: inter.Serial, SHA256: inter.SHA256, NotBefore: inter.NotBefore, NotAfter: inter.NotAfter, Revoked: true},
		{DefinitionID: first.ID, Definition: "first", CertificateID: leaf.ID, CommonName: leaf.CommonName,
			Serial: leaf.Serial, SHA256: leaf.SHA256, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefinitionCertificates differs (-want +got):\n%s", diff)
	}
}
