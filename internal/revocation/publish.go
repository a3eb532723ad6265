package revocation

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Media types of RFC 2585, section 4 (and the usual PEM type).
const (
	typeCert = "application/pkix-cert"
	typeCRL  = "application/pkix-crl"
	typePEM  = "application/x-pem-file"
)

// caCertMaxAge is how long clients may cache a CA certificate.
const caCertMaxAge = 24 * time.Hour

// CACertHandler serves GET /pki/ca/{id}.crt (DER) and /pki/ca/{id}.pem:
// the certificate of a CA, which the AIA caIssuers URL of the certificates
// it issues points to (RFC 5280, section 4.2.2.1). The file name is read
// from the last element of the URL path.
func (s *Service) CACertHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, asPEM, err := publishedFile(r, ".crt")
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		info, err := s.caInfo(r.Context(), id)
		if err != nil {
			s.httpError(w, err)
			return
		}
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(caCertMaxAge.Seconds())))
		serve(w, r, info.cert.Raw, "CERTIFICATE", typeCert, asPEM, info.cert.NotBefore)
	})
}

// CRLHandler serves GET /pki/crl/{id}.crl (DER) and /pki/crl/{id}.pem: the
// CA's latest CRL as stored in the inventory, so that every instance
// serves the same one; the CRL distribution point of issued certificates
// points here (RFC 5280, section 4.2.1.13). A CA without a CRL yet, or
// whose CRL has passed its nextUpdate, gets a new one first. HTTP caches
// may keep it until the next scheduled refresh.
func (s *Service) CRLHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, asPEM, err := publishedFile(r, ".crl")
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if _, err := s.caInfo(r.Context(), id); err != nil {
			s.httpError(w, err)
			return
		}
		crl, err := s.CurrentCRL(r.Context(), id)
		if err != nil {
			s.httpError(w, err)
			return
		}
		maxAge := max(min(crl.ThisUpdate.Add(s.cfg.CRLRefresh).Sub(s.now()), crl.NextUpdate.Sub(s.now())), 0)
		h := w.Header()
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds())))
		h.Set("Expires", crl.NextUpdate.UTC().Format(http.TimeFormat))
		h.Set("ETag", fmt.Sprintf(`"crl-%d-%d"`, crl.CAID, crl.Number))
		serve(w, r, crl.DER, "X509 CRL", typeCRL, asPEM, crl.ThisUpdate)
	})
}

// publishedFile parses "{id}{derExt}" or "{id}.pem" from the last element
// of the request path.
func publishedFile(r *http.Request, derExt string) (id int64, asPEM bool, err error) {
	name := path.Base(r.URL.Path)
	stem, ok := strings.CutSuffix(name, derExt)
	if !ok {
		stem, asPEM = strings.CutSuffix(name, ".pem")
		if !asPEM {
			return 0, false, fmt.Errorf("%s: want ID%s or ID.pem", name, derExt)
		}
	}
	id, err = strconv.ParseInt(stem, 10, 64)
	if err != nil || id <= 0 {
		return 0, false, fmt.Errorf("%s: %q is not a CA ID", name, stem)
	}
	return id, asPEM, nil
}

// serve writes DER, or its PEM encoding, through http.ServeContent, which
// answers conditional and range requests.
func serve(w http.ResponseWriter, r *http.Request, der []byte, pemType, derType string, asPEM bool, modified time.Time) {
	body, ctype := der, derType
	if asPEM {
		body, ctype = pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), typePEM
	}
	w.Header().Set("Content-Type", ctype)
	http.ServeContent(w, r, "", modified, bytes.NewReader(body))
}

// httpError answers a failed lookup: 404 for an unknown CA (or one without
// a certificate yet), 500 otherwise, logged here since the client is told
// nothing more.
func (s *Service) httpError(w http.ResponseWriter, err error) {
	if errors.Is(err, inventory.ErrNotFound) {
		http.Error(w, "no such CA", http.StatusNotFound)
		return
	}
	s.log.Error("publication request failed", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
