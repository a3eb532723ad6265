package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// adminPassword is the password of the "admin" that signInServe makes.
const adminPassword = "the admin's own good password"

// signInServe makes the admin "admin" with adminPassword and an API token
// file for them, then serves with the real argon2id costs.
func signInServe(t *testing.T) (*ck, *served, string) {
	t.Helper()
	c := newCK(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(adminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("user", "create", "admin", "--role", "admin", "--password-file", pw)
	out := c.ok("token", "create", "--user", "admin", "--name", "cli")
	m := regexp.MustCompile(`(ck_[A-Za-z0-9_-]{43})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("token create printed no secret:\n%s", out)
	}
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(tokenFile, []byte(m[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c, serve(t, c), tokenFile
}

// clientFrom is an HTTPS client of the served instance whose connections
// come from the loopback address ip; it does not follow redirects.
func (c *ck) clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	tr := c.httpsClient(t).Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr.DialContext = d.DialContext
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signInAnswer is what the server answered a sign-in.
type signInAnswer struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

// signIn posts the sign-in form.
func signIn(t *testing.T, hc *http.Client, base, username, password string) signInAnswer {
	t.Helper()
	start := time.Now()
	res, err := hc.PostForm(base+"/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		t.Errorf("sign in as %s: %v", username, err)
		return signInAnswer{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Errorf("sign in as %s: %v", username, err)
	}
	return signInAnswer{status: res.StatusCode, header: res.Header, body: string(b), took: time.Since(start)}
}

// signedIn reports whether a sign-in answer started a session and sent
// the browser on.
func (a signInAnswer) signedIn() bool {
	return a.status == http.StatusSeeOther && sessionOf(a) != ""
}

// sessionOf returns the session cookie a sign-in answer set, if any.
func sessionOf(a signInAnswer) string {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "__Host-certkeeper" && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// vmHWM is the peak resident set size of process pid, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	kib, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kib * 1024
}

// TestSignInMemoryUnderAttack: forty wrong sign-ins at once from forty
// addresses keep the server's peak memory under 1 GiB (each argon2id
// verification holds 64 MiB), and the admin signs in right afterwards.
func TestSignInMemoryUnderAttack(t *testing.T) {
	c, s, _ := signInServe(t)
	pid := s.cmd.Process.Pid
	before := vmHWM(t, pid)
	const n = 40
	answers := make([]signInAnswer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		hc := c.clientFrom(t, fmt.Sprintf("127.0.1.%d", i+1))
		wg.Go(func() {
			<-start
			answers[i] = signIn(t, hc, s.URL, "admin", fmt.Sprintf("wrong guess number %d", i))
		})
	}
	close(start)
	wg.Wait()
	peak := vmHWM(t, pid)
	statuses := map[int]int{}
	for _, a := range answers {
		statuses[a.status]++
		if a.status == http.StatusTooManyRequests && a.header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After:\n%s", a.body)
		}
	}
	t.Logf("peak RSS %d MiB before the attack, %d MiB after; answers %v", before>>20, peak>>20, statuses)
	if peak >= 1<<30 {
		t.Errorf("peak RSS %d MiB under %d concurrent sign-ins, want under 1024 MiB", peak>>20, n)
	}
	if statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != n {
		t.Errorf("answers %v, want only 401 and 429", statuses)
	}
	a := signIn(t, c.clientFrom(t, "127.0.1.100"), s.URL, "admin", adminPassword)
	if !a.signedIn() || a.header.Get("Location") != "/" || a.took > 10*time.Second {
		t.Errorf("the admin's sign-in after the attack: %d in %s, Location %q, want 303 to / within 10s",
			a.status, a.took, a.header.Get("Location"))
	}
}

// TestSignInAttackerCannotLockOut: many wrong passwords for admin from
// one address slow that address down, while the admin signs in from
// another at once; an admin's unlock ends the attacker address's backoff.
func TestSignInAttackerCannotLockOut(t *testing.T) {
	c, s, tokenFile := signInServe(t)
	attacker := c.clientFrom(t, "127.0.2.1")
	refused := 0
	for i := range 15 {
		a := signIn(t, attacker, s.URL, "admin", fmt.Sprintf("wrong guess number %d", i))
		switch a.status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("attempt %d: %d, want 401 or 429", i+1, a.status)
		}
	}
	if refused == 0 {
		t.Error("15 wrong passwords from one address were never slowed down")
	}
	if a := signIn(t, attacker, s.URL, "admin", adminPassword); a.status != http.StatusTooManyRequests {
		t.Errorf("the right password from the attacker's address: %d, want 429 while backed off", a.status)
	}
	if a := signIn(t, c.clientFrom(t, "127.0.2.2"), s.URL, "admin", adminPassword); !a.signedIn() {
		t.Fatalf("the admin from a fresh address: %d, want signed in\n%s", a.status, a.body)
	}
	out := c.ok("--server", s.URL, "--token-file", tokenFile, "user", "unlock", "admin")
	if !regexp.MustCompile(`user admin unlocked: [1-9]\d* sign-in failure records cleared`).MatchString(out) {
		t.Errorf("user unlock printed %q", out)
	}
	// The address's request-rate limit refills within seconds; the
	// backoff is gone.
	deadline := time.Now().Add(30 * time.Second)
	for a := signIn(t, attacker, s.URL, "admin", adminPassword); !a.signedIn(); a = signIn(t, attacker, s.URL, "admin", adminPassword) {
		if a.status != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("sign-in from the unlocked address: %d, want signed in within 30s\n%s", a.status, a.body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if audit := c.ok("audit", "--since", "1h"); !strings.Contains(audit, "user.unlock") {
		t.Errorf("audit lacks user.unlock:\n%s", audit)
	}
}

// TestSignInUnknownUserLooksKnown: an unknown username gets the very same
// answer as a known one with a wrong password, in comparable time, and
// the same backoff.
func TestSignInUnknownUserLooksKnown(t *testing.T) {
	c, s, _ := signInServe(t)
	const known, unknown = "admin", "nobod" // same length: same page size
	norm := func(a signInAnswer, name string) string {
		h := a.header.Clone()
		h.Del("Date")
		return fmt.Sprintf("%d %v\n%s", a.status, h, strings.ReplaceAll(a.body, `value="`+name+`"`, `value="NAME"`))
	}
	// The work done is the same too: one hash with the service's costs in
	// each case (users.TestAuthenticateSameWorkEveryWay); timing it here
	// would measure the machine's load.
	for i := range 3 {
		k := signIn(t, c.clientFrom(t, fmt.Sprintf("127.0.3.%d", 2*i+1)), s.URL, known, "a wrong password here")
		u := signIn(t, c.clientFrom(t, fmt.Sprintf("127.0.3.%d", 2*i+2)), s.URL, unknown, "a wrong password here")
		if k.status != http.StatusUnauthorized || norm(k, known) != norm(u, unknown) {
			t.Fatalf("known user with a wrong password:\n%s\nunknown user:\n%s", norm(k, known), norm(u, unknown))
		}
	}
	// The backoff after five failures reads the same too.
	var last [2]signInAnswer
	for j, name := range []string{known, unknown} {
		hc := c.clientFrom(t, fmt.Sprintf("127.0.3.%d", 20+j))
		for range 6 {
			last[j] = signIn(t, hc, s.URL, name, "a wrong password here")
		}
	}
	if last[0].status != http.StatusTooManyRequests || norm(last[0], known) != norm(last[1], unknown) {
		t.Errorf("sixth attempt, known user:\n%s\nunknown user:\n%s", norm(last[0], known), norm(last[1], unknown))
	}
}

// TestDisabledUserCredentialsStayDead: disabling a user ends their API
// token and web session, and enabling them again revives neither.
func TestDisabledUserCredentialsStayDead(t *testing.T) {
	c, s, adminToken := signInServe(t)
	pw := filepath.Join(t.TempDir(), "bob")
	os.WriteFile(pw, []byte("bob's own good password\n"), 0o600)
	c.ok("user", "create", "bob", "--password-file", pw)
	m := regexp.MustCompile(`(ck_[A-Za-z0-9_-]{43})`).FindStringSubmatch(c.ok("token", "create", "--user", "bob", "--name", "ci"))
	if m == nil {
		t.Fatal("token create printed no secret")
	}
	token := m[1]
	hc := c.clientFrom(t, "127.0.4.1")
	a := signIn(t, hc, s.URL, "bob", "bob's own good password")
	if !a.signedIn() {
		t.Fatalf("bob signs in: %d\n%s", a.status, a.body)
	}
	session := sessionOf(a)
	works := func(what string, want bool) {
		t.Helper()
		if got := getWith(t, hc, s.URL+"/api/v1/me", "Authorization", "Bearer "+token) == http.StatusOK; got != want {
			t.Errorf("%s: token works = %v, want %v", what, got, want)
		}
		if got := getWith(t, hc, s.URL+"/", "Cookie", "__Host-certkeeper="+session) == http.StatusOK; got != want {
			t.Errorf("%s: session works = %v, want %v", what, got, want)
		}
	}
	works("before", true)
	admin := func(args ...string) string {
		return c.ok(append([]string{"--server", s.URL, "--token-file", adminToken}, args...)...)
	}
	admin("user", "disable", "bob")
	works("disabled", false)
	admin("user", "enable", "bob")
	works("enabled again", false)
	if a := signIn(t, hc, s.URL, "bob", "bob's own good password"); !a.signedIn() {
		t.Errorf("bob signs in again after being enabled: %d", a.status)
	}
	// The maximum token lifetime an admin sets caps new tokens.
	if out := admin("token", "max-lifetime", "720h"); !strings.Contains(out, "at most 720h0m0s") {
		t.Errorf("token max-lifetime printed %q", out)
	}
	line := c.fails("--server", s.URL, "--token-file", adminToken, "token", "create", "--user", "bob", "--name", "x", "--expires", "31d")
	if !strings.Contains(line, "ttl") || !strings.Contains(line, "maximum") {
		t.Errorf("a token over the maximum: %s, want it refused naming ttl", line)
	}
}

// getWith returns the status of a GET with one header.
func getWith(t *testing.T, hc *http.Client, u, name, value string) int {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(name, value)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
