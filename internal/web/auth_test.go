package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/users"
)

// TestSignInAndSessions covers sign-in, the session cookie, sign-out and
// the redirect target.
func TestSignInAndSessions(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	res, _ := b.get("/certificates?q=x")
	if res.Request.URL.Path != "/login" || res.Request.URL.Query().Get("next") != "/certificates?q=x" {
		t.Fatalf("signed out: landed on %s", res.Request.URL)
	}
	res, body := b.post("/login", url.Values{"username": {"ada"}, "password": {"wrong password here"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password.") {
		t.Fatalf("wrong password: %d\n%s", res.StatusCode, body)
	}
	// Sign in, straight on to where the user was going.
	res, _ = b.post("/login", url.Values{"username": {"ada"}, "password": {adaPassword}, "next": {"/certificates?q=x"}})
	if res.Request.URL.RequestURI() != "/certificates?q=x" {
		t.Fatalf("after sign-in: at %s", res.Request.URL)
	}
	cookie := sessionCookie(t, b)
	// A second sign-in gets a new session, never the old one.
	res, _ = b.post("/login", url.Values{"username": {"ada"}, "password": {adaPassword}})
	if res.StatusCode != http.StatusOK || sessionCookie(t, b).Value == cookie.Value {
		t.Fatalf("second sign-in kept the session id (%d)", res.StatusCode)
	}
	// An off-site target is ignored.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		res, _ = b.post("/login", url.Values{"username": {"ada"}, "password": {adaPassword}, "next": {next}})
		if res.Request.URL.Host != strings.TrimPrefix(s.srv.URL, "https://") || res.Request.URL.Path != "/" {
			t.Errorf("next=%q led to %s", next, res.Request.URL)
		}
	}
	// Sign out ends the session: its cookie no longer works.
	old := sessionCookie(t, b)
	res, _ = b.post("/logout", nil)
	if res.Request.URL.Path != "/login" {
		t.Fatalf("after sign-out: at %s", res.Request.URL)
	}
	replay := s.browser()
	u, _ := url.Parse(s.srv.URL)
	replay.hc.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/"}})
	if res, _ := replay.get("/"); res.Request.URL.Path != "/login" {
		t.Errorf("a signed-out session still opens %s", res.Request.URL)
	}
}

// sessionCookie returns the browser's session cookie as the server set
// it (the jar hides attributes, so the response header is read instead).
func sessionCookie(t *testing.T, b *browser) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(b.site.srv.URL)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "__Host-certkeeper" {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// TestCookieAndHeaders checks the session cookie's attributes and the
// security headers on public and signed-in pages.
func TestCookieAndHeaders(t *testing.T) {
	s := newSite(t)
	hc := s.srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.PostForm(s.srv.URL+"/login", url.Values{"username": {"ada"}, "password": {adaPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var sc *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "__Host-certkeeper" {
			sc = c
		}
	}
	if sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("session cookie = %+v", sc)
	}
	b := s.signIn("ada")
	for _, path := range []string{"/login", "/", "/static/app.css"} {
		res, _ := b.get(path)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin", "Strict-Transport-Security": "max-age=31536000"} {
			if h.Get(name) != want {
				t.Errorf("%s: %s = %q, want %q", path, name, h.Get(name), want)
			}
		}
	}
	_, body := b.get("/")
	for _, bad := range []string{"<script>", " style=", " onclick="} {
		if strings.Contains(body, bad) {
			t.Errorf("dashboard holds %q, which the CSP would block", bad)
		}
	}
}

// TestCSRF refuses state changes without the session's token or from
// another site, and changes nothing then.
func TestCSRF(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{"csrf": {""}, "admin_email": {"evil@example.com"}}, nil},
		{"another token", url.Values{"csrf": {"forged"}, "admin_email": {"evil@example.com"}}, nil},
		{"cross-site", url.Values{"admin_email": {"evil@example.com"}}, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		form := tt.form
		if _, ok := form["csrf"]; !ok {
			form.Set("csrf", b.csrf())
		}
		res, body := b.do("POST", "/settings", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", tt.hdr...)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d\n%s", tt.name, res.StatusCode, body)
		}
	}
	if set, err := s.stack.Settings.Get(ctx); err != nil || set.AdminEmail != "" {
		t.Errorf("settings changed by a refused request: %+v, %v", set, err)
	}
	// Signed out, a state change is refused without a redirect.
	anon := s.browser()
	res, _ := anon.do("POST", "/definitions", strings.NewReader("name=x"), "application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed-out POST: %d", res.StatusCode)
	}
}

// TestForcedPasswordChange sends a user with a generated password to the
// password page before anything else.
func TestForcedPasswordChange(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	pw, err := s.stack.Users.Create(ctx, "test", "cy", inventory.RoleUser, "")
	if err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	res, body := b.post("/login", url.Values{"username": {"cy"}, "password": {pw}})
	if res.Request.URL.Path != "/account/password" || !strings.Contains(body, "generated password") {
		t.Fatalf("first sign-in: at %s\n%s", res.Request.URL, body)
	}
	if res, _ := b.get("/certificates"); res.Request.URL.Path != "/account/password" {
		t.Errorf("before the change, /certificates led to %s", res.Request.URL)
	}
	res, body = b.post("/account/password", url.Values{"current": {pw}, "password": {"a new password for cy"}, "again": {"a different one!"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "differ") {
		t.Errorf("mismatched passwords: %d", res.StatusCode)
	}
	res, _ = b.post("/account/password", url.Values{"current": {pw}, "password": {"a new password for cy"}, "again": {"a new password for cy"}})
	if res.Request.URL.Path != "/" {
		t.Fatalf("after the change: at %s", res.Request.URL)
	}
	if res, _ := b.get("/certificates"); res.Request.URL.Path != "/certificates" {
		t.Errorf("after the change, /certificates led to %s", res.Request.URL)
	}
}

// TestBackoffAndThrottle: five wrong passwords back the name off from
// that address (429 with Retry-After, the right password too); many
// attempts from one address are slowed down.
func TestBackoffAndThrottle(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	var res *http.Response
	var body string
	for range 5 {
		res, body = b.post("/login", url.Values{"username": {"bob"}, "password": {"not bob's password"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password.") {
			t.Fatalf("wrong password: %d\n%s", res.StatusCode, body)
		}
	}
	res, body = b.post("/login", url.Values{"username": {"bob"}, "password": {bobPassword}})
	if ra := res.Header.Get("Retry-After"); res.StatusCode != http.StatusTooManyRequests || (ra != "1" && ra != "2") ||
		!strings.Contains(body, "Too many failed sign-ins from your address") {
		t.Errorf("right password while backed off: %d, Retry-After %q\n%s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	throttled := false
	for range 10 {
		res, _ = b.post("/login", url.Values{"username": {"nobody"}, "password": {"whatever it is"}})
		if res.StatusCode == http.StatusTooManyRequests && strings.Contains(s.log.String(), "sign-in throttled") {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Error("16 rapid sign-in attempts from one address were never throttled, or it was not logged")
	}
}

// TestUnlockButton: an admin ends a user's backoff from the users page.
func TestUnlockButton(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	for range 5 {
		s.stack.Users.Login(ctx, "bob", "not bob's password", "127.0.0.1", "")
	}
	if _, _, err := s.stack.Users.Login(ctx, "bob", bobPassword, "127.0.0.1", ""); !errors.Is(err, users.ErrBackoff) {
		t.Fatalf("bob after five failures: %v, want ErrBackoff", err)
	}
	admin := s.signIn("ada")
	_, page := admin.get("/settings/users")
	m := regexp.MustCompile(`action="(/settings/users/\d+/unlock)"[^>]*data-confirm="End the sign-in backoff of bob\?`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no unlock button for bob:\n%s", page)
	}
	res, body := admin.post(m[1], url.Values{"csrf": {admin.csrf()}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Sign-in backoff ended: 2 failure records cleared.") {
		t.Fatalf("unlock: %d\n%s", res.StatusCode, body)
	}
	s.signIn("bob")
	res, body = admin.post("/settings/token-policy", url.Values{"csrf": {admin.csrf()}, "max_lifetime": {"720h"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "API tokens now live at most 720h0m0s.") {
		t.Fatalf("token policy: %d\n%s", res.StatusCode, body)
	}
}

// TestBackoffBehindProxy: behind a trusted proxy the backoff counts the
// client's address from X-Forwarded-For; from an untrusted peer the
// header is ignored, so it cannot be used to dodge the backoff.
func TestBackoffBehindProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		file := filepath.Join(t.TempDir(), "allowlist.txt")
		s := newSiteWith(t, func(cfg *stack.Config, st inventory.Store) {
			l, err := access.Open(file, st, cfg.Log)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Access = l
			if trusted {
				cfg.Proxies = access.Proxies{netip.MustParsePrefix("127.0.0.1/32")}
			}
		})
		b := s.browser()
		from := func(addr, password string) *http.Response {
			form := url.Values{"username": {"bob"}, "password": {password}}
			res, _ := b.do("POST", "/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded",
				"X-Forwarded-For", addr)
			return res
		}
		for range 5 {
			from("10.1.1.1", "not bob's password")
		}
		if res := from("10.1.1.1", bobPassword); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("trusted proxy %v: the right password from the failing address: %d, want 429", trusted, res.StatusCode)
		}
		res := from("10.1.1.2", bobPassword)
		if signedIn := res.StatusCode == http.StatusOK && res.Request.URL.Path == "/"; signedIn != trusted {
			t.Errorf("trusted proxy %v: the right password from another forwarded address: %d at %s, want signed in %v",
				trusted, res.StatusCode, res.Request.URL.Path, trusted)
		}
	}
}
