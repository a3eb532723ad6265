package stack_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/monitor"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
)

// serveCert starts a real TLS server on loopback presenting a fresh
// self-signed certificate for name, and returns it with the server's port.
func serveCert(t *testing.T, name string) (*x509.Certificate, int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	return cert, n
}

// TestConfirmedDeploymentIsMonitored: a confirmed deployment whose
// target has a server name for check yields a monitored endpoint that
// expects the deployed certificate; it cannot be removed by hand and
// goes when the target no longer names a server to check.
func TestConfirmedDeploymentIsMonitored(t *testing.T) {
	ctx := context.Background()
	s := stacktest.New(t, stacktest.OpenSQLite(t), stack.Config{})
	cert, port := serveCert(t, "svc.example.test")
	res, err := s.Store.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(cert, "test")})
	if err != nil {
		t.Fatal(err)
	}
	tv, err := s.Deploy.CreateTarget(ctx, "test", deploy.TargetInput{Name: "svc", Preset: "nginx", Method: inventory.MethodManual,
		Check: inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: "svc.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := s.Deploy.Start(ctx, "test", res[0].ID, tv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Monitor.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Monitor.List(ctx, monitorFilterDeployments()); len(all) != 0 {
		t.Fatalf("an unconfirmed deployment has endpoints: %+v", all)
	}
	if _, err := s.Deploy.Continue(ctx, "test", d.ID, "installed by hand"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Monitor.RunNow(ctx, nil, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("RunNow = %+v, %v; want the deployment's endpoint", got, err)
	}
	e := got[0]
	wantAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if e.Source != inventory.EndpointDeployment || e.SourceID != d.ID || e.Address != wantAddr || e.ServerName != "svc.example.test" {
		t.Errorf("endpoint = %+v; want deployment %d at %s for svc.example.test", e, d.ID, wantAddr)
	}
	if r := e.Last; r == nil || !r.Check.Match || r.Check.ExpectedSHA256 != inventory.SHA256Hex(cert.Raw) {
		t.Errorf("result = %+v; want the deployed certificate served and matched", r)
	}
	if err := s.Monitor.Remove(ctx, "user:ada", e.ID); !errors.Is(err, inventory.ErrState) {
		t.Errorf("Remove of a deployment's endpoint = %v, want ErrState", err)
	}
	tv.Check = inventory.CheckSpec{}
	if _, err := s.Deploy.UpdateTarget(ctx, "test", tv.ID, tv.Version, targetInputOf(tv)); err != nil {
		t.Fatal(err)
	}
	if err := s.Monitor.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Monitor.List(ctx, monitorFilterDeployments()); len(all) != 0 {
		t.Errorf("endpoints after the target lost its server name for check: %+v", all)
	}
}

func monitorFilterDeployments() monitor.Filter {
	return monitor.Filter{Source: inventory.EndpointDeployment}
}

// targetInputOf is the input that keeps a manual target as it is.
func targetInputOf(t *deploy.TargetView) deploy.TargetInput {
	return deploy.TargetInput{Name: t.Name, Preset: t.Preset, Method: t.Method, Check: t.Check, AdminEmail: t.AdminEmail, Notes: t.Notes}
}
