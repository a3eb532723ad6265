package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/definitions"
)

func (ui *UI) definitionRoutes() []route {
	return []route{
		{"GET", "/definitions", user, ui.definitionList},
		{"GET", "/definitions/new", user, ui.definitionNew},
		{"POST", "/definitions", user, ui.definitionCreate},
		{"GET", "/definitions/{id}", user, ui.definitionShow},
		{"GET", "/definitions/{id}/edit", user, ui.definitionEdit},
		{"POST", "/definitions/{id}/edit", user, ui.definitionUpdate},
		{"POST", "/definitions/{id}/clone", user, ui.definitionClone},
		{"POST", "/definitions/{id}/acquire", user, ui.definitionAcquire},
		{"POST", "/definitions/{id}/documents", user, ui.documentUpload},
		{"GET", "/definitions/{id}/documents/{name}", user, ui.documentDownload},
		{"POST", "/definitions/{id}/documents/{name}/delete", user, ui.documentDelete},
	}
}

// definitionRow is a definition with its current certificate (nil when
// none) and open process (nil when none).
type definitionRow struct {
	Def  client.Definition
	Cert *client.Certificate
	Open *client.Acquisition
	// DaysLeft is the days until the current certificate expires.
	DaysLeft int
	// Deploy sums up the current certificate's deployments.
	Deploy deploySummary
}

// deploySummary is a certificate's deployments by outcome, as the API
// counts them.
type deploySummary struct {
	// CertificateID is the certificate summed up; 0 when there is none.
	CertificateID int64
	client.DeploymentCounts
}

// deploySummaryOf is the summary of certificate c's deployments.
func deploySummaryOf(c *client.Certificate) deploySummary {
	s := deploySummary{CertificateID: c.ID}
	if c.Deployments != nil {
		s.DeploymentCounts = *c.Deployments
	}
	return s
}

type definitionListData struct {
	Rows []definitionRow
	Next string
}

func (ui *UI) definitionList(w http.ResponseWriter, r *http.Request) error {
	ctx, q := r.Context(), r.URL.Query()
	l, err := ui.api.ListDefinitions(ctx, client.DefinitionQuery{Q: strings.TrimSpace(q.Get("q")),
		Label: strings.TrimSpace(q.Get("label")), Page: listPage(r)})
	if err != nil {
		return err
	}
	data := definitionListData{Next: l.Next}
	for _, d := range l.Items {
		row, err := ui.definitionRow(ctx, d)
		if err != nil {
			return err
		}
		data.Rows = append(data.Rows, row)
	}
	ui.render(w, r, page{name: "definitions", title: "Certificate definitions", section: "definitions", data: data})
	return nil
}

// definitionRow looks up d's current certificate and open process.
func (ui *UI) definitionRow(ctx context.Context, d client.Definition) (definitionRow, error) {
	row := definitionRow{Def: d}
	if d.CurrentCertificateID != 0 {
		c, err := ui.api.GetCertificate(ctx, d.CurrentCertificateID)
		if err != nil && !client.IsNotFound(err) {
			return row, err
		}
		if err == nil {
			row.Cert, row.DaysLeft = c, daysLeft(ui.Now(), c.NotAfter)
		}
	}
	open, err := ui.api.ListAcquisitions(ctx, client.AcquisitionQuery{State: "open", DefinitionID: d.ID, Page: client.Page{Limit: 1}})
	if err != nil {
		return row, err
	}
	if row.Cert != nil {
		row.Deploy = deploySummaryOf(row.Cert)
	}
	if len(open.Items) > 0 {
		row.Open = &open.Items[0]
	}
	return row, nil
}

// definitionForm is the create and edit form: the values as typed.
type definitionForm struct {
	Edit                         bool
	ID                           int64
	Version                      int64
	Name                         string
	CN, O, OU, L, ST, C          string
	SANs, Targets, Labels        string
	KeyType                      string
	Issuer, ValidationLevel      string
	Wildcard                     bool
	Names, ValidityDays          string
	RenewalDays, RenewalFraction string
	Requester, ContactEmail      string
	Notes                        string
	// Choices of the selects.
	KeyTypes []string
	Issuers  []client.Issuer
}

// formOf fills the form from a stored definition.
func formOf(d *client.Definition) definitionForm {
	f := definitionForm{Edit: d.ID != 0, ID: d.ID, Version: d.Version, Name: d.Name,
		CN: d.Subject.CommonName, O: d.Subject.Organization, OU: d.Subject.OrganizationalUnit,
		L: d.Subject.Locality, ST: d.Subject.Province, C: d.Subject.Country,
		SANs: strings.Join(d.SANs, "\n"), Targets: strings.Join(d.Targets, "\n"), Labels: strings.Join(d.Labels, ", "),
		KeyType: d.KeyType, Issuer: d.Requirements.Issuer, ValidationLevel: d.Requirements.ValidationLevel,
		Wildcard: d.Requirements.Wildcard, Requester: d.Requester, ContactEmail: d.ContactEmail, Notes: d.Notes}
	if d.Requirements.Names != 0 {
		f.Names = strconv.Itoa(d.Requirements.Names)
	}
	if d.Requirements.ValidityDays != 0 {
		f.ValidityDays = strconv.Itoa(d.Requirements.ValidityDays)
	}
	if d.Renewal.DaysBefore != 0 {
		f.RenewalDays = strconv.Itoa(d.Renewal.DaysBefore)
	}
	if d.Renewal.LifetimeFraction != 0 {
		f.RenewalFraction = strconv.FormatFloat(d.Renewal.LifetimeFraction, 'g', -1, 64)
	}
	return f
}

// readDefinitionForm reads the posted form.
func readDefinitionForm(r *http.Request) definitionForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	version, _ := strconv.ParseInt(v("version"), 10, 64)
	return definitionForm{Version: version, Name: v("name"), CN: v("cn"), O: v("o"), OU: v("ou"), L: v("l"), ST: v("st"),
		C: v("c"), SANs: v("sans"), Targets: v("targets"), Labels: v("labels"), KeyType: v("key_type"),
		Issuer: v("issuer"), ValidationLevel: v("validation_level"), Wildcard: r.PostFormValue("wildcard") != "",
		Names: v("names"), ValidityDays: v("validity_days"), RenewalDays: v("renewal_days"),
		RenewalFraction: v("renewal_fraction"), Requester: v("requester"), ContactEmail: v("contact_email"),
		Notes: r.PostFormValue("notes")}
}

// splitList splits a list typed one per line or separated by commas or
// spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == ';' })
}

// definition turns the form into the API's definition, refusing numbers
// that are not numbers (the API checks everything else).
func (f definitionForm) definition() (*client.Definition, error) {
	d := &client.Definition{ID: f.ID, Version: f.Version, Name: f.Name,
		Subject: client.Subject{CommonName: f.CN, Organization: f.O, OrganizationalUnit: f.OU, Locality: f.L, Province: f.ST, Country: f.C},
		SANs:    splitList(f.SANs), Targets: splitList(f.Targets), Labels: splitList(f.Labels), KeyType: f.KeyType,
		Requirements: client.Requirements{Issuer: f.Issuer, ValidationLevel: f.ValidationLevel, Wildcard: f.Wildcard},
		Requester:    f.Requester, ContactEmail: f.ContactEmail, Notes: f.Notes}
	var err error
	if d.Requirements.Names, err = formInt(f.Names, "requirements.names"); err != nil {
		return nil, err
	}
	if d.Requirements.ValidityDays, err = formInt(f.ValidityDays, "requirements.validity_days"); err != nil {
		return nil, err
	}
	if d.Renewal.DaysBefore, err = formInt(f.RenewalDays, "renewal"); err != nil {
		return nil, err
	}
	if f.RenewalFraction != "" {
		if d.Renewal.LifetimeFraction, err = strconv.ParseFloat(f.RenewalFraction, 64); err != nil {
			return nil, apiError(http.StatusUnprocessableEntity, "The renewal lifetime fraction is not a number.",
				"renewal", fmt.Sprintf("%q is not a number such as 0.66", f.RenewalFraction))
		}
	}
	return d, nil
}

// formInt reads an optional whole number; "" is 0.
func formInt(s, field string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apiError(http.StatusUnprocessableEntity, fmt.Sprintf("%q is not a whole number.", s),
			field, fmt.Sprintf("%q is not a whole number", s))
	}
	return n, nil
}

// renderDefinitionForm shows the create or edit form.
func (ui *UI) renderDefinitionForm(w http.ResponseWriter, r *http.Request, f definitionForm, status int, msg string, fields map[string]string) error {
	issuers, err := ui.api.ListIssuers(r.Context())
	if err != nil {
		return err
	}
	f.Issuers, f.KeyTypes = issuers.Items, definitions.KeyTypes
	title := "New definition"
	if f.Edit {
		title = "Edit definition " + f.Name
	}
	ui.render(w, r, page{name: "definition_form", title: title, section: "definitions", data: f,
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) definitionNew(w http.ResponseWriter, r *http.Request) error {
	return ui.renderDefinitionForm(w, r, definitionForm{KeyType: definitions.DefaultKeyType, RenewalDays: "30"}, 0, "", nil)
}

func (ui *UI) definitionCreate(w http.ResponseWriter, r *http.Request) error {
	f := readDefinitionForm(r)
	f.Version = 0
	d, err := f.definition()
	if err == nil {
		d, err = ui.api.CreateDefinition(r.Context(), d)
	}
	if msg, fields, ok := formError(err); ok {
		return ui.renderDefinitionForm(w, r, f, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/definitions/%d", d.ID), fmt.Sprintf("Definition %s created. Acquire its certificate when ready.", d.Name))
	return nil
}

func (ui *UI) definitionEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := ui.api.GetDefinition(r.Context(), id)
	if err != nil {
		return err
	}
	return ui.renderDefinitionForm(w, r, formOf(d), 0, "", nil)
}

func (ui *UI) definitionUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := readDefinitionForm(r)
	f.Edit, f.ID = true, id
	d, err := f.definition()
	if err == nil {
		d, err = ui.api.UpdateDefinition(r.Context(), d)
	}
	if client.IsPreconditionFailed(err) {
		msg := "Someone changed this definition after you opened it, so your changes were not saved. " +
			"Open the definition again to see the current values, then make your changes again."
		if cur, gerr := ui.api.GetDefinition(r.Context(), id); gerr == nil {
			msg = fmt.Sprintf("%s (You edited version %d; it is now at version %d, last changed %s.)", msg, f.Version, cur.Version, fmtDateTime(cur.UpdatedAt))
		}
		return ui.renderDefinitionForm(w, r, f, http.StatusConflict, msg, nil)
	}
	if msg, fields, ok := formError(err); ok {
		return ui.renderDefinitionForm(w, r, f, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/definitions/%d", d.ID), fmt.Sprintf("Definition %s saved.", d.Name))
	return nil
}

// definitionData fills a definition's page.
type definitionData struct {
	Def       *client.Definition
	Cert      *client.Certificate
	History   []client.Acquisition
	Open      *client.Acquisition
	Issuers   map[int64]client.Issuer
	Documents []docView
	// Deploy sums up the current certificate's deployments.
	Deploy deploySummary
	// CloneName is the name typed in the clone form.
	CloneName string
}

func (ui *UI) definitionShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return ui.renderDefinition(w, r, id, 0, "", nil, "")
}

// renderDefinition shows definition id, with a refusal of one of its
// forms when msg is set.
func (ui *UI) renderDefinition(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, fields map[string]string, cloneName string) error {
	ctx := r.Context()
	d, err := ui.api.GetDefinition(ctx, id)
	if err != nil {
		return err
	}
	data := definitionData{Def: d, CloneName: cloneName}
	if d.CurrentCertificateID != 0 {
		if data.Cert, err = ui.api.GetCertificate(ctx, d.CurrentCertificateID); err != nil && !client.IsNotFound(err) {
			return err
		}
	}
	if data.Cert != nil {
		data.Deploy = deploySummaryOf(data.Cert)
	}
	hist, err := ui.api.ListAcquisitions(ctx, client.AcquisitionQuery{DefinitionID: id, Page: client.Page{Limit: 100}})
	if err != nil {
		return err
	}
	// Newest first.
	for i := len(hist.Items) - 1; i >= 0; i-- {
		a := hist.Items[i]
		data.History = append(data.History, a)
		if data.Open == nil && (a.State == "csr_ready" || a.State == "ordered" || a.State == "issued") {
			data.Open = &hist.Items[i]
		}
	}
	if data.Issuers, err = ui.issuerMap(ctx); err != nil {
		return err
	}
	docs, err := ui.api.ListDocuments(ctx, id)
	if err != nil {
		return err
	}
	for _, doc := range docs.Items {
		data.Documents = append(data.Documents, docView{Document: doc, URL: docURL(id, doc.Name)})
	}
	ui.render(w, r, page{name: "definition", title: "Definition " + d.Name, section: "definitions", data: data,
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) definitionClone(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	d, err := ui.api.CloneDefinition(r.Context(), id, client.DefinitionClone{Name: name})
	if msg, _, ok := formError(err); ok {
		// The clone form has one field: show every refusal there.
		fields := map[string]string{"clone_name": msg}
		return ui.renderDefinition(w, r, id, http.StatusUnprocessableEntity, msg, fields, name)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/definitions/%d", d.ID), fmt.Sprintf("Definition copied as %s. Check its names before acquiring.", d.Name))
	return nil
}

// acquireData fills the product choice before starting a process.
type acquireData struct {
	Def                  *client.Definition
	Matches              []client.ProductMatch
	ReuseKey, AutoSwitch bool
}

// definitionAcquire starts a process. When several products fit and
// the form chose none, it shows the choice first.
func (ui *UI) definitionAcquire(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in := client.AcquisitionStart{DefinitionID: id, ReuseKey: r.PostFormValue("reuse_key") != "",
		AutoSwitch: r.PostFormValue("auto_switch") != ""}
	choice, chosen := r.PostForm["product"]
	if chosen && choice[0] != "" {
		if in.IssuerID, in.ProductID, err = parseChoice(choice[0]); err != nil {
			return err
		}
	}
	if !chosen {
		d, err := ui.api.GetDefinition(ctx, id)
		if err != nil {
			return err
		}
		m, err := ui.api.DefinitionProducts(ctx, id)
		if err != nil {
			return err
		}
		switch len(m.Items) {
		case 0:
		case 1:
			in.IssuerID, in.ProductID = m.Items[0].Issuer.ID, m.Items[0].Product.ID
		default:
			ui.render(w, r, page{name: "definition_acquire", title: "Choose a product for " + d.Name, section: "definitions",
				data: acquireData{Def: d, Matches: m.Items, ReuseKey: in.ReuseKey, AutoSwitch: in.AutoSwitch}})
			return nil
		}
	}
	a, err := ui.api.StartAcquisition(ctx, in)
	if msg, fields, ok := formError(err); ok {
		return ui.renderDefinition(w, r, id, http.StatusUnprocessableEntity, "The acquisition could not start: "+msg, fields, "")
	}
	if err != nil {
		return err
	}
	next := "Download the request and order the certificate from the vendor, then record the order."
	if iss, err := ui.api.GetIssuer(ctx, a.IssuerID); err == nil && iss.Kind == "builtin-ca" {
		next = "Issue it from the built-in CA to get the certificate."
	}
	redirect(w, r, fmt.Sprintf("/acquisitions/%d", a.ID), fmt.Sprintf("Acquisition #%d started (%s): key and request made. %s", a.ID, a.Kind, next))
	return nil
}

// parseChoice reads "ISSUER:PRODUCT" IDs.
func parseChoice(s string) (issuer, product int64, err error) {
	is, ps, _ := strings.Cut(s, ":")
	issuer, err1 := strconv.ParseInt(is, 10, 64)
	product, err2 := strconv.ParseInt(ps, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, apiError(http.StatusBadRequest, "The chosen product is not one of the offered ones.", "product", "unknown choice")
	}
	return issuer, product, nil
}

func (ui *UI) documentUpload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	refuse := func(msg string) error {
		return ui.renderDefinition(w, r, id, http.StatusUnprocessableEntity, msg, map[string]string{"document": msg}, "")
	}
	file, hdr, err := r.FormFile("document")
	if errors.Is(err, http.ErrMissingFile) {
		return refuse("Choose a file to upload.")
	}
	if err != nil {
		return refuse("The upload could not be read: " + err.Error())
	}
	defer file.Close()
	if hdr.Size > definitions.MaxDocumentSize {
		return refuse(fmt.Sprintf("%s is %d bytes; documents may be at most 10 MiB.", hdr.Filename, hdr.Size))
	}
	content, err := io.ReadAll(io.LimitReader(file, definitions.MaxDocumentSize+1))
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = hdr.Filename
	}
	doc, err := ui.api.PutDocument(r.Context(), id, name, content)
	if msg, _, ok := formError(err); ok {
		return refuse("The document was refused: " + msg)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/definitions/%d#documents", id), fmt.Sprintf("Document %s stored (%d bytes).", doc.Name, doc.Size))
	return nil
}

func (ui *UI) documentDownload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	data, err := ui.api.GetDocument(r.Context(), id, name)
	if err != nil {
		return err
	}
	sendFile(w, "application/octet-stream", name, data)
	return nil
}

func (ui *UI) documentDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := ui.api.DeleteDocument(r.Context(), id, name); err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/definitions/%d#documents", id), fmt.Sprintf("Document %s deleted.", name))
	return nil
}

// docView is a document with the path of its page.
type docView struct {
	client.Document
	URL string
}

// docURL is the path of a document of definition id.
func docURL(id int64, name string) string {
	return fmt.Sprintf("/definitions/%d/documents/%s", id, url.PathEscape(name))
}
