package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// acquisitionJSON is what "acquisition show --json" and the actions print.
type acquisitionJSON struct {
	ID            int64    `json:"id"`
	Definition    string   `json:"definition"`
	Kind          string   `json:"kind"`
	State         string   `json:"state"`
	IssuerID      int64    `json:"issuer_id"`
	KeyID         int64    `json:"key_id"`
	CertificateID int64    `json:"certificate_id"`
	Differences   []string `json:"differences"`
	Version       int64    `json:"version"`
	Order         *struct {
		Number          string `json:"number"`
		VendorAccountID int64  `json:"vendor_account_id"`
		Date            string `json:"date"`
	} `json:"order"`
	Steps []struct {
		Actor, Action, Detail string
	} `json:"steps"`
	Certificate *struct {
		ID     int64  `json:"id"`
		SHA256 string `json:"sha256"`
		KeyID  int64  `json:"key_id"`
	} `json:"certificate"`
}

// decodeJSON parses out into v, failing the test with the output.
func decodeJSON(t *testing.T, what, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, out)
	}
}

// acq runs an acquisition subcommand with --json and decodes the process.
func (c *ck) acq(args ...string) acquisitionJSON {
	c.t.Helper()
	var p acquisitionJSON
	decodeJSON(c.t, "acquisition "+strings.Join(args, " "), c.ok(append(append([]string{"acquisition"}, args...), "--json")...), &p)
	return p
}

func (c *ck) acqShow(id int64) acquisitionJSON {
	c.t.Helper()
	return c.acq("show", fmt.Sprint(id))
}

// validationJSON is what issue and upload print with --json.
type validationJSON struct {
	Acquisition acquisitionJSON `json:"acquisition"`
	Certificate struct {
		ID     int64  `json:"id"`
		SHA256 string `json:"sha256"`
	} `json:"certificate"`
	Chain []struct {
		Subject string `json:"subject"`
		SHA256  string `json:"sha256"`
	} `json:"chain"`
	Differences []string `json:"differences"`
	Switched    bool     `json:"switched"`
}

func (c *ck) validation(args ...string) validationJSON {
	c.t.Helper()
	var v validationJSON
	decodeJSON(c.t, "acquisition "+strings.Join(args, " "), c.ok(append(append([]string{"acquisition"}, args...), "--json")...), &v)
	return v
}

type keyJSON struct {
	ID         int64  `json:"id"`
	Algorithm  string `json:"algorithm"`
	Bits       int    `json:"bits"`
	SPKISHA256 string `json:"spki_sha256"`
	Usage      *struct {
		Certificates []int64 `json:"certificates"`
		Acquisitions []int64 `json:"acquisitions"`
	} `json:"usage"`
}

func (c *ck) key(id int64) keyJSON {
	c.t.Helper()
	var k keyJSON
	decodeJSON(c.t, "key show", c.ok("key", "show", fmt.Sprint(id), "--json"), &k)
	return k
}

func TestAcquisitionBuiltinCA(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	c.ok("definition", "create", "shop", "--cn", "shop.example.test", "--san", "shop.example.test", "--san", "www.example.test")
	p := c.acq("start", "shop")
	if p.State != "csr_ready" || p.Kind != "new" || p.KeyID == 0 || p.Definition != "shop" {
		t.Fatalf("start = %+v, want a new process in csr_ready with a key", p)
	}
	id := fmt.Sprint(p.ID)
	if line := c.fails("acquisition", "start", "shop"); !strings.Contains(line, "open") {
		t.Errorf("second start: %s, want it refused because a process is open", line)
	}
	if text := c.ok("acquisition", "list"); !strings.Contains(text, "shop") || !strings.Contains(text, "csr_ready") {
		t.Errorf("acquisition list does not show the open process:\n%s", text)
	}
	if line := c.fails("acquisition", "switch", id); !strings.Contains(line, "csr_ready") {
		t.Errorf("switch before issue: %s, want it to name the state", line)
	}
	v := c.validation("issue", id)
	if v.Acquisition.State != "issued" || v.Certificate.ID == 0 || len(v.Chain) != 3 || v.Switched {
		t.Fatalf("issue = %+v, want issued, a certificate with a 3-certificate chain, not switched", v)
	}
	if out := c.ok("acquisition", "switch", id); !strings.Contains(out, "current certificate of shop") {
		t.Errorf("switch printed %q", out)
	}
	got := c.acqShow(p.ID)
	if got.State != "completed" || got.CertificateID != v.Certificate.ID || got.Certificate == nil ||
		got.Certificate.SHA256 != v.Certificate.SHA256 || got.Certificate.KeyID != p.KeyID {
		t.Fatalf("show after switch = %+v, want completed with certificate %d of key %d", got, v.Certificate.ID, p.KeyID)
	}
	var actions []string
	for _, s := range got.Steps {
		actions = append(actions, s.Action)
	}
	if !slices.Contains(actions, "issued") || !slices.Contains(actions, "switched") {
		t.Errorf("steps %v lack issued and switched", actions)
	}
	if d := c.definition("shop"); d.CurrentCertificateID != v.Certificate.ID {
		t.Errorf("definition's current certificate = %d, want %d", d.CurrentCertificateID, v.Certificate.ID)
	}
	k := c.key(p.KeyID)
	if k.Usage == nil || !slices.Contains(k.Usage.Certificates, v.Certificate.ID) || !slices.Contains(k.Usage.Acquisitions, p.ID) {
		t.Errorf("key show = %+v, want it used by certificate %d and process %d", k, v.Certificate.ID, p.ID)
	}
	text := c.ok("key", "show", fmt.Sprint(p.KeyID))
	for _, want := range []string{"ecdsa 256", "shop.example.test", "shop  new, completed"} {
		if !strings.Contains(text, want) {
			t.Errorf("key show lacks %q:\n%s", want, text)
		}
	}
	text = c.ok("certificate", "show", fmt.Sprint(v.Certificate.ID))
	for _, want := range []string{"SHA-256", "SHA-1", "CN=shop.example.test", "corp Root CA", "valid"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate show lacks %q:\n%s", want, text)
		}
	}
	var byFingerprint struct {
		ID       int64   `json:"id"`
		ChainIDs []int64 `json:"chain_ids"`
	}
	decodeJSON(t, "certificate show", c.ok("cert", "show", colonFingerprint(v.Certificate.SHA256), "--json"), &byFingerprint)
	if byFingerprint.ID != v.Certificate.ID || len(byFingerprint.ChainIDs) != 3 {
		t.Errorf("cert show by fingerprint = %+v, want certificate %d with a chain of 3", byFingerprint, v.Certificate.ID)
	}
	if text := c.ok("acquisition", "show", id); !strings.Contains(text, "completed") || !strings.Contains(text, "switched") {
		t.Errorf("acquisition show:\n%s", text)
	}
}

// colonFingerprint writes a hex fingerprint the way openssl prints it.
func colonFingerprint(h string) string {
	var parts []string
	for i := 0; i+2 <= len(h); i += 2 {
		parts = append(parts, strings.ToUpper(h[i:i+2]))
	}
	return strings.Join(parts, ":")
}

func TestAcquisitionBadInput(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	c.ok("definition", "create", "shop", "--cn", "shop.example.test", "--san", "shop.example.test")
	out := filepath.Join(t.TempDir(), "k.pfx")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"acquisition", "show", "abc"}, "not a valid acquisition ID"},
		{[]string{"acquisition", "show", "999"}, "999"},
		{[]string{"acquisition", "start", "nothing"}, `no definition "nothing"`},
		{[]string{"acquisition", "start", "shop", "--kind", "weird"}, "kind"},
		{[]string{"acquisition", "start", "shop", "--issuer", "nobody"}, `no issuer "nobody"`},
		{[]string{"acquisition", "start", "shop", "--product", "x"}, "--product needs --issuer"},
		{[]string{"acquisition", "list", "--state", "nope"}, "state"},
		{[]string{"acquisition", "list", "--limit", "0"}, "--limit"},
		{[]string{"acquisition", "order", "1", "--number", "7", "--date", "2025/01/02"}, "YYYY-MM-DD"},
		{[]string{"acquisition", "cancel", "1"}, "reason"},
		{[]string{"key", "export", "1", "--format", "pfx", "--out", out}, "password"},
		{[]string{"key", "export", "1", "--format", "xyz", "--password", "pw", "--out", out}, "format"},
		{[]string{"certificate", "show", "999"}, "999"},
	} {
		if line := c.fails(tc.args...); !strings.Contains(line, tc.want) {
			t.Errorf("%v: %s, want it to mention %q", tc.args, line, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused key export wrote a file")
	}
	var list struct{ Items []acquisitionJSON }
	decodeJSON(t, "acquisition list", c.ok("acquisition", "list", "--all", "--json"), &list)
	if len(list.Items) != 0 {
		t.Errorf("bad input started processes: %+v", list.Items)
	}
}

// vendorCA is the stand-in vendor CA, played by openssl.
type vendorCA struct{ *testenv.OpenSSLCA }

func newVendorCA(t *testing.T) vendorCA { return vendorCA{testenv.NewOpenSSLCA(t, "Vendor")} }

// sign has the intermediate sign the request file csr for the DNS names
// sans and returns the path of a P7B of the leaf and the intermediate.
func (v vendorCA) sign(t *testing.T, csr, name string, sans ...string) string {
	t.Helper()
	req, err := os.ReadFile(csr)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(sans))
	for i, san := range sans {
		names[i] = "DNS:" + san
	}
	v.Sign(name, req, "serverAuth", names...)
	v.P7B(name)
	return v.Path(name + ".p7b")
}

func TestAcquisitionVendor(t *testing.T) {
	v := newVendorCA(t)
	c := newCK(t)
	c.ok("issuer", "add", "Vendor", "--kind", "manual-vendor", "--url", "https://vendor.example")
	c.ok("product", "add", "--issuer", "Vendor", "--name", "DV SSL", "--level", "DV", "--max-names", "5")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("vendor secret\n"), 0o600)
	c.ok("vendor-account", "add", "--issuer", "Vendor", "--name", "main", "--username", "ops", "--password-file", pwFile)
	c.ok("definition", "create", "web", "--cn", "www.example.test", "--san", "www.example.test", "--san", "example.test",
		"--issuer", "Vendor", "--level", "DV")
	p := c.acq("start", "web")
	id := fmt.Sprint(p.ID)
	if p.State != "csr_ready" {
		t.Fatalf("start = %+v", p)
	}
	csr := filepath.Join(v.Dir, "web.csr")
	c.ok("acquisition", "csr", id, "--out", csr)
	if out := v.Run("req", "-in", csr, "-noout", "-verify", "-text"); !strings.Contains(out, "DNS:example.test") {
		t.Fatalf("the request does not name example.test:\n%s", out)
	}
	c.fails("acquisition", "csr", id, "--out", csr) // exists
	p = c.acq("order", id, "--number", "PO-1", "--vendor-account", "main", "--date", "2025-01-02", "--notes", "card")
	if p.State != "ordered" || p.Order == nil || p.Order.Number != "PO-1" || p.Order.VendorAccountID == 0 ||
		!strings.HasPrefix(p.Order.Date, "2025-01-02") {
		t.Fatalf("order = %+v, want ordered with number PO-1, the account and the date", p)
	}

	v.Run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key", "-out", "other.csr", "-subj", "/CN=www.example.test")
	wrong := v.sign(t, v.Path("other.csr"), "wrong", "www.example.test", "example.test")
	if line := c.fails("acquisition", "upload", id, wrong); !strings.HasPrefix(line, "error: data: the certificate does not match") {
		t.Errorf("upload of another key's certificate: %s, want the data field refused", line)
	}
	if got := c.acqShow(p.ID); got.State != "ordered" || got.Version != p.Version || got.CertificateID != 0 {
		t.Errorf("after the refused upload: %+v, want it unchanged (ordered, version %d)", got, p.Version)
	}

	good := v.sign(t, csr, "good", "www.example.test", "extra.example.test")
	if line := c.fails("acquisition", "upload", id, good); !strings.Contains(line, "no trusted root") {
		t.Errorf("upload before the vendor's root is known: %s, want the chain refused", line)
	}
	rootID := c.importOne(v.Path("root.pem"))
	if line := c.fails("acquisition", "upload", id, good); !strings.Contains(line, "no trusted root") {
		t.Errorf("upload after importing the vendor's root: %s, want the chain still refused", line)
	}
	c.ok("trust", "add", fmt.Sprint(rootID)) // an admin marking the root is how it becomes trusted
	val := c.validation("upload", id, good)
	if val.Acquisition.State != "issued" || len(val.Chain) != 3 {
		t.Fatalf("upload = %+v, want issued with leaf, intermediate and root", val)
	}
	if d := strings.Join(val.Differences, "; "); !strings.Contains(d, "example.test") || !strings.Contains(d, "extra.example.test") {
		t.Errorf("differences = %q, want the missing and the extra name", d)
	}
	c.ok("acquisition", "switch", id)
	got := c.acqShow(p.ID)
	if got.State != "completed" || got.Certificate == nil || got.Certificate.SHA256 != fingerprint(t, testenv.Command(t, "openssl"), v.Path("good.pem")) {
		t.Fatalf("after switch: %+v, want completed with the vendor's certificate", got)
	}
	if text := c.ok("acquisition", "show", id); !strings.Contains(text, "PO-1") || !strings.Contains(text, "extra: extra.example.test") {
		t.Errorf("acquisition show lacks the order or the differences:\n%s", text)
	}

	pfx := filepath.Join(t.TempDir(), "web.pfx")
	out := c.ok("key", "export", fmt.Sprint(p.KeyID), "--format", "pfx", "--password-file", pwFile, "--out", pfx)
	if !strings.Contains(out, "audit") {
		t.Errorf("key export printed %q, want it to say the export is audited", out)
	}
	if fi, err := os.Stat(pfx); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported PFX: %v, mode %v; want 0600", err, fi.Mode())
	}
	opened := v.Run("pkcs12", "-in", pfx, "-passin", "file:"+pwFile, "-nodes")
	if !strings.Contains(opened, "PRIVATE KEY") || !strings.Contains(opened, "subject=CN = www.example.test") {
		t.Errorf("openssl pkcs12 of the export lacks the key or the leaf:\n%s", opened)
	}
	if audit := c.ok("audit"); !strings.Contains(audit, "key.export") || !strings.Contains(audit, "acquisition.upload") {
		t.Errorf("audit lacks key.export or acquisition.upload:\n%s", audit)
	}
}

func TestAcquisitionAttention(t *testing.T) {
	p := opensslPKI(t) // its leaf expires in 20 days
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	c.ok("import", p.write(t, "leaf.pem", p.leaf, p.leafKey, p.inter, p.root))
	c.ok("definition", "import", p.leafSHA256, "--name", "legacy-www")
	text := c.ok("acquisition", "list")
	if !strings.Contains(text, "no acquisition processes") || !strings.Contains(text, "needing attention") ||
		!strings.Contains(text, "legacy-www") {
		t.Errorf("acquisition list does not show the expiring definition:\n%s", text)
	}
	attention := func(args ...string) []string {
		var v struct{ Items []struct{ Name string } }
		decodeJSON(t, "acquisition attention", c.ok(append([]string{"acquisition", "attention", "--json"}, args...)...), &v)
		var names []string
		for _, d := range v.Items {
			names = append(names, d.Name)
		}
		return names
	}
	if got := attention(); !slices.Equal(got, []string{"legacy-www"}) {
		t.Errorf("attention = %v, want legacy-www", got)
	}
	if got := attention("--days", "10"); len(got) != 0 {
		t.Errorf("attention --days 10 = %v, want none (the certificate has 20 days)", got)
	}
	// The imported definition requires the certificate's issuer.
	c.ok("issuer", "add", "Test Intermediate", "--kind", "manual-vendor")
	c.ok("product", "add", "--issuer", "Test Intermediate", "--name", "OV", "--level", "OV")
	started := c.acq("start", "legacy-www")
	if started.Kind != "renewal" {
		t.Errorf("start for a definition with a current certificate: kind %s, want renewal", started.Kind)
	}
	if got := attention(); len(got) != 0 {
		t.Errorf("attention with an open process = %v, want none", got)
	}
	var list struct {
		Items     []acquisitionJSON
		Attention []struct{ Name string }
	}
	decodeJSON(t, "acquisition list", c.ok("acquisition", "list", "--json"), &list)
	if len(list.Items) != 1 || list.Items[0].ID != started.ID || len(list.Attention) != 0 {
		t.Errorf("acquisition list --json = %+v, want the started process and no attention", list)
	}
	c.ok("acquisition", "cancel", fmt.Sprint(started.ID), "--reason", "moving to the vendor")
	if got := attention(); !slices.Equal(got, []string{"legacy-www"}) {
		t.Errorf("attention after cancel = %v, want legacy-www again", got)
	}
}
