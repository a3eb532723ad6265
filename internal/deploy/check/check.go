package check

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/probe"
	"github.com/certkeeper/certkeeper/internal/trust"
)

// Check sources, as stored in inventory.CheckResult.Source.
const (
	SourceProbe  = "probe"
	SourceAgent  = "agent"
	SourceReport = "report"
)

// Options tune a check. The zero value works: no timeout beyond the
// probe's own, no client certificate, time.Now, source "probe", direct
// connections.
type Options struct {
	Timeout time.Duration
	// ClientCertificate is presented to servers that demand mutual TLS.
	ClientCertificate *tls.Certificate
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Source is stored in the result; "" means "probe".
	Source string
	// Outbound carries every connection of the check (the probe, the
	// OCSP request) under the outbound policy; nil connects directly, as
	// the commands an operator runs for themself and the agent do.
	Outbound *outbound.Dialer
	// StartTLS is the plain-text protocol upgraded before the handshake
	// (probe.StartTLSAuto picks it by port); "" means the spec's
	// StartTLS, which "" in turn means TLS at once.
	StartTLS probe.StartTLS
	// AnyLeaf accepts whatever leaf is served when want names none: the
	// result's Match is set and no "not the expected certificate"
	// problem is reported (monitoring of endpoints that expect no
	// particular certificate). Every other point is still judged.
	AnyLeaf bool
}

// Run connects to spec.Host on spec.Port (0 means 443), upgrades the
// connection with spec.StartTLS (unless o.StartTLS names a protocol),
// sends spec.SNI (or the host; no SNI for an IP literal), and judges what the server
// presents against want with Evaluate. It never returns nil: when the
// server cannot be observed, Passed is false and Error says why in one
// line.
func Run(ctx context.Context, spec inventory.CheckSpec, want engine.Want, o Options) *inventory.CheckResult {
	r, _ := RunChain(ctx, spec, want, o)
	return r
}

// RunChain is Run that also returns the chain the server sent, leaf
// first (nil when the server could not be observed).
func RunChain(ctx context.Context, spec inventory.CheckSpec, want engine.Want, o Options) (*inventory.CheckResult, []*x509.Certificate) {
	r, chain := observe(ctx, spec, want, o)
	r.Source = sourceOr(o.Source)
	return r, chain
}

func observe(ctx context.Context, spec inventory.CheckSpec, want engine.Want, o Options) (*inventory.CheckResult, []*x509.Certificate) {
	addr := Address(spec)
	if spec.Host == "" {
		return Unobserved(addr, "", "no host to check", want, checkClock(o.Now)()), nil
	}
	res, err := probe.TLS(ctx, addr, probe.Options{ServerName: spec.SNI, Timeout: o.Timeout,
		ClientCertificate: o.ClientCertificate, Now: o.Now, DialContext: o.Outbound.DialContext,
		StartTLS: startTLS(spec, o)})
	now := checkClock(o.Now)()
	if err != nil {
		return Unobserved(addr, checkServerName(spec), engine.OneLine(err.Error()), want, now), nil
	}
	r := evaluate(res.Chain, res.ServerName, want, now, o.AnyLeaf)
	r.Address, r.Protocol, r.CipherSuite = addr, res.Version, res.CipherSuite
	if r.Match {
		checkRevocation(ctx, r, res.Chain, res.OCSPStaple, want, o.Timeout, now, o.Outbound)
	}
	return r, res.Chain
}

// Address is the host:port a check of spec connects to (port 0
// means 443).
func Address(spec inventory.CheckSpec) string {
	port := spec.Port
	if port == 0 {
		port = 443
	}
	return net.JoinHostPort(spec.Host, strconv.Itoa(port))
}

// startTLS is the protocol a check of spec upgrades: o's, else the spec's.
func startTLS(spec inventory.CheckSpec, o Options) probe.StartTLS {
	if o.StartTLS != probe.StartTLSNone {
		return o.StartTLS
	}
	return probe.StartTLS(spec.StartTLS)
}

// checkServerName is the name a check is made for: the SNI, else the host.
func checkServerName(spec inventory.CheckSpec) string {
	if spec.SNI != "" {
		return spec.SNI
	}
	return spec.Host
}

func checkClock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

func sourceOr(s string) string {
	if s == "" {
		return SourceProbe
	}
	return s
}

// Unobserved is the result of a check that saw no certificate, for the
// reason given (one line).
func Unobserved(addr, serverName, reason string, want engine.Want, now time.Time) *inventory.CheckResult {
	return &inventory.CheckResult{Time: now, Address: addr, ServerName: serverName,
		Error: reason, ExpectedSHA256: want.LeafSHA256()}
}

// Evaluate judges a served chain (leaf first, as the server sent it)
// against want at now. serverName is the name the server was asked for
// (SNI or IP literal); "" skips the name check. A name mismatch is a
// problem but does not fail the check: the name checked may be an
// internal name or an address the certificate does not carry. The
// result's Source and Address are left for the caller; an empty chain
// gives a result with Error set.
func Evaluate(served []*x509.Certificate, serverName string, want engine.Want, now time.Time) *inventory.CheckResult {
	return evaluate(served, serverName, want, now, false)
}

func evaluate(served []*x509.Certificate, serverName string, want engine.Want, now time.Time, anyLeaf bool) *inventory.CheckResult {
	if len(served) == 0 {
		return Unobserved("", serverName, "the server sent no certificate", want, now)
	}
	leaf := served[0]
	r := &inventory.CheckResult{Time: now, ServerName: serverName, ExpectedSHA256: want.LeafSHA256(),
		ServedSHA256: inventory.SHA256Hex(leaf.Raw), ServedSHA1: inventory.SHA1Hex(leaf.Raw),
		ServedSubject: leaf.Subject.String()}
	var p []string
	r.Match, p = matchLeaf(leaf, r.ExpectedSHA256, anyLeaf, p)
	r.IntermediatesServed, p = intermediatesServed(served, want.Intermediates, p)
	r.ChainVerifies, p = chainVerifies(served, want, now, p)
	r.NameMatches, p = nameMatches(leaf, serverName, p)
	var valid bool
	r.DaysLeft, valid, p = leafValidity(leaf, now, p)
	r.Passed = r.Match && r.IntermediatesServed && r.ChainVerifies && valid
	r.Problems = p
	return r
}

func matchLeaf(leaf *x509.Certificate, expected string, anyLeaf bool, p []string) (bool, []string) {
	served := inventory.SHA256Hex(leaf.Raw)
	switch {
	case expected == "" && anyLeaf:
		return true, p
	case expected == "":
		return false, append(p, "no expected certificate was given, so the served one cannot be confirmed")
	case served == expected:
		return true, p
	}
	return false, append(p, fmt.Sprintf("the server sends another certificate: %s (SHA-256 %s, expires %s) instead of the expected SHA-256 %s; "+
		"typically the files were not installed where the server reads them, or the server was not reloaded",
		certLabel(leaf), served, dateOf(leaf.NotAfter), expected))
}

// intermediatesServed checks that every wanted intermediate is among the
// served certificates (RFC 8446, section 4.4.2: the server sends the
// chain; only the root may be left out).
func intermediatesServed(served, want []*x509.Certificate, p []string) (bool, []string) {
	ok := true
	for _, ic := range want {
		if containsCert(served[1:], ic) {
			continue
		}
		ok = false
		p = append(p, fmt.Sprintf("the server does not send the intermediate certificate %s: clients that have not cached it will fail to verify the chain; "+
			"the server must send the full chain (for nginx: ssl_certificate fullchain.pem)", certLabel(ic)))
	}
	return ok, p
}

func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, s := range certs {
		if bytes.Equal(s.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// chainVerifies verifies the leaf with the served certificates as
// intermediates against want.Roots (RFC 5280, section 6), for TLS server
// authentication. It verifies at now, moved inside the leaf's validity
// when the leaf is expired or not yet valid, so that the leaf's own dates,
// reported apart, do not decide trust; an expired intermediate does.
func chainVerifies(served []*x509.Certificate, want engine.Want, now time.Time, p []string) (bool, []string) {
	at := now
	if at.After(served[0].NotAfter) {
		at = served[0].NotAfter
	} else if at.Before(served[0].NotBefore) {
		at = served[0].NotBefore
	}
	_, err := served[0].Verify(x509.VerifyOptions{Roots: want.Roots, Intermediates: certPool(served[1:]), CurrentTime: at})
	if err == nil {
		return true, p
	}
	return false, append(p, "the served chain does not verify: "+explainVerify(err, served, want, now))
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	cp := x509.NewCertPool()
	for _, c := range certs {
		cp.AddCert(c)
	}
	return cp
}

// explainVerify says in plain words why x509 verification failed. An
// unknown authority is told apart (missing intermediate or untrusted root)
// by package trust.
func explainVerify(err error, served []*x509.Certificate, want engine.Want, now time.Time) string {
	var inv x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv):
		return explainInvalid(inv)
	case errors.As(err, &ua):
		return explainUnknownAuthority(served, want, now)
	}
	return engine.OneLine(err.Error())
}

func explainInvalid(e x509.CertificateInvalidError) string {
	c := certLabel(e.Cert)
	switch e.Reason {
	case x509.Expired:
		return c + " is expired or not yet valid (" + dateOf(e.Cert.NotBefore) + " to " + dateOf(e.Cert.NotAfter) + ")"
	case x509.NotAuthorizedToSign:
		return c + " signed a certificate but is not a CA allowed to sign certificates"
	case x509.IncompatibleUsage:
		return "the certificate is not allowed for TLS server authentication (its extended key usage, or a CA's, excludes it)"
	case x509.CANotAuthorizedForThisName:
		return c + " is not allowed to issue certificates for the names of the served certificate (name constraints)"
	case x509.TooManyIntermediates:
		return "the chain is longer than " + c + " allows (path length constraint)"
	}
	return engine.OneLine(e.Error())
}

func explainUnknownAuthority(served []*x509.Certificate, want engine.Want, now time.Time) string {
	policy := &trust.Policy{Roots: want.Roots, Intermediates: certPool(want.Intermediates), Now: func() time.Time { return now }}
	var msgs []string
	for _, f := range policy.Judge(context.Background(), served, "") {
		if f.Code == trust.UntrustedRoot || f.Code == trust.IncompleteChain {
			msgs = append(msgs, f.Message)
		}
	}
	if len(msgs) == 0 {
		return certLabel(served[0]) + " is not signed by any certificate the server sends or a trusted root holds"
	}
	return strings.Join(msgs, "; ")
}

// nameMatches checks serverName against the leaf (RFC 6125, section 6, as
// x509.Certificate.VerifyHostname implements it). A mismatch is reported
// but does not fail a check.
func nameMatches(leaf *x509.Certificate, serverName string, p []string) (bool, []string) {
	if serverName == "" {
		return false, p
	}
	if leaf.VerifyHostname(serverName) == nil {
		return true, p
	}
	return false, append(p, fmt.Sprintf("the served certificate is not valid for %q (it names %s): clients asking for that name will refuse it "+
		"(this does not fail the check, whose server name may be an internal name or an address)", serverName, certNames(leaf)))
}

// leafValidity returns the whole days from now to the leaf's notAfter
// (rounded down: negative once expired) and whether now is inside its
// validity period (RFC 5280, section 4.1.2.5, inclusive bounds).
func leafValidity(leaf *x509.Certificate, now time.Time, p []string) (int, bool, []string) {
	days := int(math.Floor(leaf.NotAfter.Sub(now).Hours() / 24))
	switch {
	case now.After(leaf.NotAfter):
		return days, false, append(p, fmt.Sprintf("the served certificate expired on %s", dateOf(leaf.NotAfter)))
	case now.Before(leaf.NotBefore):
		return days, false, append(p, fmt.Sprintf("the served certificate is not valid before %s", dateOf(leaf.NotBefore)))
	}
	return days, true, p
}

// certLabel names a certificate by its subject, or its serial number when
// the subject is empty.
func certLabel(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return strconv.Quote(s)
	}
	return "serial " + c.SerialNumber.Text(16)
}

func certNames(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no DNS name or IP address"
	}
	return strings.Join(names, ", ")
}

func dateOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }
