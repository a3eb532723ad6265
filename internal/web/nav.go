package web

import (
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// navLink is one screen in the main navigation.
type navLink struct {
	Href, Label string
	// role is the least role that sees the link: the role of the screen's
	// route (nav_test.go holds the two together).
	role inventory.Role
	// section is the page section (page.section) that highlights the link
	// when the request's path does not.
	section string
}

// navGroup is a heading of the navigation with its screens, by stage of
// a certificate's life.
type navGroup struct {
	ID, Name string
	Links    []navLink
}

// navigation lists every screen of the UI by group, in the order shown.
// A group without a link (Watch, until its screens exist) is not shown.
func navigation() []navGroup {
	return []navGroup{
		{ID: "inventory", Name: "Inventory", Links: []navLink{
			{"/", "Dashboard", user, "dashboard"},
			{"/certificates", "Certificates", user, "certificates"},
			{"/keys", "Keys", user, "keys"},
		}},
		{ID: "lifecycle", Name: "Lifecycle", Links: []navLink{
			{"/definitions", "Definitions", user, "definitions"},
			{"/acquisitions", "Acquisitions", user, "acquisitions"},
			{"/requests", "Requests", user, "requests"},
			{"/approvals", "Approvals", admin, ""},
			{"/issuers", "Issuers", user, "issuers"},
			{"/vendor-accounts", "Vendor accounts", user, "vendors"},
			{"/ca", "Private CA", user, "ca"},
		}},
		{ID: "deployment", Name: "Deployment", Links: []navLink{
			{"/targets", "Targets", user, "targets"},
			{"/deployments", "Deployments", user, "deployments"},
			{"/agents", "Agents", admin, "agents"},
		}},
		{ID: "watch", Name: "Watch", Links: []navLink{
			{"/endpoints", "Endpoints", user, "endpoints"},
			{"/alerts", "Alerts", user, "alerts"},
			{"/alert-rules", "Alert rules", admin, "alert-rules"},
			{"/digest", "Daily digest", admin, "digest"},
		}},
		{ID: "administration", Name: "Administration", Links: []navLink{
			{"/trust-store", "Trust store", user, "trust"},
			{"/audit", "Audit log", user, "audit"},
			{"/settings", "Settings", admin, "settings"},
			{"/settings/users", "Users", admin, ""},
			{"/settings/emails", "Sent e-mails", admin, ""},
			{"/settings/channels", "Notification channels", admin, ""},
			{"/settings/notifications", "Sent notifications", admin, ""},
			{"/settings/allowlist", "IP allow-list", admin, ""},
			{"/settings/outbound", "Outbound policy", admin, ""},
			{"/jobs", "Monitor Control", user, "jobs"},
		}},
	}
}

// navItem is a link as the layout shows it.
type navItem struct {
	Href, Label string
	Current     bool
}

// navSection is a group as the layout shows it: only the links the user
// may open, and whether it holds the current screen.
type navSection struct {
	ID, Name string
	Items    []navItem
	Current  bool
}

// Nav is the navigation for the signed-in user on this page: the groups
// with the links the user's role may open, the current screen marked.
func (v *view) Nav() []navSection {
	if v.User == nil {
		return nil
	}
	groups := navigation()
	cur := currentLink(groups, v.Path, v.Section)
	var out []navSection
	for _, g := range groups {
		s := navSection{ID: g.ID, Name: g.Name}
		for _, l := range g.Links {
			if l.role == admin && v.User.Role != admin {
				continue
			}
			s.Items = append(s.Items, navItem{Href: l.Href, Label: l.Label, Current: l.Href == cur})
			s.Current = s.Current || l.Href == cur
		}
		if len(s.Items) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// CurrentScreen is the label of the current screen's link ("" if the
// page is none of them), for the narrow screens' menu button.
func (v *view) CurrentScreen() string {
	for _, s := range v.Nav() {
		for _, it := range s.Items {
			if it.Current {
				return it.Label
			}
		}
	}
	return ""
}

// currentLink is the Href of the screen a page belongs to: the link whose
// path is the longest prefix of the request's (a certificate's page is
// under Certificates, /settings/users under Users), else the link of the
// page's section, else "".
func currentLink(groups []navGroup, path, section string) string {
	best, bySection := "", ""
	for _, g := range groups {
		for _, l := range g.Links {
			if under(path, l.Href) && len(l.Href) > len(best) {
				best = l.Href
			}
			if section != "" && l.section == section && bySection == "" {
				bySection = l.Href
			}
		}
	}
	if best != "" {
		return best
	}
	return bySection
}

// under reports whether path is href or below it; "/" holds only itself.
func under(path, href string) bool {
	if href == "/" {
		return path == "/"
	}
	return path == href || strings.HasPrefix(path, href+"/")
}
