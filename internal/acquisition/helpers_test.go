package acquisition

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

const actor = "test:alice"

// fixture is a service over a fresh SQLite store with a default built-in
// CA, its issuer in the catalogue, and the real definitions and
// catalogue services to set things up with.
type fixture struct {
	st     inventory.Store
	sealer *keys.Sealer
	auth   *ca.Authority
	cat    *catalogue.Service
	defs   *definitions.Service
	svc    *Service
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, keys.MasterKeySize)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	auth := ca.New(st, sealer, ca.Config{})
	if _, _, err := auth.EnsureDefault(t.Context()); err != nil {
		t.Fatalf("EnsureDefault: %v", err)
	}
	f := &fixture{st: st, sealer: sealer, auth: auth, cat: catalogue.New(st, sealer, nil),
		defs: definitions.New(st, nil)}
	cfg.Catalogue = f.cat
	f.svc = New(st, auth, sealer, cfg)
	return f
}

// with returns a second service over the same inventory with cfg.
func (f *fixture) with(cfg Config) *Service {
	cfg.Catalogue = f.cat
	return New(f.st, f.auth, f.sealer, cfg)
}

// definition stores a definition for cn and sans.
func (f *fixture) definition(t *testing.T, name, cn string, sans ...string) *inventory.Definition {
	t.Helper()
	d := &inventory.Definition{Name: name, Subject: inventory.Subject{CommonName: cn, Organization: "Example"},
		SANs: sans, Renewal: inventory.Renewal{DaysBefore: 20}}
	if err := f.defs.Create(t.Context(), actor, d); err != nil {
		t.Fatalf("create definition: %v", err)
	}
	return d
}

// vendor adds a manual vendor with products (dv, ov or ev) and an
// account.
func (f *fixture) vendor(t *testing.T, name, account string, products ...string) {
	t.Helper()
	ctx := t.Context()
	if _, err := f.cat.AddIssuer(ctx, actor, inventory.Issuer{Name: name, Kind: inventory.IssuerManualVendor}); err != nil {
		t.Fatal(err)
	}
	for _, p := range products {
		level := inventory.ValidationLevel(strings.ToUpper(p)) // products are named after their level
		if _, err := f.cat.AddProduct(ctx, actor, name, inventory.Product{Name: p, ValidationLevel: level}); err != nil {
			t.Fatal(err)
		}
	}
	if account != "" {
		_, err := f.cat.AddVendorAccount(ctx, actor, name, catalogue.NewAccount{Name: account, Username: "ops",
			Password: vendorPassword})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// vendorPassword is a vendor account's password; it must never show.
const vendorPassword = "Vendor-Login-Secret-93"

func (f *fixture) start(t *testing.T, o StartOptions) *Process {
	t.Helper()
	p, err := f.svc.Start(t.Context(), actor, o)
	if err != nil {
		t.Fatalf("Start(%+v): %v", o, err)
	}
	return p
}

func (f *fixture) get(t *testing.T, id int64) *Process {
	t.Helper()
	p, err := f.svc.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%d): %v", id, err)
	}
	return p
}

func (f *fixture) definitionNamed(t *testing.T, name string) *inventory.Definition {
	t.Helper()
	d, err := f.st.DefinitionByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// audit returns every audit event.
func (f *fixture) audit(t *testing.T) []inventory.AuditEvent {
	t.Helper()
	events, _, err := f.st.ListAudit(t.Context(), time.Time{}, inventory.Page{Limit: inventory.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// hasAudit reports whether an event with action and object exists.
func (f *fixture) hasAudit(t *testing.T, action, object string) bool {
	t.Helper()
	for _, e := range f.audit(t) {
		if e.Action == action && e.Object == object {
			return true
		}
	}
	return false
}

func actions(steps []inventory.AcquisitionStep) []string {
	out := make([]string, len(steps))
	for k, s := range steps {
		out[k] = s.Action
	}
	return out
}

func certCount(t *testing.T, st inventory.Store) int {
	t.Helper()
	n, err := st.CountCertificates(t.Context(), inventory.CertificateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantErr fails unless err matches kind and mentions text; field, when
// set, must be the *inventory.FieldError's field.
func wantErr(t *testing.T, err, kind error, field, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want %v mentioning %q", kind, text)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error = %q, want one matching %q", err, kind)
	}
	if !strings.Contains(err.Error(), text) || strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("error = %q, want one line mentioning %q", err, text)
	}
	var fe *inventory.FieldError
	if field != "" && (!errors.As(err, &fe) || fe.Field != field) {
		t.Fatalf("error = %q (%T), want a field error on %q", err, err, field)
	}
}

// unchanged fails unless process id has the version, state and number of
// steps of before.
func (f *fixture) unchanged(t *testing.T, before *Process) {
	t.Helper()
	after := f.get(t, before.ID)
	if after.Version != before.Version || after.State != before.State || len(after.Steps) != len(before.Steps) {
		t.Fatalf("process after refusal: version %d, state %s, %d steps; want %d, %s, %d", after.Version, after.State,
			len(after.Steps), before.Version, before.State, len(before.Steps))
	}
}

// fixedRoots is a trust store of fixed roots.
type fixedRoots struct{ pool *x509.CertPool }

func (r fixedRoots) Pool(context.Context) (*x509.CertPool, error) { return r.pool.Clone(), nil }
