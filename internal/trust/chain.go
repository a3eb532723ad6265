package trust

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const (
	// maxFetches bounds the AIA caIssuers fetches of one Judge.
	maxFetches = 4
	// maxDepth bounds chain building when stepping over weak signatures.
	maxDepth = 8
)

// chainFindings decides whether the chain reaches a trusted root, in four
// steps (RFC 5280, section 6: path validation; RFC 8446, section 4.4.2: the
// server sends the chain, the root may be omitted):
//
//  1. The leaf verifies with the served certificates as intermediates: no
//     finding.
//  2. It verifies once Policy.Intermediates, and issuers fetched from AIA
//     caIssuers URLs, are added: incomplete_chain only.
//  3. The top of the served chain, or the leaf, is self-signed: that root is
//     not trusted, untrusted_root.
//  4. Otherwise the issuer of the top served certificate is nowhere to be
//     found: both incomplete_chain and untrusted_root.
//
// Verification happens at now, moved inside the served certificates'
// validity if need be, so that expiry, reported on its own, never decides
// trust. Extended key usages are not constrained.
func (p *Policy) chainFindings(ctx context.Context, chain []*x509.Certificate, now time.Time) []Finding {
	leaf, top := chain[0], topOf(chain)
	v := newVerifier(p.Roots, chain[1:], verifyTime(chain, now))
	if v.trusted(leaf, 0) {
		return nil
	}
	if p.completes(ctx, v, leaf, top) {
		return []Finding{{IncompleteChain, "the server does not send the intermediate certificate " + quote(top.Issuer.CommonName) +
			" that issued " + name(top) + "; clients without a copy of it will reject the chain"}}
	}
	if inventory.IsSelfSigned(top) || inventory.IsSelfSigned(leaf) {
		return []Finding{{UntrustedRoot, untrustedRoot(leaf, top)}}
	}
	return []Finding{
		{IncompleteChain, "the issuer of " + name(top) + ", " + quote(top.Issuer.CommonName) + ", was not sent by the server and cannot be found"},
		{UntrustedRoot, name(leaf) + " cannot be chained to a trusted root"},
	}
}

// completes reports whether the known intermediates, or failing them the
// fetched issuers, complete the chain.
func (p *Policy) completes(ctx context.Context, v *verifier, leaf, top *x509.Certificate) bool {
	v.addPool(p.Intermediates)
	if v.trusted(leaf, 0) {
		return true
	}
	if p.FetchIssuer == nil {
		return false
	}
	v.addCerts(p.fetchIssuers(ctx, top))
	return v.trusted(leaf, 0)
}

func untrustedRoot(leaf, top *x509.Certificate) string {
	if inventory.IsSelfSigned(leaf) {
		return name(leaf) + " is its own root, and that root is not trusted"
	}
	return name(leaf) + " chains to root " + quote(top.Subject.CommonName) + ", which is not trusted"
}

// topOf follows issuer names from the leaf through the served certificates
// (which may come in any order) and returns the last one reached.
func topOf(chain []*x509.Certificate) *x509.Certificate {
	cur, seen := chain[0], map[*x509.Certificate]bool{chain[0]: true}
	for !inventory.IsSelfSigned(cur) {
		next := issuerIn(cur, chain, seen)
		if next == nil {
			break
		}
		cur, seen[next] = next, true
	}
	return cur
}

func issuerIn(c *x509.Certificate, certs []*x509.Certificate, seen map[*x509.Certificate]bool) *x509.Certificate {
	for _, cand := range certs {
		if !seen[cand] && bytes.Equal(cand.RawSubject, c.RawIssuer) {
			return cand
		}
	}
	return nil
}

// verifyTime returns now if every served certificate is valid then, else
// the nearest instant at which they all are, else the nearest instant at
// which the leaf is.
func verifyTime(chain []*x509.Certificate, now time.Time) time.Time {
	from, until := chain[0].NotBefore, chain[0].NotAfter
	for _, c := range chain[1:] {
		from, until = later(from, c.NotBefore), earlier(until, c.NotAfter)
	}
	if from.After(until) {
		from, until = chain[0].NotBefore, chain[0].NotAfter
	}
	return earlier(later(now, from), until)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// fetchIssuers follows AIA caIssuers URLs (RFC 5280, section 4.2.2.1) up
// from top, at most maxFetches times. Failed fetches and unparsable answers
// are skipped: fetching only helps tell an incomplete chain from an
// untrusted one, and its failure leaves the stricter verdict standing.
func (p *Policy) fetchIssuers(ctx context.Context, top *x509.Certificate) []*x509.Certificate {
	var got []*x509.Certificate
	fetches := 0
	for cur := top; cur != nil && !inventory.IsSelfSigned(cur); {
		var next *x509.Certificate
		for _, url := range cur.IssuingCertificateURL {
			if fetches == maxFetches || ctx.Err() != nil {
				return got
			}
			fetches++
			if certs := p.fetch(ctx, url); len(certs) > 0 {
				got, next = append(got, certs...), certs[0]
				break
			}
		}
		cur = next
	}
	return got
}

func (p *Policy) fetch(ctx context.Context, url string) []*x509.Certificate {
	data, err := p.FetchIssuer(ctx, url)
	if err != nil {
		return nil
	}
	return parseCerts(data)
}

// parseCerts reads one or more certificates, PEM or DER (RFC 5280, section
// 4.2.2.1 says DER; PEM is common in practice). PKCS #7 "certs-only"
// bundles are not read.
func parseCerts(data []byte) []*x509.Certificate {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		certs, _ := x509.ParseCertificates(data)
		return certs
	}
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && block.Type == "CERTIFICATE" {
			certs = append(certs, c)
		}
	}
	return certs
}
