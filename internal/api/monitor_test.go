package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestEndpointRoles: a User reads endpoints and runs checks but cannot
// add or remove endpoints (403, nothing changes); the route table says
// so too.
func TestEndpointRoles(t *testing.T) {
	e := newEnv(t, openSQLite)
	for _, rt := range e.api.Routes() {
		if (rt.Pattern == "/api/v1/endpoints" && rt.Method == "POST" || rt.Pattern == "/api/v1/endpoints/{id}" && rt.Method == "DELETE") &&
			rt.Role != inventory.RoleAdmin {
			t.Errorf("%s %s role = %v, want admin", rt.Method, rt.Pattern, rt.Role)
		}
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	_, err := e.user.AddEndpoint(ctx, client.EndpointAdd{Address: addr})
	wantProblem(t, err, http.StatusForbidden)
	ep, err := e.admin.AddEndpoint(ctx, client.EndpointAdd{Address: addr, Interval: "6h", Labels: []string{"web"}})
	if err != nil {
		t.Fatalf("admin AddEndpoint: %v", err)
	}
	if ep.Status != "pending" || ep.Source != "manual" || ep.Interval != "6h0m0s" {
		t.Errorf("added endpoint = %+v; want pending, manual, 6h", ep)
	}
	wantProblem(t, e.user.RemoveEndpoint(ctx, ep.ID), http.StatusForbidden)
	run, err := e.user.RunMonitor(ctx, ep.ID)
	if err != nil || len(run.Items) != 1 || run.Items[0].Last == nil {
		t.Fatalf("user RunMonitor = %+v, %v; want the endpoint with a result", run, err)
	}
	// httptest's certificate is not trusted: observed, but the chain fails.
	if last := run.Items[0].Last; last.Check.Error != "" || last.Check.ChainVerifies || len(last.ChainSHA256) == 0 {
		t.Errorf("result = %+v; want the chain observed and not verified", last)
	}
	h, err := e.user.GetEndpointHistory(ctx, ep.ID, client.Page{})
	if err != nil || len(h.Items) != 1 || h.Items[0].ID != run.Items[0].Last.ID {
		t.Errorf("history = %+v, %v; want the one result", h, err)
	}
	list, err := e.user.ListEndpoints(ctx, client.EndpointFilter{Source: "manual", Q: "127.0.0.1"})
	if err != nil || len(list.Items) != 1 {
		t.Errorf("ListEndpoints = %+v, %v; want the endpoint", list, err)
	}
	_, err = e.user.ListEndpoints(ctx, client.EndpointFilter{Status: "bogus"})
	wantProblem(t, err, http.StatusUnprocessableEntity)
	_, err = e.admin.AddEndpoint(ctx, client.EndpointAdd{Address: addr, Interval: "often"})
	wantProblem(t, err, http.StatusUnprocessableEntity)
	if err := e.admin.RemoveEndpoint(ctx, ep.ID); err != nil {
		t.Fatalf("admin RemoveEndpoint: %v", err)
	}
	_, err = e.user.GetEndpoint(ctx, ep.ID)
	wantProblem(t, err, http.StatusNotFound)
}

// TestDeploymentEndpointNotRemovable: a confirmed deployment's endpoint
// follows its deployment; removing it by hand is 409 and keeps it.
func TestDeploymentEndpointNotRemovable(t *testing.T) {
	e := newEnv(t, openSQLite)
	ids := e.importPEM(t, selfSignedLeafPEM(t))
	tv, err := e.stack.Deploy.CreateTarget(ctx, "test", deploy.TargetInput{Name: "svc", Preset: "nginx",
		Method: inventory.MethodManual, Check: inventory.CheckSpec{Host: "127.0.0.1", Port: 8443}})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := e.stack.Deploy.Start(ctx, "test", ids[0], tv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.stack.Deploy.Continue(ctx, "test", d.ID, "installed by hand"); err != nil {
		t.Fatal(err)
	}
	if err := e.stack.Monitor.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := e.user.ListEndpoints(ctx, client.EndpointFilter{Source: "deployment"})
	if err != nil || len(l.Items) != 1 || l.Items[0].SourceID != d.ID || l.Items[0].Address != "127.0.0.1:8443" {
		t.Fatalf("ListEndpoints = %+v, %v; want deployment %d's endpoint", l, err, d.ID)
	}
	p := wantProblem(t, e.admin.RemoveEndpoint(ctx, l.Items[0].ID), http.StatusConflict)
	if !strings.Contains(p.Detail, "follows deployment") {
		t.Errorf("problem detail %q does not say why", p.Detail)
	}
	if _, err := e.user.GetEndpoint(ctx, l.Items[0].ID); err != nil {
		t.Errorf("the endpoint is gone after a refused removal: %v", err)
	}
}
