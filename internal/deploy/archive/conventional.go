package archive

import (
	"archive/zip"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
)

// maxFolderName bounds the folder name made from a title.
const maxFolderName = 64

// WriteZip writes the conventional package, for people who
// install by hand: a zip with one folder, named after title, holding the
// plan's files (with their modes) and a README.txt that says what the
// files are, where they go, how to install them (pr's instructions), the
// test and reload commands, the certificate's SHA-256, and that the zip
// holds a private key in clear text to delete once installed.
func WriteZip(w io.Writer, pr engine.Preset, p engine.Plan, title string) error {
	folder := folderName(title)
	zw := zip.NewWriter(w)
	modified := time.Now()
	for _, f := range p.Files {
		if err := addZipFile(zw, folder, f, modified); err != nil {
			return err
		}
	}
	readme := engine.PlanFile{Path: "README.txt", Data: []byte(conventionalReadme(pr, p, title, folder)), Mode: 0o644}
	if err := addZipFile(zw, folder, readme, modified); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("deploy: conventional package: %w", err)
	}
	return nil
}

// folderName keeps the letters, digits, dots, dashes and underscores of
// title (others become "_"), at most maxFolderName of them; "certificate"
// when nothing is left.
func folderName(title string) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, title)
	name = strings.Trim(name[:min(len(name), maxFolderName)], "._-")
	if name == "" {
		return "certificate"
	}
	return name
}

func addZipFile(zw *zip.Writer, folder string, f engine.PlanFile, modified time.Time) error {
	if !fs.ValidPath(f.Path) || f.Path == "." {
		return fmt.Errorf("deploy: conventional package: invalid file path %q", f.Path)
	}
	h := &zip.FileHeader{Name: path.Join(folder, f.Path), Method: zip.Deflate, Modified: modified}
	h.SetMode(zipFileMode(f))
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("deploy: conventional package: %s: %w", f.Path, err)
	}
	if _, err := fw.Write(f.Data); err != nil {
		return fmt.Errorf("deploy: conventional package: %s: %w", f.Path, err)
	}
	return nil
}

// zipFileMode is f's mode; zero means 0600 for secret files and 0644 for the
// others.
func zipFileMode(f engine.PlanFile) fs.FileMode {
	switch {
	case f.Mode.Perm() != 0:
		return f.Mode.Perm()
	case f.Secret:
		return 0o600
	}
	return 0o644
}

func conventionalReadme(pr engine.Preset, p engine.Plan, title, folder string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n", title, strings.Repeat("=", max(len(title), 3)))
	fmt.Fprintf(&b, "This archive holds the certificate files for %s, in the folder %s/:\n\n", presetLabel(pr), folder)
	for _, f := range p.Files {
		line := fmt.Sprintf("  %-24s mode %04o  %s", f.Path, zipFileMode(f), describeFile(pr, f))
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	if sum := certificateSHA256(p.Files); sum != "" {
		fmt.Fprintf(&b, "\nCertificate SHA-256: %s\n", sum)
	}
	b.WriteString(installSection(pr, p))
	if secrets := secretFiles(pr, p.Files); len(secrets) > 0 {
		fmt.Fprintf(&b, "\nWARNING: this archive holds a private key in clear text (%s).\n"+
			"Delete the archive, and every copy of it, once the files are installed.\n", strings.Join(secrets, ", "))
	}
	return b.String()
}

func presetLabel(pr engine.Preset) string {
	if pr.Name() == "" {
		return "your server"
	}
	return "the " + pr.Name() + " preset"
}

func installSection(pr engine.Preset, p engine.Plan) string {
	var b strings.Builder
	if p.Directory != "" {
		fmt.Fprintf(&b, "\nThe server expects the files in: %s\n", p.Directory)
	}
	if pr.Instructions != "" {
		fmt.Fprintf(&b, "\nHow to install\n--------------\n%s\n", strings.TrimRight(pr.Instructions, "\n"))
	}
	if cmd := orDefault(p.TestCommand, pr.TestCommand); cmd != "" {
		fmt.Fprintf(&b, "\nTest the configuration: %s\n", cmd)
	}
	if cmd := orDefault(p.ReloadCommand, pr.ReloadCommand); cmd != "" {
		fmt.Fprintf(&b, "Reload the server:      %s\n", cmd)
	}
	return b.String()
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// describeFile says what a file holds, from the preset's layout.
func describeFile(pr engine.Preset, f engine.PlanFile) string {
	for _, lf := range pr.Layout.Files {
		if lf.Path == f.Path {
			return contentDescription(lf.Content)
		}
	}
	if f.Secret {
		return "private key"
	}
	return ""
}

func contentDescription(c kit.Content) string {
	switch c {
	case kit.ContentCACert:
		return "CA chain (issuing CA up to the root), PEM"
	case kit.ContentCACertDER:
		return "root CA certificate, DER"
	case kit.ContentCert:
		return "the certificate alone, PEM"
	case kit.ContentChain:
		return "intermediates and root, without the certificate, PEM"
	case kit.ContentFullchain:
		return "the certificate followed by its intermediates, PEM"
	case kit.ContentKey:
		return "PRIVATE KEY, PEM (keep it readable by the server only)"
	case kit.ContentCombined:
		return "certificate, intermediates and PRIVATE KEY in one PEM file"
	case kit.ContentPKCS12:
		return "PKCS#12 key store (certificate, chain and key), password-protected"
	case kit.ContentJKS:
		return "Java key store (certificate, chain and key), password-protected"
	}
	return string(c)
}

// certificateSHA256 is the SHA-256 of the first end-entity certificate
// found in the PEM files, else of the first certificate; "" when none.
func certificateSHA256(files []engine.PlanFile) string {
	var first *x509.Certificate
	for _, f := range files {
		for _, c := range pemCertificates(f.Data) {
			if !c.IsCA {
				return inventory.SHA256Hex(c.Raw)
			}
			if first == nil {
				first = c
			}
		}
	}
	if first == nil {
		return ""
	}
	return inventory.SHA256Hex(first.Raw)
}

// pemCertificates returns the certificates of the PEM blocks of data that
// parse; other blocks are skipped.
func pemCertificates(data []byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
		if c, err := x509.ParseCertificate(b.Bytes); err == nil && b.Type == "CERTIFICATE" {
			certs = append(certs, c)
		}
	}
	return certs
}

// secretFiles names the files that hold a private key in clear text:
// those marked Secret, and those the preset's layout says hold a key.
func secretFiles(pr engine.Preset, files []engine.PlanFile) []string {
	var names []string
	for _, f := range files {
		if f.Secret || slices.ContainsFunc(pr.Layout.Files, func(lf kit.File) bool {
			return lf.Path == f.Path && (lf.Content == kit.ContentKey || lf.Content == kit.ContentCombined)
		}) {
			names = append(names, f.Path)
		}
	}
	return names
}
