package importer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestImportUpload stores an uploaded key and certificate with their
// labels, the API as source, and the audit events of an upload; uploading
// the same file again adds nothing and still audits the certificates.
func TestImportUpload(t *testing.T) {
	ca := newCA(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	data := append(keyPEM(t, k), ca.leafPEM(t, 2, "up.example", &k.PublicKey, time.Now().Add(time.Hour))...)
	im, st := newImporter(t, files{})
	ctx := context.Background()
	up := Upload{Data: data, Labels: []string{"web"}}
	f, err := im.ImportUpload(ctx, "user:ada", up)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Certificates) != 1 || !f.Certificates[0].Added || f.Key == nil || !f.Key.Added || !f.Key.MatchesLeaf {
		t.Fatalf("result = %+v, want one added certificate and an added key matching it", f)
	}
	c, err := st.GetCertificate(ctx, f.Certificates[0].ID)
	if err != nil || c.Source != "api:user:ada" || !slices.Equal(c.Labels, []string{"web"}) || c.KeyID != f.Key.ID {
		t.Fatalf("stored certificate = %+v, %v; want source api:user:ada, label web, linked to the key", c, err)
	}
	key, err := st.GetKey(ctx, f.Key.ID)
	if err != nil || !slices.Equal(key.Labels, []string{"web"}) {
		t.Fatalf("stored key = %+v, %v; want label web", key, err)
	}
	again, err := im.ImportUpload(ctx, "user:ada", up)
	if err != nil || again.Certificates[0].Added || again.Key.Added {
		t.Fatalf("upload again = %+v, %v; want nothing added", again, err)
	}
	events, _, err := st.ListAudit(ctx, time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Action+" "+e.Summary)
	}
	want := []string{"key.import ecdsa-256 private key imported through the API",
		"certificate.import 1 certificates added (0 already present) through the API",
		"certificate.import 0 certificates added (1 already present) through the API"}
	if !slices.Equal(got, want) {
		t.Errorf("audit = %q\nwant %q", got, want)
	}
}

func TestImportUploadInvalid(t *testing.T) {
	im, st := newImporter(t, files{})
	for _, tc := range []struct {
		name, data, field string
	}{
		{"empty", "", "data"},
		{"garbage", "not a certificate", "data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := im.ImportUpload(context.Background(), "user:ada", Upload{Data: []byte(tc.data)})
			var inv *inventory.FieldError
			if !errors.As(err, &inv) || inv.Field != tc.field {
				t.Fatalf("err = %v, want an invalid %s", err, tc.field)
			}
		})
	}
	if n, _ := st.CountCertificates(context.Background(), inventory.CertificateFilter{}); n != 0 {
		t.Errorf("%d certificates stored after refused uploads, want 0", n)
	}
}
