package format

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
)

// maxSignatureChecks bounds the signature verifications spent linking one
// input's certificates. Past it, issuer links rest on names and key
// identifiers alone, so that thousands of look-alike certificates cannot
// make Decode verify signatures for hours.
const maxSignatureChecks = 2048

// buildBundle puts certs in order and matches key to the leaf.
//
// The leaf is the certificate whose public key is key's (the newest one if
// several are), or, without a matching key, the certificate that issues
// no other certificate in the set and heads the longest chain (ties go to
// a non-CA certificate, then to input order). From the leaf, issuer links
// are followed (see issuerGraph) to build Chain; everything else goes to
// Others, in input order. With trustStore set and no key, nothing is
// treated as a chain: all certificates go to Others.
func buildBundle(kind Kind, certs []*x509.Certificate, key crypto.Signer, trustStore bool) *Bundle {
	b := &Bundle{Kind: kind, Key: key}
	certs = dedupe(certs)
	if len(certs) == 0 {
		return b
	}
	if trustStore && key == nil {
		b.Others = certs
		return b
	}
	g := newIssuerGraph(certs)
	leaf := g.keyLeaf(key)
	if leaf < 0 {
		leaf = g.unkeyedLeaf()
	}
	inChain := make([]bool, len(certs))
	for _, i := range g.chainFrom(leaf) {
		inChain[i] = true
		b.Chain = append(b.Chain, certs[i])
	}
	for i, c := range certs {
		if !inChain[i] {
			b.Others = append(b.Others, c)
		}
	}
	b.KeyMatchesLeaf = keyMatches(key, b.Chain[0])
	return b
}

// dedupe drops repeated certificates (same DER), keeping the first.
func dedupe(certs []*x509.Certificate) []*x509.Certificate {
	seen := make(map[string]bool, len(certs))
	out := certs[:0:0]
	for _, c := range certs {
		if c == nil || seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		out = append(out, c)
	}
	return out
}

// issuerGraph links each certificate to its issuer within the set.
type issuerGraph struct {
	certs  []*x509.Certificate
	parent []int // index of the issuer, or -1
	issues []bool
	checks int // signature verifications spent
}

// newIssuerGraph finds, for each certificate, an issuer in the set: a
// certificate whose subject is its issuer DN (RFC 5280 §4.1.2.4), whose
// subject key identifier equals its authority key identifier when both
// are present (RFC 5280 §4.2.1.1), and whose key verifies its signature.
// A self-signed certificate has no parent.
func newIssuerGraph(certs []*x509.Certificate) *issuerGraph {
	g := &issuerGraph{certs: certs, parent: make([]int, len(certs)), issues: make([]bool, len(certs))}
	bySubject := make(map[string][]int, len(certs))
	for i, c := range certs {
		bySubject[string(c.RawSubject)] = append(bySubject[string(c.RawSubject)], i)
	}
	for i, c := range certs {
		g.parent[i] = -1
		for _, j := range bySubject[string(c.RawIssuer)] {
			if j != i && g.issued(certs[j], c) {
				g.parent[i] = j
				g.issues[j] = true
				break
			}
		}
	}
	return g
}

// issued reports whether parent plausibly issued child.
func (g *issuerGraph) issued(parent, child *x509.Certificate) bool {
	if len(child.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 &&
		!bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId) {
		return false
	}
	if g.checks >= maxSignatureChecks {
		return true
	}
	g.checks++
	return signedBy(child, parent)
}

// signedBy verifies child's signature with parent's key. Signatures Go
// deems insecure (SHA-1) still link: ordering is not validation.
func signedBy(child, parent *x509.Certificate) bool {
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

// keyLeaf returns the index of the newest certificate for key, or -1.
func (g *issuerGraph) keyLeaf(key crypto.Signer) int {
	best := -1
	for i, c := range g.certs {
		if keyMatches(key, c) && (best < 0 || c.NotBefore.After(g.certs[best].NotBefore)) {
			best = i
		}
	}
	return best
}

// unkeyedLeaf picks the leaf when no key decides it.
func (g *issuerGraph) unkeyedLeaf() int {
	best, bestLen := -1, 0
	for i, c := range g.certs {
		if g.issues[i] {
			continue
		}
		n := len(g.chainFrom(i))
		if best < 0 || n > bestLen || (n == bestLen && g.certs[best].IsCA && !c.IsCA) {
			best, bestLen = i, n
		}
	}
	if best < 0 { // every certificate issues another: a cycle
		best = 0
	}
	return best
}

// chainFrom follows issuer links from i, stopping at a root or a loop.
func (g *issuerGraph) chainFrom(i int) []int {
	seen := make(map[int]bool)
	var chain []int
	for ; i >= 0 && !seen[i]; i = g.parent[i] {
		seen[i] = true
		chain = append(chain, i)
	}
	return chain
}
