package export

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/importer"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// fixture is a store holding one self-signed certificate with its key.
type fixture struct {
	st     inventory.Store
	sealer *keys.Sealer
	keyID  int64
	cert   *inventory.Certificate
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, _ := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "export.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	f, err := importer.New(st, sealer, nil, nil).ImportUpload(ctx, "test", importer.Upload{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.GetCertificate(ctx, f.Certificates[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, sealer: sealer, keyID: f.Key.ID, cert: c}
}

// exports lists the summaries of the key.export events.
func (f *fixture) exports(t *testing.T) []string {
	t.Helper()
	events, _, err := f.st.ListAudit(context.Background(), time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.Action == Action {
			out = append(out, e.Actor+" "+e.Object+" "+e.Summary)
		}
	}
	return out
}

func TestKey(t *testing.T) {
	f := newFixture(t)
	s := New(f.st, f.sealer, nil)
	ctx := context.Background()
	ref := inventory.ObjectRef(inventory.KindKey, f.keyID)
	for _, tc := range []struct {
		name    string
		id      int64
		req     KeyRequest
		wantErr func(error) bool
		audit   string
	}{
		{name: "pem", id: f.keyID, req: KeyRequest{Format: "pem"},
			audit: "user:ada " + ref + " private key exported as pem"},
		{name: "pfx with the latest certificate", id: f.keyID, req: KeyRequest{Format: "pfx", Password: []byte("pw-secret")},
			audit: "user:ada " + ref + " private key exported as pfx with certificate " + itoa(f.cert.ID) + " and its chain"},
		{name: "unknown format", id: f.keyID, req: KeyRequest{Format: "zip"}, wantErr: isField("format")},
		{name: "jks without password", id: f.keyID, req: KeyRequest{Format: "jks"}, wantErr: isField("password")},
		{name: "unknown key", id: 999, req: KeyRequest{Format: "pem"}, wantErr: isNotFound},
		{name: "unknown certificate", id: f.keyID, req: KeyRequest{Format: "pem", CertificateID: 999}, wantErr: isNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.exports(t))
			file, err := s.Key(ctx, "user:ada", tc.id, tc.req)
			got := f.exports(t)[before:]
			if tc.wantErr != nil {
				if !tc.wantErr(err) || file != nil || len(got) != 0 {
					t.Fatalf("Key = %v, %v, audited %q; want the error and no audit", file, err, got)
				}
				return
			}
			if err != nil || len(file.Data) == 0 || !slices.Equal(got, []string{tc.audit}) {
				t.Fatalf("Key = %v, audited %q; want a file and %q", err, got, tc.audit)
			}
		})
	}
}

func TestCertificate(t *testing.T) {
	f := newFixture(t)
	s := New(f.st, f.sealer, nil)
	ctx := context.Background()
	b, err := s.Certificate(ctx, "cli:bob", f.cert, "pem", false)
	if err != nil || b.Key != nil || len(b.Chain) != 1 || len(f.exports(t)) != 0 {
		t.Fatalf("without key: %v, key %v, audited %q; want the chain alone, unaudited", err, b, f.exports(t))
	}
	b, err = s.Certificate(ctx, "cli:bob", f.cert, "pfx", true)
	want := "cli:bob " + inventory.ObjectRef(inventory.KindKey, f.keyID) + " private key exported as pfx with certificate " +
		itoa(f.cert.ID) + " and its chain"
	if err != nil || b.Key == nil || !b.KeyMatchesLeaf || !slices.Equal(f.exports(t), []string{want}) {
		t.Fatalf("with key: %v, audited %q; want the key, matching, and %q", err, f.exports(t), want)
	}
}

// TestRefusedAuditHandsOutNothing checks that an export whose audit event
// cannot be stored gives no key.
func TestRefusedAuditHandsOutNothing(t *testing.T) {
	f := newFixture(t)
	s := New(testenv.RefusingAudit{Store: f.st}, f.sealer, nil)
	ctx := context.Background()
	if file, err := s.Key(ctx, "user:ada", f.keyID, KeyRequest{Format: "pem"}); !errors.Is(err, testenv.ErrAuditRefused) || file != nil {
		t.Errorf("Key = %v, %v; want nothing and the refusal", file, err)
	}
	if b, err := s.Certificate(ctx, "cli:bob", f.cert, "pem", true); !errors.Is(err, testenv.ErrAuditRefused) || b != nil {
		t.Errorf("Certificate = %v, %v; want nothing and the refusal", b, err)
	}
}

func isField(field string) func(error) bool {
	return func(err error) bool {
		var fe *inventory.FieldError
		return errors.As(err, &fe) && fe.Field == field
	}
}

func isNotFound(err error) bool { return errors.Is(err, inventory.ErrNotFound) }

func itoa(n int64) string { return big.NewInt(n).String() }
