package client

import (
	"context"
	"strconv"
	"time"
)

// Acquisition is one process that gets a certificate for a definition.
type Acquisition struct {
	ID           int64  `json:"id"`
	DefinitionID int64  `json:"definition_id"`
	Definition   string `json:"definition,omitempty"`
	// Kind is new or renewal.
	Kind string `json:"kind"`
	// State is csr_ready, pending_approval, ordered, issued, completed or
	// cancelled.
	State     string `json:"state"`
	IssuerID  int64  `json:"issuer_id,omitempty"`
	ProductID int64  `json:"product_id,omitempty"`
	KeyID     int64  `json:"key_id,omitempty"`
	CSRID     int64  `json:"csr_id,omitempty"`
	Order     *Order `json:"order,omitempty"`
	// CertificateID is the received certificate; 0 before issued.
	CertificateID int64 `json:"certificate_id,omitempty"`
	// Differences list how the certificate's names differ from the
	// definition's.
	Differences []string  `json:"differences,omitempty"`
	AutoSwitch  bool      `json:"auto_switch"`
	Version     int64     `json:"version"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Steps is the history; set by GetAcquisition and the actions only.
	Steps []Step `json:"steps,omitempty"`
}

// Order is what was ordered at a vendor.
type Order struct {
	VendorAccountID int64     `json:"vendor_account_id,omitempty"`
	Number          string    `json:"number,omitempty"`
	Date            time.Time `json:"date,omitzero"`
	ProductID       int64     `json:"product_id,omitempty"`
	Notes           string    `json:"notes,omitempty"`
}

// Step is one recorded step of a process.
type Step struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}

// AcquisitionList is one page of processes in ID order.
type AcquisitionList struct {
	Items []Acquisition `json:"items"`
	Next  string        `json:"next,omitempty"`
}

// AcquisitionQuery filters ListAcquisitions.
type AcquisitionQuery struct {
	// State is a comma-separated list of states, or "open"; "" means
	// any.
	State        string
	DefinitionID int64
	IssuerID     int64
	KeyID        int64
	Page
}

// AcquisitionStart says how to start a process.
type AcquisitionStart struct {
	DefinitionID int64 `json:"definition_id"`
	// Kind is new or renewal; "" decides from whether the definition has
	// a current certificate.
	Kind string `json:"kind,omitempty"`
	// IssuerID and ProductID choose the issuer and product; 0 lets the
	// server choose (the definition's required issuer, else the default
	// CA).
	IssuerID  int64 `json:"issuer_id,omitempty"`
	ProductID int64 `json:"product_id,omitempty"`
	// ReuseKey keeps the current certificate's key.
	ReuseKey   bool `json:"reuse_key,omitempty"`
	AutoSwitch bool `json:"auto_switch,omitempty"`
}

// IssuerChoice changes a process's issuer and product.
type IssuerChoice struct {
	IssuerID  int64 `json:"issuer_id"`
	ProductID int64 `json:"product_id,omitempty"`
}

// OrderInput records a vendor order.
type OrderInput struct {
	VendorAccountID int64  `json:"vendor_account_id,omitempty"`
	Number          string `json:"number,omitempty"`
	// Date is the order date; zero means today.
	Date      time.Time `json:"date,omitzero"`
	ProductID int64     `json:"product_id,omitempty"`
	Notes     string    `json:"notes,omitempty"`
}

// Upload is a certificate received from a vendor.
type Upload struct {
	// Data is the file: PEM, DER, PKCS#7 or PKCS#12 (at most 1 MiB).
	Data     []byte `json:"data"`
	Password string `json:"password,omitempty"`
	// Intermediates are further files of intermediate certificates.
	Intermediates [][]byte `json:"intermediates,omitempty"`
}

// Validation is what checking a received certificate found.
type Validation struct {
	Acquisition Acquisition  `json:"acquisition"`
	Certificate *Certificate `json:"certificate,omitempty"`
	// Chain is the verified chain, leaf first.
	Chain       []ChainCertificate `json:"chain,omitempty"`
	Differences []string           `json:"differences,omitempty"`
	// Switched says the certificate became current.
	Switched bool `json:"switched"`
}

// ChainCertificate summarises one certificate of a verified chain.
type ChainCertificate struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	SHA256   string    `json:"sha256"`
}

// Cancel abandons a process.
type Cancel struct {
	Reason string `json:"reason,omitempty"`
}

// ListAcquisitions returns one page of the processes q selects.
func (c *Client) ListAcquisitions(ctx context.Context, q AcquisitionQuery) (*AcquisitionList, error) {
	v := q.Page.values()
	setNonZero(v, "state", q.State)
	setNonZero(v, "definition_id", strconv.FormatInt(q.DefinitionID, 10))
	setNonZero(v, "issuer_id", strconv.FormatInt(q.IssuerID, 10))
	setNonZero(v, "key_id", strconv.FormatInt(q.KeyID, 10))
	var out AcquisitionList
	return &out, c.do(ctx, call{method: "GET", path: path("acquisitions"), query: v, out: &out})
}

// Attention returns the definitions whose certificate expires within days
// (0: the server's default, 60) and that have no open process.
func (c *Client) Attention(ctx context.Context, days int, p Page) (*DefinitionList, error) {
	v := p.values()
	setNonZero(v, "days", strconv.Itoa(days))
	var out DefinitionList
	return &out, c.do(ctx, call{method: "GET", path: path("acquisitions", "attention"), query: v, out: &out})
}

// StartAcquisition begins a process: key, request and issuer.
func (c *Client) StartAcquisition(ctx context.Context, in AcquisitionStart) (*Acquisition, error) {
	return c.acquisitionCall(ctx, "POST", path("acquisitions"), in)
}

// GetAcquisition returns a process with its steps.
func (c *Client) GetAcquisition(ctx context.Context, id int64) (*Acquisition, error) {
	return c.acquisitionCall(ctx, "GET", path("acquisitions", id), nil)
}

// ChooseIssuer changes the issuer of a process in csr_ready.
func (c *Client) ChooseIssuer(ctx context.Context, id int64, in IssuerChoice) (*Acquisition, error) {
	return c.acquisitionCall(ctx, "POST", path("acquisitions", id, "issuer"), in)
}

// AcquisitionCSR returns the process's request in PEM.
func (c *Client) AcquisitionCSR(ctx context.Context, id int64) ([]byte, error) {
	var out []byte
	return out, c.do(ctx, call{method: "GET", path: path("acquisitions", id, "csr"), rawOut: &out})
}

// Issue has the built-in CA of the process sign its request.
func (c *Client) Issue(ctx context.Context, id int64) (*Validation, error) {
	var out Validation
	return &out, c.do(ctx, call{method: "POST", path: path("acquisitions", id, "issue"), out: &out})
}

// RecordOrder records the vendor order of a process.
func (c *Client) RecordOrder(ctx context.Context, id int64, in OrderInput) (*Acquisition, error) {
	return c.acquisitionCall(ctx, "POST", path("acquisitions", id, "order"), in)
}

// UploadCertificate validates and registers a certificate received for a
// vendor process.
func (c *Client) UploadCertificate(ctx context.Context, id int64, u Upload) (*Validation, error) {
	var out Validation
	return &out, c.do(ctx, call{method: "POST", path: path("acquisitions", id, "certificate"), in: u, out: &out})
}

// Switch makes the process's certificate the definition's current one.
func (c *Client) Switch(ctx context.Context, id int64) (*Acquisition, error) {
	return c.acquisitionCall(ctx, "POST", path("acquisitions", id, "switch"), nil)
}

// CancelAcquisition abandons an open process.
func (c *Client) CancelAcquisition(ctx context.Context, id int64, reason string) (*Acquisition, error) {
	return c.acquisitionCall(ctx, "POST", path("acquisitions", id, "cancel"), Cancel{Reason: reason})
}

func (c *Client) acquisitionCall(ctx context.Context, method, p string, in any) (*Acquisition, error) {
	var out Acquisition
	return &out, c.do(ctx, call{method: method, path: p, in: in, out: &out})
}
