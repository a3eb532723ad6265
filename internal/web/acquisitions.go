package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
)

// maxUploadFile is the largest certificate file the upload form takes
// (the API's limit).
const maxUploadFile = 1 << 20

// acquisitionStates are the state filter's choices after "open" and "all".
var acquisitionStates = []string{"csr_ready", "pending_approval", "ordered", "issued", "completed", "cancelled"}

func (ui *UI) acquisitionRoutes() []route {
	return []route{
		{"GET", "/acquisitions", user, ui.acquisitionList},
		{"GET", "/acquisitions/{id}", user, ui.acquisitionShow},
		{"GET", "/acquisitions/{id}/csr", user, ui.acquisitionCSR},
		{"POST", "/acquisitions/{id}/issue", user, ui.acquisitionIssue},
		{"POST", "/acquisitions/{id}/order", user, ui.acquisitionOrder},
		{"POST", "/acquisitions/{id}/certificate", user, ui.acquisitionUpload},
		{"POST", "/acquisitions/{id}/switch", user, ui.acquisitionSwitch},
		{"POST", "/acquisitions/{id}/issuer", user, ui.acquisitionIssuer},
		{"POST", "/acquisitions/{id}/cancel", user, ui.acquisitionCancel},
		{"GET", "/requests", user, ui.requestList},
	}
}

type acquisitionListData struct {
	State   string
	States  []string
	Items   []client.Acquisition
	Issuers map[int64]client.Issuer
	Next    string
}

func (ui *UI) acquisitionList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	state := r.URL.Query().Get("state")
	if state == "" {
		state = "open"
	}
	q := client.AcquisitionQuery{State: state, Page: listPage(r)}
	if state == "all" {
		q.State = ""
	}
	l, err := ui.api.ListAcquisitions(ctx, q)
	if err != nil {
		return err
	}
	issuers, err := ui.issuerMap(ctx)
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "acquisitions", title: "Acquisition processes", section: "acquisitions",
		data: acquisitionListData{State: state, States: acquisitionStates, Items: l.Items, Issuers: issuers, Next: l.Next}})
	return nil
}

// acquisitionData fills a process's page.
type acquisitionData struct {
	A       *client.Acquisition
	Issuer  *client.Issuer
	Product *client.Product
	Cert    *client.Certificate
	// Vendor is the order's vendor account; Accounts are the issuer's.
	Vendor   *client.VendorAccount
	Accounts []client.VendorAccount
	// Choices are the products the process may switch to.
	Choices []client.ProductMatch
	// Open, Builtin say what the process can do.
	Open, Builtin bool
	// Form are the values of a refused form.
	Form map[string]string
}

func (ui *UI) acquisitionShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return ui.renderAcquisition(w, r, id, 0, "", nil, nil)
}

// renderAcquisition shows process id, with a refused form's message,
// field errors and values when msg is set.
func (ui *UI) renderAcquisition(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, fields, form map[string]string) error {
	ctx := r.Context()
	a, err := ui.api.GetAcquisition(ctx, id)
	if err != nil {
		return err
	}
	data := acquisitionData{A: a, Form: form, Open: a.State == "csr_ready" || a.State == "pending_approval" || a.State == "ordered" || a.State == "issued"}
	if a.IssuerID != 0 {
		if data.Issuer, err = ui.api.GetIssuer(ctx, a.IssuerID); err != nil {
			return err
		}
		data.Builtin = data.Issuer.Kind == "builtin-ca"
		products, err := ui.api.ListProducts(ctx, a.IssuerID)
		if err != nil {
			return err
		}
		for i := range products.Items {
			if products.Items[i].ID == a.ProductID {
				data.Product = &products.Items[i]
			}
		}
	}
	if a.CertificateID != 0 {
		if data.Cert, err = ui.api.GetCertificate(ctx, a.CertificateID); err != nil && !client.IsNotFound(err) {
			return err
		}
	}
	if data.Open && !data.Builtin {
		accounts, err := ui.api.ListVendorAccounts(ctx)
		if err != nil {
			return err
		}
		for _, acct := range accounts.Items {
			if acct.IssuerID == a.IssuerID {
				data.Accounts = append(data.Accounts, acct)
			}
			if a.Order != nil && acct.ID == a.Order.VendorAccountID {
				data.Vendor = &acct
			}
		}
	}
	if a.State == "csr_ready" {
		m, err := ui.api.DefinitionProducts(ctx, a.DefinitionID)
		if err != nil && !client.IsNotFound(err) {
			return err
		}
		if err == nil {
			data.Choices = m.Items
		}
	}
	title := fmt.Sprintf("Acquisition #%d", a.ID)
	ui.render(w, r, page{name: "acquisition", title: title, section: "acquisitions", data: data, status: status, err: msg, fields: fields})
	return nil
}

// acquisitionAction runs an action on process id and redirects to it
// with the message done returns, or shows the refusal on its page.
func (ui *UI) acquisitionAction(w http.ResponseWriter, r *http.Request, act func(id int64) (string, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	msg, err := act(id)
	if m, fields, ok := formError(err); ok {
		form := map[string]string{}
		for k, v := range r.PostForm {
			if k != "csrf" && k != "password" && len(v) > 0 {
				form[k] = v[0]
			}
		}
		return ui.renderAcquisition(w, r, id, http.StatusUnprocessableEntity, m, fields, form)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/acquisitions/%d", id), msg)
	return nil
}

func (ui *UI) acquisitionCSR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	csr, err := ui.api.AcquisitionCSR(r.Context(), id)
	if err != nil {
		return err
	}
	sendFile(w, "application/pkcs10", fmt.Sprintf("acquisition-%d.csr", id), csr)
	return nil
}

// validationMessage says what receiving a certificate did.
func validationMessage(v *client.Validation, verb string) string {
	var b strings.Builder
	if v.Certificate != nil {
		fmt.Fprintf(&b, "Certificate #%d %s, valid until %s.", v.Certificate.ID, verb, fmtDate(v.Certificate.NotAfter))
	} else {
		fmt.Fprintf(&b, "Certificate %s.", verb)
	}
	if len(v.Differences) > 0 {
		fmt.Fprintf(&b, " Its names differ from the definition's: %s.", strings.Join(v.Differences, "; "))
	}
	if v.Switched {
		b.WriteString(" It is now the definition's current certificate.")
	} else {
		b.WriteString(" Switch to it to make it the definition's current certificate.")
	}
	return b.String()
}

func (ui *UI) acquisitionIssue(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		v, err := ui.api.Issue(r.Context(), id)
		if err != nil {
			return "", err
		}
		return issueMessage(v), nil
	})
}

func (ui *UI) acquisitionOrder(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		in := client.OrderInput{Number: strings.TrimSpace(r.PostFormValue("number")), Notes: strings.TrimSpace(r.PostFormValue("notes"))}
		if s := r.PostFormValue("vendor_account_id"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return "", apiError(http.StatusUnprocessableEntity, "Choose a vendor account from the list.", "vendor_account_id", "unknown account")
			}
			in.VendorAccountID = n
		}
		if s := strings.TrimSpace(r.PostFormValue("date")); s != "" {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return "", apiError(http.StatusUnprocessableEntity, fmt.Sprintf("The order date %q is not a date like 2026-03-31.", s),
					"date", "want a date like 2026-03-31")
			}
			in.Date = t
		}
		a, err := ui.api.RecordOrder(r.Context(), id, in)
		if err != nil {
			return "", err
		}
		msg := "Order recorded."
		if a.Order != nil && a.Order.Number != "" {
			msg = fmt.Sprintf("Order %s recorded.", a.Order.Number)
		}
		return msg + " Upload the certificate when the vendor delivers it.", nil
	})
}

// readUpload reads a multipart file field, at most maxUploadFile bytes.
func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > maxUploadFile {
		return nil, apiError(http.StatusUnprocessableEntity, fmt.Sprintf("%s is %d bytes; the limit is 1 MiB.", fh.Filename, fh.Size),
			"data", "larger than 1 MiB")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxUploadFile+1))
}

func (ui *UI) acquisitionUpload(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		_, fh, err := r.FormFile("file")
		if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
			return "", apiError(http.StatusUnprocessableEntity, "Choose the certificate file to upload.", "data", "no file chosen")
		}
		if err != nil {
			return "", apiError(http.StatusBadRequest, "The upload could not be read: "+err.Error(), "data", "unreadable")
		}
		u := client.Upload{Password: r.PostFormValue("password")}
		if u.Data, err = readUpload(fh); err != nil {
			return "", err
		}
		if r.MultipartForm != nil {
			for _, ifh := range r.MultipartForm.File["intermediates"] {
				b, err := readUpload(ifh)
				if err != nil {
					return "", err
				}
				u.Intermediates = append(u.Intermediates, b)
			}
		}
		v, err := ui.api.UploadCertificate(r.Context(), id, u)
		if err != nil {
			return "", err
		}
		return validationMessage(v, "accepted"), nil
	})
}

func (ui *UI) acquisitionSwitch(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		a, err := ui.api.Switch(r.Context(), id)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Certificate #%d is now the current certificate of %s.", a.CertificateID, a.Definition), nil
	})
}

func (ui *UI) acquisitionIssuer(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		i, p, err := parseChoice(r.PostFormValue("product"))
		if err != nil {
			return "", err
		}
		if _, err := ui.api.ChooseIssuer(r.Context(), id, client.IssuerChoice{IssuerID: i, ProductID: p}); err != nil {
			return "", err
		}
		return "Issuer and product changed.", nil
	})
}

func (ui *UI) acquisitionCancel(w http.ResponseWriter, r *http.Request) error {
	return ui.acquisitionAction(w, r, func(id int64) (string, error) {
		if _, err := ui.api.CancelAcquisition(r.Context(), id, r.PostFormValue("reason")); err != nil {
			return "", err
		}
		return fmt.Sprintf("Acquisition #%d cancelled.", id), nil
	})
}

// requestRow is a process waiting at a vendor, with its order.
type requestRow struct {
	A      client.Acquisition
	Issuer client.Issuer
	Vendor string
	// Age is the days since the order, or since the request was made.
	Age int
}

type requestListData struct {
	Rows []requestRow
	Next string
}

// requestList tracks requests and orders: processes in csr_ready or
// ordered.
func (ui *UI) requestList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l, err := ui.api.ListAcquisitions(ctx, client.AcquisitionQuery{State: "csr_ready,ordered", Page: listPage(r)})
	if err != nil {
		return err
	}
	issuers, err := ui.issuerMap(ctx)
	if err != nil {
		return err
	}
	accounts, err := ui.api.ListVendorAccounts(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, a := range accounts.Items {
		names[a.ID] = a.Name
	}
	now := ui.Now()
	data := requestListData{Next: l.Next}
	for _, a := range l.Items {
		row := requestRow{A: a, Issuer: issuers[a.IssuerID]}
		since := a.CreatedAt
		if a.Order != nil {
			row.Vendor = names[a.Order.VendorAccountID]
			if !a.Order.Date.IsZero() {
				since = a.Order.Date
			}
		}
		row.Age = daysLeft(since, now)
		data.Rows = append(data.Rows, row)
	}
	ui.render(w, r, page{name: "requests", title: "Certificate requests", section: "requests", data: data})
	return nil
}
