package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestAuditObjectsMigration checks that 0018_audit_objects rewrites the
// object names of audit events written before it to KIND:ID, and leaves
// names it cannot resolve to exactly one row as they were.
func TestAuditObjectsMigration(t *testing.T) {
	onEmptyDatabases(t, testAuditObjectsMigration)
}

func testAuditObjectsMigration(t *testing.T, d *db) {
	ctx := context.Background()
	all := migrateBefore(t, d, 18)
	ca, _ := newCA(t, d, "Issuing", false)
	root := &inventory.Certificate{Subject: "CN=Elsewhere"}
	cert := fakeCertificate(1, root, time.Now().Add(time.Hour))
	twin := fakeCertificate(2, root, time.Now().Add(time.Hour))
	other := fakeCertificate(3, root, time.Now().Add(time.Hour))
	twin.Serial = other.Serial // two certificates from different CAs may share a serial
	certID := putCerts(t, d, cert, twin, other)[0].ID
	def := sampleDefinition("web")
	if err := d.PutDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	user := putUser(t, d, "ada")
	issuer := &inventory.Issuer{Name: "Vendor", Kind: inventory.IssuerManualVendor}
	if err := d.PutIssuer(ctx, issuer); err != nil {
		t.Fatal(err)
	}
	product := &inventory.Product{IssuerID: issuer.ID, Name: "Basic", ValidationLevel: inventory.LevelDV}
	if err := d.PutProduct(ctx, product); err != nil {
		t.Fatal(err)
	}
	account := &inventory.VendorAccount{IssuerID: issuer.ID, Name: "ops"}
	if err := d.PutVendorAccount(ctx, account); err != nil {
		t.Fatal(err)
	}
	agent := enroll(t, d, "web1", "ab")

	ref := inventory.ObjectRef
	tests := []struct{ action, old, want string }{
		{"key.export", "key/7", "key:7"},
		{"certificate.revoke", "certificate/42", "certificate:42"},
		{"ca.issue", "certificate serial " + cert.Serial, ref(inventory.KindCertificate, certID)},
		{"ca.issue", "certificate serial " + other.Serial, "certificate serial " + other.Serial},
		{"ca.issue", "certificate serial 00ff", "certificate serial 00ff"},
		{"ca.create", "ca Issuing", ref(inventory.KindCA, ca.ID)},
		{"ca.create", "ca Gone", "ca Gone"},
		{"definition.create", "definition:web", ref(inventory.KindDefinition, def.ID)},
		{"definition.delete", "definition:gone", "definition:gone"},
		{"user.create", "user:ada", ref(inventory.KindUser, user.ID)},
		{"issuer.create", "issuer:Vendor", ref(inventory.KindIssuer, issuer.ID)},
		{"product.create", "product:Vendor/Basic", ref(inventory.KindProduct, product.ID)},
		{"vendor_account.create", "vendor_account:ops", ref(inventory.KindVendorAccount, account.ID)},
		{"agent.enroll", "agent:web1", ref(inventory.KindAgent, agent.ID)},
		{"agent.token_create", "agent:web1", "agent:web1"},
		{"token.create", "token:11", "token:11"},
		{"settings.update", "settings", "settings:settings"},
		{"settings.token_policy", "settings", "settings:token-policy"},
		{"outbound.update", "outbound policy", inventory.ObjectOutboundPolicy},
		{"trust.system_roots", "trust-store", inventory.ObjectTrustStore},
		{"masterkey.rotate", "master-key", inventory.ObjectMasterKey},
		{"allowlist.update", "allowlist", inventory.ObjectAllowlist},
	}
	for _, tt := range tests {
		if err := d.AppendAudit(ctx, &inventory.AuditEvent{Actor: "cli:root", Action: tt.action, Object: tt.old}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.apply(ctx, all); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	events, _, err := d.ListAudit(ctx, time.Time{}, inventory.Page{Limit: inventory.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%s %s", e.Action, e.Object))
	}
	for _, tt := range tests {
		want = append(want, fmt.Sprintf("%s %s", tt.action, tt.want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit objects after migration (-want +got):\n%s", diff)
	}
}
