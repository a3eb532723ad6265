package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type productJSON struct {
	Issuer          string `json:"issuer"`
	IssuerKind      string `json:"issuer_kind"`
	Name            string `json:"name"`
	ValidationLevel string `json:"validation_level"`
}

// products runs a product command with --json and returns
// "issuer/product" for each line in order.
func (c *ck) products(args ...string) []string {
	c.t.Helper()
	var v struct{ Products []productJSON }
	if err := json.Unmarshal([]byte(c.ok(append(args, "--json")...)), &v); err != nil {
		c.t.Fatal(err)
	}
	out := []string{}
	for _, p := range v.Products {
		out = append(out, p.Issuer+"/"+p.Name)
	}
	return out
}

func TestCatalogue(t *testing.T) {
	c := newCK(t)
	c.ok("issuer", "add", "GoodCerts", "--kind", "manual-vendor", "--url", "https://goodcerts.example")
	c.ok("issuer", "add", "TrustCo")
	c.ok("product", "add", "--issuer", "GoodCerts", "--name", "Basic", "--level", "DV", "--max-names", "1", "--max-days", "397")
	c.ok("product", "add", "--issuer", "GoodCerts", "--name", "Wild", "--level", "DV", "--wildcard", "--max-days", "397")
	c.ok("product", "add", "--issuer", "TrustCo", "--name", "Business", "--level", "OV", "--max-names", "10")
	c.ok("product", "add", "--issuer", "TrustCo", "--name", "Extended", "--level", "EV", "--max-names", "3", "--max-days", "365")

	for _, args := range [][]string{
		{"issuer", "add", "GoodCerts"},
		{"issuer", "add", " "},
		{"issuer", "add", "X", "--kind", "builtin-ca"},
		{"product", "add", "--issuer", "GoodCerts", "--name", "Basic", "--level", "DV"},
		{"product", "add", "--issuer", "GoodCerts", "--name", "Gold", "--level", "gold"},
		{"product", "add", "--issuer", "GoodCerts", "--name", "Neg", "--level", "DV", "--max-names", "-1"},
		{"product", "add", "--issuer", "Nobody", "--name", "P", "--level", "DV"},
		{"product", "select", "--level", "platinum"},
		{"product", "select", "--days", "-3"},
	} {
		c.fails(args...)
	}

	c.ok("ca", "init", "--name", "corp")
	var iss struct{ Issuers []struct{ Name, Kind string } }
	if err := json.Unmarshal([]byte(c.ok("issuer", "list", "--json")), &iss); err != nil {
		t.Fatal(err)
	}
	builtin := map[string]bool{}
	for _, i := range iss.Issuers {
		if i.Kind == "builtin-ca" {
			builtin[i.Name] = true
		}
	}
	if !builtin["corp"] || len(iss.Issuers) != 2+len(builtin) {
		t.Fatalf("issuers after ca init = %+v, want GoodCerts, TrustCo and builtin-ca corp", iss.Issuers)
	}
	if text := c.ok("issuer", "list"); !strings.Contains(text, "builtin-ca") || !strings.Contains(text, "GoodCerts") {
		t.Errorf("issuer list:\n%s", text)
	}

	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--level", "DV", "--wildcard"}, []string{"GoodCerts/Wild"}},
		{[]string{"--level", "ov"}, []string{"TrustCo/Business", "TrustCo/Extended"}},
		{[]string{"--level", "OV", "--names", "5"}, []string{"TrustCo/Business"}},
		{[]string{"--level", "EV", "--days", "366"}, []string{}},
		{[]string{"--level", "DV", "--names", "2", "--days", "397"}, []string{"GoodCerts/Wild", "TrustCo/Business"}},
		// ca init makes a root and an issuing CA, both active.
		{[]string{"--level", "private"}, []string{"corp/private", "corp-root/private"}},
	}
	for _, tc := range tests {
		got := c.products(append([]string{"product", "select"}, tc.args...)...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("product select %v = %v, want %v", tc.args, got, tc.want)
		}
	}
	if got := c.products("product", "list", "--issuer", "TrustCo"); !slices.Equal(got, []string{"TrustCo/Business", "TrustCo/Extended"}) {
		t.Errorf("product list --issuer TrustCo = %v", got)
	}
	if text := c.ok("product", "select", "--level", "EV"); !strings.Contains(text, "Extended") {
		t.Errorf("product select text:\n%s", text)
	}
}

func TestVendorAccountPassword(t *testing.T) {
	c := newCK(t)
	const secret = "Vendor-Pa55word-never-shown"
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(secret+"\n"), 0o600)
	c.ok("issuer", "add", "GoodCerts")
	c.ok("vendor-account", "add", "--issuer", "GoodCerts", "--name", "ops", "--username", "ops@example.com",
		"--password-file", pwFile, "--email", "ops@example.com", "--url", "https://goodcerts.example/login")
	c.fails("vendor-account", "add", "--issuer", "GoodCerts", "--name", "ops", "--password-file", pwFile)
	c.fails("vendor-account", "add", "--issuer", "Nobody", "--name", "x")

	raw := c.ok("vendor-account", "list", "--json")
	var v struct {
		Accounts []struct {
			Name, Issuer, Username string
			HasPassword            bool `json:"has_password"`
		} `json:"vendor_accounts"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Accounts) != 1 || v.Accounts[0].Name != "ops" || v.Accounts[0].Issuer != "GoodCerts" || !v.Accounts[0].HasPassword {
		t.Fatalf("vendor-account list = %s, want ops at GoodCerts with a password", raw)
	}
	text := c.ok("vendor-account", "list")
	if !strings.Contains(text, "sealed") {
		t.Errorf("vendor-account list does not say the password is sealed:\n%s", text)
	}
	assertAbsent(t, "vendor-account list", raw+text, secret)

	c.ok("vendor-account", "edit", "ops", "--email", "pki@example.com")
	after := c.ok("vendor-account", "list", "--json")
	if !strings.Contains(after, "pki@example.com") || !strings.Contains(after, `"has_password":true`) ||
		!strings.Contains(after, "ops@example.com") {
		t.Errorf("after editing the e-mail: %s, want the new e-mail, the username and the password kept", after)
	}
	c.ok("vendor-account", "edit", "ops", "--remove-password")
	if after := c.ok("vendor-account", "list", "--json"); !strings.Contains(after, `"has_password":false`) {
		t.Errorf("after --remove-password: %s, want no password", after)
	}
	c.fails("vendor-account", "edit", "nobody", "--email", "x@example.com")
	c.fails("vendor-account", "edit", "ops", "--email", "not an address")
	checkAudit(t, c, []string{"issuer.create", "vendor_account.create", "vendor_account.update", "vendor_account.update"}, secret)
}
