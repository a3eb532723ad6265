package alert_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/settings"
)

func ptr[T any](v T) *T { return &v }

// TestRouting checks who a notice goes to: the Admin e-mail, the
// definition's contact, the admin of the target a deployment endpoint
// checks, the rule's channels and the channels of the endpoint's labels;
// and the link into the web UI.
func TestRouting(t *testing.T) {
	e := newEnv(t, start)
	ctx := context.Background()
	if _, err := e.settings.Update(ctx, "user:ada", settings.Update{AdminEmail: ptr("pki@example.com"),
		ExternalURL: ptr("https://ck.example.com/base/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetRoutes(ctx, user, alert.Routes{"prod": {"pager"}}); !errors.Is(err, alert.ErrForbidden) {
		t.Errorf("SetRoutes by a user: err = %v, want ErrForbidden", err)
	}
	if _, err := e.svc.SetRoutes(ctx, admin, alert.Routes{"prod": {"pager", " ops-chat "}, "lab": {}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateRule(ctx, admin, alert.RuleLeafExpiry, alert.RuleChange{Channels: &[]string{"certs"}}); err != nil {
		t.Fatal(err)
	}
	leaf := e.pki.leaf("www.example.com", start.Add(-85*day), 90*day)
	ids := putCerts(t, e.st, leaf)
	def := putDefinition(t, e.st, "www", ids[0], "owner@example.com")
	target := &inventory.Target{Name: "web1", Preset: "nginx", Method: inventory.MethodManual, Directory: "/etc/nginx/tls",
		AdminEmail: "web1-admin@example.com"}
	if err := e.st.PutTarget(ctx, target); err != nil {
		t.Fatal(err)
	}
	dep := &inventory.Deployment{CertificateID: ids[0], TargetID: target.ID, DefinitionID: def.ID, State: inventory.DeployConfirmed}
	if err := e.st.PutDeployment(ctx, dep); err != nil {
		t.Fatal(err)
	}
	s := e.web(1, leaf)
	s.ep.Source, s.ep.SourceID, s.ep.Labels = inventory.EndpointDeployment, dep.ID, []string{"prod", "lab"}
	e.eps.set(s)
	var n *inventory.Notice
	for _, x := range e.evaluate() {
		if x.Key != "" && x.Subject != "" && slices.Contains(x.Channels, "certs") {
			n = &x
		}
	}
	if n == nil {
		t.Fatal("no leaf-expiry notice sent")
	}
	wantEmails := []string{"owner@example.com", "pki@example.com", "web1-admin@example.com"}
	wantChannels := []string{"certs", "ops-chat", "pager"}
	if !slices.Equal(n.Emails, wantEmails) || !slices.Equal(n.Channels, wantChannels) {
		t.Errorf("notice to %v and %v, want %v and %v", n.Emails, n.Channels, wantEmails, wantChannels)
	}
	id := alertID(t, *n)
	if want := "https://ck.example.com/base/alerts/" + itoa(id); n.Link != want {
		t.Errorf("Link = %q, want %q", n.Link, want)
	}
}

// TestNoNotifier checks that alerts are recorded when nothing can send
// them.
func TestNoNotifier(t *testing.T) {
	e := newEnv(t, start)
	ctx := context.Background()
	svc := alert.New(e.st, alert.Options{Endpoints: e.eps, Now: e.clock.Now})
	e.eps.set(e.web(1, e.pki.leaf("www.example.com", start.Add(-85*day), 90*day)))
	res, err := svc.Evaluate(ctx)
	if err != nil || res.Fired != 1 || res.Sent != 0 || res.Open != 1 {
		t.Fatalf("Evaluate without a notifier = %+v, %v; want one alert fired, nothing sent", res, err)
	}
	if open, err := svc.Open(ctx); err != nil || len(open) != 1 {
		t.Errorf("Open = %v, %v; want the alert recorded", open, err)
	}
}

// TestEvaluateRollsBack checks that a failing transaction stores no
// alert and sends no notice.
func TestEvaluateRollsBack(t *testing.T) {
	e := newEnv(t, start)
	e.eps.set(e.web(1, e.pki.leaf("www.example.com", start.Add(-85*day), 90*day)))
	broken := failingStore{e.st}
	svc := alert.New(broken, alert.Options{Endpoints: e.eps, Notifier: e.sent, Now: e.clock.Now})
	if _, err := svc.Evaluate(context.Background()); err == nil {
		t.Fatal("Evaluate over a failing store succeeded")
	}
	if n := e.sent.take(); len(n) != 0 {
		t.Errorf("notices after a failed evaluation = %v, want none", kinds(n))
	}
	if open, err := e.st.OpenAlerts(context.Background()); err != nil || len(open) != 0 {
		t.Errorf("open alerts after a failed evaluation = %d, %v; want none", len(open), err)
	}
}

// failingStore fails every alert insert after it happened, inside the
// transaction.
type failingStore struct{ inventory.Store }

func (s failingStore) InTx(ctx context.Context, fn func(tx inventory.Store) error) error {
	return s.Store.InTx(ctx, func(tx inventory.Store) error { return fn(failingStore{tx}) })
}

func (s failingStore) PutAlert(ctx context.Context, a *inventory.Alert) error {
	if err := s.Store.PutAlert(ctx, a); err != nil {
		return err
	}
	return errors.New("disk full")
}
