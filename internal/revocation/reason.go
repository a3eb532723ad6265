package revocation

import (
	"fmt"
	"strings"
)

// Reason is a CRLReason code (RFC 5280, section 5.3.1). The same codes are
// used in OCSP responses (RFC 6960, section 4.2.1).
type Reason int

// Reasons certkeeper accepts. certificateHold (6) is refused: it asks for
// a revocation that can be undone, and a revocation in certkeeper is
// permanent (the CA/Browser Forum Baseline Requirements forbid holds for
// TLS certificates as well). removeFromCRL (8) belongs to delta CRLs and
// aACompromise (10) to attribute certificates; neither is a reason one
// revokes a certificate for.
const (
	Unspecified          Reason = 0
	KeyCompromise        Reason = 1
	CACompromise         Reason = 2
	AffiliationChanged   Reason = 3
	Superseded           Reason = 4
	CessationOfOperation Reason = 5
	PrivilegeWithdrawn   Reason = 9
)

const certificateHold Reason = 6

// reasonNames are the RFC 5280 names, which ParseReason matches without
// regard to case.
var reasonNames = map[Reason]string{
	Unspecified:          "unspecified",
	KeyCompromise:        "keyCompromise",
	CACompromise:         "cACompromise",
	AffiliationChanged:   "affiliationChanged",
	Superseded:           "superseded",
	CessationOfOperation: "cessationOfOperation",
	certificateHold:      "certificateHold",
	8:                    "removeFromCRL",
	PrivilegeWithdrawn:   "privilegeWithdrawn",
	10:                   "aACompromise",
}

// String returns the RFC 5280 name of r.
func (r Reason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// ParseReason reads a reason by its RFC 5280 name, case-insensitively
// ("keyCompromise", "keycompromise"); "" means unspecified.
func ParseReason(name string) (Reason, error) {
	if name == "" {
		return Unspecified, nil
	}
	for r, n := range reasonNames {
		if !strings.EqualFold(n, name) {
			continue
		}
		if !r.accepted() {
			return 0, fmt.Errorf("revocation: reason %s is not accepted: revocation is permanent and applies to public-key certificates (RFC 5280 section 5.3.1)", n)
		}
		return r, nil
	}
	return 0, fmt.Errorf("revocation: unknown reason %q (want one of %s)", name, strings.Join(ReasonNames(), ", "))
}

// ReasonNames lists the accepted reason names in code order.
func ReasonNames() []string {
	var out []string
	for r := Unspecified; r <= 10; r++ {
		if r.accepted() {
			out = append(out, r.String())
		}
	}
	return out
}

func (r Reason) accepted() bool {
	switch r {
	case Unspecified, KeyCompromise, CACompromise, AffiliationChanged,
		Superseded, CessationOfOperation, PrivilegeWithdrawn:
		return true
	}
	return false
}
