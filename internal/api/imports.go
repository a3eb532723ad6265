package api

import (
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/importer"
)

// importCertificates imports one uploaded file with the importer (any
// user may import a key: it goes in sealed, and only admins can export
// it).
func (a *API) importCertificates(w http.ResponseWriter, r *http.Request) error {
	var in client.CertificateImport
	if err := decode(r, &in); err != nil {
		return err
	}
	f, err := a.Importer.ImportUpload(r.Context(), actor(r),
		importer.Upload{Data: in.Data, Password: []byte(in.Password), Labels: in.Labels})
	if err != nil {
		return err
	}
	return ok(w, importResult(f))
}

// importResult is the wire form of an uploaded file's result.
func importResult(f *importer.FileResult) *client.ImportResult {
	out := &client.ImportResult{Certificates: make([]client.ImportedCertificate, len(f.Certificates))}
	for i, c := range f.Certificates {
		out.Certificates[i] = client.ImportedCertificate{ID: c.ID, SHA256: c.SHA256,
			Subject: c.Subject, NotAfter: c.NotAfter, Added: c.Added}
	}
	if k := f.Key; k != nil {
		out.Key = &client.ImportedKey{ID: k.ID, Algorithm: string(k.Algorithm), Bits: k.Bits,
			SPKISHA256: k.SPKISHA256, Added: k.Added, MatchesLeaf: k.MatchesLeaf}
	}
	return out
}
