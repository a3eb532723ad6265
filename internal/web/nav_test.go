package web

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// notScreens are the GET routes without a path parameter that are not
// screens of their own, so have no link in the navigation. Anything else
// a new route file adds must get one (TestNavigationHoldsEveryScreen).
func notScreens() map[string]string {
	return map[string]string{
		"/account/password":    "the account link in the top bar",
		"/definitions/new":     "a form opened from Definitions",
		"/targets/new":         "a form opened from Targets",
		"/targets/preset":      "an htmx fragment of the target form",
		"/vendor-accounts/new": "a form opened from Vendor accounts",
		"/issuers/select":      "a step of choosing a product, opened from a definition",
	}
}

// screens are the UI's GET routes that are screens, with the least role
// that may open each.
func screens(t *testing.T) map[string]inventory.Role {
	t.Helper()
	out := map[string]inventory.Role{}
	for _, rt := range (&UI{}).table() {
		p := strings.Replace(rt.pattern, "{$}", "", 1)
		if rt.method != "GET" || strings.Contains(p, "{") {
			continue
		}
		if _, ok := notScreens()[p]; ok {
			continue
		}
		out[p] = rt.role
	}
	if len(out) < 15 {
		t.Fatalf("only %d screens found in the route table: %v", len(out), out)
	}
	return out
}

// TestNavigationHoldsEveryScreen: every screen of the route table has a
// link in the navigation, shown to exactly the roles that may open it,
// and every link leads to a screen.
func TestNavigationHoldsEveryScreen(t *testing.T) {
	want := screens(t)
	links := map[string]inventory.Role{}
	for _, g := range navigation() {
		for _, l := range g.Links {
			if _, dup := links[l.Href]; dup {
				t.Errorf("%s is twice in the navigation", l.Href)
			}
			links[l.Href] = l.role
		}
	}
	for p, role := range want {
		got, ok := links[p]
		switch {
		case !ok:
			t.Errorf("screen %s (%s) has no link in the navigation (navigation in nav.go, or notScreens if it is no screen)", p, role)
		case got != role:
			t.Errorf("the navigation shows %s to role %s, the route needs %s", p, got, role)
		}
	}
	for p := range links {
		if _, ok := want[p]; !ok {
			t.Errorf("the navigation links %s, which is no screen of the route table", p)
		}
	}
	for p := range notScreens() {
		if _, ok := links[p]; ok {
			t.Errorf("%s is in notScreens and in the navigation", p)
		}
	}
}

// navHrefs renders the layout for a signed-in user of role on path and
// returns the hrefs of the main navigation and the whole page.
func navHrefs(t *testing.T, role inventory.Role, path string) ([]string, string) {
	t.Helper()
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	v := &view{Title: "Not found", Path: path, CSRF: "tok", User: &inventory.User{Username: "someone", Role: role},
		Data: errorData{Status: 404, Message: "There is no page here."}}
	var buf bytes.Buffer
	if err := pages["error"].ExecuteTemplate(&buf, "layout", v); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	nav := regexp.MustCompile(`(?s)<nav aria-label="Main"[^>]*>(.*?)</nav>`).FindStringSubmatch(body)
	if nav == nil {
		t.Fatalf("no main navigation:\n%s", body)
	}
	var hrefs []string
	for _, m := range regexp.MustCompile(`<a href="([^"]*)"`).FindAllStringSubmatch(nav[1], -1) {
		hrefs = append(hrefs, m[1])
	}
	return hrefs, body
}

// TestNavigationByRole: an admin's page links every screen; a user's page
// links every screen a user may open and nothing admin-only anywhere.
func TestNavigationByRole(t *testing.T) {
	all := screens(t)
	adminHrefs, _ := navHrefs(t, admin, "/nowhere")
	userHrefs, userPage := navHrefs(t, user, "/nowhere")
	for p, role := range all {
		if !slices.Contains(adminHrefs, p) {
			t.Errorf("an admin's navigation lacks %s", p)
		}
		if got := slices.Contains(userHrefs, p); got != (role == user) {
			t.Errorf("a user's navigation has %s: %v, want %v", p, got, role == user)
		}
	}
	for _, rt := range (&UI{}).table() {
		if rt.method == "GET" && rt.role == admin && !strings.Contains(rt.pattern, "{") &&
			strings.Contains(userPage, `href="`+rt.pattern+`"`) {
			t.Errorf("a user's page links the admin-only %s", rt.pattern)
		}
	}
	if len(userHrefs) != len(slices.Compact(slices.Sorted(slices.Values(userHrefs)))) {
		t.Errorf("a link is twice in the user's navigation: %v", userHrefs)
	}
}

// TestNavigationCurrent: the screen a page belongs to carries
// aria-current, and only it.
func TestNavigationCurrent(t *testing.T) {
	for _, tc := range []struct {
		role       inventory.Role
		path, want string
	}{
		{user, "/", "/"},
		{user, "/certificates", "/certificates"},
		{user, "/certificates/7", "/certificates"},
		{user, "/definitions/3/edit", "/definitions"},
		{user, "/ca/2", "/ca"},
		{admin, "/settings", "/settings"},
		{admin, "/settings/users", "/settings/users"},
		{admin, "/settings/outbound", "/settings/outbound"},
		{admin, "/approvals", "/approvals"},
		{admin, "/vendor-accounts/4/edit", "/vendor-accounts"},
		{user, "/settings", ""}, // refused: the user has no such link
		{user, "/nowhere", ""},
		{user, "/cardinal", ""}, // not under /ca
	} {
		_, body := navHrefs(t, tc.role, tc.path)
		cur := regexp.MustCompile(`<a href="([^"]*)" aria-current="page">`).FindAllStringSubmatch(body, -1)
		var got []string
		for _, m := range cur {
			got = append(got, m[1])
		}
		var want []string
		if tc.want != "" {
			want = []string{tc.want}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s as %s: aria-current on %v, want %v", tc.path, tc.role, got, want)
		}
	}
}

// TestNavigationSection: a page whose path is under no link is
// highlighted by its section.
func TestNavigationSection(t *testing.T) {
	if got := currentLink(navigation(), "/elsewhere", "vendors"); got != "/vendor-accounts" {
		t.Fatalf("section vendors highlights %q, want /vendor-accounts", got)
	}
	if got := currentLink(navigation(), "/issuers/select", "vendors"); got != "/issuers" {
		t.Fatalf("/issuers/select highlights %q, want /issuers (the path wins)", got)
	}
}
