package api

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *API) listCertificates(w http.ResponseWriter, r *http.Request) error {
	f, err := a.certificateFilter(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	res, err := a.Certificates.List(r.Context(), f, p)
	if err != nil {
		return err
	}
	return ok(w, a.certificateList(res.Items, res.Next, f.At))
}

func (a *API) certificateList(items []inventory.Certificate, next string, at time.Time) client.CertificateList {
	out := client.CertificateList{Items: make([]client.Certificate, len(items)), Next: next}
	for i := range items {
		out.Items[i] = certificateOut(&items[i], items[i].StatusAt(at))
	}
	return out
}

// certificateFilter reads the list filters; a bad value is a 400 naming
// the parameter.
func (a *API) certificateFilter(r *http.Request) (inventory.CertificateFilter, error) {
	q := r.URL.Query()
	f := inventory.CertificateFilter{Issuer: q.Get("issuer"), Label: q.Get("label"), Text: q.Get("q"), At: a.now()}
	if s := q.Get("status"); s != "" {
		if f.Status = inventory.Status(s); !f.Status.Valid() {
			return f, badRequest("status", "status %q: want valid, expired, not_yet_valid or revoked", s)
		}
	}
	if s := q.Get("expiring_within"); s != "" {
		d, err := days(s)
		if err != nil {
			return f, badRequest("expiring_within", "expiring_within %q: want a number of days (30) or a duration (720h)", s)
		}
		f.ExpiringBefore, f.NotExpiredAt = f.At.Add(d), f.At
	}
	ca, err := queryBool(r, "ca")
	if err != nil {
		return f, err
	}
	if ca != nil {
		f.CAOnly, f.LeafOnly = *ca, !*ca
	}
	internal, err := queryBool(r, "internal")
	if err != nil {
		return f, err
	}
	if internal != nil {
		f.InternalOnly, f.ExcludeInternal = *internal, !*internal
	}
	f.KeyID, err = queryID(r, "key_id")
	return f, err
}

// days reads a whole number of days or a Go duration, not negative.
func days(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 100*365 {
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

func (a *API) getCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	chain, err := a.chain(r, id)
	if err != nil {
		return err
	}
	out := certificateOut(&chain[0], chain[0].StatusAt(a.now()))
	out.PEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0].DER}))
	for _, c := range chain {
		out.ChainIDs = append(out.ChainIDs, c.ID)
	}
	if out.IssuedByCAID, err = a.Certificates.IssuingCA(r.Context(), &chain[0]); err != nil {
		return err
	}
	counts, err := a.Deploy.CountByState(r.Context(), id)
	if err != nil {
		return err
	}
	out.Deployments = deploymentCountsOut(counts)
	return ok(w, out)
}

// chain returns certificate id and its known issuers, leaf first.
func (a *API) chain(r *http.Request, id int64) ([]inventory.Certificate, error) {
	chain, err := a.Certificates.Chain(r.Context(), id)
	return chain, missing(err, "certificate", id)
}

func (a *API) getChain(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	chain, err := a.chain(r, id)
	if err != nil {
		return err
	}
	return ok(w, a.certificateList(chain, "", a.now()))
}

// downloads maps ?format= to an encode target, media type and extension.
var downloads = map[string]struct {
	target     format.Target
	media, ext string
}{
	"pem": {format.TargetPEM, "application/pem-certificate-chain", "pem"},
	"der": {format.TargetDER, "application/pkix-cert", "cer"},
	"p7b": {format.TargetP7B, "application/pkcs7-mime", "p7b"},
}

func (a *API) downloadCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	name := strings.ToLower(r.URL.Query().Get("format"))
	if name == "" {
		name = "pem"
	}
	d, found := downloads[name]
	if !found {
		return badRequest("format", "format %q: want pem, der or p7b", name)
	}
	data, err := a.Certificates.Encode(r.Context(), id, d.target)
	if err != nil {
		return missing(err, "certificate", id)
	}
	return writeFile(w, d.media, fmt.Sprintf("certificate-%d.%s", id, d.ext), data)
}
