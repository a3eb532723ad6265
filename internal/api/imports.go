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

// importCertificates decodes one file and stores its key and
// certificates with their audit events in one transaction (any user may
// import a key: it goes in sealed, and only admins can export it).
func (a *API) importCertificates(w http.ResponseWriter, r *http.Request) error {
	var in client.CertificateImport
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := decodeFile(in)
	if err != nil {
		return err
	}
	out, err := a.storeImport(r.Context(), actor(r), b, in.Labels)
	if err != nil {
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

// storeImport stores a decoded file's key and certificates, and audits
// what was added, in one transaction.
func (a *API) storeImport(ctx context.Context, who string, b *format.Bundle, labels []string) (*client.ImportResult, error) {
	var keyRecs []*inventory.Key
	if b.Key != nil {
		k, err := keys.SealPrivateKey(a.Sealer, b.Key, a.now())
		if err != nil {
			return nil, err
		}
		k.Labels = labels
		keyRecs = append(keyRecs, k)
	}
	xs := append(append([]*x509.Certificate(nil), b.Chain...), b.Others...)
	recs := make([]*inventory.Certificate, len(xs))
	for i, x := range xs {
		recs[i] = inventory.NewCertificate(x, "api:"+who)
		recs[i].Labels = labels
	}
	res, err := a.Store.ImportBatch(ctx, keyRecs, recs, func(k, c []inventory.PutResult) []inventory.AuditEvent {
		return a.importEvents(who, keyRecs, k, c)
	})
	if err != nil {
		return nil, err
	}
	out := &client.ImportResult{Certificates: make([]client.ImportedCertificate, len(recs))}
	for i, c := range recs {
		out.Certificates[i] = client.ImportedCertificate{ID: res.Certificates[i].ID, SHA256: c.SHA256,
			Subject: c.Subject, NotAfter: c.NotAfter, Added: res.Certificates[i].Added}
	}
	if len(keyRecs) > 0 {
		k := keyRecs[0]
		out.Key = &client.ImportedKey{ID: res.Keys[0].ID, Algorithm: string(k.Algorithm), Bits: k.Bits,
			SPKISHA256: k.SPKISHA256, Added: res.Keys[0].Added, MatchesLeaf: b.KeyMatchesLeaf}
	}
	return out, nil
}

// importEvents are the audit events of an import through the API: the
// key when it was added, and the certificates when the file had any.
func (a *API) importEvents(who string, keyRecs []*inventory.Key, keyRes, certRes []inventory.PutResult) []inventory.AuditEvent {
	var out []inventory.AuditEvent
	for i, r := range keyRes {
		if r.Added {
			out = append(out, inventory.AuditEvent{Time: a.now(), Actor: who, Action: "key.import",
				Object:  inventory.ObjectRef(inventory.KindKey, r.ID),
				Summary: fmt.Sprintf("%s-%d private key imported through the API", keyRecs[i].Algorithm, keyRecs[i].Bits)})
		}
	}
	if len(certRes) == 0 {
		return out
	}
	added := 0
	for _, r := range certRes {
		if r.Added {
			added++
		}
	}
	return append(out, inventory.AuditEvent{Time: a.now(), Actor: who, Action: "certificate.import",
		Object: inventory.ObjectCertificates, Summary: fmt.Sprintf("%d certificates added (%d already present) through the API",
			added, len(certRes)-added)})
}
