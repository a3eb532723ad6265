package web

import (
	"net/http"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// outboundRoutes: the outbound policy screen (admins only).
func (ui *UI) outboundRoutes() []route {
	return []route{
		{"GET", "/settings/outbound", admin, ui.outboundPage},
		{"POST", "/settings/outbound", admin, ui.updateOutbound},
	}
}

// admOutboundData fills the outbound policy page: the rules as edited,
// one a line, and the built-in denials.
type admOutboundData struct {
	Allow, Deny string
	Builtin     []string
}

func outboundData(p *client.OutboundPolicy) admOutboundData {
	return admOutboundData{Allow: strings.Join(p.Allow, "\n"), Deny: strings.Join(p.Deny, "\n"), Builtin: p.BuiltinDenied}
}

func (ui *UI) outboundPage(w http.ResponseWriter, r *http.Request) error {
	p, err := ui.api.GetOutboundPolicy(r.Context())
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "outbound", title: "Outbound policy", section: "settings", data: outboundData(p)})
	return nil
}

// updateOutbound replaces the policy with the two lists as typed (one
// rule a line, "#" comments); a refused rule is shown on its field.
func (ui *UI) updateOutbound(w http.ResponseWriter, r *http.Request) error {
	d := admOutboundData{Allow: r.PostFormValue("allow"), Deny: r.PostFormValue("deny")}
	_, err := ui.api.SetOutboundPolicy(r.Context(), client.OutboundPolicy{Allow: allowListLines(d.Allow),
		Deny: allowListLines(d.Deny)})
	if msg, fields, ok := formError(err); ok {
		if cur, err := ui.api.GetOutboundPolicy(r.Context()); err == nil {
			d.Builtin = cur.BuiltinDenied
		}
		ui.render(w, r, page{name: "outbound", title: "Outbound policy", section: "settings", data: d,
			status: http.StatusUnprocessableEntity, err: msg, fields: fields})
		return nil
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/settings/outbound", "Outbound policy saved; it is in force now.")
	return nil
}
