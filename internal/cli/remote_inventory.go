package cli

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/importer"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// The list, import and export commands against --server: they call the
// API's certificate routes (list, import, download) and its key export,
// which the server audits, and print or write what the local commands do.

// remoteCertificates lists one page of certificates from the server.
func (a *app) remoteCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	q := client.CertificateQuery{Issuer: f.Issuer, Label: f.Label, Q: f.Text, Page: client.Page{After: p.After, Limit: p.Limit}}
	if f.CAOnly {
		q.CA = &f.CAOnly
	}
	if !f.ExpiringBefore.IsZero() {
		q.ExpiringWithin = f.ExpiringBefore.Sub(f.NotExpiredAt).String()
	}
	list, err := c.ListCertificates(ctx, q)
	if err != nil {
		return nil, apiError(err)
	}
	page := &inventory.CertificatePage{Next: list.Next, Items: make([]inventory.Certificate, len(list.Items))}
	for i, rc := range list.Items {
		page.Items[i] = inventory.Certificate{ID: rc.ID, SHA256: rc.SHA256, Serial: rc.Serial, Subject: rc.Subject,
			CommonName: rc.CommonName, Issuer: rc.Issuer, SANs: rc.SANs, NotBefore: rc.NotBefore, NotAfter: rc.NotAfter,
			IsCA: rc.IsCA, IssuerID: rc.IssuerCertificateID, KeyID: rc.KeyID, Labels: rc.Labels, RevokedAt: rc.RevokedAt}
	}
	return page, nil
}

// remoteImport checks every file first, as the local import does (nothing
// is sent when one cannot be read), then sends them one by one.
func (a *app) remoteImport(ctx context.Context, srcs []importer.Source) (*importer.Summary, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	data := make([][]byte, len(srcs))
	kinds := make([]format.Kind, len(srcs))
	for i, src := range srcs {
		if data[i], kinds[i], err = readImport(src); err != nil {
			return nil, err
		}
	}
	sum := &importer.Summary{}
	for i, src := range srcs {
		res, err := c.ImportCertificates(ctx, client.CertificateImport{Data: data[i], Password: string(src.Password)})
		if err != nil {
			return sum, fmt.Errorf("%s: %w", src.Name, apiError(err))
		}
		sum.Files = append(sum.Files, importedFile(sum, src.Name, kinds[i], res))
	}
	return sum, nil
}

// readImport reads and decodes a file to import, and returns its bytes
// and kind.
func readImport(src importer.Source) ([]byte, format.Kind, error) {
	data, err := importer.ReadFile(src.Name)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", src.Name, err)
	}
	b, err := format.Decode(data, src.Password)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", src.Name, err)
	}
	if len(b.Chain) == 0 && len(b.Others) == 0 && b.Key == nil {
		return nil, "", fmt.Errorf("%s: no certificate or key found", src.Name)
	}
	return data, b.Kind, nil
}

// importedFile turns the server's answer for one file into the summary
// the local import prints, and counts it into sum.
func importedFile(sum *importer.Summary, name string, kind format.Kind, res *client.ImportResult) importer.FileResult {
	fr := importer.FileResult{Name: name, Kind: kind}
	for _, rc := range res.Certificates {
		fr.Certificates = append(fr.Certificates, importer.CertResult{ID: rc.ID, SHA256: rc.SHA256,
			Subject: rc.Subject, NotAfter: rc.NotAfter, Added: rc.Added})
		if rc.Added {
			sum.CertsAdded++
		} else {
			sum.CertsExisting++
		}
	}
	if k := res.Key; k != nil {
		fr.Key = &importer.KeyResult{ID: k.ID, Algorithm: inventory.KeyAlgorithm(k.Algorithm), Bits: k.Bits,
			Added: k.Added, MatchesLeaf: k.MatchesLeaf, SPKISHA256: k.SPKISHA256}
		if k.Added {
			sum.KeysAdded++
		} else {
			sum.KeysExisting++
		}
	}
	return fr
}

// remoteExportBundle downloads a certificate with its chain and, when
// withKey is set and the server holds the key, the key (an admin-only
// export the server audits), for the local encoder.
func (a *app) remoteExportBundle(ctx context.Context, ref string, withKey bool) (*format.Bundle, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	cert, err := remoteFind(ctx, c, ref)
	if err != nil {
		return nil, apiError(err)
	}
	chain, err := c.DownloadCertificate(ctx, cert.ID, "pem")
	if err != nil {
		return nil, apiError(err)
	}
	b, err := format.Decode(chain, nil)
	if err != nil {
		return nil, fmt.Errorf("certificate %d: the server's chain does not decode: %w", cert.ID, err)
	}
	if !withKey || cert.KeyID == 0 {
		return b, nil
	}
	der, err := c.ExportKey(ctx, cert.KeyID, client.KeyExport{Format: "pkcs8", CertificateID: cert.ID})
	if err != nil {
		return nil, apiError(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("key %d: the server's PKCS#8 does not parse: %w", cert.KeyID, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %d: unsupported key type %T", cert.KeyID, key)
	}
	b.Key, b.KeyMatchesLeaf = signer, true
	return b, nil
}

// remoteFind finds a certificate on the server by ID or SHA-256.
func remoteFind(ctx context.Context, c *client.Client, ref string) (*client.Certificate, error) {
	if len(ref) != 64 {
		id, err := parseObjectID("certificate", ref)
		if err != nil {
			return nil, err
		}
		return c.GetCertificate(ctx, id)
	}
	list, err := c.ListCertificates(ctx, client.CertificateQuery{Q: strings.ToLower(ref)})
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].SHA256 == strings.ToLower(ref) {
			return &list.Items[i], nil
		}
	}
	return nil, fmt.Errorf("no certificate with SHA-256 %s on the server", ref)
}
