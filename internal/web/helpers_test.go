package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/web"
)

// site is a running certkeeper (API and UI) over HTTPS on a fresh SQLite
// inventory, with the default CA, an admin "ada" and a user "bob".
type site struct {
	t     *testing.T
	stack *stack.Stack
	srv   *httptest.Server
	log   *lockedWriter
}

// Passwords of the test users.
const (
	adaPassword = "correct horse battery ada"
	bobPassword = "correct horse battery bob"
)

func newSite(t *testing.T) *site {
	t.Helper()
	return newSiteWith(t, nil)
}

// browser is a cookie-keeping HTTPS client of the site.
type browser struct {
	t    *testing.T
	site *site
	hc   *http.Client
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	// A client of its own: srv.Client() is shared, and so would be the jar.
	hc := &http.Client{Transport: s.srv.Client().Transport, Jar: jar, Timeout: 30 * time.Second}
	return &browser{t: s.t, site: s, hc: hc}
}

// signIn signs in as one of the test users and fails the test otherwise.
func (s *site) signIn(username string) *browser {
	b := s.browser()
	res, body := b.post("/login", url.Values{"username": {username}, "password": {"correct horse battery " + username}})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" {
		s.t.Fatalf("sign in as %s: %d at %s\n%s", username, res.StatusCode, res.Request.URL.Path, body)
	}
	return b
}

// csrfRE finds the anti-forgery token in a page.
var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the session's anti-forgery token, read from a page.
func (b *browser) csrf() string {
	b.t.Helper()
	_, body := b.get("/account/password")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// get fetches path, following redirects.
func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	return b.do("GET", path, nil, "")
}

// post submits a form with the session's anti-forgery token added (when
// signed in and the form has none), following redirects.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && path != "/login" {
		form.Set("csrf", b.csrf())
	}
	return b.do("POST", path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

func (b *browser) do(method, path string, body io.Reader, ctype string, hdr ...string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.site.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res, string(data)
}

// mustContain fails the test unless body holds every text.
func mustContain(t *testing.T, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(body, s) {
			t.Fatalf("page lacks %q:\n%s", s, body)
		}
	}
}

// ensure web is used by the external test package.
var _ = web.New
