package check

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/outbound"
)

// Revocation statuses of a check.
const (
	RevocationGood    = "good"
	RevocationRevoked = "revoked"
	RevocationUnknown = "unknown"
)

// maxOCSPResponse bounds what an OCSP responder may send.
const maxOCSPResponse = 64 << 10

// checkRevocation learns the served leaf's revocation status: from the
// response the server stapled when it has one, else from the OCSP
// responder the certificate names. A revoked certificate fails the
// check; a status that cannot be learnt (no responder reached, a stale or
// unverifiable answer) is said but does not.
func checkRevocation(ctx context.Context, r *inventory.CheckResult, served []*x509.Certificate, staple []byte,
	want engine.Want, timeout time.Duration, now time.Time, dialer *outbound.Dialer) {
	leaf := served[0]
	issuer := issuerOf(leaf, slices.Concat(served[1:], want.Intermediates))
	if issuer == nil {
		return
	}
	resp, err := stapled(staple, leaf, issuer)
	if resp == nil && err == nil && len(leaf.OCSPServer) > 0 {
		if !issuerTrusted(issuer, served[1:], want, now) {
			r.Problems = append(r.Problems, "revocation was not asked: the certificate's issuer does not chain to a root of the trust store")
			return
		}
		resp, err = askOCSP(ctx, dialer, leaf, issuer, timeout)
	}
	switch {
	case err != nil:
		r.Problems = append(r.Problems, fmt.Sprintf("revocation could not be checked (this does not fail the check): %s", engine.OneLine(err.Error())))
	case resp == nil:
		return
	case !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate):
		r.Problems = append(r.Problems, fmt.Sprintf("the OCSP response is out of date (next update was due %s): "+
			"revocation could not be checked (this does not fail the check)", dateOf(resp.NextUpdate)))
	case resp.Status == ocsp.Good:
		r.Revocation = RevocationGood
	case resp.Status == ocsp.Revoked:
		r.Revocation, r.Passed = RevocationRevoked, false
		r.Problems = append(r.Problems, fmt.Sprintf("the certificate was revoked on %s: clients that check revocation refuse it; deploy a new one",
			dateOf(resp.RevokedAt)))
	default:
		r.Revocation = RevocationUnknown
		r.Problems = append(r.Problems, "the OCSP responder does not know the certificate (this does not fail the check)")
	}
}

// issuerTrusted reports whether issuer chains, through the served and
// wanted intermediates, to want.Roots at now: only then is its OCSP
// responder asked.
func issuerTrusted(issuer *x509.Certificate, served []*x509.Certificate, want engine.Want, now time.Time) bool {
	_, err := issuer.Verify(x509.VerifyOptions{Roots: want.Roots, Intermediates: certPool(slices.Concat(served, want.Intermediates)),
		CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// issuerOf returns the certificate among candidates that signed c.
func issuerOf(c *x509.Certificate, candidates []*x509.Certificate) *x509.Certificate {
	for _, ca := range candidates {
		if bytes.Equal(c.RawIssuer, ca.RawSubject) && c.CheckSignatureFrom(ca) == nil {
			return ca
		}
	}
	return nil
}

// stapled parses a stapled response for leaf; none gives nil, nil.
func stapled(staple []byte, leaf, issuer *x509.Certificate) (*ocsp.Response, error) {
	if len(staple) == 0 {
		return nil, nil
	}
	resp, err := ocsp.ParseResponseForCert(staple, leaf, issuer)
	if err != nil {
		return nil, fmt.Errorf("the stapled OCSP response does not verify: %w", err)
	}
	return resp, nil
}

// askOCSP posts an OCSP request for leaf to the first http(s) responder
// it names, through dialer. A connection the outbound policy refuses is
// reported as that refusal alone.
func askOCSP(ctx context.Context, dialer *outbound.Dialer, leaf, issuer *x509.Certificate, timeout time.Duration) (*ocsp.Response, error) {
	u, err := url.Parse(leaf.OCSPServer[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("OCSP responder %q is not an http(s) URL", leaf.OCSPServer[0])
	}
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	hresp, err := dialer.HTTPClient(maxOCSPResponse + 1).Do(hreq)
	var denied *outbound.DeniedError
	if errors.As(err, &denied) {
		return nil, denied
	}
	if err != nil {
		return nil, fmt.Errorf("OCSP responder %s: %w", u.Host, err)
	}
	defer hresp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(hresp.Body, maxOCSPResponse+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("OCSP responder %s: %w", u.Host, err)
	case hresp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("OCSP responder %s answered %s", u.Host, hresp.Status)
	case len(body) > maxOCSPResponse:
		return nil, errors.New("the OCSP response is larger than 64 KiB")
	}
	resp, err := ocsp.ParseResponseForCert(body, leaf, issuer)
	if err != nil {
		return nil, fmt.Errorf("OCSP responder %s: the response does not verify: %w", u.Host, err)
	}
	return resp, nil
}
