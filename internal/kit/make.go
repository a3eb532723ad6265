package kit

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Authority issues a kit's certificates, makes its CA and lists the CAs
// with their certificates; *ca.Authority is one.
type Authority interface {
	Issuer
	Init(ctx context.Context, o ca.InitOptions) (*inventory.CA, error)
	EnsureDefault(ctx context.Context) (*inventory.CA, bool, error)
	List(ctx context.Context) ([]ca.Listed, error)
}

// MakeOptions say where a kit goes and which CA issues it.
type MakeOptions struct {
	// Dir is the kit directory.
	Dir string
	// NewCA creates a root and issuing CA for the kit, named after Dir
	// and the time; it excludes Spec.CA and Spec.ClientsOnly.
	NewCA bool
	// Force is WriteOptions.Force.
	Force bool
	// Layouts are those the existing kit in Dir is read with, for
	// Spec.ClientsOnly.
	Layouts []Layout
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Made is a kit made and written.
type Made struct {
	Kit *Kit
	// CA names the CA that issued the kit.
	CA string
	// BackupDir holds the files Force replaced; "" when none.
	BackupDir string
}

// Make issues the kit s describes and writes it into o.Dir. Its CA is
// s.CA; with o.NewCA a new one; with s.ClientsOnly the CA that issued the
// existing kit in o.Dir (s.CA, when given, must be that one), the kit's
// root becoming s.Root; otherwise the default CA, created when there is
// none. The new CA is created as s.Requester. A failed write says that
// the certificates were issued.
func Make(ctx context.Context, auth Authority, s Spec, o MakeOptions) (*Made, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	var err error
	if s.ClientsOnly {
		s.CA, s.Root, err = caOf(ctx, auth, s.CA, o)
	} else {
		s.CA, err = pickCA(ctx, auth, s, o)
	}
	if err != nil {
		return nil, err
	}
	k, err := Create(ctx, auth, s)
	if err != nil {
		return nil, err
	}
	w, err := Write(o.Dir, k, WriteOptions{Force: o.Force, Add: s.ClientsOnly, Now: o.Now()})
	if err != nil {
		return nil, fmt.Errorf("%w (the certificates were issued and are in the inventory)", err)
	}
	return &Made{Kit: k, CA: s.CA, BackupDir: w.BackupDir}, nil
}

// pickCA returns the name of the CA the kit is issued from, creating it
// with o.NewCA, or the default CA when there is none yet.
func pickCA(ctx context.Context, auth Authority, s Spec, o MakeOptions) (string, error) {
	switch {
	case s.CA != "":
		return s.CA, nil
	case o.NewCA:
		name := fmt.Sprintf("kit-%s-%s", sanitize(filepath.Base(filepath.Clean(o.Dir))), o.Now().UTC().Format("20060102-150405"))
		c, err := auth.Init(ctx, ca.InitOptions{Name: name, Actor: s.Requester.Name})
		if err != nil {
			return "", err
		}
		return c.Name, nil
	}
	c, _, err := auth.EnsureDefault(ctx)
	if err != nil {
		return "", err
	}
	return c.Name, nil
}

// caOf finds the CA that issued the certificates of the existing kit in
// o.Dir (its server directory, else a client's), and returns its name and
// the kit's root. want, when given, must be that CA.
func caOf(ctx context.Context, auth Authority, want string, o MakeOptions) (string, *x509.Certificate, error) {
	side, err := existingSide(o.Dir, o.Layouts)
	if err != nil {
		return "", nil, err
	}
	issuer, root := side.Trust[0], side.Trust[len(side.Trust)-1]
	list, err := auth.List(ctx)
	if err != nil {
		return "", nil, err
	}
	for _, l := range list {
		if l.Certificate == nil || l.Certificate.SHA256 != inventory.SHA256Hex(issuer.Raw) {
			continue
		}
		if want != "" && want != l.CA.Name {
			return "", nil, fmt.Errorf("kit: the kit in %s was issued by CA %q, not %q", o.Dir, l.CA.Name, want)
		}
		return l.CA.Name, root, nil
	}
	return "", nil, fmt.Errorf("kit: the kit in %s was issued by %q, which is not one of this inventory's CAs", o.Dir, issuer.Subject)
}

// existingSide reads the kit's server directory, or else its first client
// directory, in the layout its files match.
func existingSide(dir string, layouts []Layout) (*Side, error) {
	dirs := []string{filepath.Join(dir, "server")}
	if more, _ := filepath.Glob(filepath.Join(dir, "clients", "*")); len(more) > 0 {
		dirs = append(dirs, more...)
	}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		l, err := Detect(d, layouts)
		if err != nil {
			return nil, err
		}
		side, err := Load(d, d, l)
		if err != nil {
			return nil, err
		}
		if len(side.Trust) == 0 {
			return nil, fmt.Errorf("kit: %s holds no CA certificate", d)
		}
		return side, nil
	}
	return nil, fmt.Errorf("kit: %s holds no kit (no server/ or clients/ directory): create the kit first", dir)
}

// sanitize keeps a name to letters, digits, '-' and '_'.
func sanitize(s string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
	if out == "" || strings.Trim(out, "-") == "" {
		return "kit"
	}
	return out
}
