package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// lookupServer serves two pages of targets and deployments (the second
// after=p2), two agents and two CAs, the second the default, and
// records the request URIs.
func lookupServer(t *testing.T, got *[]string) *Client {
	t.Helper()
	bodies := map[string]string{
		"/api/v1/targets?limit=1000":                          `{"items":[{"id":1,"name":"a"}],"next":"p2"}`,
		"/api/v1/targets?after=p2&limit=1000":                 `{"items":[{"id":2,"name":"b"}]}`,
		"/api/v1/deployments?limit=1000&target_id=2":          `{"items":[{"id":1},{"id":2}],"next":"p2"}`,
		"/api/v1/deployments?after=p2&limit=1000&target_id=2": `{"items":[{"id":3}]}`,
		"/api/v1/agents":                                      `{"items":[{"id":4,"name":"edge"},{"id":5,"name":"core"}]}`,
		"/api/v1/cas":                                         `{"items":[{"id":6,"name":"root"},{"id":7,"name":"issuing","default":true}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*got = append(*got, r.URL.RequestURI())
		b, ok := bodies[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(b))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "ck_x")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTargetByName checks that the lookup pages on to a later page and
// that a name on no page is not found.
func TestTargetByName(t *testing.T) {
	var got []string
	c := lookupServer(t, &got)
	ctx := context.Background()
	tg, err := c.TargetByName(ctx, "b")
	if err != nil || tg.ID != 2 {
		t.Fatalf("TargetByName(b) = %+v, %v, want target 2", tg, err)
	}
	if len(got) != 2 {
		t.Errorf("requests %q, want both pages", got)
	}
	if _, err := c.TargetByName(ctx, "c"); !IsNotFound(err) {
		t.Errorf("TargetByName(c) error = %v, want not found", err)
	}
	if _, err := c.TargetByName(ctx, ""); !IsNotFound(err) {
		t.Errorf(`TargetByName("") error = %v, want not found`, err)
	}
}

// TestCountDeployments checks that every page of the query counts.
func TestCountDeployments(t *testing.T) {
	var got []string
	c := lookupServer(t, &got)
	n, err := c.CountDeployments(context.Background(), DeploymentQuery{TargetID: 2})
	if err != nil || n != 3 {
		t.Errorf("CountDeployments = %d, %v, want 3 over two pages (requests %q)", n, err, got)
	}
}

// TestAgentByName checks the agent found by name and a name not found.
func TestAgentByName(t *testing.T) {
	var got []string
	c := lookupServer(t, &got)
	ctx := context.Background()
	ag, err := c.AgentByName(ctx, "core")
	if err != nil || ag.ID != 5 {
		t.Errorf("AgentByName(core) = %+v, %v, want agent 5", ag, err)
	}
	if _, err := c.AgentByName(ctx, "5"); !IsNotFound(err) {
		t.Errorf("AgentByName(5) error = %v, want not found: IDs are not names", err)
	}
}

// TestCAByName checks the CA found by name, the default CA and a name
// not found.
func TestCAByName(t *testing.T) {
	var got []string
	c := lookupServer(t, &got)
	ctx := context.Background()
	if ca, err := c.CAByName(ctx, "root"); err != nil || ca.ID != 6 {
		t.Errorf("CAByName(root) = %+v, %v, want CA 6", ca, err)
	}
	if ca, err := c.DefaultCA(ctx); err != nil || ca.ID != 7 {
		t.Errorf("DefaultCA = %+v, %v, want CA 7", ca, err)
	}
	if _, err := c.CAByName(ctx, "other"); !IsNotFound(err) {
		t.Errorf("CAByName(other) error = %v, want not found", err)
	}
	if _, err := c.CAByName(ctx, ""); err == nil || IsNotFound(err) {
		t.Errorf(`CAByName("") error = %v, want the empty-name error`, err)
	}
}
