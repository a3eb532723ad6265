package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/api"
	capkg "github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/users"
)

// The data set of BenchmarkPages: 100,000 certificates (as in
// internal/api's BenchmarkListCertificatesAPI: four issuers, expiries from
// six months past to eighteen months ahead, a tenth labelled prod, but
// all issued already) plus 200 definitions with their processes, keys,
// a vendor order or two, and 10,000 audit events.
const (
	pagesCerts       = 100_000
	pagesBatch       = 500
	pagesDefinitions = 200
	pagesAudit       = 10_000
)

var pagesIssuers = []string{"Acme Issuing CA R1", "Acme Issuing CA R2", "Globex TLS CA 2025", "Initech Internal CA"}

// pagesBench is the site BenchmarkPages reads, built once per process;
// TestMain removes its directory.
var pagesBench struct {
	once sync.Once
	dir  string
	s    *pagesSite
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pagesBench.dir != "" {
		os.RemoveAll(pagesBench.dir)
	}
	os.Exit(code)
}

// pagesSite is the UI and API on one mux over the data set, with an
// admin's session cookie and the IDs the detail pages show.
type pagesSite struct {
	mux    *http.ServeMux
	api    http.Handler
	admin  *inventory.User
	cookie *http.Cookie
	ids    map[string]int64 // cert, def, key, ca
}

// pagesClock is the site's clock, set back while the processes are made
// so that some of them are old (stuck) and some certificates expired.
type pagesClock struct{ offset atomic.Int64 }

func (c *pagesClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func pagesData(b *testing.B) *pagesSite {
	pagesBench.once.Do(func() {
		start := time.Now()
		pagesBench.dir, pagesBench.err = os.MkdirTemp("", "certkeeper-webbench-")
		if pagesBench.err == nil {
			pagesBench.s, pagesBench.err = pagesFill(filepath.Join(pagesBench.dir, "certkeeper.db"))
		}
		if pagesBench.err == nil {
			b.Logf("data set built in %v", time.Since(start).Round(time.Millisecond))
		}
	})
	if pagesBench.err != nil {
		b.Fatal(pagesBench.err)
	}
	return pagesBench.s
}

func pagesFill(database string) (*pagesSite, error) {
	ctx := context.Background()
	st, err := store.Open(ctx, database)
	if err != nil {
		return nil, err
	}
	// The store stays open for the rest of the process.
	now := time.Now()
	ids := map[string]int64{}
	if ids["cert"], err = pagesCertificates(ctx, st, now); err != nil {
		return nil, err
	}

	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		return nil, err
	}
	clock := &pagesClock{}
	clock.offset.Store(int64(-60 * 24 * time.Hour))
	s, err := stack.New(ctx, st, sealer, stack.Config{PasswordParams: &users.Params{Memory: 64, Time: 1, Threads: 1}, Now: clock.now})
	if err != nil {
		return nil, err
	}
	ca, _, err := s.Authority.EnsureDefault(ctx)
	if err != nil {
		return nil, err
	}
	ids["ca"] = ca.ID
	if err := s.Catalogue.SyncBuiltin(ctx); err != nil {
		return nil, err
	}
	if _, err := s.Users.Create(ctx, "bench", "ada", inventory.RoleAdmin, adaPassword); err != nil {
		return nil, err
	}
	vendor, err := s.Catalogue.AddIssuer(ctx, "bench", inventory.Issuer{Name: "Globex Manual", Kind: inventory.IssuerManualVendor})
	if err != nil {
		return nil, err
	}
	if _, err := s.Catalogue.AddProduct(ctx, "bench", vendor.Name, inventory.Product{Name: "Globex DV", ValidationLevel: inventory.LevelDV, MaxValidityDays: 397}); err != nil {
		return nil, err
	}
	if _, err := s.Catalogue.AddVendorAccount(ctx, "bench", vendor.Name, catalogue.NewAccount{Name: "globex-main", Username: "ops"}); err != nil {
		return nil, err
	}

	// Definitions, three in four with a certificate issued 60 days ago
	// (validity 30 to 365 days: some expired, some expiring soon); 20
	// days ago renewals and new processes were opened and left (stuck),
	// some ordered from the vendor.
	validity := []int{30, 75, 120, 200, 365}
	for i := range pagesDefinitions {
		host := fmt.Sprintf("svc-%03d.shop.example.test", i)
		d := &inventory.Definition{Name: fmt.Sprintf("site-%03d", i), Subject: inventory.Subject{CommonName: host},
			SANs: []string{host}, KeyType: "ecdsa-p256", Requirements: inventory.Requirements{ValidityDays: validity[i%5]},
			Requester: "bench", Renewal: inventory.Renewal{DaysBefore: 30}, Targets: []string{"web-" + strconv.Itoa(i)}}
		if i%10 == 0 {
			d.Labels = []string{"prod"}
		}
		if err := s.Definitions.Create(ctx, "bench", d); err != nil {
			return nil, err
		}
		if ids["def"] == 0 && i%4 == 3 {
			ids["def"] = d.ID
		}
		if i%4 == 0 {
			continue
		}
		p, err := s.Acquisitions.Start(ctx, "bench", acquisition.StartOptions{Definition: d.Name, AutoSwitch: true})
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", d.Name, err)
		}
		if _, err := s.Acquisitions.Issue(ctx, capkg.Admin("bench"), p.Acquisition.ID); err != nil {
			return nil, fmt.Errorf("issue %s: %w", d.Name, err)
		}
		if ids["key"] == 0 {
			ids["key"] = p.Acquisition.KeyID
		}
	}
	clock.offset.Store(int64(-20 * 24 * time.Hour))
	for i := range pagesDefinitions {
		if i%4 != 3 && i%8 != 0 {
			continue
		}
		o := acquisition.StartOptions{Definition: fmt.Sprintf("site-%03d", i)}
		if i%8 == 7 {
			o.Issuer = vendor.Name
		}
		p, err := s.Acquisitions.Start(ctx, "bench", o)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", o.Definition, err)
		}
		if o.Issuer != "" {
			if _, err := s.Acquisitions.RecordOrder(ctx, "bench", p.Acquisition.ID, acquisition.OrderInput{VendorAccount: "globex-main", Number: "PO-" + strconv.Itoa(i)}); err != nil {
				return nil, fmt.Errorf("order %s: %w", o.Definition, err)
			}
		}
	}
	clock.offset.Store(0)
	for i := range pagesAudit {
		e := &inventory.AuditEvent{Time: now.Add(time.Duration(i-pagesAudit) * time.Minute), Actor: "user:bench",
			Action: "certificate.import", Object: fmt.Sprintf("certificate:%d", i+1), Summary: "imported app-" + strconv.Itoa(i)}
		if err := st.AppendAudit(ctx, e); err != nil {
			return nil, err
		}
	}

	admin, secret, err := s.Users.Login(ctx, "ada", adaPassword, "192.0.2.1", "bench")
	if err != nil {
		return nil, err
	}
	ui, err := s.UI("", nil)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", s.API.Handler())
	mux.Handle("/", ui.Handler())
	return &pagesSite{mux: mux, api: s.API.Handler(), admin: admin, ids: ids,
		cookie: &http.Cookie{Name: "__Host-certkeeper", Value: secret}}, nil
}

// pagesCertificates stores the four issuers and pagesCerts leaves made from
// one signed template per issuer (each with its own DER, serial, names
// and expiry; signatures no longer verify, which no page checks), and
// returns the ID of one leaf.
func pagesCertificates(ctx context.Context, st inventory.Store, now time.Time) (int64, error) {
	var cas, templates []*inventory.Certificate
	for k, name := range pagesIssuers {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return 0, err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(k + 1)), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-3 * 365 * 24 * time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		caDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return 0, err
		}
		caCert, err := x509.ParseCertificate(caDER)
		if err != nil {
			return 0, err
		}
		cas = append(cas, inventory.NewCertificate(caCert, "bench"))
		leaf := &x509.Certificate{SerialNumber: big.NewInt(1_000_000), Subject: pkix.Name{CommonName: "app-0.shop.example.test"},
			DNSNames: []string{"app-0.shop.example.test"}, NotBefore: now.Add(-90 * 24 * time.Hour), NotAfter: now,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, key.Public(), key)
		if err != nil {
			return 0, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return 0, err
		}
		templates = append(templates, inventory.NewCertificate(c, "bench"))
	}
	if _, err := st.PutCertificates(ctx, cas); err != nil {
		return 0, err
	}
	zones := []string{"shop", "intra", "api", "mail", "cdn"}
	issuerOf := []int{0, 0, 0, 1, 1, 2, 3}
	span := 2 * 365 * 24 * time.Hour
	recs := make([]*inventory.Certificate, pagesBatch)
	var first int64
	for start := 0; start < pagesCerts; start += pagesBatch {
		for j := range recs {
			i := start + j
			t := templates[issuerOf[i%len(issuerOf)]]
			rec := *t
			rec.DER = slices.Clone(t.DER)
			binary.BigEndian.PutUint64(rec.DER[len(rec.DER)-8:], uint64(i))
			rec.SHA256, rec.SHA1 = inventory.SHA256Hex(rec.DER), inventory.SHA1Hex(rec.DER)
			rec.Serial = strconv.FormatInt(int64(1_000_000+i), 16)
			name := fmt.Sprintf("app-%d.%s.example.test", i, zones[i%len(zones)])
			rec.Subject, rec.CommonName, rec.SANs = "CN="+name, name, []string{name, "www." + name}
			notAfter := now.Add(-span/4 + time.Duration(int64(span)/pagesCerts*int64((i*7919)%pagesCerts)))
			// Issued 90 days before expiry, or up to a month ago for those
			// expiring later: hardly any are not yet valid.
			notBefore := notAfter.Add(-90 * 24 * time.Hour)
			if early := now.Add(-time.Duration(i%30+1) * 24 * time.Hour); early.Before(notBefore) {
				notBefore = early
			}
			rec.NotBefore, rec.NotAfter = notBefore.UTC().Truncate(time.Second), notAfter.UTC().Truncate(time.Second)
			rec.Labels = nil
			if i%10 == 0 {
				rec.Labels = []string{"prod"}
			}
			recs[j] = &rec
		}
		res, err := st.PutCertificates(ctx, recs)
		if err != nil {
			return 0, fmt.Errorf("PutCertificates at %d: %w", start, err)
		}
		if start == pagesCerts/2 {
			first = res[7].ID
		}
	}
	return first, nil
}

// pagesCase is a page and the bare API call it makes (or its main one).
type pagesCase struct {
	name, page, api string
}

func pagesCases(ids map[string]int64) []pagesCase {
	id := func(k string) string { return strconv.FormatInt(ids[k], 10) }
	return []pagesCase{
		{"dashboard", "/", "/api/v1/dashboard"},
		{"certificates", "/certificates", "/api/v1/certificates?limit=50"},
		{"certificates-q", "/certificates?q=-424", "/api/v1/certificates?limit=50&q=-424"},
		{"certificates-expiring", "/certificates?status=valid&expiring_within=30", "/api/v1/certificates?expiring_within=30&limit=50&status=valid"},
		{"certificate", "/certificates/" + id("cert"), "/api/v1/certificates/" + id("cert")},
		{"definitions", "/definitions", "/api/v1/definitions?limit=50"},
		{"definition", "/definitions/" + id("def"), "/api/v1/definitions/" + id("def")},
		{"acquisitions", "/acquisitions", "/api/v1/acquisitions?limit=50&state=open"},
		{"requests", "/requests", "/api/v1/acquisitions?limit=50&state=csr_ready%2Cordered"},
		{"keys", "/keys", "/api/v1/keys?limit=50"},
		{"key", "/keys/" + id("key"), "/api/v1/keys/" + id("key")},
		{"audit", "/audit", "/api/v1/audit?limit=50&order=newest"},
		{"cas", "/ca", "/api/v1/cas"},
		{"ca", "/ca/" + id("ca"), "/api/v1/cas/" + id("ca")},
		{"issuers", "/issuers", "/api/v1/issuers"},
		{"vendor-accounts", "/vendor-accounts", "/api/v1/vendor-accounts"},
		{"settings", "/settings", "/api/v1/settings"},
	}
}

// BenchmarkPages measures every page of the UI at 100,000 certificates
// (SQLite): the full site's handler (UI and API on one mux, as serve
// mounts them) called directly with an admin's session cookie, no network
// or TLS. Per page it reports the p50 and p95 latency of rendering it
// (p50-ms, p95-ms) and, as the floor, of the bare API call the page
// makes, asked of the same API handler as the same user in the same
// iteration (api-p50-ms, api-p95-ms). The data set is built once per
// process (about half a minute) and reused by every sub-benchmark and
// -count round.
func BenchmarkPages(b *testing.B) {
	s := pagesData(b)
	for _, c := range pagesCases(s.ids) {
		b.Run(c.name, func(b *testing.B) {
			get := func(h http.Handler, path string, apiCall bool) (time.Duration, *httptest.ResponseRecorder) {
				req := httptest.NewRequest("GET", path, nil)
				if apiCall {
					req = req.WithContext(api.WithUser(req.Context(), s.admin))
				} else {
					req.AddCookie(s.cookie)
				}
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				return time.Since(start), rec
			}
			// Warm up, and check both answer.
			for _, x := range []struct {
				h    http.Handler
				path string
				api  bool
			}{{s.mux, c.page, false}, {s.api, c.api, true}} {
				if _, rec := get(x.h, x.path, x.api); rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d\n%.2000s", x.path, rec.Code, rec.Body)
				}
			}
			lat := make([]time.Duration, 0, b.N)
			apiLat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				d, rec := get(s.mux, c.page, false)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", c.page, rec.Code)
				}
				lat = append(lat, d)
				b.StopTimer()
				d, rec = get(s.api, c.api, true)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", c.api, rec.Code)
				}
				apiLat = append(apiLat, d)
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(pagesQuantileMS(lat, 0.50), "p50-ms")
			b.ReportMetric(pagesQuantileMS(lat, 0.95), "p95-ms")
			b.ReportMetric(pagesQuantileMS(apiLat, 0.50), "api-p50-ms")
			b.ReportMetric(pagesQuantileMS(apiLat, 0.95), "api-p95-ms")
		})
	}
}

// pagesQuantileMS returns the q quantile of lat in milliseconds.
func pagesQuantileMS(lat []time.Duration, q float64) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[int(q*float64(len(s)-1))]) / float64(time.Millisecond)
}
