package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// The browser tests drive the web UI of a real "certkeeper serve" in a
// headless Chromium: every click, form and download goes through the
// browser as a user's would.

// stepTimeout bounds each browser action, so that a selector that never
// matches fails the test instead of hanging it.
const stepTimeout = 20 * time.Second

// screenshotsEnv names a directory that receives full-page screenshots of
// the main screens (for the documentation); unset, none are written.
const screenshotsEnv = "CERTKEEPER_SCREENSHOTS"

// tab is one browser tab with its own dialogs handler.
type tab struct {
	ctx  context.Context
	base string // the HTTPS base URL of the UI

	mu      sync.Mutex
	dialogs []string // the messages of the dialogs accepted so far
}

// newBrowser starts Chromium for the test and returns a tab in its
// default browser context. The browser ends with the test.
func newBrowser(t *testing.T, base string) *tab {
	t.Helper()
	exe := testenv.Command(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-proxy-server", true), // loopback only, whatever the environment says
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.UserDataDir(t.TempDir()),
		// The HTTPS certificate comes from certkeeper's own CA, which is not in
		// Chromium's store; TLS verification is tested elsewhere.
		chromedp.IgnoreCertErrors,
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser; it must not carry a step's
	// timeout, which would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return openTab(t, ctx, base)
}

// openTab attaches a tab (the first action of ctx opens it) that accepts
// every JavaScript dialog, as a user pressing OK would, and records the
// dialogs' messages.
func openTab(t *testing.T, ctx context.Context, base string) *tab {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	b := &tab{ctx: ctx, base: base}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			// A dialog blocks the page, and the click that opened it, until
			// it is answered.
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return b
}

// newSession opens a tab in a new browser context: no cookies shared
// with the other tabs.
func (b *tab) newSession(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return openTab(t, ctx, b.base)
}

func (b *tab) dialogMessages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// step runs actions within stepTimeout; a failure fails t with a
// screenshot and the page's <main>.
func (b *tab) step(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(t, what, err)
	}
}

// get runs one action that returns a value, like step.
func get[T any](t *testing.T, b *tab, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(t, what, err)
	}
	return v
}

// fail ends the test with what went wrong, where the browser was, a
// screenshot in the test's temporary directory, and the page's <main>.
func (b *tab) fail(t *testing.T, what string, err error) {
	t.Helper()
	b.dump(t)
	t.Fatalf("%s: %v", what, err)
}

// dump logs the browser's location and <main>, and saves a screenshot.
func (b *tab) dump(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		t.Logf("browser at %s", loc)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		f := filepath.Join(t.TempDir(), "failure.png")
		if err := os.WriteFile(f, png, 0o644); err == nil {
			t.Logf("screenshot: %s", f)
		}
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(document.querySelector("main") || document.documentElement).outerHTML`))
	if err != nil {
		t.Logf("no page HTML: %v", err)
		return
	}
	t.Logf("page <main>:\n%s", html)
}

// check fails the test, with the page, unless ok.
func (b *tab) check(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		b.dump(t)
		t.Fatalf(format, args...)
	}
}

// open navigates to path and returns the final response (after
// redirects).
func (b *tab) open(t *testing.T, path string) *network.Response {
	t.Helper()
	resp := get(t, b, "open "+path, chromedp.NavigateResponse(b.base+path))
	if resp == nil {
		b.fail(t, "open "+path, errors.New("no response"))
	}
	return resp
}

// path returns the path (with the query) the browser shows.
func (b *tab) path(t *testing.T) string {
	t.Helper()
	loc := get(t, b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// mainText returns the visible text of the page's <main>.
func (b *tab) mainText(t *testing.T) string {
	t.Helper()
	return get(t, b, "read <main>", chromedp.Text(chromedp.CSS("main")))
}

// count returns how many elements match a CSS selector, without waiting.
func (b *tab) count(t *testing.T, css string) int {
	t.Helper()
	return get(t, b, "count "+css, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%s).length", jsString(css))))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// field is one form field to fill: its name and value.
type field struct{ name, value string }

// fill types values into a form's fields (inputs, textareas, selects),
// found by form and name.
func (b *tab) fill(t *testing.T, form string, fields ...field) {
	t.Helper()
	for _, f := range fields {
		sel := chromedp.CSS(fmt.Sprintf(`%s [name=%q]`, form, f.name))
		b.step(t, "fill "+string(sel), chromedp.SetValue(sel, f.value))
	}
}

// submit fills a form and clicks its submit button, then waits for the
// page that answers; it returns that page's response.
func (b *tab) submit(t *testing.T, form string, fields ...field) *network.Response {
	t.Helper()
	b.fill(t, form, fields...)
	button := chromedp.CSS(form + ` button[type="submit"]`)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(button))
	if err != nil {
		b.fail(t, "submit "+form, err)
	}
	if resp == nil {
		b.fail(t, "submit "+form, errors.New("no response"))
	}
	return resp
}

// shots saves full-page screenshots when CERTKEEPER_SCREENSHOTS is set.
type shots struct{ dir string }

func screenshots(t *testing.T) shots {
	dir := os.Getenv(screenshotsEnv)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return shots{dir: dir}
}

func (s shots) on() bool { return s.dir != "" }

// take saves the page b shows as NAME.png.
func (s shots) take(t *testing.T, b *tab, name string) {
	t.Helper()
	if !s.on() {
		return
	}
	// Let the layout and fonts settle before the capture.
	b.step(t, "wait for the page", chromedp.WaitReady(chromedp.CSS("main")), chromedp.Sleep(150*time.Millisecond))
	png := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// idAfter returns the number that follows prefix in path ("/definitions/7").
func idAfter(t *testing.T, path, prefix string) int64 {
	t.Helper()
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		t.Fatalf("path %q does not start with %q", path, prefix)
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		t.Fatalf("path %q: no ID after %q", path, prefix)
	}
	return id
}

// certificateJSON is the part of "certificate show --json" the tests read.
type certificateJSON struct {
	ID        int64   `json:"id"`
	Subject   string  `json:"subject"`
	Serial    string  `json:"serial"`
	Status    string  `json:"status"`
	RevokedAt *string `json:"revoked_at"`
}

// TestBrowser walks through the UI as an admin, a user and an address
// outside the allow-list, in one served instance and one browser. Each
// subtest needs the ones before it.
func TestBrowser(t *testing.T) {
	testenv.Command(t, "chromium") // skip before starting anything
	c := newCK(t)
	s := serve(t, c)
	if s.FirstPassword == "" {
		t.Fatal("serve printed no first admin password")
	}
	sh := screenshots(t)
	if sh.on() {
		issueSpread(t, c)
	}
	b := newBrowser(t, s.URL)
	const adminPassword = "a browser-chosen passphrase"

	var defID, acqID, certID int64
	const defName, defCN = "shop-web", "shop.example.test"

	ok := t.Run("FirstLogin", func(t *testing.T) {
		initial := filepath.Join(c.dataDir, "initial-admin-password")
		if _, err := os.Stat(initial); err != nil {
			t.Fatalf("before the first sign-in: %v, want DATA-DIR/initial-admin-password", err)
		}
		b.open(t, "/")
		if p := b.path(t); !strings.HasPrefix(p, "/login") {
			b.check(t, false, "opening / signed out went to %s, want the sign-in page", p)
		}
		sh.take(t, b, "login")
		b.submit(t, `form[action="/login"]`, field{"username", "admin"}, field{"password", s.FirstPassword})
		b.check(t, b.path(t) == "/account/password", "after the first sign-in the browser is at %s, want /account/password", b.path(t))
		// The forced change: no other page opens before it.
		b.open(t, "/definitions")
		b.check(t, b.path(t) == "/account/password", "with the generated password, /definitions went to %s, want /account/password", b.path(t))
		resp := b.submit(t, `form[action="/account/password"]`,
			field{"current", s.FirstPassword}, field{"password", adminPassword}, field{"again", adminPassword})
		b.check(t, b.path(t) == "/" && resp.Status == 200, "after the change the browser is at %s (status %d), want the dashboard", b.path(t), resp.Status)
		b.check(t, strings.Contains(b.mainText(t), "Password changed"), "the dashboard does not confirm the change")
		if _, err := os.Stat(initial); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("DATA-DIR/initial-admin-password after the change: stat err = %v, want it gone", err)
		}
	})
	if !ok {
		return
	}

	ok = t.Run("DefinitionAcquisition", func(t *testing.T) {
		b.open(t, "/definitions/new")
		b.submit(t, `form[action="/definitions"]`, field{"name", defName}, field{"cn", defCN},
			field{"sans", defCN + "\nwww.shop.example.test"})
		defID = idAfter(t, b.path(t), "/definitions/")
		text := b.mainText(t)
		b.check(t, strings.Contains(text, "Definition "+defName) && strings.Contains(text, "www.shop.example.test"),
			"the new definition's page does not show its name and names")

		// Acquire without switching at once, to go through every step.
		acquire := fmt.Sprintf(`form[action="/definitions/%d/acquire"]`, defID)
		b.step(t, "untick auto switch", chromedp.Click(chromedp.CSS(acquire+` input[name="auto_switch"]`)))
		b.submit(t, acquire)
		if strings.HasPrefix(b.path(t), "/definitions/") {
			// Several products fit: choose the built-in CA's.
			radio := `//form[contains(@action,"/acquire")]//label[contains(., "builtin")]/input[@type="radio"]`
			b.step(t, "choose the built-in CA", chromedp.Click(chromedp.Search(radio)))
			b.submit(t, acquire)
		}
		acqID = idAfter(t, b.path(t), "/acquisitions/")
		b.check(t, strings.Contains(b.mainText(t), "Issue it from the built-in CA"), "the acquisition page does not say to issue from the built-in CA")
		b.submit(t, fmt.Sprintf(`form[action="/acquisitions/%d/issue"]`, acqID))
		b.check(t, b.path(t) == fmt.Sprintf("/acquisitions/%d", acqID), "after issue the browser is at %s", b.path(t))
		b.submit(t, fmt.Sprintf(`form[action="/acquisitions/%d/switch"]`, acqID))
		b.check(t, b.path(t) == fmt.Sprintf("/acquisitions/%d", acqID) || b.path(t) == fmt.Sprintf("/definitions/%d", defID),
			"after switch the browser is at %s", b.path(t))
		b.open(t, fmt.Sprintf("/acquisitions/%d", acqID))
		b.check(t, strings.Contains(b.mainText(t), "completed"), "the acquisition is not completed after the switch")
		sh.take(t, b, "acquisition")
		href := get(t, b, "certificate link", chromedp.AttributeValue(chromedp.CSS(`main a[href^="/certificates/"]`), "href"))
		certID = idAfter(t, href.Value, "/certificates/")

		b.open(t, "/")
		b.check(t, b.count(t, `main svg`) > 0, "the dashboard has no chart")

		b.open(t, fmt.Sprintf("/definitions/%d", defID))
		// The "Current certificate" panel links the switched certificate.
		b.check(t, b.count(t, fmt.Sprintf(`section[aria-labelledby="cur-h"] a[href="/certificates/%d"]`, certID)) == 1,
			"the definition page does not show certificate #%d as current", certID)
		sh.take(t, b, "definition")

		resp := b.open(t, fmt.Sprintf("/certificates/%d", certID))
		text = b.mainText(t)
		b.check(t, resp.Status == 200 && strings.Contains(text, defCN) && b.count(t, `main h1 .badge.valid`) == 1,
			"certificate page (status %d) does not show %s as valid", resp.Status, defCN)
		sh.take(t, b, "certificate")
	})
	if !ok {
		return
	}

	ok = t.Run("ExportPFX", func(t *testing.T) {
		var want certificateJSON
		decodeJSON(t, "certificate show", c.ok("certificate", "show", fmt.Sprint(certID), "--json"), &want)
		dir := t.TempDir()
		b.open(t, fmt.Sprintf("/certificates/%d", certID))
		// Downloads go to dir, each named by its GUID, with progress events.
		b.step(t, "set the download directory", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}))
		form := fmt.Sprintf(`form[action="/certificates/%d/export"]`, certID)
		const pfxPassword = "export-pass-1"
		b.fill(t, form, field{"format", "pfx"}, field{"password", pfxPassword})
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		defer cancel()
		progress := chromedp.Events(ctx, browser.DownloadProgress)
		b.step(t, "press Export", chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
		var file string
		for ev, err := range progress {
			if err != nil {
				b.fail(t, "wait for the download", err)
			}
			if ev.State == browser.DownloadProgressStateCanceled {
				b.fail(t, "download", errors.New("canceled"))
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				file = filepath.Join(dir, ev.GUID)
				break
			}
		}
		openssl := testenv.Command(t, "openssl")
		out, err := exec.Command(openssl, "pkcs12", "-in", file, "-passin", "pass:"+pfxPassword, "-nodes").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl pkcs12: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "PRIVATE KEY") {
			t.Errorf("the PFX holds no private key:\n%s", out)
		}
		var leaf *x509.Certificate
		for rest := out; ; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !cert.IsCA {
				leaf = cert
			}
		}
		if leaf == nil {
			t.Fatalf("the PFX holds no end-entity certificate:\n%s", out)
		}
		if got := fmt.Sprintf("%x", leaf.SerialNumber); !strings.EqualFold(strings.TrimLeft(got, "0"), strings.TrimLeft(want.Serial, "0")) {
			t.Errorf("PFX certificate serial %s, want %s", got, want.Serial)
		}
		if leaf.Subject.CommonName != defCN {
			t.Errorf("PFX certificate subject %q, want CN=%s", leaf.Subject, defCN)
		}
	})
	if !ok {
		return
	}

	ok = t.Run("Deploy", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tls")
		b.open(t, "/targets/new")
		display := func(css string) string {
			return get(t, b, "display of "+css, chromedp.Evaluate[string](
				fmt.Sprintf("getComputedStyle(document.querySelector(%s)).display", jsString(css))))
		}
		choose := func(css, value string) {
			b.step(t, "choose "+value+" in "+css, chromedp.SetValue(chromedp.CSS(css), value),
				chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
					"document.querySelector(%s).dispatchEvent(new Event('change', {bubbles: true}))", jsString(css))))
		}
		// The method select shows only its own fieldset.
		b.check(t, display("fieldset.m-ssh") == "none", "the SSH fieldset shows for the directory method")
		choose("#t-method", "ssh")
		b.check(t, display("fieldset.m-ssh") != "none", "the SSH fieldset stays hidden for the ssh method")
		choose("#t-method", "directory")
		// Choosing the preset brings its files and default commands.
		choose("#t-preset", "generic")
		b.step(t, "wait for the generic preset's help", chromedp.Poll[chromedp.Void](
			`document.querySelector("#preset-block").textContent.includes("generic writes") && document.querySelector("#t-test").value === ""`,
			chromedp.WithPollingTimeout(stepTimeout)))
		b.submit(t, `form[action="/targets"]`, field{"name", "web-dir"}, field{"directory", dir})
		targetID := idAfter(t, b.path(t), "/targets/")
		b.check(t, strings.Contains(b.mainText(t), "Target web-dir created"), "creating the target did not confirm")

		b.open(t, fmt.Sprintf("/certificates/%d", certID))
		b.submit(t, `form[action="/deployments"]`, field{"target_id", strconv.FormatInt(targetID, 10)})
		depID := idAfter(t, b.path(t), "/deployments/")
		b.check(t, strings.Contains(b.mainText(t), "prepared"), "the new deployment is not prepared")
		b.check(t, b.count(t, "#install-status.htmx-indicator") == 1 && display("#install-status") != "none",
			"the install form has no running indicator")
		b.submit(t, fmt.Sprintf(`form[action="/deployments/%d/install"]`, depID))
		b.check(t, b.path(t) == fmt.Sprintf("/deployments/%d", depID), "after install the browser is at %s", b.path(t))
		b.check(t, b.count(t, "main h1 .badge.installed, main h1 .badge.confirmed") == 1,
			"the deployment page does not show the deployment installed or confirmed")
		for _, name := range []string{"cert.pem", "fullchain.pem", "privkey.pem"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("after the install: %v", err)
			}
		}
		sh.take(t, b, "deployment")
		b.open(t, "/deployments")
		b.check(t, b.count(t, fmt.Sprintf(`main a[href="/deployments/%d"]`, depID)) > 0, "/deployments does not list #%d", depID)
		sh.take(t, b, "deployments")
	})
	if !ok {
		return
	}

	ok = t.Run("Monitoring", func(t *testing.T) { testMonitorPages(t, c, b, s, sh) })
	if !ok {
		return
	}

	ok = t.Run("Revoke", func(t *testing.T) {
		b.open(t, fmt.Sprintf("/certificates/%d", certID))
		before := len(b.dialogMessages())
		b.submit(t, fmt.Sprintf(`form[action="/certificates/%d/revoke"]`, certID), field{"reason", "superseded"})
		msgs := b.dialogMessages()
		b.check(t, len(msgs) == before+1 && strings.Contains(msgs[len(msgs)-1], "Revoke this certificate"),
			"revoking asked no confirmation (dialogs %q)", msgs)
		b.check(t, b.path(t) == fmt.Sprintf("/certificates/%d", certID), "after revoking the browser is at %s", b.path(t))
		text := b.mainText(t)
		b.check(t, strings.Contains(text, "revoked"), "the certificate page does not show the certificate revoked")
		b.check(t, b.count(t, `.badge.revoked`) > 0, "the certificate page has no revoked badge")
		b.open(t, fmt.Sprintf("/certificates/%d", certID))
		b.check(t, b.count(t, `.badge.revoked`) > 0, "after reload the certificate page has no revoked badge")
		var got certificateJSON
		decodeJSON(t, "certificate show", c.ok("certificate", "show", fmt.Sprint(certID), "--json"), &got)
		if got.Status != "revoked" {
			t.Errorf("certificate status after revoking in the UI = %q, want revoked", got.Status)
		}
	})
	if !ok {
		return
	}

	const adminEmail = "pki-team@example.test"
	ok = t.Run("Settings", func(t *testing.T) {
		b.open(t, "/settings")
		b.submit(t, `form[action="/settings"]`, field{"admin_email", adminEmail})
		b.check(t, b.path(t) == "/settings" && strings.Contains(b.mainText(t), "Settings saved"), "saving settings did not confirm")
		b.step(t, "reload", chromedp.Reload())
		got := get(t, b, "admin e-mail", chromedp.Value(chromedp.CSS(`form[action="/settings"] [name="admin_email"]`)))
		b.check(t, got == adminEmail, "after reload the administrator e-mail is %q, want %q", got, adminEmail)
	})
	if !ok {
		return
	}

	ok = t.Run("TestEmail", func(t *testing.T) {
		mb := newMailbox(t)
		const from, to = "certkeeper@example.test", "ops@example.test"
		b.open(t, "/settings")
		b.submit(t, `form[action="/settings"]`, field{"smtp_host", mb.Addr}, field{"smtp_security", "none"},
			field{"smtp_from", from})
		b.check(t, strings.Contains(b.mainText(t), "Settings saved"), "saving the SMTP settings did not confirm")
		b.submit(t, `form[action^="/settings/test-email"]`, field{"to", to})
		msgs := mb.wait(1, 15*time.Second)
		if len(msgs) != 1 {
			b.check(t, false, "the SMTP server received %d messages, want 1", len(msgs))
		}
		m := msgs[0]
		if len(m.To) != 1 || m.To[0] != to || m.From != from {
			t.Errorf("message from %q to %q, want from %s to %s", m.From, m.To, from, to)
		}
		if subj := m.Subject(); subj != "certkeeper test e-mail" {
			t.Errorf("subject %q, want %q", subj, "certkeeper test e-mail")
		}
		b.open(t, "/settings/emails")
		text := b.mainText(t)
		b.check(t, strings.Contains(text, "certkeeper test e-mail") && strings.Contains(text, to) && strings.Contains(text, "sent"),
			"/settings/emails does not list the test e-mail to %s as sent", to)
	})
	if !ok {
		return
	}

	ok = t.Run("UserDeniedAdminPage", func(t *testing.T) {
		pw := filepath.Join(t.TempDir(), "pw")
		const bobPassword = "bob's long password"
		if err := os.WriteFile(pw, []byte(bobPassword+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.ok("user", "create", "bob", "--role", "user", "--password-file", pw)
		bob := b.newSession(t)
		bob.open(t, "/login")
		bob.submit(t, `form[action="/login"]`, field{"username", "bob"}, field{"password", bobPassword})
		if bob.path(t) == "/account/password" {
			bob.submit(t, `form[action="/account/password"]`, field{"current", bobPassword},
				field{"password", bobPassword + "2"}, field{"again", bobPassword + "2"})
		}
		bob.check(t, bob.path(t) == "/", "bob signed in and is at %s, want the dashboard", bob.path(t))
		bob.check(t, bob.count(t, `nav a[href="/settings"]`) == 0, "the nav shows a Settings link to a user")
		bob.check(t, bob.count(t, `nav a[href="/definitions"]`) == 1, "the nav lacks the Definitions link")
		resp := bob.open(t, "/settings")
		bob.check(t, resp.Status == 403, "/settings answered bob with %d, want 403", resp.Status)
		bob.check(t, strings.Contains(bob.mainText(t), "This page needs the admin role."), "the 403 page does not say why")
		bob.check(t, bob.count(t, `nav a[href="/settings"]`) == 0, "the 403 page's nav shows a Settings link to a user")
		// The admin's session is another browser context and still sees it.
		b.open(t, "/")
		b.check(t, b.count(t, `nav a[href="/settings"]`) == 1, "the admin's nav has no Settings link")
	})
	if !ok {
		return
	}

	ok = t.Run("AllowList", func(t *testing.T) {
		file := filepath.Join(c.dataDir, "allowlist.txt")
		orig, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// The UI refuses a list that would lock the admin out.
		b.open(t, "/settings/allowlist")
		resp := b.submit(t, `form[action="/settings/allowlist"]`, field{"prefixes", "10.0.0.0/8\n192.168.0.0/16"})
		text := b.mainText(t)
		b.check(t, resp.Status == 422 && strings.Contains(text, "lock you out") && strings.Contains(text, "127.0.0.1"),
			"a list without 127.0.0.1: status %d, want 422 and a message that it would lock you out", resp.Status)
		if now, _ := os.ReadFile(file); string(now) != string(orig) {
			t.Errorf("the refused list changed the file:\n%s", now)
		}

		// Edited on disk, the list is reloaded and refuses this browser.
		if err := os.WriteFile(file, []byte("# test: only another loopback address\n127.0.0.2/32\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		restored := false
		restore := func() {
			if !restored {
				restored = true
				os.WriteFile(file, orig, 0o600)
			}
		}
		defer restore()
		refused := false
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			resp := b.open(t, "/settings")
			if resp.Status == 403 {
				body := get(t, b, "body", chromedp.Text(chromedp.CSS("body")))
				b.check(t, strings.Contains(body, "not in certkeeper's IP allow-list"), "403 without the allow-list message: %q", body)
				refused = true
				break
			}
		}
		b.check(t, refused, "the browser was not refused within 15 s of the allow-list change")
		if !strings.Contains(s.logs.String(), "request refused by IP allow-list") {
			t.Errorf("the serve log does not mention the refusal:\n%s", s.logs.String())
		}
		restore()
		back := false
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			if b.open(t, "/settings").Status == 200 {
				back = true
				break
			}
		}
		b.check(t, back, "the browser is still refused 15 s after the allow-list was restored")
	})
	if !ok {
		return
	}

	if sh.on() {
		t.Run("Screenshots", func(t *testing.T) {
			for _, p := range []struct{ name, path string }{
				{"dashboard", "/"},
				{"definitions", "/definitions"},
				{"acquisitions", "/acquisitions?state=all"},
				{"certificates", "/certificates"},
				{"ca", "/ca"},
				{"settings", "/settings"},
				{"allowlist", "/settings/allowlist"},
				{"emails", "/settings/emails"},
				{"audit", "/audit"},
				{"trust-store", "/trust-store"},
				{"outbound", "/settings/outbound"},
				{"approvals", "/approvals"},
				{"users", "/settings/users"},
			} {
				resp := b.open(t, p.path)
				b.check(t, resp.Status == 200, "%s answered %d", p.path, resp.Status)
				sh.take(t, b, p.name)
			}
			// The first CA's page.
			b.open(t, "/ca")
			href := get(t, b, "CA link", chromedp.AttributeValue(chromedp.CSS(`main a[href^="/ca/"]`), "href"))
			b.open(t, href.Value)
			sh.take(t, b, "ca-detail")
			// The dashboard on a phone.
			b.step(t, "narrow viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
			b.open(t, "/")
			sh.take(t, b, "dashboard-narrow")
			b.step(t, "wide viewport", chromedp.EmulateViewport(1280, 800))
		})
	}
}

// issueSpread issues 30 certificates from the default CA with validities
// spread over 90 days, so that the dashboard's timeline has bars.
func issueSpread(t *testing.T, c *ck) {
	t.Helper()
	dir := t.TempDir()
	for i := range 30 {
		days := 2 + i*3
		name := fmt.Sprintf("app%02d.corp.example.test", i)
		c.ok("ca", "issue", "--name", name, "--days", strconv.Itoa(days), "--to", "pem",
			"--out", filepath.Join(dir, name+".pem"))
	}
}
