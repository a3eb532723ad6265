package revocation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// maxOCSPRequest bounds a request body; a one-certificate request is about
// 80 bytes, and RFC 5019 section 5 allows one certificate per request.
const maxOCSPRequest = 16 << 10

// ocspPrefix is where the responders are published (ca.PathOCSP).
const ocspPrefix = "/pki/ocsp/"

// OCSPHandler serves the OCSP responders of every CA (RFC 6960, appendix
// A.1): POST /pki/ocsp/{id} with an application/ocsp-request body, and
// GET /pki/ocsp/{id}/{request}, the DER request base64-encoded and then
// URL-encoded. It reads the CA ID and the request from the URL path
// itself, so it may be mounted ahead of a ServeMux, whose path cleaning
// would mangle a request containing "//".
func (s *Service) OCSPHandler() http.Handler { return http.HandlerFunc(s.serveOCSP) }

func (s *Service) serveOCSP(w http.ResponseWriter, r *http.Request) {
	caID, der, err := readOCSPRequest(w, r)
	if errors.Is(err, errMethod) {
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		writeOCSPError(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	resp, err := s.answer(r.Context(), caID, der)
	if err != nil {
		if oe := (*ocspError)(nil); !errors.As(err, &oe) {
			s.log.Error("OCSP request failed", "ca_id", caID, "err", err)
		}
		writeOCSPError(w, errorResponse(err))
		return
	}
	writeOCSPResponse(w, resp, s.now())
}

var errMethod = errors.New("revocation: OCSP: method not allowed")

// readOCSPRequest extracts the CA ID and the DER request from a POST body
// or a GET path.
func readOCSPRequest(w http.ResponseWriter, r *http.Request) (int64, []byte, error) {
	rest, ok := strings.CutPrefix(r.URL.Path, ocspPrefix)
	if !ok {
		return 0, nil, errors.New("revocation: OCSP: not an OCSP path")
	}
	idText, encoded, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, fmt.Errorf("revocation: OCSP: %q is not a CA ID", idText)
	}
	switch r.Method {
	case http.MethodPost:
		der, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOCSPRequest))
		return id, der, err
	case http.MethodGet, http.MethodHead:
		der, err := decodeGETRequest(encoded)
		return id, der, err
	}
	return 0, nil, errMethod
}

// decodeGETRequest decodes the base64 request of a GET (r.URL.Path is
// already URL-decoded). Padding may be left off, and the URL-safe
// alphabet is tolerated.
func decodeGETRequest(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// ocspError is a request the responder refuses, with the OCSPResponseStatus
// to answer (RFC 6960, section 4.2.1).
type ocspError struct {
	status []byte
	err    error
}

func (e *ocspError) Error() string { return e.err.Error() }
func (e *ocspError) Unwrap() error { return e.err }

func errorResponse(err error) []byte {
	var oe *ocspError
	if errors.As(err, &oe) {
		return oe.status
	}
	return ocsp.InternalErrorErrorResponse
}

// signedResponse is a successful OCSP response with its validity.
type signedResponse struct {
	der                    []byte
	thisUpdate, nextUpdate time.Time
}

// answer parses a request, looks the serial up and signs the answer with
// the CA's delegated responder: good, revoked (with time and reason), or
// unknown when the CA never issued the serial (RFC 6960, section 2.2).
// A request naming another issuer is unauthorized (section 2.3).
func (s *Service) answer(ctx context.Context, caID int64, der []byte) (*signedResponse, error) {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return nil, &ocspError{status: ocsp.MalformedRequestErrorResponse, err: fmt.Errorf("revocation: OCSP: %w", err)}
	}
	info, err := s.caInfo(ctx, caID)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, &ocspError{status: ocsp.UnauthorizedErrorResponse, err: err}
	}
	if err != nil {
		return nil, err
	}
	if !info.issued(req) {
		return nil, &ocspError{status: ocsp.UnauthorizedErrorResponse, err: fmt.Errorf("revocation: OCSP: request for another issuer than CA %q", info.rec.Name)}
	}
	tmpl, err := s.status(ctx, caID, req)
	if err != nil {
		return nil, err
	}
	return s.sign(ctx, info, tmpl)
}

// status builds the response template for the requested serial.
func (s *Service) status(ctx context.Context, caID int64, req *ocsp.Request) (ocsp.Response, error) {
	tmpl := ocsp.Response{Status: ocsp.Unknown, SerialNumber: req.SerialNumber, IssuerHash: req.HashAlgorithm}
	if req.SerialNumber.Sign() <= 0 {
		return tmpl, nil
	}
	st, err := s.st.SerialStatus(ctx, caID, hex.EncodeToString(req.SerialNumber.Bytes()))
	if err != nil {
		return tmpl, fmt.Errorf("revocation: OCSP: serial status: %w", err)
	}
	switch {
	case !st.Issued:
	case st.Revocation != nil:
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = st.Revocation.RevokedAt
		tmpl.RevocationReason = st.Revocation.Reason
	default:
		tmpl.Status = ocsp.Good
	}
	return tmpl, nil
}

// sign signs tmpl with the CA's delegated responder and includes the
// responder certificate in the response (RFC 6960, section 4.2.2.2).
func (s *Service) sign(ctx context.Context, info *caInfo, tmpl ocsp.Response) (*signedResponse, error) {
	r, err := s.responder(ctx, info)
	if err != nil {
		return nil, err
	}
	now := s.now().Truncate(time.Second)
	tmpl.ThisUpdate = now
	tmpl.NextUpdate = now.Add(s.cfg.OCSPValidity)
	tmpl.Certificate = r.cert
	der, err := ocsp.CreateResponse(info.cert, r.cert, tmpl, r.key)
	if err != nil {
		return nil, fmt.Errorf("revocation: OCSP: sign: %w", err)
	}
	return &signedResponse{der: der, thisUpdate: tmpl.ThisUpdate, nextUpdate: tmpl.NextUpdate}, nil
}

// writeOCSPResponse sends a signed response with the HTTP caching headers
// of RFC 5019, section 6.2: Last-Modified is thisUpdate, Expires is
// nextUpdate, max-age does not outlast nextUpdate, and the ETag names the
// response.
func writeOCSPResponse(w http.ResponseWriter, r *signedResponse, now time.Time) {
	sum := sha256.Sum256(r.der)
	maxAge := max(int(r.nextUpdate.Sub(now)/time.Second), 0)
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	h.Set("Content-Length", strconv.Itoa(len(r.der)))
	h.Set("Last-Modified", r.thisUpdate.UTC().Format(http.TimeFormat))
	h.Set("Expires", r.nextUpdate.UTC().Format(http.TimeFormat))
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	h.Set("Cache-Control", fmt.Sprintf("max-age=%d, public, no-transform, must-revalidate", maxAge))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(r.der)
}

// writeOCSPError sends an unsigned error response (RFC 6960, section
// 4.2.1), which no cache may keep.
func writeOCSPError(w http.ResponseWriter, status []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	h.Set("Content-Length", strconv.Itoa(len(status)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(status)
}
