package trust

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Minimum key sizes, after NIST SP 800-57 part 1 and the CA/Browser Forum
// Baseline Requirements (section 6.1.5): 112-bit security at least.
const (
	minRSABits = 2048
	minECBits  = 256
)

// weakKeys reports every certificate in the chain with a key below 112-bit
// security: RSA under 2048 bits, EC under 256 bits, and DSA of any size
// (FIPS 186-5 withdrew DSA for signing).
func weakKeys(chain []*x509.Certificate) []Finding {
	var fs []Finding
	for _, c := range chain {
		if why := keyWeakness(c); why != "" {
			fs = append(fs, Finding{WeakKey, name(c) + " has a weak key: " + why})
		}
	}
	return fs
}

func keyWeakness(c *x509.Certificate) string {
	if c.PublicKeyAlgorithm == x509.DSA {
		return "DSA keys are no longer acceptable"
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits {
			return fmt.Sprintf("RSA %d bits, fewer than %d", n, minRSABits)
		}
	case *ecdsa.PublicKey:
		if n := k.Curve.Params().BitSize; n < minECBits {
			return fmt.Sprintf("EC %d bits (%s), fewer than %d", n, k.Curve.Params().Name, minECBits)
		}
	}
	return ""
}

// weakSignatures reports every certificate signed with MD2, MD5 or SHA-1
// (RFC 6151 and RFC 9155 deprecate them; collisions are practical). A
// self-signed root is exempt: a trust anchor is trusted for its key, not
// its signature (RFC 5280, section 6.1.1(d)). A self-signed leaf is not a
// root and is reported.
func weakSignatures(chain []*x509.Certificate) []Finding {
	var fs []Finding
	for i, c := range chain {
		if !weakAlgorithm(c.SignatureAlgorithm) || (i > 0 && inventory.IsSelfSigned(c)) {
			continue
		}
		fs = append(fs, Finding{WeakSignature, name(c) + " is signed with " + c.SignatureAlgorithm.String() + ", a broken hash"})
	}
	return fs
}

func weakAlgorithm(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}
