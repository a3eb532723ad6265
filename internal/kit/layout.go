package kit

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Content names what a layout file holds.
type Content string

// File contents. A kit side (the server, or one client) has a leaf
// certificate, its private key, and the CA chain that issued it, from the
// issuing CA up to the root.
const (
	// ContentCACert is the CA chain the other side is checked against:
	// the issuing CA up to and including the root, PEM. With a single-level
	// CA it is just the root.
	ContentCACert Content = "ca-cert"
	// ContentCACertDER is the root CA certificate alone, DER (what browsers
	// and Windows import as a ".cer").
	ContentCACertDER Content = "ca-cert-der"
	// ContentCert is the leaf certificate alone.
	ContentCert Content = "cert"
	// ContentChain is the issuer certificates without the leaf: the
	// issuing CA up to and including the root, PEM.
	ContentChain Content = "chain"
	// ContentFullchain is the leaf followed by its intermediates (no
	// self-signed root), PEM.
	ContentFullchain Content = "fullchain"
	// ContentKey is the private key, PKCS#8.
	ContentKey Content = "key"
	// ContentCombined is the full chain then the private key in one PEM
	// file (the web-server.pem style).
	ContentCombined Content = "combined"
	// ContentPKCS12 is a PKCS#12 key store (certificate, chain and key
	// under Material.Password; modern AES-256 encryption).
	ContentPKCS12 Content = "pkcs12"
	// ContentJKS is a Java key store (private-key entry with its chain,
	// under Material.Password).
	ContentJKS Content = "jks"
)

// Contents lists every content in a stable order.
var Contents = []Content{ContentCACert, ContentCACertDER, ContentCert, ContentChain,
	ContentFullchain, ContentKey, ContentCombined, ContentPKCS12, ContentJKS}

// Encoding is how a file is written.
type Encoding string

// Encodings. The zero value means the content's default: DER for
// ca-cert-der, PEM for everything else.
const (
	EncodingPEM Encoding = "pem"
	EncodingDER Encoding = "der"
)

// File is one file of a layout.
type File struct {
	// Path is relative to the side's directory, with forward slashes.
	Path    string  `json:"path"`
	Content Content `json:"content"`
	// Encoding is "" (the content's default), "pem" or "der". DER holds
	// one object, so it is refused for contents with several certificates.
	Encoding Encoding `json:"encoding,omitempty"`
	// Mode is the file's permission bits; zero means 0600 for files that
	// hold a private key and 0644 for the others.
	Mode fs.FileMode `json:"-"`
}

// Layout is a named set of files that one side of a kit (a server or a
// client) is written as, and read back from by kit verify.
type Layout struct {
	Name  string `json:"name"`
	Files []File `json:"files"`
}

// Built-in layouts: the license server and its emulator clients.
var (
	LicenseServer = Layout{Name: "license-server", Files: []File{
		{Path: "ca.crt", Content: ContentCACert},
		{Path: "server.crt", Content: ContentCert},
		{Path: "server.key", Content: ContentKey},
		{Path: "web-server.pem", Content: ContentCombined},
		{Path: "web-ca.cer", Content: ContentCACertDER},
	}}
	LicenseClient = Layout{Name: "license-client", Files: []File{
		{Path: "ca.crt", Content: ContentCACert},
		{Path: "charon.crt", Content: ContentCert},
		{Path: "charon.key", Content: ContentKey},
	}}
)

// Builtin returns the built-in layouts.
func Builtin() []Layout { return []Layout{LicenseServer, LicenseClient} }

// holdsKey reports whether c carries a private key.
func (c Content) holdsKey() bool {
	return c == ContentKey || c == ContentCombined || c.keyStore()
}

// keyStore reports whether c is a password-protected key store, a binary
// format of its own that takes no encoding.
func (c Content) keyStore() bool { return c == ContentPKCS12 || c == ContentJKS }

// multi reports whether c may hold several certificates.
func (c Content) multi() bool {
	return c == ContentCACert || c == ContentChain || c == ContentFullchain || c == ContentCombined
}

// encoding returns the file's effective encoding.
func (f File) encoding() Encoding {
	switch {
	case f.Encoding != "":
		return f.Encoding
	case f.Content == ContentCACertDER:
		return EncodingDER
	}
	return EncodingPEM
}

// mode returns the file's effective mode.
func (f File) mode() fs.FileMode {
	switch {
	case f.Mode != 0:
		return f.Mode
	case f.Content.holdsKey():
		return 0o600
	}
	return 0o644
}

// Validate checks a layout and returns the first problem as a one-line
// error naming the layout and the file.
func (l Layout) Validate() error {
	if l.Name == "" || strings.ContainsAny(l.Name, " \t\r\n/") {
		return fmt.Errorf("kit: layout name %q: use a non-empty name without spaces or slashes", l.Name)
	}
	if len(l.Files) == 0 {
		return fmt.Errorf("kit: layout %s: no files", l.Name)
	}
	seen := map[string]bool{}
	for _, f := range l.Files {
		if err := f.validate(); err != nil {
			return fmt.Errorf("kit: layout %s: %w", l.Name, err)
		}
		p := path.Clean(f.Path)
		if seen[p] {
			return fmt.Errorf("kit: layout %s: file %q appears twice", l.Name, f.Path)
		}
		seen[p] = true
	}
	return nil
}

func (f File) validate() error {
	switch {
	case f.Path == "":
		return fmt.Errorf("a file has no path")
	case strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "\\") || (len(f.Path) > 1 && f.Path[1] == ':'):
		return fmt.Errorf("file %q: the path must be relative to the kit directory", f.Path)
	case slices.Contains(strings.Split(f.Path, "/"), ".."):
		return fmt.Errorf("file %q: the path must not contain \"..\"", f.Path)
	case path.Clean(f.Path) == ".":
		return fmt.Errorf("file %q: the path names no file", f.Path)
	case !slices.Contains(Contents, f.Content):
		return fmt.Errorf("file %q: unknown content %q (valid: %s)", f.Path, f.Content, contentNames())
	}
	return f.validateFormat()
}

func (f File) validateFormat() error {
	switch e := f.encoding(); {
	case f.Content.keyStore() && f.Encoding != "":
		return fmt.Errorf("file %q: content %s has a format of its own; leave the encoding empty", f.Path, f.Content)
	case e != EncodingPEM && e != EncodingDER:
		return fmt.Errorf("file %q: unknown encoding %q (valid: pem, der)", f.Path, f.Encoding)
	case e == EncodingDER && f.Content.multi():
		return fmt.Errorf("file %q: content %s holds several certificates, which DER cannot; use pem", f.Path, f.Content)
	case e == EncodingPEM && f.Content == ContentCACertDER:
		return fmt.Errorf("file %q: content ca-cert-der is DER; use content ca-cert for PEM", f.Path)
	case f.Mode&^fs.ModePerm != 0:
		return fmt.Errorf("file %q: mode %#o is not a permission mode (0000-0777)", f.Path, uint32(f.Mode))
	case f.Mode&0o111 != 0:
		return fmt.Errorf("file %q: mode %#o makes the file executable", f.Path, uint32(f.Mode))
	case f.Content.holdsKey() && f.mode()&0o007 != 0:
		return fmt.Errorf("file %q: mode %#o lets everyone read a private key; use 0600 or 0640", f.Path, uint32(f.mode()))
	case f.mode()&0o400 == 0:
		return fmt.Errorf("file %q: mode %#o does not let the owner read the file", f.Path, uint32(f.mode()))
	}
	return nil
}

func contentNames() string {
	names := make([]string, len(Contents))
	for i, c := range Contents {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
