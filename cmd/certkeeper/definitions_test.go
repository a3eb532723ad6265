package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type definitionJSON struct {
	ID      int64
	Name    string
	Subject struct{ CN, O, C string }
	SANs    []string
	KeyType string `json:"key_type"`
	Require struct {
		Issuer          string
		ValidationLevel string `json:"validation_level"`
		Wildcard        bool
	} `json:"requirements"`
	ContactEmail string `json:"contact_email"`
	Targets      []string
	Renewal      struct {
		DaysBefore       int     `json:"days_before"`
		LifetimeFraction float64 `json:"lifetime_fraction"`
	}
	Labels               []string
	Notes                string
	CurrentCertificateID int64 `json:"current_certificate_id"`
	Version              int64
	Documents            []struct {
		Name string
		Size int64
	}
}

func (c *ck) definition(name string) definitionJSON {
	c.t.Helper()
	var d definitionJSON
	out := c.ok("definition", "show", name, "--json")
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		c.t.Fatalf("definition show %s --json: %v\n%s", name, err, out)
	}
	return d
}

// definitionNames lists the definitions list selects with args.
func (c *ck) definitionNames(args ...string) []string {
	c.t.Helper()
	var v struct{ Definitions []definitionJSON }
	out := c.ok(append([]string{"definition", "list", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatalf("definition list --json: %v\n%s", err, out)
	}
	var names []string
	for _, d := range v.Definitions {
		names = append(names, d.Name)
	}
	return names
}

func TestDefinitionCreateListShow(t *testing.T) {
	c := newCK(t)
	c.ok("definition", "create", "shop", "--cn", "shop.example.test", "--san", "shop.example.test", "--san", "10.0.0.1",
		"--key-type", "rsa-3072", "--renew-fraction", "0.33", "--label", "prod", "--requester", "Web team",
		"--email", "web@example.test", "--target", "web1.example.test", "--level", "ov", "--days", "90", "--notes", "main shop")
	c.ok("definition", "create", "api", "--cn", "api.example.test", "--san", "*.api.example.test", "--wildcard", "--label", "test")
	d := c.definition("shop")
	if d.Subject.CN != "shop.example.test" || strings.Join(d.SANs, ",") != "shop.example.test,10.0.0.1" ||
		d.KeyType != "rsa-3072" || d.Renewal.LifetimeFraction != 0.33 || d.Require.ValidationLevel != "OV" ||
		d.ContactEmail != "web@example.test" || strings.Join(d.Targets, ",") != "web1.example.test" || d.Version != 1 {
		t.Errorf("definition show shop = %+v", d)
	}
	if api := c.definition("api"); api.KeyType != "ecdsa-p256" || api.Renewal.DaysBefore != 30 || !api.Require.Wildcard {
		t.Errorf("api = %+v, want the defaults ecdsa-p256 and 30 days, and wildcards allowed", api)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "shop,api"},
		{[]string{"--label", "prod"}, "shop"},
		{[]string{"--search", "API.EXAMPLE"}, "api"},
		{[]string{"--search", "nothing"}, ""},
	} {
		if got := strings.Join(c.definitionNames(tc.args...), ","); got != tc.want {
			t.Errorf("definition list %v = %s, want %s", tc.args, got, tc.want)
		}
	}
	if text := c.ok("definition", "show", "shop"); !strings.Contains(text, "rsa-3072") || !strings.Contains(text, "main shop") {
		t.Errorf("definition show shop:\n%s", text)
	}
	if text := c.ok("definition", "list"); !strings.Contains(text, "shop.example.test") {
		t.Errorf("definition list:\n%s", text)
	}
	if line := c.fails("definition", "create", "shop", "--cn", "other.example.test"); !strings.Contains(line, "exists") {
		t.Errorf("duplicate name: %s, want it to say the definition exists", line)
	}
	c.fails("definition", "show", "nothing")
}

func TestDefinitionBadInputStoresNothing(t *testing.T) {
	c := newCK(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{""}, "name is empty"},
		{[]string{"x", "--cn", "a", "--san", "bad_name!.example"}, "SAN"},
		{[]string{"x", "--cn", "a", "--san", "www..example.test"}, "SAN"},
		{[]string{"x", "--cn", "a", "--san", "*.example.test"}, "wildcard"},
		{[]string{"x", "--cn", "a", "--san", "a.*.example.test", "--wildcard"}, "SAN"},
		{[]string{"x", "--cn", "a", "--email", "not-an-address"}, "e-mail"},
		{[]string{"x", "--cn", "a", "--email", "Ops <ops@example.test>"}, "e-mail"},
		{[]string{"x", "--cn", "a", "--renew-days", "30", "--renew-fraction", "0.5"}, "not both"},
		{[]string{"x", "--cn", "a", "--renew-days", "4000"}, "renewal"},
		{[]string{"x", "--cn", "a", "--renew-days", "0"}, "renewal"},
		{[]string{"x", "--cn", "a", "--renew-fraction", "1"}, "fraction"},
		{[]string{"x", "--cn", "a", "--key-type", "dsa-1024"}, "key type"},
		{[]string{"x", "--cn", "a", "--label", "bad label"}, "label"},
		{[]string{"x", "--cn", "a", "--level", "XV"}, "validation level"},
		{[]string{"x"}, "names nothing"},
	} {
		line := c.fails(append([]string{"definition", "create"}, tc.args...)...)
		if !strings.Contains(line, tc.want) {
			t.Errorf("definition create %v: %s, want it to mention %q", tc.args, line, tc.want)
		}
	}
	if got := c.definitionNames(); len(got) != 0 {
		t.Errorf("bad input stored definitions %v", got)
	}
}

func TestDefinitionUpdateAndClone(t *testing.T) {
	c := newCK(t)
	c.ok("definition", "create", "shop", "--cn", "shop.example.test", "--san", "shop.example.test",
		"--issuer", "Public CA", "--label", "prod", "--target", "web1")
	c.ok("definition", "update", "shop", "--version", "1", "--notes", "first", "--san", "shop.example.test", "--san", "www.example.test")
	if line := c.fails("definition", "update", "shop", "--version", "1", "--notes", "second"); !strings.Contains(line, "reload") {
		t.Errorf("stale update: %s, want it to say reload", line)
	}
	c.fails("definition", "update", "shop", "--notes", "no version")
	c.fails("definition", "update", "shop", "--version", "2", "--email", "bad")
	d := c.definition("shop")
	if d.Version != 2 || d.Notes != "first" || len(d.SANs) != 2 || d.Subject.CN != "shop.example.test" || d.Labels[0] != "prod" {
		t.Errorf("after update: %+v, want version 2, notes first, two SANs, the rest kept", d)
	}

	c.ok("definition", "clone", "shop", "shop-test", "--issuer", "Private CA")
	clone := c.definition("shop-test")
	if clone.Require.Issuer != "Private CA" || clone.Version != 1 || strings.Join(clone.SANs, ",") != strings.Join(d.SANs, ",") ||
		strings.Join(clone.Targets, ",") != "web1" {
		t.Errorf("clone = %+v, want the SANs and targets of shop with issuer Private CA", clone)
	}
	if orig := c.definition("shop"); orig.Require.Issuer != "Public CA" {
		t.Errorf("clone changed the original: issuer %q", orig.Require.Issuer)
	}
	c.fails("definition", "clone", "shop", "shop-test")
	c.fails("definition", "clone", "nothing", "x")
	got := strings.Join(auditActions(t, c), " ")
	if got != "definition.create definition.update definition.clone" {
		t.Errorf("audit actions = %s", got)
	}
}

func TestDefinitionImport(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	c.ok("import", p.write(t, "bundle.pem", p.leaf, p.inter, p.root, p.leafKey))
	out := c.ok("definition", "import", p.leafSHA256)
	if !strings.Contains(out, "key held") || strings.Contains(out, "not held") {
		t.Errorf("import with key: %s", out)
	}
	d := c.definition("www.example.test")
	if d.KeyType != "rsa-2048" || strings.Join(d.SANs, ",") != "www.example.test,example.test" ||
		d.Require.Issuer != "Test Intermediate" || d.CurrentCertificateID == 0 || d.Renewal.DaysBefore != 30 {
		t.Errorf("imported definition = %+v", d)
	}
	if line := c.fails("definition", "import", p.interSHA256, "--name", "inter"); !strings.Contains(line, "CA certificate") {
		t.Errorf("import of a CA: %s", line)
	}
	c.fails("definition", "import", p.leafSHA256)
	c.fails("definition", "import", "999")

	bare := newCK(t)
	bare.ok("import", p.leaf)
	out = bare.ok("definition", "import", "1", "--name", "monitored")
	if !strings.Contains(out, "key not held") {
		t.Errorf("import without key: %s", out)
	}
	if m := bare.definition("monitored"); m.CurrentCertificateID != 1 || !strings.Contains(m.Notes, "not held") {
		t.Errorf("imported without key: %+v", m)
	}
	if got := auditActions(t, bare); got[len(got)-1] != "definition.import" {
		t.Errorf("audit actions = %v, want definition.import last", got)
	}
}

func TestDefinitionDocuments(t *testing.T) {
	c := newCK(t)
	c.ok("definition", "create", "shop", "--cn", "shop.example.test")
	dir := t.TempDir()
	content := append([]byte("SECRET-ORDER-7731\x00"), make([]byte, 5000)...)
	rand.Read(content[20:])
	file := filepath.Join(dir, "order.pdf")
	os.WriteFile(file, content, 0o600)
	c.ok("definition", "doc", "add", "shop", file)
	if line := c.fails("definition", "doc", "add", "shop", file); !strings.Contains(line, "already has") {
		t.Errorf("duplicate document: %s", line)
	}
	c.fails("definition", "doc", "add", "shop", file, "--name", "../evil")
	c.fails("definition", "doc", "add", "nothing", file)
	big := filepath.Join(dir, "big.bin")
	os.WriteFile(big, make([]byte, 10<<20+1), 0o600)
	if line := c.fails("definition", "doc", "add", "shop", big); !strings.Contains(line, "too large") {
		t.Errorf("11 MiB document: %s", line)
	}
	limit := filepath.Join(dir, "limit.bin")
	os.WriteFile(limit, make([]byte, 10<<20), 0o600)
	c.ok("definition", "doc", "add", "shop", limit)

	var list struct {
		Documents []struct {
			Name string
			Size int64
		}
	}
	json.Unmarshal([]byte(c.ok("definition", "doc", "list", "shop", "--json")), &list)
	if len(list.Documents) != 2 || list.Documents[1].Name != "order.pdf" || list.Documents[1].Size != int64(len(content)) {
		t.Fatalf("doc list = %+v, want limit.bin and order.pdf", list)
	}
	if d := c.definition("shop"); len(d.Documents) != 2 {
		t.Errorf("definition show lists %d documents, want 2", len(d.Documents))
	}
	got := filepath.Join(dir, "got.pdf")
	c.ok("definition", "doc", "get", "shop", "order.pdf", "--out", got)
	if b, _ := os.ReadFile(got); !bytes.Equal(b, content) {
		t.Errorf("doc get wrote %d bytes that differ from the %d added", len(b), len(content))
	}
	c.fails("definition", "doc", "get", "shop", "order.pdf", "--out", got)
	c.ok("definition", "doc", "rm", "shop", "order.pdf")
	c.ok("definition", "doc", "rm", "shop", "limit.bin")
	c.fails("definition", "doc", "rm", "shop", "order.pdf")
	c.fails("definition", "doc", "get", "shop", "order.pdf", "--out", filepath.Join(dir, "again"))
	if out := c.ok("definition", "doc", "list", "shop"); !strings.Contains(out, "no documents") {
		t.Errorf("doc list after rm: %s", out)
	}
	actions := strings.Join(auditActions(t, c), " ")
	if actions != "definition.create document.add document.add document.delete document.delete" {
		t.Errorf("audit actions = %s", actions)
	}
	assertAbsent(t, "audit output", c.ok("audit", "--since", "1h", "--json"), "SECRET-ORDER")
}
