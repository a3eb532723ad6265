package client

import (
	"context"
	"strconv"
	"time"
)

// Subject is the distinguished name a definition asks for.
type Subject struct {
	CommonName         string `json:"cn,omitempty"`
	Organization       string `json:"o,omitempty"`
	OrganizationalUnit string `json:"ou,omitempty"`
	Locality           string `json:"l,omitempty"`
	Province           string `json:"st,omitempty"`
	Country            string `json:"c,omitempty"`
}

// Requirements are what an issuer must meet for a definition.
type Requirements struct {
	// Issuer names the wanted issuer; "" means any.
	Issuer string `json:"issuer,omitempty"`
	// ValidationLevel is DV, OV or EV; "" means any.
	ValidationLevel string `json:"validation_level,omitempty"`
	Wildcard        bool   `json:"wildcard,omitempty"`
	// Names is how many names the certificate must cover; 0 means the
	// number of SANs.
	Names int `json:"names,omitempty"`
	// ValidityDays is the wanted lifetime; 0 means the issuer's default.
	ValidityDays int `json:"validity_days,omitempty"`
}

// Renewal says when the certificate is renewed: exactly one field is set.
type Renewal struct {
	DaysBefore       int     `json:"days_before,omitempty"`
	LifetimeFraction float64 `json:"lifetime_fraction,omitempty"`
}

// Definition describes a certificate that should exist. As a request
// body (create, update) the server ignores ID, CurrentCertificateID,
// Version and the times.
type Definition struct {
	ID      int64    `json:"id,omitempty"`
	Name    string   `json:"name"`
	Subject Subject  `json:"subject"`
	SANs    []string `json:"sans,omitempty"`
	// KeyType is ecdsa-p256 (the default), ecdsa-p384, rsa-2048,
	// rsa-3072, rsa-4096 or ed25519.
	KeyType      string       `json:"key_type,omitempty"`
	Requirements Requirements `json:"requirements"`
	Requester    string       `json:"requester,omitempty"`
	ContactEmail string       `json:"contact_email,omitempty"`
	Targets      []string     `json:"targets,omitempty"`
	Renewal      Renewal      `json:"renewal"`
	Labels       []string     `json:"labels,omitempty"`
	Notes        string       `json:"notes,omitempty"`
	// CurrentCertificateID is the certificate in use; 0 when none.
	CurrentCertificateID int64 `json:"current_certificate_id,omitempty"`
	// Version counts changes; UpdateDefinition sends it as If-Match.
	Version   int64     `json:"version,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// DefinitionList is one page of definitions in ID order.
type DefinitionList struct {
	Items []Definition `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// DefinitionQuery filters ListDefinitions.
type DefinitionQuery struct {
	// Name, when set, keeps only the definition of exactly that name; the
	// other fields are then ignored.
	Name  string
	Label string
	// Q keeps definitions whose name, common name, SANs, requester or
	// notes contain this text.
	Q string
	Page
}

// DefinitionClone asks for a copy of a definition under a new name. The
// other fields, when set, replace the copied values.
type DefinitionClone struct {
	Name         string        `json:"name"`
	Subject      *Subject      `json:"subject,omitempty"`
	SANs         []string      `json:"sans,omitempty"`
	KeyType      string        `json:"key_type,omitempty"`
	Requirements *Requirements `json:"requirements,omitempty"`
	Renewal      *Renewal      `json:"renewal,omitempty"`
	Targets      []string      `json:"targets,omitempty"`
	Labels       []string      `json:"labels,omitempty"`
	Notes        *string       `json:"notes,omitempty"`
}

// DefinitionImport makes a definition from a stored certificate.
type DefinitionImport struct {
	CertificateID int64 `json:"certificate_id"`
	// Name is the new definition's name; "" derives one from the
	// certificate's common name or first SAN.
	Name string `json:"name,omitempty"`
}

// ImportedDefinition is a definition made from a certificate.
type ImportedDefinition struct {
	Definition Definition `json:"definition"`
	// KeyHeld says the certificate's key is in the inventory.
	KeyHeld bool `json:"key_held"`
}

// Document is a file in a definition's document folder.
type Document struct {
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

// DocumentList lists a folder by name.
type DocumentList struct {
	Items []Document `json:"items"`
}

// ListDefinitions returns one page of the definitions q selects.
func (c *Client) ListDefinitions(ctx context.Context, q DefinitionQuery) (*DefinitionList, error) {
	v := q.Page.values()
	setNonZero(v, "name", q.Name)
	setNonZero(v, "label", q.Label)
	setNonZero(v, "q", q.Q)
	var out DefinitionList
	return &out, c.do(ctx, call{method: "GET", path: path("definitions"), query: v, out: &out})
}

// DefinitionByName returns the definition called name; none is an error
// that IsNotFound reports.
func (c *Client) DefinitionByName(ctx context.Context, name string) (*Definition, error) {
	if name == "" {
		return nil, errEmptyName
	}
	l, err := c.ListDefinitions(ctx, DefinitionQuery{Name: name})
	if err != nil {
		return nil, err
	}
	if len(l.Items) == 0 {
		return nil, notFound("no definition %q", name)
	}
	return &l.Items[0], nil
}

// CreateDefinition stores a new definition and returns it as stored.
func (c *Client) CreateDefinition(ctx context.Context, d *Definition) (*Definition, error) {
	var out Definition
	return &out, c.do(ctx, call{method: "POST", path: path("definitions"), in: d, out: &out})
}

// GetDefinition returns a definition; its Version is what
// UpdateDefinition sends back.
func (c *Client) GetDefinition(ctx context.Context, id int64) (*Definition, error) {
	var out Definition
	return &out, c.do(ctx, call{method: "GET", path: path("definitions", id), out: &out})
}

// UpdateDefinition replaces definition d.ID with d, provided nobody
// changed it since d.Version was read (else IsPreconditionFailed).
func (c *Client) UpdateDefinition(ctx context.Context, d *Definition) (*Definition, error) {
	var out Definition
	etag := strconv.Quote(strconv.FormatInt(d.Version, 10))
	return &out, c.do(ctx, call{method: "PUT", path: path("definitions", d.ID), in: d, ifMatch: etag, out: &out})
}

// CloneDefinition copies definition id, without its certificate or
// documents.
func (c *Client) CloneDefinition(ctx context.Context, id int64, in DefinitionClone) (*Definition, error) {
	var out Definition
	return &out, c.do(ctx, call{method: "POST", path: path("definitions", id, "clone"), in: in, out: &out})
}

// ImportDefinition makes a definition from a stored certificate, which
// becomes its current one.
func (c *Client) ImportDefinition(ctx context.Context, in DefinitionImport) (*ImportedDefinition, error) {
	var out ImportedDefinition
	return &out, c.do(ctx, call{method: "POST", path: path("definitions", "import"), in: in, out: &out})
}

// ListDocuments lists definition id's documents, without content.
func (c *Client) ListDocuments(ctx context.Context, id int64) (*DocumentList, error) {
	var out DocumentList
	return &out, c.do(ctx, call{method: "GET", path: path("definitions", id, "documents"), out: &out})
}

// PutDocument stores content as document name of definition id,
// replacing a document of that name.
func (c *Client) PutDocument(ctx context.Context, id int64, name string, content []byte) (*Document, error) {
	if name == "" {
		return nil, errEmptyName
	}
	if content == nil {
		content = []byte{}
	}
	var out Document
	return &out, c.do(ctx, call{method: "PUT", path: path("definitions", id, "documents", name),
		raw: content, rawType: "application/octet-stream", out: &out})
}

// GetDocument returns the content of document name of definition id.
func (c *Client) GetDocument(ctx context.Context, id int64, name string) ([]byte, error) {
	if name == "" {
		return nil, errEmptyName
	}
	var out []byte
	return out, c.do(ctx, call{method: "GET", path: path("definitions", id, "documents", name), rawOut: &out})
}

// DeleteDocument removes document name of definition id.
func (c *Client) DeleteDocument(ctx context.Context, id int64, name string) error {
	if name == "" {
		return errEmptyName
	}
	return c.do(ctx, call{method: "DELETE", path: path("definitions", id, "documents", name)})
}

// DefinitionProducts returns the products that meet definition id's
// requirements, the closest fit first.
func (c *Client) DefinitionProducts(ctx context.Context, id int64) (*ProductMatchList, error) {
	var out ProductMatchList
	return &out, c.do(ctx, call{method: "GET", path: path("definitions", id, "products"), out: &out})
}
