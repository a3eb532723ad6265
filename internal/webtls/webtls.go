// Package webtls keeps the HTTPS certificate of certkeeper's own web
// server.
//
// By default the server presents a certificate issued by certkeeper's
// built-in CA for the configured host names and addresses plus localhost,
// 127.0.0.1 and ::1. It is issued at first start, kept in the inventory
// (see Inventory, the production Issuer and Store), reused across
// restarts, and reissued when it is due for renewal or does not cover
// every configured name.
//
// A custom certificate replaces it: a PEM file holding the certificate,
// its chain and the unencrypted private key (Config.CustomFile, normally
// DATADIR/certs/web-server.pem), or a configured certificate and key file
// pair. It is picked up when it appears or changes, without a restart,
// and removing the file brings the default back. A broken custom
// certificate (unparseable, without a key, or whose key is not the
// certificate's) is logged and the certificate in use stays in use; at
// start the default is used then.
//
// At start and on every change the log says which certificate is in use
// ("web certificate in use": source default or custom, SHA-256
// fingerprint, subject, names, expiry).
//
// Typical use:
//
//	inv := webtls.NewInventory(st, auth, sealer)
//	m, err := webtls.New(ctx, cfg, inv, inv, log)
//	srv := &http.Server{Handler: h, TLSConfig: m.TLSConfig()}
//	go m.Run(ctx)
//	srv.ServeTLS(ln, "", "")
package webtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Sources of the certificate in use.
const (
	SourceDefault = "default"
	SourceCustom  = "custom"
)

// DefaultPoll is how often Run looks at the custom certificate files and
// at the default certificate's expiry.
const DefaultPoll = 5 * time.Second

// retryDelay is how long Run waits after a failed issuance of the default
// certificate before it tries again.
const retryDelay = time.Minute

// loopback names are always on the default certificate.
var loopback = []string{"localhost", "127.0.0.1", "::1"}

// Issuer issues the default certificate; Inventory implements it over
// the built-in CA.
type Issuer interface {
	// Issue returns a new server certificate for names (DNS names and IP
	// literals) with its chain (leaf first, without the root) and key.
	Issue(ctx context.Context, names []string) (*tls.Certificate, error)
}

// Store keeps the default certificate across restarts; Inventory
// implements it over the inventory.
type Store interface {
	// Load returns the stored default certificate, with its key and
	// chain; none (or none usable any more) gives an error wrapping
	// inventory.ErrNotFound.
	Load(ctx context.Context) (*tls.Certificate, error)
	// Save makes c the stored default certificate.
	Save(ctx context.Context, c *tls.Certificate) error
}

// Config configures a Manager. The zero value serves the default
// certificate for the loopback names only, with no custom certificate.
type Config struct {
	// Names are the host names and IP addresses the server is reached
	// by; the default certificate covers them, then localhost, 127.0.0.1
	// and ::1.
	Names []string
	// CustomFile is the combined PEM file of a custom certificate
	// (certificate, chain and key), normally DATADIR/certs/web-server.pem.
	// It may be missing. "" watches no file.
	CustomFile string
	// CertFile and KeyFile are a configured custom certificate (with its
	// chain) and key, used instead of CustomFile. Set both or neither;
	// unlike CustomFile they must exist.
	CertFile, KeyFile string
	// RenewBefore is how long before its expiry the default certificate is
	// reissued; 0 means a third of its lifetime. It is capped at half the
	// lifetime.
	RenewBefore time.Duration
	// Poll is how often Run looks at the custom files and the default
	// certificate; 0 means DefaultPoll.
	Poll time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Info describes the certificate in use.
type Info struct {
	// Source is SourceDefault or SourceCustom.
	Source string
	// Fingerprint is the lowercase hex SHA-256 of the leaf's DER, without
	// colons.
	Fingerprint string
	Subject     string
	// Names are the leaf's DNS names, then its IP addresses.
	Names     []string
	NotBefore time.Time
	NotAfter  time.Time
}

// served is the certificate in use with its description.
type served struct {
	cert *tls.Certificate
	info Info
}

// Manager picks the certificate the web server presents. GetCertificate,
// TLSConfig and Current are safe for concurrent use; Run is called once.
type Manager struct {
	cfg   Config
	names []string
	iss   Issuer
	st    Store
	log   *slog.Logger

	cur atomic.Pointer[served]

	// Owned by New, then by Run.
	def     *tls.Certificate
	custom  *tls.Certificate
	seen    string    // state of the custom source last acted on
	retryAt time.Time // no issuance of the default before
}

// New returns a Manager ready to serve: it loads the stored default
// certificate, issuing one when there is none usable, and reads the
// custom certificate. It fails when neither a default nor a custom
// certificate can be had. A nil st keeps the default in memory only (it
// is reissued at every start).
func New(ctx context.Context, cfg Config, iss Issuer, st Store, log *slog.Logger) (*Manager, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("webtls: a custom certificate file needs its key file, and a key file its certificate file")
	}
	names, err := normalizeNames(append(slices.Clone(cfg.Names), loopback...))
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = &memoryStore{}
	}
	m := &Manager{cfg: cfg, names: names, iss: iss, st: st, log: log}
	m.watchCustom()
	if err := m.ensureDefault(ctx); err != nil {
		if m.custom == nil {
			return nil, err
		}
		m.log.Error("default web certificate unavailable; the custom one is in use", "err", err)
		m.retryAt = cfg.Now().Add(retryDelay)
	}
	m.serve()
	return m, nil
}

// normalizeNames lower-cases DNS names, writes IP addresses canonically
// (IPv4-mapped ones as IPv4) and drops blanks and duplicates.
func normalizeNames(in []string) ([]string, error) {
	var out []string
	for _, n := range in {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if n == "" {
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(n, "[]")); err == nil {
			if a.Zone() != "" {
				return nil, fmt.Errorf("webtls: name %q: an address with a zone cannot be in a certificate", n)
			}
			n = a.Unmap().String()
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// GetCertificate returns the certificate in use, for tls.Config.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.cur.Load().cert, nil
}

// TLSConfig returns a server configuration presenting the certificate in
// use, TLS 1.2 and later.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: m.GetCertificate}
}

// Current describes the certificate in use.
func (m *Manager) Current() Info {
	info := m.cur.Load().info
	info.Names = slices.Clone(info.Names)
	return info
}

// Run watches the custom certificate and renews the default one when due,
// every Config.Poll, until ctx ends; it then returns nil. Failures are
// logged and the certificate in use stays in use.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_ = m.tick(ctx)
		}
	}
}

// RunOnce does one round of Run's work: it looks at the custom files and
// renews the default certificate when due. It returns the renewal's
// error, which is logged as well. Call it from one goroutine at a time,
// and not beside Run (the process's scheduler calls it instead of Run).
func (m *Manager) RunOnce(ctx context.Context) error { return m.tick(ctx) }

func (m *Manager) tick(ctx context.Context) error {
	m.watchCustom()
	if now := m.cfg.Now(); m.def == nil || !now.Before(m.renewAt(m.def.Leaf)) {
		if now.Before(m.retryAt) {
			return nil
		}
		reason := "due for renewal"
		if m.def == nil {
			reason = "none available"
		}
		if err := m.issueDefault(ctx, reason); err != nil {
			m.log.Error("default web certificate not renewed; will retry", "err", err, "retry_in", retryDelay)
			m.retryAt = now.Add(retryDelay)
			return err
		}
	}
	m.serve()
	return nil
}

// serve puts the custom certificate, or else the default one, in use,
// logging the change.
func (m *Manager) serve() {
	c, source := m.custom, SourceCustom
	if c == nil {
		c, source = m.def, SourceDefault
	}
	if c == nil {
		return
	}
	if old := m.cur.Load(); old != nil && old.cert == c {
		return
	}
	info := describe(c.Leaf, source)
	m.cur.Store(&served{cert: c, info: info})
	attrs := []any{"source", info.Source, "fingerprint", info.Fingerprint, "subject", info.Subject,
		"names", info.Names, "not_after", info.NotAfter}
	if source == SourceCustom {
		attrs = append(attrs, "file", m.customName())
	}
	m.log.Info("web certificate in use", attrs...)
	if now := m.cfg.Now(); now.After(info.NotAfter) {
		m.log.Warn("the web certificate in use has expired", "source", info.Source, "not_after", info.NotAfter)
	}
}

func describe(leaf *x509.Certificate, source string) Info {
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return Info{Source: source, Fingerprint: inventory.SHA256Hex(leaf.Raw), Subject: leaf.Subject.String(),
		Names: names, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter}
}

// memoryStore keeps the default certificate for the life of the process.
type memoryStore struct{ c *tls.Certificate }

func (s *memoryStore) Load(context.Context) (*tls.Certificate, error) {
	if s.c == nil {
		return nil, inventory.ErrNotFound
	}
	return s.c, nil
}

func (s *memoryStore) Save(_ context.Context, c *tls.Certificate) error {
	s.c = c
	return nil
}
