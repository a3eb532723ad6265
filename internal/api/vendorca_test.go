package api

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// opensslCA is a commercial CA played by the openssl command, outside
// certkeeper: a root and an issuing intermediate in a temporary
// directory. It signs the requests certkeeper hands out and packs the
// results as a vendor would (PFX, P7B, PEM).
type opensslCA struct {
	openssl string
	dir     string
	root    *x509.Certificate
}

const opensslReqConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`

const opensslIntermediateExt = `basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`

// Names of the openssl CA's certificates.
const (
	opensslRootCN         = "API Vendor Test Root"
	opensslIntermediateCN = "API Vendor Test Issuing CA"
)

func newOpensslCA(t *testing.T) *opensslCA {
	t.Helper()
	v := &opensslCA{openssl: testenv.Command(t, "openssl"), dir: t.TempDir()}
	v.write(t, "req.cnf", []byte(opensslReqConfig))
	v.write(t, "intermediate.ext", []byte(opensslIntermediateExt))
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"}
	v.run(t, append([]string{"req", "-x509", "-config", "req.cnf", "-extensions", "root",
		"-subj", "/O=API Vendor Test/CN=" + opensslRootCN, "-days", "30", "-keyout", "root.key", "-out", "root.pem"}, ec...)...)
	v.run(t, append([]string{"req", "-new", "-config", "req.cnf", "-subj", "/O=API Vendor Test/CN=" + opensslIntermediateCN,
		"-keyout", "intermediate.key", "-out", "intermediate.csr"}, ec...)...)
	v.run(t, "x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "0x1001",
		"-days", "20", "-sha256", "-extfile", "intermediate.ext", "-out", "intermediate.pem")
	v.root = parseCertPEM(t, v.read(t, "root.pem"))
	return v
}

func (v *opensslCA) run(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), v.openssl, args...)
	cmd.Dir = v.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (v *opensslCA) write(t *testing.T, name string, data []byte) {
	t.Helper()
	writeTestFile(t, filepath.Join(v.dir, name), data)
}

func (v *opensslCA) read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(v.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sign signs the PEM request csr as base.pem, a serverAuth leaf for sans
// ("DNS:a.example.test", ...) issued by the intermediate.
func (v *opensslCA) sign(t *testing.T, base string, csr []byte, sans ...string) *x509.Certificate {
	t.Helper()
	v.write(t, base+".csr", csr)
	v.write(t, base+".ext", []byte("basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"+
		"extendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"+
		"subjectAltName = "+strings.Join(sans, ",")+"\n"))
	serial := make([]byte, 8)
	copy(serial, base)
	v.run(t, "x509", "-req", "-in", base+".csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key",
		"-set_serial", "0x7f"+hex.EncodeToString(serial), "-days", "10", "-sha256", "-extfile", base+".ext", "-out", base+".pem")
	return parseCertPEM(t, v.read(t, base+".pem"))
}

// pfx bundles base.pem with the intermediate and the PEM private key in
// keyFile, protected by password, as a vendor's PKCS#12 download.
func (v *opensslCA) pfx(t *testing.T, base string, key []byte, password string) []byte {
	t.Helper()
	v.write(t, base+".key", key)
	v.run(t, "pkcs12", "-export", "-in", base+".pem", "-inkey", base+".key", "-certfile", "intermediate.pem",
		"-passout", "pass:"+password, "-out", base+".pfx")
	return v.read(t, base+".pfx")
}

// p7b bundles base.pem, the intermediate and the PEM files of more in a
// DER PKCS#7 file.
func (v *opensslCA) p7b(t *testing.T, base string, more ...string) []byte {
	t.Helper()
	args := []string{"crl2pkcs7", "-nocrl", "-certfile", base + ".pem", "-certfile", "intermediate.pem"}
	for _, f := range more {
		args = append(args, "-certfile", f)
	}
	v.run(t, append(args, "-outform", "DER", "-out", base+".p7b")...)
	return v.read(t, base+".p7b")
}

// strangerCSR makes a request, for cn, of a new key that certkeeper does
// not hold.
func (v *opensslCA) strangerCSR(t *testing.T, cn string) []byte {
	t.Helper()
	v.run(t, "req", "-new", "-config", "req.cnf", "-subj", "/CN="+cn, "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "stranger.key", "-out", "stranger.csr")
	return v.read(t, "stranger.csr")
}

func parseCertPEM(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("no PEM certificate in %q", data)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
