package web_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// The navigation in a real browser: headless Chromium on the test site,
// at a laptop's size and a phone's, by mouse and by keyboard.

// chrome is one Chromium tab on a site.
type chrome struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newChrome starts Chromium with a width x height viewport; with script
// false, the page runs no JavaScript at all. The browser ends with the
// test.
func newChrome(t *testing.T, s *site, width, height int64, script bool) *chrome {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(testenv.Command(t, "chromium")),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.IgnoreCertErrors, // the test server's own certificate
		chromedp.WindowSize(int(width), int(height)),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser; it carries no step timeout,
	// which would end the browser with it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if !script {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled,
			emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("disable scripts: %v", err)
		}
	}
	return &chrome{t: t, ctx: ctx, base: s.srv.URL}
}

// do runs actions within 20 s and fails the test otherwise.
func (c *chrome) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](c *chrome, expr string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// open loads path and waits for its <main>.
func (c *chrome) open(path string) {
	c.t.Helper()
	c.do("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// signIn signs in through the sign-in form.
func (c *chrome) signIn(username string) {
	c.t.Helper()
	c.open("/login")
	form := `form[action="/login"] `
	c.do("sign in", chromedp.SetValue(chromedp.CSS(form+`[name="username"]`), username),
		chromedp.SetValue(chromedp.CSS(form+`[name="password"]`), "correct horse battery "+username),
		chromedp.Click(chromedp.CSS(form+`button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`nav[aria-label="Main"]`)))
}

// tab presses Tab and returns what has the focus then: an href, "#id",
// or the tag name.
func (c *chrome) tab() string {
	c.t.Helper()
	c.do("press Tab", chromedp.KeyEvent("\t"))
	return eval[string](c, `(e => e.getAttribute("href") || (e.id ? "#" + e.id : e.tagName))(document.activeElement)`)
}

// serverNav returns the hrefs of the main navigation that the server
// sends the signed-in b on path.
func serverNav(t *testing.T, b *browser, path string) []string {
	t.Helper()
	res, body := b.get(path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", path, res.StatusCode)
	}
	nav := regexp.MustCompile(`(?s)<nav aria-label="Main"[^>]*>(.*?)</nav>`).FindStringSubmatch(body)
	if nav == nil {
		t.Fatalf("%s has no main navigation", path)
	}
	var hrefs []string
	for _, m := range regexp.MustCompile(`<a href="([^"]*)"`).FindAllStringSubmatch(nav[1], -1) {
		hrefs = append(hrefs, m[1])
	}
	return hrefs
}

// linkBox is where a navigation link is drawn.
type linkBox struct {
	Href                 string
	Left, Right, Top     float64
	Bottom, TextHeight   float64
	LineHeight           float64
	ScrollWidth, Width   float64
	Visible, FocusInView bool
}

// navLayout measures the page and every link of its main navigation
// (focusing each link, which scrolls it into view as Tab would).
const navLayout = `(() => {
  const nav = document.querySelector('nav[aria-label="Main"]');
  const de = document.documentElement;
  const links = [...nav.querySelectorAll("a")].map(a => {
    const cs = getComputedStyle(a), r = a.getBoundingClientRect();
    a.focus();
    const f = a.getBoundingClientRect();
    return {Href: a.getAttribute("href"), Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom,
      TextHeight: r.height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom),
      LineHeight: parseFloat(cs.lineHeight), ScrollWidth: a.scrollWidth, Width: a.clientWidth,
      Visible: a.checkVisibility(), FocusInView: document.activeElement === a && f.top >= -1 && f.bottom <= innerHeight + 1};
  });
  document.activeElement.blur();
  const n = nav.getBoundingClientRect();
  return {Links: links, NavLeft: n.left, NavRight: n.right, NavScrollWidth: nav.scrollWidth, NavWidth: nav.clientWidth,
    DocScrollWidth: de.scrollWidth, DocWidth: de.clientWidth};
})()`

type layout struct {
	Links                    []linkBox
	NavLeft, NavRight        float64
	NavScrollWidth, NavWidth float64
	DocScrollWidth, DocWidth float64
}

func (l layout) hrefs() []string {
	var out []string
	for _, b := range l.Links {
		out = append(out, b.Href)
	}
	return out
}

// checkLinks fails unless every link is visible, on one line, whole,
// inside the navigation and reachable by focus, and nothing overflows
// sideways.
func checkLinks(t *testing.T, where string, l layout) {
	t.Helper()
	if l.DocScrollWidth > l.DocWidth {
		t.Errorf("%s: the page scrolls sideways (scrollWidth %v > clientWidth %v)", where, l.DocScrollWidth, l.DocWidth)
	}
	if l.NavScrollWidth > l.NavWidth {
		t.Errorf("%s: the navigation overflows (scrollWidth %v > clientWidth %v)", where, l.NavScrollWidth, l.NavWidth)
	}
	for _, b := range l.Links {
		switch {
		case !b.Visible:
			t.Errorf("%s: link %s is not visible", where, b.Href)
		case b.TextHeight > 1.5*b.LineHeight:
			t.Errorf("%s: link %s wraps (%v px high, line %v px)", where, b.Href, b.TextHeight, b.LineHeight)
		case b.ScrollWidth > b.Width:
			t.Errorf("%s: link %s is cut (%v px wide in %v)", where, b.Href, b.ScrollWidth, b.Width)
		case b.Left < l.NavLeft || b.Right > l.NavRight || b.Left < 0 || b.Right > l.DocWidth:
			t.Errorf("%s: link %s is outside the navigation or the screen (%v..%v)", where, b.Href, b.Left, b.Right)
		case !b.FocusInView:
			t.Errorf("%s: link %s is not in view when it has the focus", where, b.Href)
		}
	}
}

// TestNavigationLaptop: on a 1366x768 screen the sidebar shows every
// screen an admin may open, each on one line, none out of reach, and
// the current screen marked.
func TestNavigationLaptop(t *testing.T) {
	s := newSite(t)
	want := serverNav(t, s.signIn("ada"), "/settings/users")
	c := newChrome(t, s, 1366, 768, true)
	c.signIn("ada")
	c.open("/settings/users")
	l := eval[layout](c, navLayout)
	if !slices.Equal(l.hrefs(), want) {
		t.Fatalf("the browser shows the links %v, the server sent %v", l.hrefs(), want)
	}
	checkLinks(t, "1366x768", l)
	if got := eval[string](c, `getComputedStyle(document.querySelector(".navmenu > summary")).display`); got != "none" {
		t.Errorf("the Menu button shows on a wide screen (display %s)", got)
	}
	cur := eval[[]string](c, `[...document.querySelectorAll('nav[aria-label="Main"] [aria-current]')].map(a => a.getAttribute("href") + " " + a.getAttribute("aria-current"))`)
	if !slices.Equal(cur, []string{"/settings/users page"}) {
		t.Errorf("aria-current is on %v, want /settings/users only", cur)
	}
	if g := eval[string](c, `document.querySelector(".navgroup.current .navhead").textContent`); g != "Administration" {
		t.Errorf("the highlighted group is %q, want Administration", g)
	}
}

// TestNavigationKeyboard: from the top of a page, Tab reaches the skip
// link first (shown when focused), then, after the top bar, every
// navigation link in order, each with a visible focus ring; the skip
// link moves the focus to the content.
func TestNavigationKeyboard(t *testing.T) {
	s := newSite(t)
	want := serverNav(t, s.signIn("ada"), "/certificates")
	c := newChrome(t, s, 1366, 768, true)
	c.signIn("ada")
	c.open("/certificates")
	if got := c.tab(); got != "#main" {
		t.Fatalf("the first Tab focuses %q, want the skip link to #main", got)
	}
	if x := eval[float64](c, `document.activeElement.getBoundingClientRect().left`); x < 0 {
		t.Errorf("the focused skip link is off screen (left %v)", x)
	}
	var inNav []string
	for range len(want) + 8 {
		href := c.tab()
		if eval[bool](c, `!!document.activeElement.closest('nav[aria-label="Main"]')`) {
			inNav = append(inNav, href)
			ring := eval[string](c, `(cs => cs.outlineStyle + " " + cs.outlineWidth)(getComputedStyle(document.activeElement))`)
			if strings.HasPrefix(ring, "none") || strings.HasSuffix(ring, " 0px") {
				t.Errorf("the focused link %s has no visible focus ring (%s)", href, ring)
			}
		} else if len(inNav) > 0 {
			break
		}
	}
	if !slices.Equal(inNav, want) {
		t.Fatalf("Tab went through the navigation as %v, want %v", inNav, want)
	}
	// The skip link.
	c.open("/certificates")
	c.tab()
	c.do("press Enter on the skip link", chromedp.KeyEvent("\r"))
	if got := eval[string](c, `document.activeElement.id`); got != "main" {
		t.Errorf("the skip link leaves the focus on %q, want main", got)
	}
}

// TestNavigationNarrow: on a 375 px wide screen, with no JavaScript, no
// page scrolls sideways, the navigation folds behind a Menu button that
// says where one is, and the keyboard opens it to show every link.
func TestNavigationNarrow(t *testing.T) {
	s := newSite(t)
	want := serverNav(t, s.signIn("ada"), "/")
	c := newChrome(t, s, 375, 740, false)
	c.signIn("ada")
	for _, p := range []string{"/certificates", "/definitions", "/targets", "/endpoints", "/settings/users", "/audit", "/"} {
		c.open(p)
		sw := eval[[]float64](c, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
		if sw[0] > sw[1] {
			t.Errorf("%s scrolls sideways at 375 px (scrollWidth %v > clientWidth %v)", p, sw[0], sw[1])
		}
	}
	if eval[bool](c, `document.querySelector('nav[aria-label="Main"] a').checkVisibility()`) {
		t.Fatal("the navigation links show before the menu is opened")
	}
	if got := eval[string](c, `document.querySelector(".navmenu > summary").textContent`); got != "Menu: Dashboard" {
		t.Errorf("the menu button reads %q, want Menu: Dashboard", got)
	}
	var focused string
	for range 8 {
		if focused = c.tab(); focused == "SUMMARY" {
			break
		}
	}
	if focused != "SUMMARY" {
		t.Fatal("Tab does not reach the Menu button")
	}
	c.do("open the menu", chromedp.KeyEvent("\r"))
	if !eval[bool](c, `document.querySelector(".navmenu").open`) {
		t.Fatal("Enter on the Menu button does not open it")
	}
	if next := c.tab(); next != want[0] {
		t.Errorf("Tab after the Menu button focuses %q, want the first link %s", next, want[0])
	}
	l := eval[layout](c, navLayout)
	if !slices.Equal(l.hrefs(), want) {
		t.Fatalf("the menu shows %v, the server sent %v", l.hrefs(), want)
	}
	for i := range l.Links {
		// Labels may wrap on a phone; they must not be cut or leave the screen.
		l.Links[i].LineHeight = l.Links[i].TextHeight
	}
	checkLinks(t, "375 px, menu open", l)
}
