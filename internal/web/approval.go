package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// approvalRoutes: requests outside a CA's issuance policy waiting for an
// admin (list, approve, reject) and the policy form of the CA page.
func (ui *UI) approvalRoutes() []route {
	return []route{
		{"GET", "/approvals", admin, ui.approvalList},
		{"POST", "/acquisitions/{id}/approve", admin, ui.acquisitionApprove},
		{"POST", "/acquisitions/{id}/reject", admin, ui.acquisitionReject},
		{"POST", "/ca/{id}/policy", admin, ui.caPolicySet},
	}
}

// approvalList is the acquisitions page filtered to pending_approval.
func (ui *UI) approvalList(w http.ResponseWriter, r *http.Request) error {
	l, err := ui.api.ListAcquisitions(r.Context(), client.AcquisitionQuery{State: "pending_approval", Page: listPage(r)})
	if err != nil {
		return err
	}
	issuers, err := ui.issuerMap(r.Context())
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "acquisitions", title: "Requests waiting for approval", section: "acquisitions",
		data: acquisitionListData{State: "pending_approval", States: acquisitionStates, Items: l.Items, Issuers: issuers, Next: l.Next}})
	return nil
}

func (ui *UI) acquisitionApprove(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		v, err := ui.api.Approve(r.Context(), id)
		if err != nil {
			return "", err
		}
		return "Request approved. " + validationMessage(v, "issued"), nil
	})
}

func (ui *UI) acquisitionReject(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		if _, err := ui.api.Reject(r.Context(), id, r.PostFormValue("reason")); err != nil {
			return "", err
		}
		return fmt.Sprintf("Request of acquisition #%d rejected; the process is cancelled.", id), nil
	})
}

// issueMessage says what issuing did: a certificate, or a request held
// for approval.
func issueMessage(v *client.Validation) string {
	if v.Acquisition.State == "pending_approval" {
		return "The request is outside what the CA's issuance policy allows you: it waits for an admin's approval."
	}
	return validationMessage(v, "issued")
}

// caPolicySet replaces the user role's rules (and the violation setting)
// of CA {id} from the policy form; the admin role's rules are kept.
func (ui *UI) caPolicySet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cur, err := ui.api.GetCAPolicy(r.Context(), id)
	if err != nil {
		return err
	}
	p := cur.Policy
	p.OnViolation = r.PostFormValue("on_violation")
	if p.User, err = userPolicyForm(r); err == nil {
		_, err = ui.api.SetCAPolicy(r.Context(), id, p)
	}
	if msg, fields, ok := formError(err); ok {
		return ui.admRenderCA(w, r, id, admCAIssueForm{Profile: "tls-server", KeyType: "ecdsa-p256"}, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/ca/%d#policy", id), "Issuance policy saved.")
	return nil
}

// userPolicyForm reads the user role's rules from the policy form.
func userPolicyForm(r *http.Request) (client.RolePolicy, error) {
	rp := client.RolePolicy{Unrestricted: r.PostFormValue("unrestricted") == "on", IPRanges: lines(r.PostFormValue("ip_ranges")),
		Profiles: r.PostForm["profiles"]}
	for _, d := range lines(r.PostFormValue("domains")) {
		rp.Domains = append(rp.Domains, client.DomainRule{Domain: d, Subdomains: r.PostFormValue("subdomains") == "on",
			Wildcard: r.PostFormValue("wildcard") == "on"})
	}
	var err error
	if rp.MaxNames, err = policyFormInt(r, "max_names"); err != nil {
		return rp, err
	}
	rp.MaxDays, err = policyFormInt(r, "max_days")
	return rp, err
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// policyFormInt reads an optional whole number of the policy form; blank is 0.
func policyFormInt(r *http.Request, name string) (int, error) {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apiError(http.StatusUnprocessableEntity, fmt.Sprintf("%q is not a whole number.", s), "user."+name, "want a whole number")
	}
	return n, nil
}

// profileChoice is one profile checkbox of the policy form.
type profileChoice struct {
	Name    string
	Checked bool
}

// UserProfiles are the policy form's profile checkboxes.
func (d admCAData) UserProfiles() []profileChoice {
	var out []profileChoice
	for _, name := range []string{"tls-server", "tls-client", "tls-server-client"} {
		c := profileChoice{Name: name}
		if d.Policy != nil {
			c.Checked = slices.Contains(d.Policy.Policy.User.Profiles, name)
		}
		out = append(out, c)
	}
	return out
}

// UserSubdomains says the user role's domains allow subdomains (the form
// sets the flag for every domain; a JSON policy may differ per domain,
// and the first one's flag is shown).
func (d admCAData) UserSubdomains() bool {
	return d.Policy != nil && len(d.Policy.Policy.User.Domains) > 0 && d.Policy.Policy.User.Domains[0].Subdomains
}

// UserWildcard says the user role's domains allow wildcards, as
// UserSubdomains does for subdomains.
func (d admCAData) UserWildcard() bool {
	return d.Policy != nil && len(d.Policy.Policy.User.Domains) > 0 && d.Policy.Policy.User.Domains[0].Wildcard
}
