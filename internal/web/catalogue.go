package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// The catalogue screens: vendor accounts, issuers with their products,
// and the product selector. Everyone reads them; only admins change them
// (the API enforces it, the pages only hide the forms).
func (ui *UI) catalogueRoutes() []route {
	return []route{
		{"GET", "/vendor-accounts", user, ui.vendorAccounts},
		{"GET", "/vendor-accounts/new", admin, ui.newVendorAccount},
		{"POST", "/vendor-accounts", admin, ui.createVendorAccount},
		{"GET", "/vendor-accounts/{id}/edit", admin, ui.editVendorAccount},
		{"POST", "/vendor-accounts/{id}", admin, ui.updateVendorAccount},
		{"GET", "/issuers", user, ui.issuers},
		{"POST", "/issuers", admin, ui.createIssuer},
		{"GET", "/issuers/select", user, ui.selectProducts},
		{"GET", "/issuers/{id}", user, ui.issuerPage},
		{"POST", "/issuers/{id}/products", admin, ui.createProduct},
	}
}

// adminPathID reads the {id} path value; ok is false (and a 404 page is
// written) when it is not a positive number.
func (ui *UI) adminPathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		_ = ui.notFound(w, r)
		return 0, false
	}
	return id, true
}

// adminAtoi reads an optional non-negative whole number from a form
// field; "" is 0. A bad value is recorded in fields.
func adminAtoi(r *http.Request, name string, fields map[string]string) int {
	s := strings.TrimSpace(r.FormValue(name))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		fields[name] = "enter a whole number of 0 or more"
		return 0
	}
	return n
}

// --- vendor accounts ---

type admVendorList struct {
	Items   []client.VendorAccount
	Issuers map[int64]client.Issuer
}

func (ui *UI) admIssuers(r *http.Request) (map[int64]client.Issuer, []client.Issuer, error) {
	list, err := ui.api.ListIssuers(r.Context())
	if err != nil {
		return nil, nil, err
	}
	m := make(map[int64]client.Issuer, len(list.Items))
	for _, i := range list.Items {
		m[i.ID] = i
	}
	return m, list.Items, nil
}

func (ui *UI) vendorAccounts(w http.ResponseWriter, r *http.Request) error {
	list, err := ui.api.ListVendorAccounts(r.Context())
	if err != nil {
		return err
	}
	issuers, _, err := ui.admIssuers(r)
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "vendor_accounts", title: "Vendor accounts", section: "vendors",
		data: admVendorList{Items: list.Items, Issuers: issuers}})
	return nil
}

// admVendorForm fills the create and edit form. The password is
// never sent back to the browser.
type admVendorForm struct {
	// ID is 0 for a new account.
	ID          int64
	IssuerID    int64
	IssuerName  string
	Name        string
	Username    string
	Email       string
	URL         string
	Notes       string
	HasPassword bool
	// Issuers are the issuers an account can belong to (not built-in CAs).
	Issuers []client.Issuer
}

func (ui *UI) admVendorIssuers(r *http.Request) ([]client.Issuer, error) {
	_, all, err := ui.admIssuers(r)
	if err != nil {
		return nil, err
	}
	var out []client.Issuer
	for _, i := range all {
		if i.Kind != "builtin-ca" {
			out = append(out, i)
		}
	}
	return out, nil
}

func (ui *UI) admRenderVendorForm(w http.ResponseWriter, r *http.Request, f admVendorForm, status int, msg string, fields map[string]string) {
	title := "New vendor account"
	if f.ID != 0 {
		title = "Edit vendor account " + f.Name
	}
	ui.render(w, r, page{name: "vendor_account_form", title: title, section: "vendors", data: f,
		status: status, err: msg, fields: fields})
}

func (ui *UI) newVendorAccount(w http.ResponseWriter, r *http.Request) error {
	issuers, err := ui.admVendorIssuers(r)
	if err != nil {
		return err
	}
	f := admVendorForm{Issuers: issuers}
	f.IssuerID, _ = strconv.ParseInt(r.URL.Query().Get("issuer_id"), 10, 64)
	ui.admRenderVendorForm(w, r, f, 0, "", nil)
	return nil
}

// admVendorInput reads the form. The password field is only used when it is
// filled in, or when "clear" asks to remove the stored one.
func admVendorInput(r *http.Request) client.VendorAccountInput {
	in := client.VendorAccountInput{
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Username: strings.TrimSpace(r.PostFormValue("username")),
		Email:    strings.TrimSpace(r.PostFormValue("email")),
		URL:      strings.TrimSpace(r.PostFormValue("url")),
		Notes:    strings.TrimSpace(r.PostFormValue("notes")),
	}
	in.IssuerID, _ = strconv.ParseInt(r.PostFormValue("issuer_id"), 10, 64)
	if pw := r.PostFormValue("password"); pw != "" {
		in.Password = &pw
	} else if r.PostFormValue("clear_password") != "" {
		empty := ""
		in.Password = &empty
	}
	return in
}

func (ui *UI) createVendorAccount(w http.ResponseWriter, r *http.Request) error {
	in := admVendorInput(r)
	a, err := ui.api.CreateVendorAccount(r.Context(), in)
	if msg, fields, ok := formError(err); ok {
		issuers, lerr := ui.admVendorIssuers(r)
		if lerr != nil {
			return lerr
		}
		ui.admRenderVendorForm(w, r, admVendorForm{IssuerID: in.IssuerID, Name: in.Name, Username: in.Username,
			Email: in.Email, URL: in.URL, Notes: in.Notes, Issuers: issuers}, http.StatusUnprocessableEntity, msg, fields)
		return nil
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/vendor-accounts", "Vendor account "+a.Name+" added.")
	return nil
}

func (ui *UI) editVendorAccount(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	a, err := ui.api.GetVendorAccount(r.Context(), id)
	if err != nil {
		return err
	}
	f := admVendorForm{ID: a.ID, IssuerID: a.IssuerID, Name: a.Name, Username: a.Username, Email: a.Email,
		URL: a.URL, Notes: a.Notes, HasPassword: a.HasPassword}
	if i, err := ui.api.GetIssuer(r.Context(), a.IssuerID); err == nil {
		f.IssuerName = i.Name
	}
	ui.admRenderVendorForm(w, r, f, 0, "", nil)
	return nil
}

func (ui *UI) updateVendorAccount(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	cur, err := ui.api.GetVendorAccount(r.Context(), id)
	if err != nil {
		return err
	}
	in := admVendorInput(r)
	// The name and issuer never change; the form shows them read-only.
	in.Name, in.IssuerID = cur.Name, cur.IssuerID
	a, err := ui.api.UpdateVendorAccount(r.Context(), id, in)
	if msg, fields, ok := formError(err); ok {
		f := admVendorForm{ID: cur.ID, IssuerID: cur.IssuerID, Name: cur.Name, Username: in.Username,
			Email: in.Email, URL: in.URL, Notes: in.Notes, HasPassword: cur.HasPassword}
		if i, err := ui.api.GetIssuer(r.Context(), cur.IssuerID); err == nil {
			f.IssuerName = i.Name
		}
		ui.admRenderVendorForm(w, r, f, http.StatusUnprocessableEntity, msg, fields)
		return nil
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/vendor-accounts", "Vendor account "+a.Name+" saved.")
	return nil
}

// --- issuers and products ---

// admIssuerForm is the new-issuer form's values, kept when it is refused.
type admIssuerForm struct {
	Name, Kind, URL, Notes string
}

type admIssuerList struct {
	Items []client.Issuer
	Form  admIssuerForm
}

func (ui *UI) admRenderIssuerList(w http.ResponseWriter, r *http.Request, f admIssuerForm, status int, msg string, fields map[string]string) error {
	list, err := ui.api.ListIssuers(r.Context())
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "issuers", title: "Issuers", section: "issuers",
		data: admIssuerList{Items: list.Items, Form: f}, status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) issuers(w http.ResponseWriter, r *http.Request) error {
	return ui.admRenderIssuerList(w, r, admIssuerForm{Kind: "manual-vendor"}, 0, "", nil)
}

func (ui *UI) createIssuer(w http.ResponseWriter, r *http.Request) error {
	f := admIssuerForm{Name: strings.TrimSpace(r.PostFormValue("name")), Kind: r.PostFormValue("kind"),
		URL: strings.TrimSpace(r.PostFormValue("url")), Notes: strings.TrimSpace(r.PostFormValue("notes"))}
	i, err := ui.api.CreateIssuer(r.Context(), client.Issuer{Name: f.Name, Kind: f.Kind, URL: f.URL, Notes: f.Notes})
	if msg, fields, ok := formError(err); ok {
		return ui.admRenderIssuerList(w, r, f, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/issuers/"+strconv.FormatInt(i.ID, 10), "Issuer "+i.Name+" added.")
	return nil
}

// admProductForm is the new-product form's values.
type admProductForm struct {
	Name, ValidationLevel, MaxNames, MaxValidityDays, URL, Notes string
	Wildcard                                                     bool
}

type admIssuerData struct {
	Issuer   *client.Issuer
	Products []client.Product
	Accounts []client.VendorAccount
	Form     admProductForm
}

func (ui *UI) admRenderIssuer(w http.ResponseWriter, r *http.Request, id int64, f admProductForm, status int, msg string, fields map[string]string) error {
	i, err := ui.api.GetIssuer(r.Context(), id)
	if err != nil {
		return err
	}
	products, err := ui.api.ListProducts(r.Context(), id)
	if err != nil {
		return err
	}
	accounts, err := ui.api.ListVendorAccounts(r.Context())
	if err != nil {
		return err
	}
	d := admIssuerData{Issuer: i, Products: products.Items, Form: f}
	for _, a := range accounts.Items {
		if a.IssuerID == id {
			d.Accounts = append(d.Accounts, a)
		}
	}
	ui.render(w, r, page{name: "issuer", title: "Issuer " + i.Name, section: "issuers", data: d,
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) issuerPage(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	return ui.admRenderIssuer(w, r, id, admProductForm{ValidationLevel: "DV"}, 0, "", nil)
}

func (ui *UI) createProduct(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	f := admProductForm{Name: strings.TrimSpace(r.PostFormValue("name")), ValidationLevel: r.PostFormValue("validation_level"),
		MaxNames: strings.TrimSpace(r.PostFormValue("max_names")), MaxValidityDays: strings.TrimSpace(r.PostFormValue("max_validity_days")),
		URL: strings.TrimSpace(r.PostFormValue("url")), Notes: strings.TrimSpace(r.PostFormValue("notes")),
		Wildcard: r.PostFormValue("wildcard") != ""}
	fields := map[string]string{}
	p := client.Product{Name: f.Name, ValidationLevel: f.ValidationLevel, Wildcard: f.Wildcard, URL: f.URL, Notes: f.Notes,
		MaxNames: adminAtoi(r, "max_names", fields), MaxValidityDays: adminAtoi(r, "max_validity_days", fields)}
	if len(fields) > 0 {
		return ui.admRenderIssuer(w, r, id, f, http.StatusUnprocessableEntity, "Some fields are not right; see below.", fields)
	}
	added, err := ui.api.CreateProduct(r.Context(), id, p)
	if msg, fields, ok := formError(err); ok {
		return ui.admRenderIssuer(w, r, id, f, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/issuers/"+strconv.FormatInt(id, 10), "Product "+added.Name+" added.")
	return nil
}

// admSelectData fills the product selector: the requirements as entered and
// the matching products, closest fit first.
type admSelectData struct {
	Level, Names, ValidityDays, Issuer string
	Wildcard                           bool
	// Asked is false until the form was submitted once.
	Asked   bool
	Issuers []client.Issuer
	Matches []client.ProductMatch
}

func (ui *UI) selectProducts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := admSelectData{Level: q.Get("validation_level"), Names: strings.TrimSpace(q.Get("names")),
		ValidityDays: strings.TrimSpace(q.Get("validity_days")), Issuer: q.Get("issuer"),
		Wildcard: q.Get("wildcard") != "", Asked: len(q) > 0}
	_, all, err := ui.admIssuers(r)
	if err != nil {
		return err
	}
	d.Issuers = all
	fields := map[string]string{}
	pq := client.ProductQuery{ValidationLevel: d.Level, Wildcard: d.Wildcard, Issuer: d.Issuer,
		Names: adminAtoi(r, "names", fields), ValidityDays: adminAtoi(r, "validity_days", fields)}
	p := page{name: "product_select", title: "Choose a product", section: "issuers", data: &d}
	refused := http.StatusUnprocessableEntity
	if r.Header.Get("HX-Request") == "true" {
		// htmx does not swap in error responses: answer the refusal as
		// a page so the results block shows it.
		refused = 0
	}
	if len(fields) > 0 {
		p.status, p.err, p.fields = refused, "Some requirements are not right; see below.", fields
		ui.render(w, r, p)
		return nil
	}
	list, err := ui.api.SelectProducts(r.Context(), pq)
	if msg, fields, ok := formError(err); ok {
		p.status, p.err, p.fields = refused, msg, fields
		ui.render(w, r, p)
		return nil
	}
	if err != nil {
		return err
	}
	d.Matches = list.Items
	ui.render(w, r, p)
	return nil
}
