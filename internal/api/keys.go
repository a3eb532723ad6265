package api

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/bundle"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := a.Store.ListKeys(r.Context(), p)
	if err != nil {
		return err
	}
	out := client.KeyList{Items: make([]client.Key, len(list)), Next: next}
	for i := range list {
		out.Items[i] = keyOut(&list[i])
	}
	return ok(w, out)
}

func (a *API) getKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	k, err := a.Store.GetKey(r.Context(), id)
	if err != nil {
		return missing(err, "key", id)
	}
	out := keyOut(k)
	if out.Usage, err = a.keyUsage(r.Context(), id); err != nil {
		return err
	}
	return ok(w, out)
}

// keyUsage lists the first page of certificates and acquisitions using
// key id.
func (a *API) keyUsage(ctx context.Context, id int64) (*client.KeyUsage, error) {
	u := &client.KeyUsage{Certificates: []int64{}, Acquisitions: []int64{}}
	certs, err := a.Store.ListCertificates(ctx, inventory.CertificateFilter{KeyID: id}, inventory.Page{})
	if err != nil {
		return nil, err
	}
	for _, c := range certs.Items {
		u.Certificates = append(u.Certificates, c.ID)
	}
	acqs, err := a.Store.ListAcquisitions(ctx, inventory.AcquisitionFilter{KeyID: id}, inventory.Page{})
	if err != nil {
		return nil, err
	}
	for _, q := range acqs.Items {
		u.Acquisitions = append(u.Acquisitions, q.ID)
	}
	return u, nil
}

// keyFormats are the formats of a key export: the encode target, whether
// a certificate is needed, and the file extension.
var keyFormats = map[string]struct {
	target   format.Target
	needCert bool
	ext      string
}{
	"pem":   {format.TargetKey, false, "pem"},
	"pkcs8": {format.TargetKey, false, "p8"},
	"pfx":   {format.TargetPFX, true, "pfx"},
	"jks":   {format.TargetJKS, true, "jks"},
}

// exportKey writes a private key file and audits the export. The summary
// names the format and certificate, never the password.
func (a *API) exportKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.KeyExport
	if err := decode(r, &in); err != nil {
		return err
	}
	kf, found := keyFormats[in.Format]
	if !found {
		return inventory.Invalid("format", "format %q: want pem, pkcs8, pfx or jks", in.Format)
	}
	b, certID, err := a.keyBundle(r.Context(), id, in.CertificateID, kf.needCert)
	if err != nil {
		return err
	}
	data, err := encodeKey(b, in, kf.target, certID != 0)
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("private key exported as %s through the API", in.Format)
	if certID != 0 {
		summary += fmt.Sprintf(" with certificate %d and its chain", certID)
	}
	if err := a.Store.AppendAudit(r.Context(), &inventory.AuditEvent{Time: a.now(), Actor: actor(r),
		Action: "key.export", Object: inventory.ObjectRef(inventory.KindKey, id), Summary: summary}); err != nil {
		return err
	}
	return writeFile(w, "application/octet-stream", fmt.Sprintf("key-%d.%s", id, kf.ext), data)
}

// keyBundle loads key id with certificate certID (or, when a certificate
// is needed and none is named, the key's latest-expiring certificate) and
// its chain.
func (a *API) keyBundle(ctx context.Context, id, certID int64, needCert bool) (*format.Bundle, int64, error) {
	if _, err := a.Store.GetKey(ctx, id); err != nil {
		return nil, 0, missing(err, "key", id)
	}
	if certID == 0 && needCert {
		var err error
		if certID, err = a.latestCertificate(ctx, id); err != nil {
			return nil, 0, err
		}
	}
	b := &format.Bundle{}
	if certID != 0 {
		c, err := a.Store.GetCertificate(ctx, certID)
		if err != nil {
			return nil, 0, missing(err, "certificate", certID)
		}
		if c.KeyID != id {
			return nil, 0, inventory.Invalid("certificate_id", "certificate %d is not made with key %d", certID, id)
		}
		if b, err = bundle.Certificates(ctx, a.Store, certID); err != nil {
			return nil, 0, err
		}
	}
	return b, certID, bundle.AddKey(ctx, a.Store, a.Sealer, b, id)
}

// latestCertificate returns the key's certificate that expires last.
func (a *API) latestCertificate(ctx context.Context, keyID int64) (int64, error) {
	f := inventory.CertificateFilter{KeyID: keyID}
	var last int64
	for p := (inventory.Page{Limit: inventory.MaxPageSize}); ; {
		res, err := a.Store.ListCertificates(ctx, f, p)
		if err != nil {
			return 0, err
		}
		if n := len(res.Items); n > 0 {
			last = res.Items[n-1].ID
		}
		if res.Next == "" {
			break
		}
		p.After = res.Next
	}
	if last == 0 {
		return 0, inventory.Invalid("certificate_id", "key %d has no certificate; pfx and jks hold a certificate with the key", keyID)
	}
	return last, nil
}

// encodeKey writes the bundle: pem is the key (after the full chain when
// a certificate was asked for), pkcs8 the key in DER.
func encodeKey(b *format.Bundle, in client.KeyExport, t format.Target, withCert bool) ([]byte, error) {
	if (t == format.TargetPFX || t == format.TargetJKS) && in.Password == "" {
		return nil, inventory.Invalid("password", "format %s needs a password", in.Format)
	}
	if in.Format == "pem" && withCert {
		t = format.TargetCombinedPEM
	}
	data, err := format.Encode(b, t, format.EncodeOptions{Password: []byte(in.Password)})
	if err != nil || in.Format != "pkcs8" {
		return data, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("api: key export: no PEM block")
	}
	return block.Bytes, nil
}
