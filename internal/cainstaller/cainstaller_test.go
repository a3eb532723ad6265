package cainstaller

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

func caCert(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func unzip(t *testing.T, data []byte, dir string) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("installer is not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = b
		os.WriteFile(filepath.Join(dir, f.Name), b, 0o644)
	}
	return out
}

func TestBuildOpenSSL(t *testing.T) {
	openssl := testenv.Command(t, "openssl")
	root, rootKey := caCert(t, "Example Root CA", nil, nil)
	inter, _ := caCert(t, "Example Issuing CA", root, rootKey)
	data, err := Build([]*x509.Certificate{inter, root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := unzip(t, data, dir)
	f := FileNames("example-root-ca")
	for _, n := range []string{f.PEM, f.DER, f.P7B, f.README} {
		if _, ok := files[n]; !ok {
			t.Fatalf("zip lacks %s (has %v)", n, files)
		}
	}
	sh := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := sh("x509", "-inform", "DER", "-in", filepath.Join(dir, f.DER), "-noout", "-subject"); !strings.Contains(out, "Example Root CA") {
		t.Errorf("DER subject = %q, want the root", out)
	}
	if out := sh("x509", "-in", filepath.Join(dir, f.PEM), "-noout", "-subject"); !strings.Contains(out, "Example Root CA") {
		t.Errorf("PEM subject = %q, want the root", out)
	}
	out := sh("pkcs7", "-inform", "DER", "-in", filepath.Join(dir, f.P7B), "-print_certs", "-noout")
	if !strings.Contains(out, "Example Root CA") || !strings.Contains(out, "Example Issuing CA") {
		t.Errorf("p7b certificates = %q, want the issuing CA and the root", out)
	}
	readme := string(files[f.README])
	for _, want := range []string{"update-ca-certificates", "update-ca-trust", "certutil -addstore -f Root " + f.DER,
		"security add-trusted-cert", "keytool -importcert -cacerts", `-t "C,,"`, "Check:", fingerprint(sha256Sum(root.Raw))} {
		if !strings.Contains(readme, want) {
			t.Errorf("README does not mention %q", want)
		}
	}
	again, _ := Build([]*x509.Certificate{inter, root}, Options{})
	if !bytes.Equal(data, again) {
		t.Error("two builds of the same chain differ")
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := Build(nil, Options{}); err == nil || !strings.HasPrefix(err.Error(), "cainstaller: ") {
		t.Errorf("Build(nil) = %v, want a cainstaller error", err)
	}
}
