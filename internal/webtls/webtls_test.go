package webtls

import (
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

func fingerprint(c *x509.Certificate) string { return inventory.SHA256Hex(c.Raw) }

func TestDefaultCertificate(t *testing.T) {
	f := newFixture(t)
	m, addr, logs := f.start(t, f.config("ck.example.internal", "192.0.2.10", "CK.Example.Internal."))

	var leaf *x509.Certificate
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "ck.example.internal", "192.0.2.10"} {
		leaf = mustHandshake(t, addr, name, f.roots, f.clock.Now) // verifies the chain to the CA root
	}
	cur := m.Current()
	if cur.Source != SourceDefault || cur.Fingerprint != fingerprint(leaf) {
		t.Errorf("Current = %s %s, want default %s", cur.Source, cur.Fingerprint, fingerprint(leaf))
	}
	if want := []string{"ck.example.internal", "localhost", "192.0.2.10", "127.0.0.1", "::1"}; !slices.Equal(cur.Names, want) {
		t.Errorf("Names = %v, want %v", cur.Names, want)
	}
	rec, err := f.st.CertificateBySHA256(t.Context(), cur.Fingerprint)
	if err != nil || !slices.Contains(rec.Labels, Label) || rec.KeyID == 0 || !rec.Internal {
		t.Errorf("inventory record = %+v, %v; want the internal certificate with label %s and its key", rec, err, Label)
	}
	inUse := logs.Lines("web certificate in use")
	if len(inUse) != 1 {
		t.Fatalf("%d \"in use\" log lines, want 1:\n%s", len(inUse), logs)
	}
	for _, want := range []string{"source=default", "fingerprint=" + cur.Fingerprint, "not_after=" + cur.NotAfter.Format("2006-01-02"),
		`subject="CN=ck.example.internal"`, "localhost"} {
		if !strings.Contains(inUse[0], want) {
			t.Errorf("log line %q lacks %q", inUse[0], want)
		}
	}
	if n := len(logs.Lines("default web certificate issued")); n != 1 {
		t.Errorf("%d issuance log lines, want 1", n)
	}
}

func TestRestartReusesStoredDefault(t *testing.T) {
	f := newFixture(t)
	first, _, _ := f.start(t, f.config("ck.example.internal"))

	again, addr, logs := f.start(t, f.config("ck.example.internal"))
	if got, want := again.Current().Fingerprint, first.Current().Fingerprint; got != want {
		t.Errorf("after a restart the default is %s, want the stored %s", got, want)
	}
	if got := mustHandshake(t, addr, "localhost", f.roots, f.clock.Now); fingerprint(got) != first.Current().Fingerprint {
		t.Error("after a restart the server presents another certificate than the stored default")
	}
	if n := len(logs.Lines("issued")); n != 0 {
		t.Errorf("a restart issued a certificate:\n%s", logs)
	}

	more, addr, logs := f.start(t, f.config("ck.example.internal", "new.example.internal"))
	if more.Current().Fingerprint == first.Current().Fingerprint {
		t.Error("a new configured name did not reissue the default")
	}
	mustHandshake(t, addr, "new.example.internal", f.roots, f.clock.Now)
	if len(logs.Lines("does not cover new.example.internal")) != 1 {
		t.Errorf("the log does not say why the default was reissued:\n%s", logs)
	}
}

func TestRenewalWhenDue(t *testing.T) {
	f := newFixture(t)
	m, addr, logs := f.start(t, f.config())
	stop := runStoppable(t, m)
	old := m.Current()
	life := old.NotAfter.Sub(old.NotBefore)
	f.clock.Advance(old.NotAfter.Add(-life/3).Sub(f.clock.Now()) + time.Minute)

	testenv.WaitFor(t, 10*time.Second, "the renewed default", func() bool { return m.Current().Fingerprint != old.Fingerprint })
	renewed := m.Current()
	leaf := mustHandshake(t, addr, "localhost", f.roots, f.clock.Now)
	if fingerprint(leaf) != renewed.Fingerprint || !renewed.NotAfter.After(old.NotAfter) {
		t.Errorf("after renewal the server presents %s (until %s), want %s until after %s",
			fingerprint(leaf), leaf.NotAfter, renewed.Fingerprint, old.NotAfter)
	}
	testenv.WaitFor(t, 10*time.Second, "the in-use log line", func() bool { return len(logs.Lines("web certificate in use")) == 2 })
	if len(logs.Lines(`reason="due for renewal"`)) != 1 {
		t.Errorf("the log does not say the default was renewed:\n%s", logs)
	}
	// Further ticks, as Run would make them, renew nothing more.
	stop()
	m.tick(t.Context())
	m.tick(t.Context())
	if n := len(logs.Lines("default web certificate issued")); n != 2 {
		t.Errorf("%d issuances after two more ticks, want 2 (the first and one renewal)", n)
	}

	restarted, _, _ := f.start(t, f.config())
	if restarted.Current().Fingerprint != renewed.Fingerprint {
		t.Error("a restart after renewal does not reuse the renewed default")
	}
}

func TestCustomFile(t *testing.T) {
	f := newFixture(t)
	vendor := testenv.NewOpenSSLCA(t, "Vendor")
	custom := vendor.Sign("web", vendor.ForeignCSR("web", "custom.example"), "serverAuth", "DNS:custom.example", "DNS:localhost")
	vendor.ForeignCSR("other", "other.example") // other.key: a key that is not custom's

	m, addr, logs := f.start(t, f.config())
	run(t, m)
	def := m.Current()

	writeFile(t, f.customFile(), vendor.Read("web.pem"), vendor.Read("intermediate.pem"), vendor.Read("web.key"))
	testenv.WaitFor(t, 10*time.Second, "the custom certificate", func() bool { return m.Current().Source == SourceCustom })
	leaf := mustHandshake(t, addr, "localhost", vendor.Roots(), nil) // the chain is presented too
	if fingerprint(leaf) != fingerprint(custom) || m.Current().Fingerprint != fingerprint(custom) {
		t.Errorf("the server presents %s, want the custom %s", fingerprint(leaf), fingerprint(custom))
	}
	inUse := logs.Lines("source=custom")
	if len(inUse) != 1 || !strings.Contains(inUse[0], "fingerprint="+fingerprint(custom)) ||
		!strings.Contains(inUse[0], "not_after=") || !strings.Contains(inUse[0], "web-server.pem") {
		t.Errorf("custom in-use log lines = %q, want one naming fingerprint, expiry and file", inUse)
	}

	for i, broken := range [][][]byte{
		{[]byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")},
		{vendor.Read("web.pem"), vendor.Read("other.key")},
		{vendor.Read("web.pem")},
	} {
		writeFile(t, f.customFile(), broken...)
		testenv.WaitFor(t, 10*time.Second, "the broken-file log line", func() bool { return len(logs.Lines("custom web certificate is broken")) == i+1 })
		if got := mustHandshake(t, addr, "localhost", vendor.Roots(), nil); fingerprint(got) != fingerprint(custom) {
			t.Errorf("broken file %d: the server presents %s, want the previous custom certificate", i, fingerprint(got))
		}
	}
	broken := logs.Lines("custom web certificate is broken")
	if !strings.Contains(broken[1], "level=ERROR") || !strings.Contains(broken[1], "not the key") {
		t.Errorf("mismatched key log line = %q, want an error saying the key is not the certificate's", broken[1])
	}

	if err := os.Remove(f.customFile()); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the default again", func() bool { return m.Current().Source == SourceDefault })
	if got := mustHandshake(t, addr, "localhost", f.roots, f.clock.Now); fingerprint(got) != def.Fingerprint {
		t.Errorf("after removing the custom file the server presents %s, want the default %s", fingerprint(got), def.Fingerprint)
	}
}

func TestBrokenCustomFileAtStart(t *testing.T) {
	f := newFixture(t)
	cert, key := selfSignedPair(t, "custom.example")
	_, otherKey := selfSignedPair(t, "other.example")
	writeFile(t, f.customFile(), cert, otherKey)

	m, addr, logs := f.start(t, f.config())
	if m.Current().Source != SourceDefault {
		t.Errorf("with a broken custom file at start the source is %s, want default", m.Current().Source)
	}
	mustHandshake(t, addr, "localhost", f.roots, f.clock.Now)
	if l := logs.Lines("custom web certificate is broken"); len(l) != 1 || !strings.Contains(l[0], "level=ERROR") {
		t.Errorf("broken custom file log = %q, want one error", l)
	}

	run(t, m)
	writeFile(t, f.customFile(), key, cert) // any order
	testenv.WaitFor(t, 10*time.Second, "the fixed custom certificate", func() bool { return m.Current().Source == SourceCustom })
	mustHandshake(t, addr, "custom.example", pool(testenv.ParseCertPEM(t, cert)), nil)
}

func TestConfiguredCertAndKeyFiles(t *testing.T) {
	f := newFixture(t)
	cert, key := selfSignedPair(t, "pair.example")
	dir := t.TempDir()
	cfg := f.config()
	cfg.CertFile, cfg.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, cfg.CertFile, cert)
	writeFile(t, cfg.KeyFile, key)

	m, addr, logs := f.start(t, cfg)
	if m.Current().Source != SourceCustom {
		t.Fatalf("source %s, want custom", m.Current().Source)
	}
	mustHandshake(t, addr, "pair.example", pool(testenv.ParseCertPEM(t, cert)), nil)
	if l := logs.Lines("source=custom"); len(l) != 1 || !strings.Contains(l[0], "cert.pem + ") {
		t.Errorf("in-use log = %q, want one line naming the files", l)
	}

	cfg.KeyFile = ""
	if _, err := New(t.Context(), cfg, f.inv, f.inv, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("New with a certificate file and no key file succeeded")
	}
}

func TestDefaultUnavailable(t *testing.T) {
	f := newFixture(t)
	f.inv.CA = "no-such-ca"
	if _, err := New(t.Context(), f.config(), f.inv, f.inv, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "no-such-ca") {
		t.Errorf("New without a CA and without a custom certificate = %v, want the CA's error", err)
	}

	cert, key := selfSignedPair(t, "custom.example")
	writeFile(t, f.customFile(), cert, key)
	m, _, logs := f.start(t, f.config())
	if m.Current().Source != SourceCustom || len(logs.Lines("default web certificate unavailable")) != 1 {
		t.Errorf("with a custom certificate and no default: source %s, log:\n%s", m.Current().Source, logs)
	}
}

func TestRenewalFailureKeepsCertificate(t *testing.T) {
	f := newFixture(t)
	m, addr, logs := f.start(t, f.config())
	old := m.Current()
	f.inv.CA = "retired-ca" // issuance now fails
	stop := runStoppable(t, m)
	f.clock.Advance(old.NotAfter.Sub(f.clock.Now()) - time.Hour)

	testenv.WaitFor(t, 10*time.Second, "the renewal error", func() bool { return len(logs.Lines("not renewed")) == 1 })
	if got := mustHandshake(t, addr, "localhost", f.roots, f.clock.Now); fingerprint(got) != old.Fingerprint {
		t.Error("a failed renewal changed the certificate in use")
	}
	// Ticks before the retry delay try nothing; the first one after it
	// tries again.
	stop()
	m.tick(t.Context())
	m.tick(t.Context())
	if n := len(logs.Lines("not renewed")); n != 1 {
		t.Errorf("%d renewal attempts after two more ticks before the retry delay, want 1", n)
	}
	f.clock.Advance(retryDelay)
	m.tick(t.Context())
	if n := len(logs.Lines("not renewed")); n != 2 {
		t.Errorf("%d renewal attempts after the retry delay, want 2", n)
	}
}
