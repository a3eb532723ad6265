package testenv

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// OpenSSLCA is a commercial CA played by the openssl command, outside
// certkeeper: a root and an issuing intermediate (files root.pem and
// intermediate.pem in Dir). It signs the requests certkeeper hands out
// and packs the results as a vendor would (PEM, PFX, P7B).
type OpenSSLCA struct {
	t       testing.TB
	openssl string
	// Dir holds every file the CA writes.
	Dir string
	// Root is the root certificate.
	Root *x509.Certificate
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

// NewOpenSSLCA makes a root "NAME Root" (30 days) and an intermediate
// "NAME Issuing CA" (20 days), both of organisation NAME, with ECDSA
// P-256 keys. It skips, or fails in strict mode, without openssl.
func NewOpenSSLCA(t testing.TB, name string) *OpenSSLCA {
	t.Helper()
	v := &OpenSSLCA{t: t, openssl: Command(t, "openssl"), Dir: t.TempDir()}
	v.Write("req.cnf", []byte(opensslReqConfig))
	v.Write("intermediate.ext", []byte(opensslIntermediateExt))
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"}
	v.Run(append([]string{"req", "-x509", "-config", "req.cnf", "-extensions", "root",
		"-subj", "/O=" + name + "/CN=" + name + " Root", "-days", "30", "-keyout", "root.key", "-out", "root.pem"}, ec...)...)
	v.Run(append([]string{"req", "-new", "-config", "req.cnf", "-subj", "/O=" + name + "/CN=" + name + " Issuing CA",
		"-keyout", "intermediate.key", "-out", "intermediate.csr"}, ec...)...)
	v.Run("x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "0x1001",
		"-days", "20", "-sha256", "-extfile", "intermediate.ext", "-out", "intermediate.pem")
	v.Root = ParseCertPEM(t, v.Read("root.pem"))
	return v
}

// Path returns the path of a file in Dir.
func (v *OpenSSLCA) Path(name string) string { return filepath.Join(v.Dir, name) }

// Run runs openssl with args in Dir and returns its combined output; a
// failure fails the test.
func (v *OpenSSLCA) Run(args ...string) string {
	v.t.Helper()
	cmd := exec.Command(v.openssl, args...)
	cmd.Dir = v.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		v.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Write writes a file in Dir.
func (v *OpenSSLCA) Write(name string, data []byte) {
	v.t.Helper()
	if err := os.WriteFile(v.Path(name), data, 0o600); err != nil {
		v.t.Fatal(err)
	}
}

// Read reads a file in Dir.
func (v *OpenSSLCA) Read(name string) []byte {
	v.t.Helper()
	data, err := os.ReadFile(v.Path(name))
	if err != nil {
		v.t.Fatal(err)
	}
	return data
}

// Roots returns a pool holding the root alone.
func (v *OpenSSLCA) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(v.Root)
	return p
}

// Sign has the intermediate sign the PEM request csr as BASE.pem, a leaf
// valid 10 days with the extended key usage eku ("serverAuth",
// "serverAuth,clientAuth") for sans ("DNS:a.example.test", "IP:10.0.0.1").
func (v *OpenSSLCA) Sign(base string, csr []byte, eku string, sans ...string) *x509.Certificate {
	v.t.Helper()
	v.Write(base+".csr", csr)
	v.Write(base+".ext", []byte("basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"+
		"extendedKeyUsage = "+eku+"\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"+
		"subjectAltName = "+strings.Join(sans, ",")+"\n"))
	serial := make([]byte, 8)
	copy(serial, base)
	v.Run("x509", "-req", "-in", base+".csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key",
		"-set_serial", "0x7f"+hex.EncodeToString(serial), "-days", "10", "-sha256", "-extfile", base+".ext", "-out", base+".pem")
	return ParseCertPEM(v.t, v.Read(base+".pem"))
}

// PFX bundles BASE.pem with the intermediate and the PEM private key in
// the file keyFile (in Dir) as BASE.pfx, protected by password.
func (v *OpenSSLCA) PFX(base, keyFile, password string) []byte {
	v.t.Helper()
	v.Run("pkcs12", "-export", "-in", base+".pem", "-inkey", keyFile, "-certfile", "intermediate.pem",
		"-passout", "pass:"+password, "-out", base+".pfx")
	return v.Read(base + ".pfx")
}

// P7B bundles BASE.pem, the intermediate and the PEM files more (in Dir)
// in a DER PKCS#7 file BASE.p7b.
func (v *OpenSSLCA) P7B(base string, more ...string) []byte {
	v.t.Helper()
	args := []string{"crl2pkcs7", "-nocrl", "-certfile", base + ".pem", "-certfile", "intermediate.pem"}
	for _, f := range more {
		args = append(args, "-certfile", f)
	}
	v.Run(append(args, "-outform", "DER", "-out", base+".p7b")...)
	return v.Read(base + ".p7b")
}

// ForeignCSR makes BASE.csr, a request for cn with a new key (BASE.key)
// that certkeeper does not hold.
func (v *OpenSSLCA) ForeignCSR(base, cn string) []byte {
	v.t.Helper()
	v.Run("req", "-new", "-config", "req.cnf", "-subj", "/CN="+cn, "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base+".key", "-out", base+".csr")
	return v.Read(base + ".csr")
}

// ParseCertPEM parses the first PEM block of data as a certificate.
func ParseCertPEM(t testing.TB, data []byte) *x509.Certificate {
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
