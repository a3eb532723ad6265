package api

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// importCertificates decodes one file and stores its certificates and
// key (any user may import a key: it goes in sealed, and only admins can
// export it).
func (a *API) importCertificates(w http.ResponseWriter, r *http.Request) error {
	var in client.CertificateImport
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := decodeFile(in)
	if err != nil {
		return err
	}
	var out client.ImportResult
	if b.Key != nil {
		if out.Key, err = a.importKey(r.Context(), actor(r), b, in.Labels); err != nil {
			return err
		}
	}
	if out.Certificates, err = a.storeCertificates(r.Context(), actor(r), b, in.Labels); err != nil {
		return err
	}
	return ok(w, out)
}

func decodeFile(in client.CertificateImport) (*format.Bundle, error) {
	if len(in.Data) == 0 {
		return nil, inventory.Invalid("data", "the file is empty")
	}
	b, err := format.Decode(in.Data, []byte(in.Password))
	switch {
	case errors.Is(err, format.ErrTooLarge):
		return nil, err
	case errors.Is(err, format.ErrWrongPassword), errors.Is(err, format.ErrPasswordNeeded):
		return nil, inventory.Invalid("password", "%v", err)
	case err != nil:
		return nil, inventory.Invalid("data", "%v", err)
	case len(b.Chain) == 0 && len(b.Others) == 0 && b.Key == nil:
		return nil, inventory.Invalid("data", "no certificate or key found")
	}
	return b, nil
}

func (a *API) importKey(ctx context.Context, who string, b *format.Bundle, labels []string) (*client.ImportedKey, error) {
	k, err := keys.SealPrivateKey(a.Sealer, b.Key, a.now())
	if err != nil {
		return nil, err
	}
	k.Labels = labels
	id, added, err := a.Store.PutKey(ctx, k)
	if err != nil {
		return nil, err
	}
	if added {
		err = a.Store.AppendAudit(ctx, &inventory.AuditEvent{Time: a.now(), Actor: who, Action: "key.import",
			Object: fmt.Sprintf("key:%d", id), Summary: fmt.Sprintf("%s-%d private key imported through the API", k.Algorithm, k.Bits)})
	}
	return &client.ImportedKey{ID: id, Algorithm: string(k.Algorithm), Bits: k.Bits, SPKISHA256: k.SPKISHA256,
		Added: added, MatchesLeaf: b.KeyMatchesLeaf}, err
}

func (a *API) storeCertificates(ctx context.Context, who string, b *format.Bundle, labels []string) ([]client.ImportedCertificate, error) {
	xs := append(append([]*x509.Certificate(nil), b.Chain...), b.Others...)
	if len(xs) == 0 {
		return []client.ImportedCertificate{}, nil
	}
	recs := make([]*inventory.Certificate, len(xs))
	for i, x := range xs {
		recs[i] = inventory.NewCertificate(x, "api:"+who)
		recs[i].Labels = labels
	}
	res, err := a.Store.PutCertificates(ctx, recs)
	if err != nil {
		return nil, err
	}
	out, added := make([]client.ImportedCertificate, len(recs)), 0
	for i, c := range recs {
		out[i] = client.ImportedCertificate{ID: res[i].ID, SHA256: c.SHA256, Subject: c.Subject, NotAfter: c.NotAfter,
			Added: res[i].Added}
		if res[i].Added {
			added++
		}
	}
	return out, a.Store.AppendAudit(ctx, &inventory.AuditEvent{Time: a.now(), Actor: who, Action: "certificate.import",
		Object: "certificates", Summary: fmt.Sprintf("%d certificates added (%d already present) through the API",
			added, len(recs)-added)})
}
