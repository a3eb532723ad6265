package acquisition

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestBuiltinFlowWithSwitch(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := t.Context()
	d := f.definition(t, "intranet", "intranet.example.test", "intranet.example.test", "10.0.0.7")

	p := f.start(t, StartOptions{Definition: "intranet"})
	if p.State != inventory.StateCSRReady || p.Kind != inventory.AcquisitionNew || p.Issuer.Kind != inventory.IssuerBuiltinCA ||
		p.Product == nil || p.Definition.ID != d.ID || p.KeyID == 0 || p.CSRID == 0 {
		t.Fatalf("started process = %+v; want a new csr_ready process of the built-in issuer with key and request", p.Acquisition)
	}
	wantSteps := []string{"created", "key_generated", "csr_created", "issuer_chosen"}
	if diff := cmp.Diff(wantSteps, actions(p.Steps)); diff != "" {
		t.Errorf("steps after Start (-want +got):\n%s", diff)
	}

	pemCSR, err := f.svc.CSR(ctx, actor, p.ID)
	if err != nil {
		t.Fatalf("CSR: %v", err)
	}
	block, _ := pem.Decode(pemCSR)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("CSR returned %q, want a PEM certificate request", pemCSR)
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || req.CheckSignature() != nil {
		t.Fatalf("CSR does not parse or verify: %v", err)
	}
	if got := certNames(&x509.Certificate{DNSNames: req.DNSNames, IPAddresses: req.IPAddresses}); !slices.Equal(got, []string{"intranet.example.test", "10.0.0.7"}) {
		t.Errorf("CSR names = %v, want the definition's", got)
	}
	if req.Subject.CommonName != "intranet.example.test" || !slices.Equal(req.Subject.Organization, []string{"Example"}) {
		t.Errorf("CSR subject = %s, want the definition's", req.Subject)
	}

	v, err := f.svc.Issue(ctx, ca.Admin(actor), p.ID)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if v.Acquisition.State != inventory.StateIssued || v.Switched || v.Certificate.ID == 0 || len(v.Differences) != 0 ||
		v.Certificate.KeyID != p.KeyID || len(v.Chain) < 2 {
		t.Fatalf("Issue = state %s, switched %t, certificate %+v, differences %v, chain %d; want issued, matching, key %d",
			v.Acquisition.State, v.Switched, v.Certificate, v.Differences, len(v.Chain), p.KeyID)
	}
	if f.definitionNamed(t, "intranet").CurrentCertificateID != 0 {
		t.Error("the definition has a current certificate before Switch")
	}

	sp, err := f.svc.Switch(ctx, actor, p.ID)
	if err != nil {
		t.Fatalf("Switch: %v", err)
	}
	if sp.State != inventory.StateCompleted || sp.Certificate == nil || sp.Certificate.ID != v.Certificate.ID {
		t.Fatalf("after Switch: state %s, certificate %+v; want completed with certificate %d", sp.State, sp.Certificate, v.Certificate.ID)
	}
	if got := f.definitionNamed(t, "intranet").CurrentCertificateID; got != v.Certificate.ID {
		t.Errorf("definition's current certificate = %d, want %d", got, v.Certificate.ID)
	}
	wantSteps = append(wantSteps, "csr_downloaded", "issued", "switched")
	if diff := cmp.Diff(wantSteps, actions(sp.Steps)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	for _, s := range sp.Steps {
		if s.Actor != actor || s.Time.IsZero() || s.Detail == "" {
			t.Errorf("step %+v: want actor %s, a time and a detail", s, actor)
		}
	}
	for _, a := range []string{"acquisition.start", "acquisition.csr_download", "acquisition.issue", "acquisition.switch"} {
		if !f.hasAudit(t, a, object(p.ID)) {
			t.Errorf("no audit event %s for %s", a, object(p.ID))
		}
	}
	checkAuditClean(t, f)
}

func TestBuiltinAutoSwitchAndValidity(t *testing.T) {
	f := newFixture(t, Config{})
	d := &inventory.Definition{Name: "api", Subject: inventory.Subject{CommonName: "api.example.test"},
		Requirements: inventory.Requirements{ValidityDays: 30}, Renewal: inventory.Renewal{DaysBefore: 10}}
	if err := f.defs.Create(t.Context(), actor, d); err != nil {
		t.Fatal(err)
	}
	p := f.start(t, StartOptions{Definition: "api", AutoSwitch: true})
	v, err := f.svc.Issue(t.Context(), ca.Admin(actor), p.ID)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if !v.Switched || v.Acquisition.State != inventory.StateCompleted {
		t.Fatalf("Issue with AutoSwitch: switched %t, state %s; want true, completed", v.Switched, v.Acquisition.State)
	}
	if got := f.definitionNamed(t, "api").CurrentCertificateID; got != v.Certificate.ID {
		t.Errorf("current certificate = %d, want %d", got, v.Certificate.ID)
	}
	if life := v.Chain[0].NotAfter.Sub(v.Chain[0].NotBefore); life < 29*24*time.Hour || life > 31*24*time.Hour {
		t.Errorf("validity = %v, want the definition's 30 days", life)
	}
	if diff := cmp.Diff([]string{"created", "key_generated", "csr_created", "issuer_chosen", "issued", "switched"},
		actions(f.get(t, p.ID).Steps)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if !f.hasAudit(t, "acquisition.switch", object(p.ID)) {
		t.Error("no acquisition.switch audit event for the automatic switch")
	}
}

// complete runs a built-in process for definition to completion.
func (f *fixture) complete(t *testing.T, o StartOptions) *Process {
	t.Helper()
	o.AutoSwitch = true
	p := f.start(t, o)
	if _, err := f.svc.Issue(t.Context(), ca.Admin(actor), p.ID); err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return f.get(t, p.ID)
}

func TestRenewalReusesKey(t *testing.T) {
	f := newFixture(t, Config{})
	f.definition(t, "mail", "mail.example.test")
	_, err := f.svc.Start(t.Context(), actor, StartOptions{Definition: "mail", ReuseKey: true})
	wantErr(t, err, inventory.ErrInvalid, "reuse_key", "no current certificate")

	first := f.complete(t, StartOptions{Definition: "mail"})
	renewal := f.start(t, StartOptions{Definition: "mail", ReuseKey: true})
	if renewal.Kind != inventory.AcquisitionRenewal || renewal.KeyID != first.KeyID || renewal.CSRID == first.CSRID {
		t.Fatalf("renewal: kind %s, key %d, request %d; want renewal, key %d, a new request", renewal.Kind,
			renewal.KeyID, renewal.CSRID, first.KeyID)
	}
	if renewal.Steps[1].Action != "key_reused" {
		t.Errorf("second step = %s, want key_reused", renewal.Steps[1].Action)
	}
	v, err := f.svc.Issue(t.Context(), ca.Admin(actor), renewal.ID)
	if err != nil {
		t.Fatalf("Issue renewal: %v", err)
	}
	if v.Certificate.KeyID != first.KeyID || v.Certificate.ID == first.CertificateID {
		t.Errorf("renewed certificate %d with key %d; want a new certificate with key %d", v.Certificate.ID, v.Certificate.KeyID, first.KeyID)
	}

	// A fresh key is the default for a renewal too.
	if _, err := f.svc.Switch(t.Context(), actor, renewal.ID); err != nil {
		t.Fatal(err)
	}
	again := f.start(t, StartOptions{Definition: "mail"})
	if again.Kind != inventory.AcquisitionRenewal || again.KeyID == first.KeyID || again.Steps[1].Action != "key_generated" {
		t.Errorf("second renewal: kind %s, key %d, step %s; want renewal with a new key", again.Kind, again.KeyID, again.Steps[1].Action)
	}
}

func TestOneOpenProcessAndCancel(t *testing.T) {
	f := newFixture(t, Config{})
	f.definition(t, "web", "web.example.test")
	p := f.start(t, StartOptions{Definition: "web"})
	keysBefore, _, err := f.st.ListKeys(t.Context(), inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Start(t.Context(), actor, StartOptions{Definition: "web"})
	wantErr(t, err, inventory.ErrConflict, "", "open process")
	if keysAfter, _, _ := f.st.ListKeys(t.Context(), inventory.Page{}); len(keysAfter) != len(keysBefore) {
		t.Errorf("a refused start stored a key: %d keys, want %d", len(keysAfter), len(keysBefore))
	}

	c, err := f.svc.Cancel(t.Context(), actor, p.ID, "ordered\nelsewhere  instead")
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	last := c.Steps[len(c.Steps)-1]
	if c.State != inventory.StateCancelled || last.Action != "cancelled" || last.Detail != "cancelled: ordered elsewhere instead" {
		t.Fatalf("after Cancel: state %s, last step %+v; want cancelled with the reason on one line", c.State, last)
	}
	if !f.hasAudit(t, "acquisition.cancel", object(p.ID)) {
		t.Error("no acquisition.cancel audit event")
	}
	_, err = f.svc.Cancel(t.Context(), actor, p.ID, "")
	wantErr(t, err, inventory.ErrState, "", "only open processes can be cancelled")
	f.start(t, StartOptions{Definition: "web"}) // a cancelled process is no longer open
}

func TestWrongStates(t *testing.T) {
	f := newFixture(t, Config{})
	f.vendor(t, "vendorx", "", "ov")
	f.definition(t, "done", "done.example.test")
	f.definition(t, "fresh", "fresh.example.test")
	f.definition(t, "bought", "bought.example.test")
	done := f.complete(t, StartOptions{Definition: "done"})
	fresh := f.start(t, StartOptions{Definition: "fresh"})
	bought := f.start(t, StartOptions{Definition: "bought", Issuer: "vendorx"})
	ctx := t.Context()
	order := OrderInput{Number: "A-1"}
	upload := Upload{Data: []byte("-----BEGIN CERTIFICATE-----\n")}
	for _, tc := range []struct {
		name string
		p    *Process
		op   func(id int64) error
		want string
	}{
		{"issue completed", done, func(id int64) error { _, err := f.svc.Issue(ctx, ca.Admin(actor), id); return err }, "csr_ready"},
		{"switch completed", done, func(id int64) error { _, err := f.svc.Switch(ctx, actor, id); return err }, "issued processes"},
		{"cancel completed", done, func(id int64) error { _, err := f.svc.Cancel(ctx, actor, id, "x"); return err }, "open processes"},
		{"order completed", done, func(id int64) error { _, err := f.svc.RecordOrder(ctx, actor, id, order); return err }, "ordered"},
		{"upload completed", done, func(id int64) error { _, err := f.svc.Upload(ctx, actor, id, upload); return err }, "receive"},
		{"choose completed", done, func(id int64) error { _, err := f.svc.ChooseIssuer(ctx, actor, id, "", ""); return err }, "csr_ready"},
		{"switch csr_ready", fresh, func(id int64) error { _, err := f.svc.Switch(ctx, actor, id); return err }, "issued processes"},
		{"order built-in", fresh, func(id int64) error { _, err := f.svc.RecordOrder(ctx, actor, id, order); return err }, "not a vendor"},
		{"upload built-in", fresh, func(id int64) error { _, err := f.svc.Upload(ctx, actor, id, upload); return err }, "built-in CA"},
		{"issue vendor", bought, func(id int64) error { _, err := f.svc.Issue(ctx, ca.Admin(actor), id); return err }, "vendor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.get(t, tc.p.ID)
			wantErr(t, tc.op(tc.p.ID), inventory.ErrState, "", tc.want)
			f.unchanged(t, before)
		})
	}
	_, err := f.svc.Get(ctx, 9999)
	wantErr(t, err, inventory.ErrNotFound, "", "no process 9999")
	_, err = f.svc.Switch(ctx, actor, 9999)
	wantErr(t, err, inventory.ErrNotFound, "", "9999")
}

func TestStartRefusals(t *testing.T) {
	f := newFixture(t, Config{})
	f.vendor(t, "vendorx", "", "ov", "ev")
	f.definition(t, "shop", "shop.example.test")
	req := &inventory.Definition{Name: "strict", Subject: inventory.Subject{CommonName: "strict.example.test"},
		Requirements: inventory.Requirements{Issuer: "vendorx", ValidationLevel: "EV"}, Renewal: inventory.Renewal{DaysBefore: 5}}
	if err := f.defs.Create(t.Context(), actor, req); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		o           StartOptions
		field, want string
	}{
		{"no definition", StartOptions{}, "definition", "empty"},
		{"unknown definition", StartOptions{Definition: "nope"}, "definition", `no definition "nope"`},
		{"unknown issuer", StartOptions{Definition: "shop", Issuer: "nope"}, "issuer", `no issuer "nope"`},
		{"several products", StartOptions{Definition: "shop", Issuer: "vendorx"}, "product", "choose one of ov, ev"},
		{"unknown product", StartOptions{Definition: "shop", Issuer: "vendorx", Product: "dv"}, "product", "no product"},
		{"bad kind", StartOptions{Definition: "shop", Kind: "again"}, "kind", "unknown kind"},
		{"renewal of nothing", StartOptions{Definition: "shop", Kind: inventory.AcquisitionRenewal}, "kind", "no current certificate"},
		{"other issuer than required", StartOptions{Definition: "strict", Issuer: "default"}, "issuer", "requires issuer"},
		{"level not met", StartOptions{Definition: "strict", Product: "ov"}, "product", "requires EV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Start(t.Context(), actor, tc.o)
			wantErr(t, err, inventory.ErrInvalid, tc.field, tc.want)
		})
	}
	if p := f.start(t, StartOptions{Definition: "strict", Product: "ev"}); p.Issuer.Name != "vendorx" {
		t.Errorf("issuer = %s, want the definition's required vendorx", p.Issuer.Name)
	}
	page, err := f.svc.List(t.Context(), inventory.AcquisitionFilter{}, inventory.Page{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("List = %v, %v; want the one process started", page, err)
	}
}

func TestChooseIssuer(t *testing.T) {
	f := newFixture(t, Config{})
	f.vendor(t, "vendorx", "", "ov")
	f.definition(t, "shop", "shop.example.test")
	p := f.start(t, StartOptions{Definition: "shop"})
	got, err := f.svc.ChooseIssuer(t.Context(), actor, p.ID, "vendorx", "")
	if err != nil {
		t.Fatalf("ChooseIssuer: %v", err)
	}
	if got.Issuer.Name != "vendorx" || got.Product.Name != "ov" || got.Steps[len(got.Steps)-1].Action != "issuer_chosen" {
		t.Errorf("after ChooseIssuer: issuer %s, product %s; want vendorx, ov, and a step", got.Issuer.Name, got.Product.Name)
	}
	if !f.hasAudit(t, "acquisition.choose_issuer", object(p.ID)) {
		t.Error("no acquisition.choose_issuer audit event")
	}
}

func TestAttention(t *testing.T) {
	f := newFixture(t, Config{})
	soon := &inventory.Definition{Name: "soon", Subject: inventory.Subject{CommonName: "soon.example.test"},
		Requirements: inventory.Requirements{ValidityDays: 30}, Renewal: inventory.Renewal{DaysBefore: 10}}
	if err := f.defs.Create(t.Context(), actor, soon); err != nil {
		t.Fatal(err)
	}
	f.definition(t, "none", "none.example.test")
	f.complete(t, StartOptions{Definition: "soon"})

	names := func(days int) []string {
		t.Helper()
		page, err := f.svc.Attention(t.Context(), days, inventory.Page{})
		if err != nil {
			t.Fatalf("Attention(%d): %v", days, err)
		}
		var out []string
		for _, d := range page.Items {
			out = append(out, d.Name)
		}
		return out
	}
	if got := names(0); !slices.Equal(got, []string{"soon"}) {
		t.Errorf("Attention(default) = %v, want [soon]", got)
	}
	if got := names(10); len(got) != 0 {
		t.Errorf("Attention(10) = %v, want none", got)
	}
	f.start(t, StartOptions{Definition: "soon"})
	if got := names(0); len(got) != 0 {
		t.Errorf("Attention with a renewal under way = %v, want none", got)
	}
	_, err := f.svc.Attention(t.Context(), -1, inventory.Page{})
	wantErr(t, err, inventory.ErrInvalid, "days", "want 1 to 3650")
}
