package definitions

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*Service, inventory.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, func() time.Time { return now }), st
}

func valid() *inventory.Definition {
	return &inventory.Definition{Name: "shop", Subject: inventory.Subject{CommonName: "shop.example.test"},
		SANs: []string{"Shop.Example.Test.", "2001:db8::1"}, Renewal: inventory.Renewal{DaysBefore: 30}}
}

func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *inventory.Definition)
		want   string
	}{
		{"ok", func(*inventory.Definition) {}, ""},
		{"empty name", func(d *inventory.Definition) { d.Name = "" }, "name is empty"},
		{"name with slash", func(d *inventory.Definition) { d.Name = "a/b" }, "name"},
		{"bad SAN", func(d *inventory.Definition) { d.SANs = []string{"-a.example"} }, "SAN"},
		{"single label wildcard", func(d *inventory.Definition) {
			d.SANs, d.Requirements.Wildcard = []string{"*.test"}, true
		}, "wildcard"},
		{"wildcard allowed", func(d *inventory.Definition) {
			d.SANs, d.Requirements.Wildcard = []string{"*.example.test"}, true
		}, ""},
		{"wildcard refused", func(d *inventory.Definition) { d.SANs = []string{"*.example.test"} }, "wildcard"},
		{"duplicate SAN", func(d *inventory.Definition) { d.SANs = []string{"a.test", "A.test"} }, "twice"},
		{"key type", func(d *inventory.Definition) { d.KeyType = "rsa-1024" }, "key type"},
		{"no renewal", func(d *inventory.Definition) { d.Renewal = inventory.Renewal{} }, "renewal"},
		{"both renewals", func(d *inventory.Definition) { d.Renewal.LifetimeFraction = 0.3 }, "not both"},
		{"fraction", func(d *inventory.Definition) { d.Renewal = inventory.Renewal{LifetimeFraction: -0.1} }, "fraction"},
		{"days", func(d *inventory.Definition) { d.Renewal.DaysBefore = 3651 }, "renewal"},
		{"email", func(d *inventory.Definition) { d.ContactEmail = "a@b@c" }, "e-mail"},
		{"label", func(d *inventory.Definition) { d.Labels = []string{"-x"} }, "label"},
		{"country", func(d *inventory.Definition) { d.Subject.Country = "DEU" }, "country"},
		{"target", func(d *inventory.Definition) { d.Targets = []string{"a b"} }, "target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(d)
			err := normalize(d)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("normalize: %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("normalize: %v, want an error mentioning %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error %q has more than one line", err)
			}
		})
	}
	d := valid()
	if err := normalize(d); err != nil || d.SANs[0] != "shop.example.test" || d.KeyType != DefaultKeyType {
		t.Errorf("normalize = %v, SANs %v, key %s; want lower-case names and the default key type", err, d.SANs, d.KeyType)
	}
}

func TestCreateUpdateCloneAudited(t *testing.T) {
	ctx := context.Background()
	svc, st := newService(t)
	d := valid()
	if err := svc.Create(ctx, "test", d); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := svc.Create(ctx, "test", valid()); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("second Create: %v, want ErrConflict", err)
	}
	stale := *d
	d.Notes = "changed"
	if err := svc.Update(ctx, "test", d); err != nil || d.Version != 2 {
		t.Fatalf("Update = %v, version %d; want version 2", err, d.Version)
	}
	stale.Notes = "lost"
	err := svc.Update(ctx, "test", &stale)
	if !errors.Is(err, inventory.ErrConflict) || !strings.Contains(err.Error(), "reload") {
		t.Errorf("stale Update: %v, want a conflict that says reload", err)
	}
	if se := (*StaleError)(nil); !errors.As(err, &se) || se.Version != 2 || se.Read != 1 {
		t.Errorf("stale Update: %v, want a StaleError of version 2 read at 1", err)
	}
	clone, err := svc.Clone(ctx, "test", "shop", "shop-test", func(c *inventory.Definition) { c.Requirements.Issuer = "private" })
	if err != nil || clone.Requirements.Issuer != "private" || clone.Notes != "changed" {
		t.Fatalf("Clone = %+v, %v", clone, err)
	}
	if _, err := svc.Clone(ctx, "test", "shop", "bad name", nil); err == nil {
		t.Error("Clone to an invalid name succeeded")
	}
	if _, err := svc.AddDocument(ctx, "test", "shop", "a/b.pdf", []byte("x")); err == nil {
		t.Error("document name with a path separator accepted")
	}
	if _, err := svc.AddDocument(ctx, "test", "shop", "big", make([]byte, MaxDocumentSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized document: %v, want ErrTooLarge", err)
	}
	if _, err := svc.AddDocument(ctx, "test", "shop", " order.pdf ", []byte("content")); err != nil {
		t.Fatalf("AddDocument: %v", err)
	}
	if doc, err := svc.Document(ctx, "shop", "order.pdf"); err != nil || string(doc.Content) != "content" {
		t.Fatalf("Document = %v, %v", doc, err)
	}
	if err := svc.DeleteDocument(ctx, "test", "shop", "order.pdf"); err != nil {
		t.Fatalf("DeleteDocument: %v", err)
	}
	evs, _, err := st.ListAudit(ctx, time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Action)
		if strings.Contains(e.Summary, "content") {
			t.Errorf("audit event %+v holds document content", e)
		}
	}
	want := "definition.create definition.update definition.clone document.add document.delete"
	if strings.Join(got, " ") != want {
		t.Errorf("audit = %v, want %s", got, want)
	}
}

func TestDerivedName(t *testing.T) {
	for in, want := range map[string]string{
		"www.example.test":     "www.example.test",
		"*.example.test":       "wildcard.example.test",
		"ACME Web Server (EU)": "ACME-Web-Server-EU-",
		"--x":                  "x",
		"":                     "",
	} {
		if got := derivedName(in); got != want {
			t.Errorf("derivedName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKeyTypesMatchCA keeps the key type names those of ca.KeySpec.
func TestKeyTypesMatchCA(t *testing.T) {
	specs := []ca.KeySpec{ca.ECDSAP256, ca.ECDSAP384, ca.RSA2048, ca.RSA3072, ca.RSA4096, ca.Ed25519}
	if len(specs) != len(KeyTypes) {
		t.Fatalf("%d key types, %d CA key specs", len(KeyTypes), len(specs))
	}
	for i, spec := range specs {
		alg, bits, ok := inventory.KeyTypeParts(string(spec))
		if !ok || KeyTypes[i] != string(spec) || inventory.KeyTypeOf(alg, bits) != string(spec) {
			t.Errorf("key spec %s: parts %s/%d %v, key type %q", spec, alg, bits, ok, KeyTypes[i])
		}
	}
}

func TestByID(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	d := valid()
	if err := svc.Create(ctx, "test", d); err != nil {
		t.Fatal(err)
	}
	got, err := svc.ByID(ctx, d.ID)
	if err != nil || got.Name != d.Name {
		t.Errorf("ByID(%d) = %+v, %v; want %s", d.ID, got, err, d.Name)
	}
	if _, err := svc.ByID(ctx, d.ID+1); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("ByID(unknown) error = %v, want ErrNotFound", err)
	}
}
