// Package trust judges a certificate chain against a trust policy and says,
// in stable codes and plain sentences, what is wrong with it.
//
// It never fetches anything on its own: the chain comes from a file or from
// package probe, and the only outside access, fetching missing issuers named
// in the Authority Information Access extension, goes through a function the
// caller supplies.
package trust

import (
	"context"
	"crypto/x509"
	"slices"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Code identifies a finding. The strings are a stable public interface: they
// appear in JSON output and must never change.
type Code string

// The codes, in the fixed order in which Codes returns them.
const (
	// Expired: the leaf, or an intermediate in the chain, is past its
	// notAfter (RFC 5280, section 4.1.2.5).
	Expired Code = "expired"
	// NotYetValid: the leaf's notBefore is in the future.
	NotYetValid Code = "not_yet_valid"
	// ExpiresSoon: the leaf expires within Policy.ExpiresSoon.
	ExpiresSoon Code = "expires_soon"
	// SelfSigned: the leaf is signed by its own key.
	SelfSigned Code = "self_signed"
	// UntrustedRoot: no chain can be built to a trusted root.
	UntrustedRoot Code = "untrusted_root"
	// HostnameMismatch: the leaf is not valid for the name that was asked
	// for (RFC 6125, section 6).
	HostnameMismatch Code = "hostname_mismatch"
	// IncompleteChain: the chain as served lacks intermediates that a client
	// needs to reach a root (RFC 8446, section 4.4.2: the sender supplies
	// the chain, the root may be omitted).
	IncompleteChain Code = "incomplete_chain"
	// WeakKey: a certificate in the chain has an RSA key under 2048 bits, an
	// EC key under 256 bits, or a DSA key.
	WeakKey Code = "weak_key"
	// WeakSignature: a certificate in the chain (other than a self-signed
	// root, whose signature nobody checks) is signed with MD2, MD5 or SHA-1.
	WeakSignature Code = "weak_signature"
)

// codeOrder is the order of the const list above.
var codeOrder = []Code{Expired, NotYetValid, ExpiresSoon, SelfSigned, UntrustedRoot,
	HostnameMismatch, IncompleteChain, WeakKey, WeakSignature}

// Finding is one thing wrong with a chain.
type Finding struct {
	Code Code
	// Message is one plain-English sentence naming the certificate (by its
	// subject common name) and the fact, e.g.
	// `certificate "www.example.com" expired 3 days ago (2026-11-19)`.
	Message string
}

// Policy is what a chain is judged against. The zero value is usable: the
// system roots, no extra intermediates, a 30-day warning, the real clock and
// no fetching. A Policy is safe for concurrent use if its fields are.
type Policy struct {
	// Roots are the trusted roots; nil means the system roots.
	Roots *x509.CertPool
	// Intermediates are known intermediates that may complete a chain a
	// server failed to send; they never make a chain trusted without an
	// incomplete_chain finding. nil means none.
	Intermediates *x509.CertPool
	// ExpiresSoon is how close to its notAfter a leaf gets an expires_soon
	// finding; 0 means 30 days.
	ExpiresSoon time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// FetchIssuer, if set, fetches the certificate (DER or PEM) at an
	// Authority Information Access caIssuers URL (RFC 5280, section
	// 4.2.2.1). It is used only to tell an incomplete chain from an
	// untrusted one, at most maxFetches times per Judge. nil means no
	// fetching.
	FetchIssuer func(ctx context.Context, url string) ([]byte, error)
}

const defaultExpiresSoon = 30 * 24 * time.Hour

// Judge returns the findings for chain, sorted by code in the order of
// Codes. The chain is as served or as found in a file: leaf first, the rest
// in any order. hostname "" skips the name check; an IP literal is checked
// against the IP address SANs. An empty chain has no findings. A nil *Policy
// behaves as the zero Policy.
//
// The rules:
//   - expired, not_yet_valid, expires_soon: the leaf's notAfter is before
//     now, its notBefore after now, or its notAfter within ExpiresSoon; an
//     expired intermediate among the served certificates is expired too.
//   - self_signed: the leaf's subject is its issuer and its signature
//     verifies with its own key.
//   - hostname_mismatch: hostname is given and the leaf is not valid for it.
//   - untrusted_root, incomplete_chain: the leaf is verified with the
//     served certificates as intermediates (RFC 5280, section 6) at now,
//     moved inside the served certificates' validity if need be so that
//     expiry never decides trust. If it verifies, neither. If it verifies
//     once Intermediates, and issuers fetched through FetchIssuer, are
//     added: incomplete_chain. Else if the top of the served chain, or the
//     leaf, is self-signed: untrusted_root. Else (the top's issuer is
//     nowhere): incomplete_chain and untrusted_root.
//   - weak_key: any certificate with RSA under 2048 bits, EC under 256 bits,
//     or DSA.
//   - weak_signature: any certificate but a self-signed root signed with
//     MD2, MD5 or SHA-1. A SHA-1 link is still followed when building the
//     chain, so that trust is judged apart from it; an MD2 or MD5 link
//     between served certificates cannot be checked and breaks the chain.
func (p *Policy) Judge(ctx context.Context, chain []*x509.Certificate, hostname string) []Finding {
	if len(chain) == 0 {
		return nil
	}
	if p == nil {
		p = &Policy{}
	}
	now := p.now()
	var fs []Finding
	fs = append(fs, p.validity(chain, now)...)
	fs = append(fs, selfSignedLeaf(chain[0])...)
	fs = append(fs, nameMismatch(chain[0], hostname)...)
	fs = append(fs, p.chainFindings(ctx, chain, now)...)
	fs = append(fs, weakKeys(chain)...)
	fs = append(fs, weakSignatures(chain)...)
	slices.SortStableFunc(fs, func(a, b Finding) int { return rank(a.Code) - rank(b.Code) })
	return fs
}

// Codes returns the distinct codes of fs in the order of the const list
// (Expired first, WeakSignature last). It returns nil for no findings.
func Codes(fs []Finding) []Code {
	var out []Code
	for _, c := range codeOrder {
		if slices.ContainsFunc(fs, func(f Finding) bool { return f.Code == c }) {
			out = append(out, c)
		}
	}
	return out
}

func rank(c Code) int {
	if i := slices.Index(codeOrder, c); i >= 0 {
		return i
	}
	return len(codeOrder)
}

func (p *Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Policy) expiresSoon() time.Duration {
	if p.ExpiresSoon > 0 {
		return p.ExpiresSoon
	}
	return defaultExpiresSoon
}

// selfSignedLeaf reports a leaf whose subject is its issuer and whose
// signature verifies with its own key (RFC 5280, section 3.2). SHA-1
// self-signatures still count: the weakness is reported separately.
func selfSignedLeaf(leaf *x509.Certificate) []Finding {
	if !inventory.IsSelfSigned(leaf) {
		return nil
	}
	return []Finding{{SelfSigned, name(leaf) + " is self-signed: it vouches for itself and no authority stands behind it"}}
}

// nameMismatch applies the RFC 6125 rules as implemented by
// x509.Certificate.VerifyHostname: DNS SANs with a left-most wildcard, IP
// literals against IP SANs, never the subject common name.
func nameMismatch(leaf *x509.Certificate, hostname string) []Finding {
	if hostname == "" || leaf.VerifyHostname(hostname) == nil {
		return nil
	}
	return []Finding{{HostnameMismatch, name(leaf) + " is not valid for " + quote(hostname) + " (it names " + names(leaf) + ")"}}
}
