package archive

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func conventionalPlan(t *testing.T) (engine.Plan, *deploytest.Cert) {
	p := deploytest.NewPKI(t, "Zip")
	leaf := p.Good(t)
	return engine.Plan{
		Directory: "/etc/nginx/tls", TestCommand: "nginx -t", ReloadCommand: "systemctl reload nginx",
		Files: []engine.PlanFile{
			// The CA first: the README must still name the leaf.
			{Path: "ca/chain.pem", Data: deploytest.CertsPEM(p.Inter, p.Root), Mode: 0o644},
			{Path: "fullchain.pem", Data: deploytest.CertsPEM(leaf, p.Inter), Mode: 0o640},
			{Path: "privkey.pem", Data: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), Mode: 0o600, Secret: true},
		},
	}, leaf
}

// readZip returns the files of a zip by name.
func readZip(t *testing.T, data []byte) map[string]*zip.File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	return files
}

func zipContent(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWriteConventional(t *testing.T) {
	plan, leaf := conventionalPlan(t)
	pr, ok := presetNamed("nginx")
	if !ok {
		t.Fatal("no nginx preset")
	}
	var buf bytes.Buffer
	if err := WriteZip(&buf, pr, plan, "www.example.test / 2026"); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	const folder = "www.example.test___2026/"
	if len(files) != len(plan.Files)+1 {
		t.Errorf("zip holds %d files, want %d", len(files), len(plan.Files)+1)
	}
	for _, pf := range plan.Files {
		zf := files[folder+pf.Path]
		if zf == nil {
			t.Errorf("%s missing from the zip", folder+pf.Path)
			continue
		}
		if zf.Mode() != pf.Mode {
			t.Errorf("%s: mode %v, want %v", pf.Path, zf.Mode(), pf.Mode)
		}
		if got := zipContent(t, zf); !bytes.Equal(got, pf.Data) {
			t.Errorf("%s: content differs", pf.Path)
		}
	}
	readme := files[folder+"README.txt"]
	if readme == nil {
		t.Fatal("README.txt missing")
	}
	text := string(zipContent(t, readme))
	t.Logf("README.txt:\n%s", text)
	for _, want := range []string{
		"www.example.test / 2026",
		"fullchain.pem", "the certificate followed by its intermediates",
		"privkey.pem", "PRIVATE KEY",
		"ssl_certificate     /PATH/fullchain.pem;", // the preset's instructions
		"/etc/nginx/tls",
		"Test the configuration: nginx -t",
		"systemctl reload nginx",
		"Certificate SHA-256: " + inventory.SHA256Hex(leaf.Cert.Raw),
		"private key in clear text (privkey.pem)",
		"Delete the archive",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README lacks %q:\n%s", want, text)
		}
	}
	unzipList(t, buf.Bytes(), folder+"privkey.pem")
}

// presetNamed finds a built-in preset.
func presetNamed(name string) (engine.Preset, bool) {
	for _, p := range engine.Builtin() {
		if p.Name() == name {
			return p, true
		}
	}
	return engine.Preset{}, false
}

// unzipList runs `unzip -l` on the zip when unzip is installed, and checks
// that it lists name.
func unzipList(t *testing.T, data []byte, name string) {
	t.Helper()
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		t.Log("unzip not installed: listing not checked")
		return
	}
	path := filepath.Join(t.TempDir(), "package.zip")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(unzip, "-l", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), name) {
		t.Errorf("unzip -l: %v\n%s", err, out)
	}
}

func TestWriteConventionalDefaults(t *testing.T) {
	plan := engine.Plan{Files: []engine.PlanFile{
		{Path: "keystore.p12", Data: []byte{1, 2, 3}},
		{Path: "key.pem", Data: []byte("KEY"), Secret: true},
	}}
	pr := engine.Preset{TestCommand: "preset-test", ReloadCommand: "preset-reload"}
	var buf bytes.Buffer
	if err := WriteZip(&buf, pr, plan, "../..//"); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	wantModes := map[string]fs.FileMode{"certificate/keystore.p12": 0o644, "certificate/key.pem": 0o600, "certificate/README.txt": 0o644}
	for name, mode := range wantModes {
		if f := files[name]; f == nil || f.Mode() != mode {
			t.Errorf("%s: %v, want mode %v", name, f, mode)
		}
	}
	text := string(zipContent(t, files["certificate/README.txt"]))
	for _, want := range []string{"preset-test", "preset-reload", "private key in clear text (key.pem)"} {
		if !strings.Contains(text, want) {
			t.Errorf("README lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "SHA-256") {
		t.Errorf("README names a SHA-256 without any certificate:\n%s", text)
	}
}

func TestWriteConventionalRefusesPaths(t *testing.T) {
	for _, path := range []string{"../evil", "/etc/passwd", "a/../../b", "", "."} {
		plan := engine.Plan{Files: []engine.PlanFile{{Path: path, Data: []byte("x")}}}
		if err := WriteZip(io.Discard, engine.Preset{}, plan, "t"); err == nil {
			t.Errorf("path %q: accepted", path)
		}
	}
}

func TestFolderName(t *testing.T) {
	tests := []struct{ title, want string }{
		{"www.example.test", "www.example.test"},
		{"Web 1: nginx (prod)", "Web_1__nginx__prod"},
		{"..", "certificate"},
		{"", "certificate"},
		{"héllo", "h_llo"},
		{strings.Repeat("a", 100), strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		if got := folderName(tt.title); got != tt.want {
			t.Errorf("folderName(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestCertificateSHA256(t *testing.T) {
	p := deploytest.NewPKI(t, "Sum")
	files := []engine.PlanFile{{Path: "ca.pem", Data: deploytest.CertsPEM(p.Inter, p.Root)}}
	if got, want := certificateSHA256(files), inventory.SHA256Hex(p.Inter.Cert.Raw); got != want {
		t.Errorf("CA files only: %s, want the first certificate %s", got, want)
	}
}
