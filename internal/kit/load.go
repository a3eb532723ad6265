package kit

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/format"
)

// Side is one side of a kit read back from its directory.
type Side struct {
	// Label names the side in messages ("server", "client ws1").
	Label  string
	Dir    string
	Layout string
	// Leaf is the side's certificate; Intermediates are certificates its
	// file sent along (fullchain, combined), if any.
	Leaf          *x509.Certificate
	Intermediates []*x509.Certificate
	Key           crypto.Signer
	// Trust is the CA file's certificates: what this side accepts the
	// other side's certificate from.
	Trust []*x509.Certificate
	// CertFile, KeyFile and TrustFile are the files read, relative to Dir.
	CertFile, KeyFile, TrustFile string
	// Others are the layout's other files found in Dir (web-server.pem,
	// web-ca.cer, ...), checked against the files above; Missing are
	// those not found.
	Others  []OtherFile
	Missing []string

	memo *chainMemo // last ownChain result; a Side serves one Verify at a time
}

// OtherFile is a layout file beyond the certificate, key and CA files.
type OtherFile struct {
	File File
	// Bundle is what it holds; nil when it could not be read (see Err).
	Bundle *format.Bundle
	Err    error
}

// chainMemo is an ownChain result at one time.
type chainMemo struct {
	at    time.Time
	chain []*x509.Certificate
	err   error
}

// sources picks the files of l that a Side is read from.
func sources(l Layout) (cert, key, trust File, err error) {
	pick := func(cs ...Content) (File, bool) {
		for _, c := range cs {
			if i := slices.IndexFunc(l.Files, func(f File) bool { return f.Content == c }); i >= 0 {
				return l.Files[i], true
			}
		}
		return File{}, false
	}
	var ok1, ok2, ok3 bool
	cert, ok1 = pick(ContentCert, ContentFullchain, ContentCombined)
	key, ok2 = pick(ContentKey, ContentCombined)
	trust, ok3 = pick(ContentCACert, ContentCACertDER)
	if !ok1 || !ok2 || !ok3 {
		err = fmt.Errorf("kit: layout %s cannot be checked: it needs a certificate, a key and a CA certificate file", l.Name)
	}
	return cert, key, trust, err
}

// Load reads the side in dir written in layout l.
func Load(label, dir string, l Layout) (*Side, error) {
	cf, kf, tf, err := sources(l)
	if err != nil {
		return nil, err
	}
	s := &Side{Label: label, Dir: dir, Layout: l.Name, CertFile: cf.Path, KeyFile: kf.Path, TrustFile: tf.Path}
	cb, err := s.decode(cf.Path)
	if err != nil {
		return nil, err
	}
	if s.Leaf = cb.Leaf(); s.Leaf == nil {
		return nil, fmt.Errorf("kit: %s: %s holds no certificate", label, s.path(cf.Path))
	}
	s.Intermediates = cb.Chain[1:]
	kb, err := s.decode(kf.Path)
	if err != nil {
		return nil, err
	}
	if s.Key = kb.Key; s.Key == nil {
		return nil, fmt.Errorf("kit: %s: %s holds no private key", label, s.path(kf.Path))
	}
	tb, err := s.decode(tf.Path)
	if err != nil {
		return nil, err
	}
	s.Trust = append(append([]*x509.Certificate(nil), tb.Chain...), tb.Others...)
	s.readOthers(l)
	return s, nil
}

func (s *Side) readOthers(l Layout) {
	for _, f := range l.Files {
		if f.Path == s.CertFile || f.Path == s.KeyFile || f.Path == s.TrustFile {
			continue
		}
		if !exists(s.Dir, f.Path) {
			s.Missing = append(s.Missing, f.Path)
			continue
		}
		b, err := s.decode(f.Path)
		s.Others = append(s.Others, OtherFile{File: f, Bundle: b, Err: err})
	}
}

func (s *Side) path(name string) string { return filepath.Join(s.Dir, filepath.FromSlash(name)) }

func (s *Side) decode(name string) (*format.Bundle, error) {
	p := s.path(name)
	data, err := readLimited(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("kit: %s: %s is missing", s.Label, p)
	}
	if err != nil {
		return nil, fmt.Errorf("kit: %s: %w", s.Label, err)
	}
	b, err := format.Decode(data, nil)
	if err != nil {
		return nil, fmt.Errorf("kit: %s: %s: %w", s.Label, p, err)
	}
	return b, nil
}

func readLimited(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, format.MaxInputSize+1))
	if err == nil && len(data) > format.MaxInputSize {
		err = fmt.Errorf("%s: %w", p, format.ErrTooLarge)
	}
	return data, err
}

// Detect finds the layout dir is written in: among layouts whose
// certificate, key and CA files all exist in dir, the one with the most
// files present (the first on a tie).
func Detect(dir string, layouts []Layout) (Layout, error) {
	best, bestN := -1, 0
	for i, l := range layouts {
		cf, kf, tf, err := sources(l)
		if err != nil || !exists(dir, cf.Path) || !exists(dir, kf.Path) || !exists(dir, tf.Path) {
			continue
		}
		n := 0
		for _, f := range l.Files {
			if exists(dir, f.Path) {
				n++
			}
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return Layout{}, fmt.Errorf("kit: %s: no known layout matches its files (%s); name one with --server-layout/--client-layout", dir, layoutHints(layouts))
	}
	return layouts[best], nil
}

func exists(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
	return err == nil && fi.Mode().IsRegular()
}

func layoutHints(layouts []Layout) string {
	var hints []string
	for _, l := range layouts {
		if cf, kf, tf, err := sources(l); err == nil {
			hints = append(hints, fmt.Sprintf("%s needs %s, %s, %s", l.Name, tf.Path, cf.Path, kf.Path))
		}
	}
	return strings.Join(hints, "; ")
}
