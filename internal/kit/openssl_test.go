package kit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// sslKit makes license-server/client kits with openssl commands, the way
// the sample scripts of the seed procedure do.
type sslKit struct {
	t       *testing.T
	openssl string
	dir     string
}

func newSSLKit(t *testing.T) *sslKit {
	t.Helper()
	return &sslKit{t: t, openssl: testenv.Command(t, "openssl"), dir: t.TempDir()}
}

func (k *sslKit) run(dir string, args ...string) {
	k.t.Helper()
	cmd := exec.Command(k.openssl, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		k.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// root makes DIR/NAME/ca.crt and ca.key, a self-signed root CA.
func (k *sslKit) root(name, cn string) string {
	k.t.Helper()
	d := filepath.Join(k.dir, name)
	os.MkdirAll(d, 0o755)
	k.run(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN="+cn, "-days", "3650",
		"-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return d
}

// leaf issues BASE.crt and BASE.key in out from the CA in caDir, with the
// extensions in ext (openssl extension lines).
func (k *sslKit) leaf(caDir, out, base, cn, ext string) {
	k.t.Helper()
	os.MkdirAll(out, 0o755)
	extFile := filepath.Join(out, base+".ext")
	os.WriteFile(extFile, []byte(ext), 0o644)
	k.run(out, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", base+".key", "-out", base+".csr", "-subj", "/CN="+cn)
	k.run(out, "x509", "-req", "-in", base+".csr", "-CA", filepath.Join(caDir, "ca.crt"),
		"-CAkey", filepath.Join(caDir, "ca.key"), "-CAcreateserial", "-out", base+".crt", "-days", "365", "-extfile", extFile)
	copyFile(k.t, filepath.Join(caDir, "ca.crt"), filepath.Join(out, "ca.crt"))
	os.Remove(extFile)
	os.Remove(filepath.Join(out, base+".csr"))
}

const (
	serverExt = "basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:ls.example.test,IP:127.0.0.1\n"
	clientExt = "basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
)

// server makes a license-server directory from the CA in caDir.
func (k *sslKit) server(caDir, name, ext string) string {
	k.t.Helper()
	d := filepath.Join(k.dir, name)
	k.leaf(caDir, d, "server", "ls.example.test", ext)
	return d
}

// client makes a license-client directory from the CA in caDir.
func (k *sslKit) client(caDir, name, ext string) string {
	k.t.Helper()
	d := filepath.Join(k.dir, name)
	k.leaf(caDir, d, "charon", name, ext)
	return d
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
