// Package cainstaller builds a CA-certificate installer: a zip holding a
// root certificate in PEM, DER and (with its chain) PKCS#7, and a README
// with step-by-step instructions for each common trust store.
package cainstaller

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/certkeeper/certkeeper/internal/format"
)

//go:embed README.txt.tmpl
var readmeText string

var readme = template.Must(template.New("README.txt").Parse(readmeText))

// Options tune Build. The zero value works.
type Options struct {
	// Name is the base name of the files in the zip; "" means the root's
	// common name made file-safe, or "certkeeper-ca".
	Name string
	// Modified is the time stamped on the zip entries; zero means the
	// root's NotBefore, so the same chain always gives the same zip.
	Modified time.Time
}

// Files names the entries of an installer whose base name is name.
type Files struct{ PEM, DER, P7B, README string }

// FileNames returns the entry names Build uses for base name name.
func FileNames(name string) Files {
	return Files{PEM: name + ".crt", DER: name + ".cer", P7B: name + "-chain.p7b", README: "README.txt"}
}

// Build returns the zip bytes of an installer for chain, the CA chain
// from the issuing CA up to the root (a root alone is a chain of one).
// The root is the chain's last certificate.
func Build(chain []*x509.Certificate, o Options) ([]byte, error) {
	if len(chain) == 0 {
		return nil, errors.New("cainstaller: no CA certificate")
	}
	root := chain[len(chain)-1]
	if !root.IsCA {
		return nil, fmt.Errorf("cainstaller: %s is not a CA certificate", root.Subject)
	}
	name := o.Name
	if name == "" {
		name = FileName(root)
	}
	if o.Modified.IsZero() {
		o.Modified = root.NotBefore
	}
	entries, err := contents(chain, name)
	if err != nil {
		return nil, err
	}
	return zipped(entries, o.Modified)
}

type entry struct {
	name string
	data []byte
}

func contents(chain []*x509.Certificate, name string) ([]entry, error) {
	root := chain[len(chain)-1]
	f := FileNames(name)
	p7b, err := format.Encode(&format.Bundle{Chain: chain}, format.TargetP7B, format.EncodeOptions{})
	if err != nil {
		return nil, fmt.Errorf("cainstaller: %w", err)
	}
	var text bytes.Buffer
	if err := readme.Execute(&text, newView(chain, name)); err != nil {
		return nil, fmt.Errorf("cainstaller: %w", err)
	}
	crlf := strings.ReplaceAll(text.String(), "\n", "\r\n") // readable in Notepad too
	return []entry{
		{f.PEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})},
		{f.DER, bytes.Clone(root.Raw)},
		{f.P7B, p7b},
		{f.README, []byte(crlf)},
	}, nil
}

func zipped(entries []entry, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: modified.UTC()})
		if err != nil {
			return nil, fmt.Errorf("cainstaller: %w", err)
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, fmt.Errorf("cainstaller: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("cainstaller: %w", err)
	}
	return buf.Bytes(), nil
}

// view is the README's data.
type view struct {
	Name, Subject, CN, Alias, SHA256, SHA1, NotAfter, Serial string
	PEM, DER, P7B                                            string
	ChainLen                                                 int
}

func newView(chain []*x509.Certificate, name string) view {
	root := chain[len(chain)-1]
	f := FileNames(name)
	return view{
		Name: name, Subject: root.Subject.String(), CN: root.Subject.CommonName, Alias: name,
		SHA256: fingerprint(sha256Sum(root.Raw)), SHA1: fingerprint(sha1Sum(root.Raw)),
		NotAfter: root.NotAfter.UTC().Format("2006-01-02 15:04 MST"), Serial: root.SerialNumber.Text(16),
		PEM: f.PEM, DER: f.DER, P7B: f.P7B, ChainLen: len(chain),
	}
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
func sha1Sum(b []byte) []byte   { s := sha1.Sum(b); return s[:] }

func fingerprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName makes a file-safe base name from a certificate's common name,
// or "certkeeper-ca" when it has none.
func FileName(c *x509.Certificate) string {
	n := strings.Trim(unsafeChars.ReplaceAllString(c.Subject.CommonName, "-"), "-.")
	if n == "" {
		return "certkeeper-ca"
	}
	return strings.ToLower(n)
}
