package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
	"github.com/certkeeper/certkeeper/internal/store"
)

// The data set of BenchmarkListCertificatesAPI.
const (
	apiBenchCerts    = 100_000
	apiBenchBatch    = 500
	apiBenchPageSize = 50
	apiBenchUser     = "bench"
)

// apiBenchIssuers are the issuing CAs; certificate i is issued by
// apiBenchIssuers[apiBenchIssuerOf[i%len(apiBenchIssuerOf)]], so the
// first issuers issue more.
var (
	apiBenchIssuers  = []string{"Acme Issuing CA R1", "Acme Issuing CA R2", "Globex TLS CA 2025", "Initech Internal CA"}
	apiBenchOrgs     = []string{"Acme Corp", "Acme Corp", "Globex", "Initech"}
	apiBenchIssuerOf = []int{0, 0, 0, 1, 1, 2, 3}
	apiBenchZones    = []string{"shop", "intra", "api", "mail", "cdn"}
)

// apiBenchName is the host name of certificate i; its SANs are the name
// and "www." + the name.
func apiBenchName(i int) string {
	return fmt.Sprintf("app-%d.%s.example.test", i, apiBenchZones[i%len(apiBenchZones)])
}

// apiBenchCases is the mix of filtered lists BenchmarkListCertificatesAPI
// asks for, each as a first page of 50 and the page after it.
func apiBenchCases() []client.CertificateQuery {
	return []client.CertificateQuery{
		{Status: "valid"},
		{Issuer: "Globex TLS CA"},
		{Label: "prod"},
		{ExpiringWithin: "30"},
		{Q: "-424"},      // inside app-424*.ZONE.example.test: 111 certificates
		{Q: "3.mail.ex"}, // across the number and the zone: a tenth
		{Status: "valid", Label: "prod"},
		{Issuer: "Acme", ExpiringWithin: "30"},
		{Q: "pp-12", Status: "valid"},
		{Label: "prod", ExpiringWithin: "30", Issuer: "Acme Issuing CA R1"},
		{Q: ".shop.example", Label: "pci"},
	}
}

// apiBenchQuery returns q as the query string the client sends.
func apiBenchQuery(q client.CertificateQuery) url.Values {
	v := url.Values{"limit": {strconv.Itoa(apiBenchPageSize)}}
	for k, s := range map[string]string{"status": q.Status, "issuer": q.Issuer, "label": q.Label,
		"expiring_within": q.ExpiringWithin, "q": q.Q, "after": q.After} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// apiBenchData is a store filled once per test binary run and per
// backend, reused by every round (-count) of the benchmark; TestMain
// removes it.
type apiBenchData struct {
	once     sync.Once
	database string // SQLite file or PostgreSQL URL
	token    string
	err      error
}

var (
	apiBenchMu       sync.Mutex
	apiBenchStores   = map[string]*apiBenchData{}
	apiBenchCleanups []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	apiBenchMu.Lock()
	for _, f := range slices.Backward(apiBenchCleanups) {
		f()
	}
	apiBenchMu.Unlock()
	os.Exit(code)
}

// apiBenchStore returns the database of backend ("sqlite" or "postgres"),
// filling it on first use, and a token of a user of it.
func apiBenchStore(b *testing.B, backend string) (database, token string) {
	apiBenchMu.Lock()
	d := apiBenchStores[backend]
	if d == nil {
		d = &apiBenchData{}
		apiBenchStores[backend] = d
	}
	apiBenchMu.Unlock()
	d.once.Do(func() {
		start := time.Now()
		d.database, d.err = apiBenchCreate(backend)
		if d.err == nil {
			d.token, d.err = apiBenchFill(d.database)
		}
		if d.err == nil {
			b.Logf("%s: %d certificates stored in %v", backend, apiBenchCerts, time.Since(start).Round(time.Millisecond))
		}
	})
	if d.err != nil {
		b.Fatal(d.err)
	}
	return d.database, d.token
}

// apiBenchCreate makes an empty database to be removed by TestMain.
func apiBenchCreate(backend string) (string, error) {
	if backend == "sqlite" {
		dir, err := os.MkdirTemp("", "certkeeper-apibench-")
		if err != nil {
			return "", err
		}
		apiBenchCleanup(func() { os.RemoveAll(dir) })
		return filepath.Join(dir, "certkeeper.db"), nil
	}
	admin := os.Getenv("CERTKEEPER_TEST_POSTGRES")
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer db.Close()
	name := fmt.Sprintf("ck_apibench_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	apiBenchCleanup(func() {
		if db, err := sql.Open("pgx", admin); err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			db.Close()
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func apiBenchCleanup(f func()) {
	apiBenchMu.Lock()
	apiBenchCleanups = append(apiBenchCleanups, f)
	apiBenchMu.Unlock()
}

// apiBenchFill stores the issuers and apiBenchCerts leaf certificates,
// made from one signed template per issuer (so one key per issuer), in
// batches of apiBenchBatch, and creates a user with an API token.
func apiBenchFill(database string) (string, error) {
	ctx := context.Background()
	st, err := store.Open(ctx, database)
	if err != nil {
		return "", err
	}
	defer st.Close()
	now := time.Now()
	issuers, err := apiBenchCAs(now)
	if err != nil {
		return "", err
	}
	recs := make([]*inventory.Certificate, len(issuers))
	for k, is := range issuers {
		recs[k] = inventory.NewCertificate(is.cert, "bench")
	}
	if _, err := st.PutCertificates(ctx, recs); err != nil {
		return "", err
	}
	templates := make([]*inventory.Certificate, len(issuers))
	for k, is := range issuers {
		if templates[k], err = apiBenchTemplate(is, now); err != nil {
			return "", err
		}
	}
	recs = make([]*inventory.Certificate, apiBenchBatch)
	span := 2 * 365 * 24 * time.Hour
	for start := 0; start < apiBenchCerts; start += apiBenchBatch {
		for j := range recs {
			i := start + j
			// From six months ago to eighteen months ahead, scattered.
			notAfter := now.Add(-span/4 + time.Duration(int64(span)/apiBenchCerts*int64((i*7919)%apiBenchCerts)))
			recs[j] = apiBenchLeaf(i, templates[apiBenchIssuerOf[i%len(apiBenchIssuerOf)]], notAfter)
		}
		if _, err := st.PutCertificates(ctx, recs); err != nil {
			return "", fmt.Errorf("PutCertificates at %d: %w", start, err)
		}
	}

	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		return "", err
	}
	stk, err := stack.New(ctx, st, sealer, stack.Config{PasswordParams: stacktest.FastPasswords()})
	if err != nil {
		return "", err
	}
	u := stk.Users
	if _, err := u.Create(ctx, "bench", apiBenchUser, inventory.RoleUser, "correct horse battery staple"); err != nil {
		return "", err
	}
	secret, _, err := u.CreateToken(ctx, "bench", apiBenchUser, "bench", 0)
	return secret, err
}

// apiBenchIssuer is an issuing CA of the data set.
type apiBenchIssuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func apiBenchCAs(now time.Time) ([]apiBenchIssuer, error) {
	var out []apiBenchIssuer
	for k, name := range apiBenchIssuers {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(k + 1)),
			Subject:   pkix.Name{CommonName: name, Organization: []string{apiBenchOrgs[k]}},
			NotBefore: now.Add(-3 * 365 * 24 * time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		out = append(out, apiBenchIssuer{c, key})
	}
	return out, nil
}

// apiBenchTemplate signs one real leaf certificate of issuer is, the
// template of its certificates in the data set.
func apiBenchTemplate(is apiBenchIssuer, now time.Time) (*inventory.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	name := apiBenchName(0)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1_000_000), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name, "www." + name}, NotBefore: now.Add(-90 * 24 * time.Hour), NotAfter: now,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, is.cert, key.Public(), is.key)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return inventory.NewCertificate(c, "bench"), nil
}

// apiBenchLeaf makes the record of certificate i from its issuer's
// template t: the names apiBenchName(i) and its www name, notAfter, a
// serial and a DER of its own (the template's with its last bytes
// replaced: it parses, its signature no longer verifies, which listing
// never checks), and labels on a tenth (prod) and a twenty-fifth (pci).
// Signing each certificate would take most of the setup.
func apiBenchLeaf(i int, t *inventory.Certificate, notAfter time.Time) *inventory.Certificate {
	rec := *t
	rec.DER = slices.Clone(t.DER)
	binary.BigEndian.PutUint64(rec.DER[len(rec.DER)-8:], uint64(i))
	rec.SHA256, rec.SHA1 = inventory.SHA256Hex(rec.DER), inventory.SHA1Hex(rec.DER)
	rec.Serial = strconv.FormatInt(int64(1_000_000+i), 16)
	name := apiBenchName(i)
	rec.Subject, rec.CommonName, rec.SANs = "CN="+name, name, []string{name, "www." + name}
	rec.NotBefore, rec.NotAfter = notAfter.Add(-90*24*time.Hour).UTC().Truncate(time.Second), notAfter.UTC().Truncate(time.Second)
	rec.Labels = nil
	if i%10 == 0 {
		rec.Labels = append(rec.Labels, "prod")
	}
	if i%25 == 0 {
		rec.Labels = append(rec.Labels, "pci")
	}
	return &rec
}

// BenchmarkListCertificatesAPI measures GET /api/v1/certificates at
// 100,000 certificates: through the real handler on a loopback server
// with the client package and an API token, a rotating mix of filtered
// lists (apiBenchCases), each a first page of 50 then the next page, one
// request per iteration; it reports the p50 and p95 latency of the
// requests and, as the floor, of the same lists asked of
// store.ListCertificates directly (store-p50-ms, store-p95-ms). The
// store is filled once per run (about half a minute) and reused by
// every -count round. PostgreSQL runs when CERTKEEPER_TEST_POSTGRES is
// set.
func BenchmarkListCertificatesAPI(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			if backend == "postgres" && os.Getenv("CERTKEEPER_TEST_POSTGRES") == "" {
				b.Skip("CERTKEEPER_TEST_POSTGRES is not set")
			}
			database, token := apiBenchStore(b, backend)
			benchListAPI(b, database, token)
		})
	}
}

func benchListAPI(b *testing.B, database, token string) {
	ctx := context.Background()
	st, err := store.Open(ctx, database)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a := stacktest.New(b, st, stack.Config{Log: slog.New(slog.DiscardHandler)}).API
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	c, err := client.New(srv.URL, token)
	if err != nil {
		b.Fatal(err)
	}

	cases := apiBenchCases()
	// The same lists as the store sees them, read by the API's own
	// parameter parser.
	reqs := make([]*http.Request, len(cases))
	for k, q := range cases {
		reqs[k] = httptest.NewRequest("GET", "/api/v1/certificates?"+apiBenchQuery(q).Encode(), nil)
		if _, err := a.CertificateFilter(reqs[k]); err != nil {
			b.Fatal(err)
		}
	}

	// Warm up, and check that every case has a full first page and a
	// next page, so the mix measures what it claims.
	for k, q := range cases {
		q.Limit = apiBenchPageSize
		l, err := c.ListCertificates(ctx, q)
		if err != nil || len(l.Items) != apiBenchPageSize || l.Next == "" {
			b.Fatalf("case %d %+v: %d items, next %q, %v; want a full page and more", k, q, len(l.Items), l.Next, err)
		}
	}

	next := make([]string, len(cases))
	apiLat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		k := (i / 2) % len(cases)
		q := cases[k]
		q.Limit = apiBenchPageSize
		if i%2 == 1 {
			q.After = next[k]
		}
		start := time.Now()
		l, err := c.ListCertificates(ctx, q)
		apiLat = append(apiLat, time.Since(start))
		if err != nil || len(l.Items) == 0 {
			b.Fatalf("case %d %+v: %d items, %v", k, q, len(l.Items), err)
		}
		if i%2 == 0 {
			next[k] = l.Next
		}
	}
	b.StopTimer()

	storeLat := make([]time.Duration, 0, b.N)
	for i := range b.N {
		k := (i / 2) % len(cases)
		f, _ := a.CertificateFilter(reqs[k])
		p := inventory.Page{Limit: apiBenchPageSize}
		if i%2 == 1 {
			p.After = next[k]
		}
		start := time.Now()
		page, err := st.ListCertificates(ctx, f, p)
		storeLat = append(storeLat, time.Since(start))
		if err != nil || len(page.Items) == 0 {
			b.Fatalf("store case %d: %d items, %v", k, len(page.Items), err)
		}
		if i%2 == 0 {
			next[k] = page.Next
		}
	}
	if testing.Verbose() && b.N >= 4*len(cases) {
		for k, q := range cases {
			b.Logf("%-70s api p50 %6.2f ms, max %7.2f ms; store p50 %6.2f ms, max %7.2f ms", apiBenchQuery(q).Encode(),
				quantileMS(caseOf(apiLat, k, len(cases)), 0.5), quantileMS(caseOf(apiLat, k, len(cases)), 1),
				quantileMS(caseOf(storeLat, k, len(cases)), 0.5), quantileMS(caseOf(storeLat, k, len(cases)), 1))
		}
	}
	b.ReportMetric(quantileMS(apiLat, 0.50), "p50-ms")
	b.ReportMetric(quantileMS(apiLat, 0.95), "p95-ms")
	b.ReportMetric(quantileMS(storeLat, 0.50), "store-p50-ms")
	b.ReportMetric(quantileMS(storeLat, 0.95), "store-p95-ms")
}

// caseOf returns the latencies of case k of n in lat (iteration i is
// case (i/2)%n).
func caseOf(lat []time.Duration, k, n int) []time.Duration {
	var out []time.Duration
	for i, d := range lat {
		if (i/2)%n == k {
			out = append(out, d)
		}
	}
	return out
}

// quantileMS returns the q quantile of lat in milliseconds.
func quantileMS(lat []time.Duration, q float64) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[int(q*float64(len(s)-1))]) / float64(time.Millisecond)
}
