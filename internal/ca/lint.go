package ca

import (
	"fmt"
	"sort"
	"strings"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3/lint"

	// The lint sources certkeeper applies register themselves with
	// zlint's global registry; the others are not linked in.
	_ "github.com/zmap/zlint/v3/lints/cabf_br"
	_ "github.com/zmap/zlint/v3/lints/community"
	_ "github.com/zmap/zlint/v3/lints/rfc"
)

// lintSet names the lints that apply to a kind of certificate.
type lintSet struct {
	// webPKI adds the CA/Browser Forum Baseline Requirements (TLS server
	// certificates).
	webPKI bool
	// published is set when certificates carry CRL and AIA URLs.
	published bool
	// foreignKey is set when the key came from a CSR: the key-quality
	// lints (weak keys) run only then.
	foreignKey bool
}

// Lint sources for every certificate: the RFCs (RFC 5280 profile, RFC
// 3279/5480/8813 algorithms, RFC 5891 IDNA, RFC 6960 OCSP) and zlint's
// community lints. TLS server certificates add the CA/B Forum Baseline
// Requirements, minus the rules below that only fit publicly trusted CAs.
var (
	baseSources = lint.SourceList{lint.RFC5280, lint.RFC3279, lint.RFC5480, lint.RFC5891, lint.RFC6960,
		lint.RFC8813, lint.Community}
	webSources = append(lint.SourceList{lint.CABFBaselineRequirements}, baseSources...)
)

// excludedLints are never run, with why (see docs/ca.md).
var excludedLints = map[string]string{
	// A private CA asserts no CA/B Forum policy OIDs (BR 7.1.6.4).
	"e_sub_cert_certificate_policies_missing": "public-trust policy OIDs",
	"e_sub_cert_cert_policy_empty":            "public-trust policy OIDs",
	// Private TLS certificates may live up to 825 days (the profile
	// limit), beyond the shrinking limits of publicly trusted ones
	// (CA/B Forum SC-081: 200 days from 2026-03-15, 100 from 2027-03-15,
	// 47 from 2029-03-15; each lint applies from its date).
	"e_server_cert_valid_time_longer_than_200_days": "private-CA validity limits",
	"w_server_cert_valid_time_longer_than_199_days": "private-CA validity limits",
	"e_server_cert_valid_time_longer_than_100_days": "private-CA validity limits",
	"w_server_cert_valid_time_longer_than_99_days":  "private-CA validity limits",
	"e_server_cert_valid_time_longer_than_47_days":  "private-CA validity limits",
	"w_server_cert_valid_time_longer_than_46_days":  "private-CA validity limits",
	// Internal names (.internal, .lan, .corp, .test) and private
	// addresses (RFC 1918) are what a private CA is for.
	"e_dnsname_not_valid_tld":                "internal names",
	"e_ext_san_contains_reserved_ip":         "private addresses",
	"w_sub_cert_aia_contains_internal_names": "internal names",
	// RFC 5280 4.2.1.2 asks for a subject key identifier in every
	// certificate; BR 7.1.2.7.6 advises against it for subscribers. The
	// RFC wins for a private CA.
	"w_ext_subject_key_identifier_not_recommended_subscriber": "RFC 5280 wins",
	// Checks every signature against a leaked key of one public CA (two
	// ECDSA P-384 verifications, 95% of zlint's time per certificate);
	// certkeeper knows its issuers' keys.
	"e_cert_issued_by_compromised_emudhra_ca": "cost; a public CA's leaked key",
	// The subject CN is kept (one of the SANs): BR 7.1.4.3 only
	// discourages it and people and older tools read it.
	"w_subject_common_name_included": "common name kept",
}

// unpublishedLints are skipped when no BaseURL is configured: the
// certificates then carry no CRL or AIA URLs.
var unpublishedLints = []string{
	"e_sub_cert_aia_missing",
	"w_sub_cert_aia_does_not_contain_issuing_ca_url",
	"e_missing_crl_distrib_point",
}

// keyQualityLints look for weak keys (small ECDSA private keys, RSA
// moduli open to Fermat factorization or with small factors). They cost
// about a quarter of the lint time and tell nothing about a key
// certkeeper generated itself from crypto/rand, so they run on CSR keys
// only.
var keyQualityLints = []string{
	"e_ecdsa_small_private_key",
	"e_rsa_fermat_factorization",
	"w_rsa_mod_factors_smaller_than_752",
}

// linter holds the lints of each set, filtered once at construction: a
// zlint registry filter per issuance would cost more than the lints.
type linter struct {
	sets map[lintSet]lintList
}

type lintList struct {
	lints []*lint.CertificateLint
	cfg   lint.Configuration
}

func newLinter() *linter {
	l := &linter{sets: make(map[lintSet]lintList)}
	for _, web := range []bool{false, true} {
		for _, pub := range []bool{false, true} {
			for _, foreign := range []bool{false, true} {
				set := lintSet{webPKI: web, published: pub, foreignKey: foreign}
				l.sets[set] = filterLints(set)
			}
		}
	}
	return l
}

func filterLints(set lintSet) lintList {
	opts := lint.FilterOptions{IncludeSources: baseSources}
	if set.webPKI {
		opts.IncludeSources = webSources
	}
	reg, err := lint.GlobalRegistry().Filter(opts)
	if err != nil {
		panic(fmt.Sprintf("ca: lint registry: %v", err)) // static options: a programming error
	}
	skip := make(map[string]bool)
	for name := range excludedLints {
		skip[name] = true
	}
	if !set.published {
		for _, name := range unpublishedLints {
			skip[name] = true
		}
	}
	if !set.foreignKey {
		for _, name := range keyQualityLints {
			skip[name] = true
		}
	}
	var out []*lint.CertificateLint
	for _, cl := range reg.CertificateLints().Lints() {
		// Notices never refuse a certificate: notice-only lints (named
		// n_...) are not worth running.
		if !skip[cl.Name] && !strings.HasPrefix(cl.Name, "n_") {
			out = append(out, cl)
		}
	}
	return lintList{lints: out, cfg: reg.GetConfiguration()}
}

// check lints der and names every lint that warned or failed.
func (l *linter) check(set lintSet, der []byte) error {
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("ca: lint: parse: %w", err)
	}
	list := l.sets[set]
	var failed []string
	for _, cl := range list.lints {
		r := cl.Execute(c, list.cfg)
		if r.Status >= lint.Warn {
			failed = append(failed, cl.Name)
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return refused("", "lint refused the certificate: %s", strings.Join(failed, ", "))
	}
	return nil
}

// LintCertificate runs the lints that apply to a certificate of profile p
// (with or without published CRL and AIA URLs; key-quality lints
// included) on der, as issuance does on the throwaway copy. Tests use it
// to check final certificates. It filters zlint's registry on each call.
func LintCertificate(p Profile, published bool, der []byte) error {
	set := lintSet{webPKI: p.spec().webPKI, published: published, foreignKey: true}
	return newLinter().check(set, der)
}
