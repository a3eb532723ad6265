package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// suite is every API test; it runs on SQLite and on PostgreSQL.
var suite = []struct {
	name string
	test func(t *testing.T, e *env)
}{
	{"auth", testAuth},
	{"roles", testRoles},
	{"openapi", testOpenAPI},
	{"problems", testProblems},
	{"pagination", testPagination},
	{"certificates", testCertificates},
	{"definitions", testDefinitions},
	{"documents", testDocuments},
	{"catalogue", testCatalogue},
	{"vendor secrets", testVendorSecrets},
	{"key export", testKeyExport},
	{"users and tokens", testUsersTokens},
	{"definition by name", testDefinitionByName},
	{"user by name", testUserByName},
	{"tokens of another user", testUserTokens},
	{"audit and cas", testAuditCAs},
	{"acquisitions", testAcquisitions},
	{"deployments", testDeployments},
	{"agents", testAgents},
}

func runSuite(t *testing.T, open opener) {
	for _, s := range suite {
		t.Run(s.name, func(t *testing.T) { s.test(t, newEnv(t, open)) })
	}
}

func TestSQLite(t *testing.T) { runSuite(t, openSQLite) }

func TestPostgres(t *testing.T) {
	if os.Getenv("CERTKEEPER_TEST_POSTGRES") == "" {
		testenv.Missing(t, "CERTKEEPER_TEST_POSTGRES is not set")
	}
	runSuite(t, openPostgres)
}

var ctx = context.Background()

func testAuth(t *testing.T, e *env) {
	// A token made an hour ago for a minute, on the users service's
	// injected clock: expired now, without waiting for it.
	hourAgo := stacktest.New(t, e.st, stack.Config{Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	expired, _, err := hourAgo.Users.CreateToken(ctx, "test", "bob", "short", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, carolClient := e.newUser("carol", inventory.RoleUser)
	if err := e.users.Disable(ctx, "test", "carol"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*client.Client{
		"no token": e.client(""), "bad token": e.client("ck_nope"), "not ck": e.client("abc"),
		"expired": e.client(expired), "disabled user": carolClient,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Me(ctx)
			wantProblem(t, err, http.StatusUnauthorized)
		})
	}
	resp, _ := e.raw("GET", "/api/v1/me", "", "", nil)
	if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want Bearer", got)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	me, err := e.user.Me(ctx)
	if err != nil || me.Username != "bob" || me.Role != "user" {
		t.Fatalf("Me = %+v, %v; want bob, user", me, err)
	}
}

// testInProcess checks WithUser: a trusted caller acts as a user without
// a token.
func TestWithUser(t *testing.T) {
	e := newEnv(t, openSQLite)
	u, err := e.st.UserByName(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New("http://certkeeper.local", "", client.WithHTTPClient(&http.Client{Transport: inProcess{e.api.Handler(), u}}))
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Me(ctx)
	if err != nil || me.Username != "bob" {
		t.Fatalf("Me in process = %+v, %v; want bob", me, err)
	}
	if _, err := c.ListUsers(ctx); !client.IsForbidden(err) {
		t.Errorf("ListUsers as user in process = %v, want 403", err)
	}
}

// inProcess calls a handler directly, acting as u.
type inProcess struct {
	h http.Handler
	u *inventory.User
}

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	w := newResponseRecorder()
	p.h.ServeHTTP(w, req.WithContext(api.WithUser(req.Context(), p.u)))
	return w.Result(), nil
}

// testRoles walks the route table: a user gets 403 on every admin route,
// each refusal audited, and neither 401 nor 403 on user routes.
func testRoles(t *testing.T, e *env) {
	admins := 0
	for _, rt := range e.api.Routes() {
		resp, body := e.call(rt, e.userToken)
		forbidden := resp.StatusCode == http.StatusForbidden
		switch {
		case rt.Role == inventory.RoleAdmin && !forbidden:
			t.Errorf("%s %s as user = %d, want 403", rt.Method, rt.Pattern, resp.StatusCode)
		case rt.Role == inventory.RoleUser && (forbidden || resp.StatusCode == http.StatusUnauthorized):
			t.Errorf("%s %s as user = %d %s, want neither 401 nor 403", rt.Method, rt.Pattern, resp.StatusCode, body)
		}
		if rt.Role == inventory.RoleAdmin {
			admins++
		}
	}
	denied := map[string]bool{}
	var events []client.AuditEvent
	for q := (client.AuditQuery{Page: client.Page{Limit: 1000}}); ; {
		l, err := e.admin.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, l.Items...)
		if l.Next == "" {
			break
		}
		q.After = l.Next
	}
	for _, ev := range events {
		if ev.Action == "access.denied" && strings.HasPrefix(ev.Actor, "user:") {
			denied[ev.Object] = true
		}
	}
	if len(denied) != admins {
		t.Errorf("%d access.denied audit objects, want one per admin route (%d)", len(denied), admins)
	}
}

// call sends a request to rt with placeholder path values and an empty
// body of the route's kind.
func (e *env) call(rt api.Route, token string) (*http.Response, []byte) {
	p := strings.ReplaceAll(rt.Pattern, "{id}", "999999")
	p = strings.ReplaceAll(p, "{name}", "none.txt")
	switch {
	case rt.JSONIn:
		return e.raw(rt.Method, p, token, "application/json", []byte("{}"))
	case rt.InMedia != "":
		return e.raw(rt.Method, p, token, rt.InMedia, []byte("x"))
	}
	return e.raw(rt.Method, p, token, "", nil)
}

func testOpenAPI(t *testing.T, e *env) {
	resp, body := e.raw("GET", "/api/openapi.json", "", "", nil)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("GET /api/openapi.json = %d, openapi %q; want 200 and a 3.1.0 document", resp.StatusCode, doc.OpenAPI)
	}
	ops := map[string]bool{}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if ops[op.OperationID] || op.OperationID == "" {
				t.Errorf("operationId %q of %s %s is empty or not unique", op.OperationID, method, path)
			}
			ops[op.OperationID] = true
			rt := api.Route{Method: strings.ToUpper(method), Pattern: path, JSONIn: true}
			if r, found := e.api.FindRoute(rt.Method, path); found {
				rt = r
			}
			resp, body := e.call(rt, e.adminToken)
			if resp.StatusCode == http.StatusMethodNotAllowed || strings.Contains(string(body), api.NoRoute) {
				t.Errorf("documented %s %s is not served: %d %s", rt.Method, path, resp.StatusCode, body)
			}
		}
	}
	for _, rt := range e.api.Routes() {
		if _, found := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]; !found {
			t.Errorf("route %s %s is not in the OpenAPI document", rt.Method, rt.Pattern)
		}
	}
}

func testProblems(t *testing.T, e *env) {
	_, err := e.user.CreateDefinition(ctx, &client.Definition{Name: "shop", Subject: client.Subject{CommonName: "shop.example.com"},
		SANs: []string{"-bad.example.com"}, Renewal: client.Renewal{DaysBefore: 30}})
	p := wantProblem(t, err, http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "sans" || !strings.Contains(p.Detail, "SAN") {
		t.Errorf("problem = %+v, want one field error on sans", p)
	}
	resp, body := e.raw("POST", "/api/v1/definitions", e.userToken, "application/json", []byte(`{"name":"x","colour":"red"}`))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "colour") {
		t.Errorf("unknown field = %d %s, want 400 naming it", resp.StatusCode, body)
	}
	resp, body = e.raw("POST", "/api/v1/definitions", e.userToken, "application/json", []byte(`{"name":7}`))
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"name"`) {
		t.Errorf("wrong type = %d %s, want 400 on name", resp.StatusCode, body)
	}
	big := append([]byte(`{"notes":"`), strings.Repeat("a", 2<<20)...)
	if resp, body = e.raw("POST", "/api/v1/definitions", e.userToken, "application/json", big); resp.StatusCode != 413 {
		t.Errorf("2 MiB JSON = %d %s, want 413", resp.StatusCode, body)
	}
	if _, err := e.user.GetCertificate(ctx, 4242); !client.IsNotFound(err) {
		t.Errorf("GetCertificate(4242) = %v, want 404", err)
	}
	if _, err := e.user.ListCertificates(ctx, client.CertificateQuery{Status: "shiny"}); err != nil {
		if p := wantProblem(t, err, 400); len(p.Errors) == 0 || p.Errors[0].Field != "status" {
			t.Errorf("bad status filter problem = %+v, want field status", p)
		}
	}
	if _, err := e.user.ListCertificates(ctx, client.CertificateQuery{Page: client.Page{After: "!!"}}); !client.IsInvalid(err) {
		t.Errorf("bad cursor = %v, want 400", err)
	}
	resp, body = e.raw("GET", "/api/v1/nothing", e.userToken, "", nil)
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route = %d %s, want a 404 problem", resp.StatusCode, body)
	}
}

func testPagination(t *testing.T, e *env) {
	for i := range 7 {
		c, _ := selfSigned(t, "p"+string(rune('a'+i))+".example.com", time.Now().Add(time.Duration(10+i)*24*time.Hour))
		if _, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: certPEM(t, c, nil), Labels: []string{"paged"}}); err != nil {
			t.Fatal(err)
		}
	}
	far, _ := selfSigned(t, "far.example.com", time.Now().Add(400*24*time.Hour))
	if _, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: certPEM(t, far, nil), Labels: []string{"paged"}}); err != nil {
		t.Fatal(err)
	}
	var got []int64
	q := client.CertificateQuery{Label: "paged", ExpiringWithin: "30", Status: "valid", Page: client.Page{Limit: 3}}
	for pages := 1; ; pages++ {
		l, err := e.user.ListCertificates(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range l.Items {
			got = append(got, c.ID)
		}
		if l.Next == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		q.After = l.Next
	}
	slices.Sort(got)
	if len(slices.Compact(got)) != 7 {
		t.Errorf("listed %v, want 7 distinct certificates", got)
	}
	l, err := e.user.ListCertificates(ctx, client.CertificateQuery{Q: "far.example", ExpiringWithin: "720h"})
	if err != nil || len(l.Items) != 0 {
		t.Errorf("far certificate within 720h = %v, %v; want none", l, err)
	}
	if _, err := e.user.ListCertificates(ctx, client.CertificateQuery{ExpiringWithin: "soon"}); !client.IsInvalid(err) {
		t.Errorf("expiring_within=soon = %v, want 400", err)
	}
}

func testCertificates(t *testing.T, e *env) {
	c, key := selfSigned(t, "cert.example.com", time.Now().Add(90*24*time.Hour))
	res, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: certPEM(t, c, key)})
	if err != nil || len(res.Certificates) != 1 || res.Key == nil || !res.Key.MatchesLeaf || !res.Certificates[0].Added {
		t.Fatalf("import = %+v, %v; want one added certificate and a matching key", res, err)
	}
	id := res.Certificates[0].ID
	got, err := e.user.GetCertificate(ctx, id)
	if err != nil || !got.KeyHeld || got.Status != "valid" || !strings.Contains(got.PEM, "BEGIN CERTIFICATE") || len(got.ChainIDs) != 1 {
		t.Fatalf("GetCertificate = %+v, %v", got, err)
	}
	if got.IssuedByCAID != 0 || got.Deployments == nil || *got.Deployments != (client.DeploymentCounts{}) {
		t.Errorf("GetCertificate of a self-signed certificate = CA %d, deployments %+v; want no CA and no deployments",
			got.IssuedByCAID, got.Deployments)
	}
	for _, f := range []string{"pem", "der", "p7b"} {
		data, err := e.user.DownloadCertificate(ctx, id, f)
		if err != nil || len(data) == 0 || strings.Contains(string(data), "PRIVATE") {
			t.Errorf("download %s = %d bytes, %v", f, len(data), err)
		}
	}
	again, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: certPEM(t, c, nil)})
	if err != nil || again.Certificates[0].Added {
		t.Errorf("second import = %+v, %v; want a duplicate", again, err)
	}
	k, err := e.user.GetKey(ctx, res.Key.ID)
	if err != nil || k.Usage == nil || !slices.Equal(k.Usage.Certificates, []int64{id}) {
		t.Errorf("GetKey = %+v, %v; want used by %d", k, err, id)
	}
	if _, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: []byte("nonsense")}); !client.IsInvalid(err) {
		t.Errorf("import nonsense = %v, want 422", err)
	}
}

func newDefinition(name string) *client.Definition {
	return &client.Definition{Name: name, Subject: client.Subject{CommonName: name + ".example.com"},
		SANs: []string{name + ".example.com"}, Renewal: client.Renewal{DaysBefore: 30}, Labels: []string{"web"}}
}

func testDefinitions(t *testing.T, e *env) {
	d, err := e.user.CreateDefinition(ctx, newDefinition("shop"))
	if err != nil || d.Version != 1 || d.KeyType != "ecdsa-p256" {
		t.Fatalf("CreateDefinition = %+v, %v", d, err)
	}
	path := "/api/v1/definitions/" + itoa(d.ID)
	resp, _ := e.raw("GET", path, e.userToken, "", nil)
	if got := resp.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag = %q, want \"1\"", got)
	}
	body, _ := json.Marshal(d)
	if resp, b := e.raw("PUT", path, e.userToken, "application/json", body); resp.StatusCode != http.StatusPreconditionRequired {
		t.Errorf("PUT without If-Match = %d %s, want 428", resp.StatusCode, b)
	}
	d.Notes = "first"
	d2, err := e.user.UpdateDefinition(ctx, d)
	if err != nil || d2.Version != 2 || d2.Notes != "first" {
		t.Fatalf("UpdateDefinition = %+v, %v", d2, err)
	}
	d.Notes = "stale"
	if _, err := e.user.UpdateDefinition(ctx, d); !client.IsPreconditionFailed(err) {
		t.Errorf("stale update = %v, want 412", err)
	}
	notes := "copy"
	cl, err := e.user.CloneDefinition(ctx, d.ID, client.DefinitionClone{Name: "shop-test", Notes: &notes, Labels: []string{"test"}})
	if err != nil || cl.Name != "shop-test" || cl.Notes != "copy" || cl.Subject.CommonName != "shop.example.com" {
		t.Errorf("CloneDefinition = %+v, %v", cl, err)
	}
	if _, err := e.user.CreateDefinition(ctx, newDefinition("shop")); !client.IsConflict(err) {
		t.Errorf("duplicate name = %v, want 409", err)
	}
	l, err := e.user.ListDefinitions(ctx, client.DefinitionQuery{Label: "test"})
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "shop-test" {
		t.Errorf("ListDefinitions(label test) = %+v, %v", l, err)
	}
	c, _ := selfSigned(t, "imported.example.com", time.Now().Add(90*24*time.Hour))
	res, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: certPEM(t, c, nil)})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := e.user.ImportDefinition(ctx, client.DefinitionImport{CertificateID: res.Certificates[0].ID})
	if err != nil || imp.KeyHeld || imp.Definition.CurrentCertificateID != res.Certificates[0].ID {
		t.Errorf("ImportDefinition = %+v, %v", imp, err)
	}
	if _, err := e.user.DefinitionProducts(ctx, d.ID); err != nil {
		t.Errorf("DefinitionProducts = %v", err)
	}
}

func testDocuments(t *testing.T, e *env) {
	d, err := e.user.CreateDefinition(ctx, newDefinition("docs"))
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("order confirmation\x00\xff")
	if doc, err := e.user.PutDocument(ctx, d.ID, "order 1.pdf", content); err != nil || doc.Size != int64(len(content)) {
		t.Fatalf("PutDocument = %+v, %v", doc, err)
	}
	if _, err := e.user.PutDocument(ctx, d.ID, "order 1.pdf", []byte("v2")); err != nil {
		t.Fatalf("PutDocument again = %v", err)
	}
	got, err := e.user.GetDocument(ctx, d.ID, "order 1.pdf")
	if err != nil || string(got) != "v2" {
		t.Errorf("GetDocument = %q, %v; want v2", got, err)
	}
	l, err := e.user.ListDocuments(ctx, d.ID)
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "order 1.pdf" {
		t.Errorf("ListDocuments = %+v, %v", l, err)
	}
	if _, err := e.user.PutDocument(ctx, d.ID, "a/b", []byte("x")); !client.IsInvalid(err) {
		t.Errorf("name with slash = %v, want 422", err)
	}
	huge := make([]byte, 10<<20+1)
	if _, err := e.user.PutDocument(ctx, d.ID, "huge.bin", huge); client.StatusCode(err) != 413 {
		t.Errorf("10 MiB + 1 document = %v, want 413", err)
	}
	if err := e.user.DeleteDocument(ctx, d.ID, "order 1.pdf"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.user.GetDocument(ctx, d.ID, "order 1.pdf"); !client.IsNotFound(err) {
		t.Errorf("deleted document = %v, want 404", err)
	}
}

func testCatalogue(t *testing.T, e *env) {
	i, err := e.admin.CreateIssuer(ctx, client.Issuer{Name: "Vendor", Kind: "manual-vendor"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.CreateIssuer(ctx, client.Issuer{Name: "X", Kind: "magic"}); err == nil {
		t.Error("unknown kind accepted")
	} else if p := wantProblem(t, err, 422); len(p.Errors) == 0 || p.Errors[0].Field != "kind" {
		t.Errorf("unknown kind problem = %+v, want field kind", p)
	}
	p, err := e.admin.CreateProduct(ctx, i.ID, client.Product{Name: "Basic", ValidationLevel: "DV", MaxNames: 3})
	if err != nil {
		t.Fatal(err)
	}
	p.Wildcard = true
	if p, err = e.admin.UpdateProduct(ctx, p.ID, *p); err != nil || !p.Wildcard {
		t.Fatalf("UpdateProduct = %+v, %v", p, err)
	}
	if _, err := e.admin.UpdateIssuer(ctx, i.ID, client.Issuer{Name: "Vendor Inc", URL: "https://vendor.example"}); err != nil {
		t.Fatal(err)
	}
	m, err := e.user.SelectProducts(ctx, client.ProductQuery{ValidationLevel: "DV", Wildcard: true, Names: 2})
	if err != nil || len(m.Items) != 1 || m.Items[0].Issuer.Name != "Vendor Inc" {
		t.Errorf("SelectProducts = %+v, %v", m, err)
	}
	if _, err := e.user.SelectProducts(ctx, client.ProductQuery{ValidationLevel: "XV"}); !client.IsInvalid(err) {
		t.Errorf("bad level = %v, want 422", err)
	}
	l, err := e.user.ListProducts(ctx, i.ID)
	if err != nil || len(l.Items) != 1 {
		t.Errorf("ListProducts = %+v, %v", l, err)
	}
}

func testVendorSecrets(t *testing.T, e *env) {
	const first, second = "Vendor-Secret-One", "Vendor-Secret-Two"
	i, err := e.admin.CreateIssuer(ctx, client.Issuer{Name: "Vendor", Kind: "manual-vendor"})
	if err != nil {
		t.Fatal(err)
	}
	pw := first
	a, err := e.admin.CreateVendorAccount(ctx, client.VendorAccountInput{IssuerID: i.ID, Name: "main", Username: "ops", Password: &pw})
	if err != nil || !a.HasPassword {
		t.Fatalf("CreateVendorAccount = %+v, %v", a, err)
	}
	in := client.VendorAccountInput{Name: "main", Username: "ops2"}
	if a, err = e.admin.UpdateVendorAccount(ctx, a.ID, in); err != nil || !a.HasPassword || a.Username != "ops2" {
		t.Fatalf("update without password = %+v, %v; want the password kept", a, err)
	}
	if got, err := e.catalogue.Password(ctx, "test", a.ID); err != nil || got != first {
		t.Fatalf("password after update without one = %q, %v", got, err)
	}
	pw = second
	in.Password = &pw
	if _, err := e.admin.UpdateVendorAccount(ctx, a.ID, in); err != nil {
		t.Fatal(err)
	}
	if got, err := e.catalogue.Password(ctx, "test", a.ID); err != nil || got != second {
		t.Errorf("password after update = %q, %v; want the new one", got, err)
	}
	if _, err := e.admin.UpdateVendorAccount(ctx, a.ID, client.VendorAccountInput{Name: "other"}); !client.IsInvalid(err) {
		t.Errorf("rename = %v, want 422", err)
	}
	if _, err := e.user.GetVendorAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.user.ListVendorAccounts(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.user.ListAudit(ctx, client.AuditQuery{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{first, second} {
		if e.rec.contains(s) {
			t.Errorf("a response body holds the vendor password %q", s)
		}
	}
}

func testKeyExport(t *testing.T, e *env) {
	openssl := testenv.Command(t, "openssl")
	c, key := selfSigned(t, "key.example.com", time.Now().Add(90*24*time.Hour))
	res, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: certPEM(t, c, key)})
	if err != nil {
		t.Fatal(err)
	}
	keyID := res.Key.ID
	if _, err := e.user.ExportKey(ctx, keyID, client.KeyExport{Format: "pem"}); !client.IsForbidden(err) {
		t.Errorf("ExportKey as user = %v, want 403", err)
	}
	if n := e.auditCount(t, "key.export"); n != 0 {
		t.Errorf("%d key.export events after a refused export, want 0", n)
	}
	dir := t.TempDir()
	pemKey, err := e.admin.ExportKey(ctx, keyID, client.KeyExport{Format: "pem"})
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "key.pem"), pemKey)
	run(t, openssl, "pkey", "-in", filepath.Join(dir, "key.pem"), "-noout")
	pfx, err := e.admin.ExportKey(ctx, keyID, client.KeyExport{Format: "pfx", Password: "export-pw-123"})
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "key.pfx"), pfx)
	out := run(t, openssl, "pkcs12", "-in", filepath.Join(dir, "key.pfx"), "-passin", "pass:export-pw-123", "-nodes")
	if !strings.Contains(out, "PRIVATE KEY") || !strings.Contains(out, "CERTIFICATE") {
		t.Errorf("openssl pkcs12 output lacks the key or the certificate:\n%s", out)
	}
	if _, err := e.admin.ExportKey(ctx, keyID, client.KeyExport{Format: "jks"}); !client.IsInvalid(err) {
		t.Errorf("jks without password = %v, want 422", err)
	}
	if n := e.auditCount(t, "key.export"); n != 2 {
		t.Errorf("%d key.export events, want 2", n)
	}
	if e.rec.contains("export-pw-123\"") {
		t.Error("a response echoes the export password")
	}
	l, err := e.user.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range l.Items {
		if ev.Action == "key.export" && (ev.Actor != "user:ada" || ev.Object != "key:"+itoa(keyID) || strings.Contains(ev.Summary, "export-pw")) {
			t.Errorf("audit event %+v, want actor user:ada, object key:%d, no password", ev, keyID)
		}
	}
}

func testUsersTokens(t *testing.T, e *env) {
	cu, err := e.admin.CreateUser(ctx, client.NewUser{Username: "dora", Role: "user"})
	if err != nil || cu.Password == "" || !cu.User.MustChangePassword {
		t.Fatalf("CreateUser = %+v, %v; want a generated password", cu, err)
	}
	if _, err := e.admin.CreateUser(ctx, client.NewUser{Username: "eve", Role: "user", Password: "short"}); err == nil {
		t.Error("short password accepted")
	} else if p := wantProblem(t, err, 422); len(p.Errors) == 0 || p.Errors[0].Field != "password" {
		t.Errorf("short password problem = %+v, want field password", p)
	}
	yes := true
	if u, err := e.admin.UpdateUser(ctx, cu.User.ID, client.UserUpdate{Role: "admin", Disabled: &yes}); err != nil || u.Role != "admin" || !u.Disabled {
		t.Errorf("UpdateUser = %+v, %v", u, err)
	}
	if r, err := e.admin.ResetPassword(ctx, cu.User.ID); err != nil || r.Password == "" {
		t.Errorf("ResetPassword = %+v, %v", r, err)
	}
	me, err := e.admin.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.UpdateUser(ctx, me.ID, client.UserUpdate{Role: "user"}); !client.IsConflict(err) {
		t.Errorf("demoting the last admin = %v, want 409", err)
	}
	tok, err := e.user.CreateToken(ctx, client.NewToken{Name: "ci", TTL: "24h"})
	if err != nil || !strings.HasPrefix(tok.Secret, "ck_") || tok.Token.ExpiresAt == nil {
		t.Fatalf("CreateToken = %+v, %v", tok, err)
	}
	if me, err := e.client(tok.Secret).Me(ctx); err != nil || me.Username != "bob" {
		t.Errorf("Me with the new token = %+v, %v", me, err)
	}
	l, err := e.user.ListTokens(ctx)
	if err != nil || len(l.Items) != 2 {
		t.Errorf("ListTokens = %+v, %v; want 2 tokens", l, err)
	}
	if _, body := e.raw("GET", "/api/v1/tokens", e.userToken, "", nil); strings.Contains(string(body), tok.Secret[3:]) {
		t.Error("the token list shows a secret")
	}
	adminTokens, err := e.admin.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.user.DeleteToken(ctx, adminTokens.Items[0].ID); !client.IsNotFound(err) {
		t.Errorf("user deleting an admin's token = %v, want 404", err)
	}
	if err := e.admin.DeleteToken(ctx, tok.Token.ID); err != nil {
		t.Errorf("admin deleting a user's token = %v", err)
	}
	if _, err := e.client(tok.Secret).Me(ctx); !client.IsUnauthorized(err) {
		t.Errorf("revoked token = %v, want 401", err)
	}
}

func testAuditCAs(t *testing.T, e *env) {
	if _, _, err := e.auth.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	cas, err := e.user.ListCAs(ctx)
	if err != nil || len(cas.Items) == 0 {
		t.Fatalf("ListCAs = %+v, %v", cas, err)
	}
	var def int
	for _, c := range cas.Items {
		if c.Default {
			def++
		}
		if c.Status == "active" && c.NotAfter == nil {
			t.Errorf("CA %s has no not_after", c.Name)
		}
	}
	if def != 1 {
		t.Errorf("%d default CAs, want 1", def)
	}
	l, err := e.user.ListAudit(ctx, client.AuditQuery{Since: time.Now().Add(-time.Hour), Page: client.Page{Limit: 2}})
	if err != nil || len(l.Items) != 2 || l.Next == "" {
		t.Errorf("ListAudit = %+v, %v; want a full page and more", l, err)
	}
	if _, err := e.user.ListAudit(ctx, client.AuditQuery{Page: client.Page{Limit: 5000}}); !client.IsInvalid(err) {
		t.Errorf("limit 5000 = %v, want 400", err)
	}
}

func (e *env) auditCount(t *testing.T, action string) int {
	t.Helper()
	n := 0
	for p := (inventory.Page{}); ; {
		list, next, err := e.st.ListAudit(ctx, time.Time{}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range list {
			if ev.Action == action {
				n++
			}
		}
		if next == "" {
			return n
		}
		p.After = next
	}
}
