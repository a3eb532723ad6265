package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *API) listAcquisitions(w http.ResponseWriter, r *http.Request) error {
	f, err := acquisitionFilter(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	res, err := a.Acquisitions.List(r.Context(), f, p)
	if err != nil {
		return err
	}
	out := client.AcquisitionList{Items: make([]client.Acquisition, len(res.Items)), Next: res.Next}
	for i := range res.Items {
		out.Items[i] = acquisitionOut(&res.Items[i])
	}
	return ok(w, out)
}

func acquisitionFilter(r *http.Request) (f inventory.AcquisitionFilter, err error) {
	if f.States, err = states(r.URL.Query().Get("state")); err != nil {
		return f, err
	}
	if f.DefinitionID, err = queryID(r, "definition_id"); err != nil {
		return f, err
	}
	if f.IssuerID, err = queryID(r, "issuer_id"); err != nil {
		return f, err
	}
	f.KeyID, err = queryID(r, "key_id")
	return f, err
}

// states reads "open" or a comma-separated list of states.
func states(s string) ([]inventory.AcquisitionState, error) {
	if s == "" {
		return nil, nil
	}
	if s == "open" {
		return inventory.OpenAcquisitionStates, nil
	}
	var out []inventory.AcquisitionState
	for _, v := range strings.Split(s, ",") {
		st := inventory.AcquisitionState(strings.TrimSpace(v))
		if !st.Valid() {
			return nil, badRequest("state", "state %q: want open or csr_ready, pending_approval, ordered, issued, completed, cancelled", v)
		}
		out = append(out, st)
	}
	return out, nil
}

func (a *API) attention(w http.ResponseWriter, r *http.Request) error {
	n, err := queryInt(r, "days")
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	res, err := a.Acquisitions.Attention(r.Context(), n, p)
	if err != nil {
		return err
	}
	return ok(w, definitionList(res))
}

func (a *API) startAcquisition(w http.ResponseWriter, r *http.Request) error {
	var in client.AcquisitionStart
	if err := decode(r, &in); err != nil {
		return err
	}
	o := acquisition.StartOptions{Kind: inventory.AcquisitionKind(in.Kind), ReuseKey: in.ReuseKey, AutoSwitch: in.AutoSwitch}
	if in.Kind != "" && !o.Kind.Valid() {
		return inventory.Invalid("kind", "kind %q: want new or renewal", in.Kind)
	}
	if in.DefinitionID == 0 { // required: there is no definition 0
		return inventory.Invalid("definition_id", "no definition 0")
	}
	n, err := a.Acquisitions.Resolve(r.Context(),
		acquisition.Refs{DefinitionID: in.DefinitionID, IssuerID: in.IssuerID, ProductID: in.ProductID})
	if err != nil {
		return err
	}
	o.Definition, o.Issuer, o.Product = n.Definition, n.Issuer, n.Product
	p, err := a.Acquisitions.Start(r.Context(), actor(r), o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, processOut(p))
}

// missingField reports an unknown object named in a request body as bad
// input in that field.
func missingField(err error, field, kind string, id int64) error {
	if err != nil && isNotFound(err) {
		return inventory.Invalid(field, "no %s %d", kind, id)
	}
	return err
}

func (a *API) getAcquisition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.Acquisitions.Get(r.Context(), id)
	return writeProcess(w, p, err)
}

func writeProcess(w http.ResponseWriter, p *acquisition.Process, err error) error {
	if err != nil {
		return err
	}
	return ok(w, processOut(p))
}

func (a *API) chooseIssuer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.IssuerChoice
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.IssuerID == 0 && in.ProductID == 0 {
		return inventory.Invalid("issuer_id", "give an issuer")
	}
	n, err := a.Acquisitions.Resolve(r.Context(), acquisition.Refs{IssuerID: in.IssuerID, ProductID: in.ProductID})
	if err != nil {
		return err
	}
	p, err := a.Acquisitions.ChooseIssuer(r.Context(), actor(r), id, n.Issuer, n.Product)
	return writeProcess(w, p, err)
}

func (a *API) acquisitionCSR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	csr, err := a.Acquisitions.CSR(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return writeFile(w, "application/pkcs10", fmt.Sprintf("acquisition-%d.csr", id), csr)
}

func (a *API) issue(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := a.Acquisitions.Issue(r.Context(), requester(r), id)
	if err != nil {
		return err
	}
	return ok(w, a.validationOut(v))
}

func (a *API) recordOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.OrderInput
	if err := decode(r, &in); err != nil {
		return err
	}
	n, err := a.Acquisitions.Resolve(r.Context(), acquisition.Refs{VendorAccountID: in.VendorAccountID, ProductID: in.ProductID})
	if err != nil {
		return err
	}
	o := acquisition.OrderInput{Number: in.Number, Date: in.Date, Notes: in.Notes, VendorAccount: n.VendorAccount, Product: n.Product}
	p, err := a.Acquisitions.RecordOrder(r.Context(), actor(r), id, o)
	return writeProcess(w, p, err)
}

func (a *API) uploadCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.Upload
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Data) == 0 {
		return inventory.Invalid("data", "the file is empty")
	}
	v, err := a.Acquisitions.Upload(r.Context(), actor(r), id,
		acquisition.Upload{Data: in.Data, Password: in.Password, Intermediates: in.Intermediates})
	if err != nil {
		return err
	}
	return ok(w, a.validationOut(v))
}

func (a *API) switchCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.Acquisitions.Switch(r.Context(), actor(r), id)
	return writeProcess(w, p, err)
}

func (a *API) cancelAcquisition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.Cancel
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	p, err := a.Acquisitions.Cancel(r.Context(), actor(r), id, in.Reason)
	return writeProcess(w, p, err)
}
