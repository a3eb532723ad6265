package api

import (
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Conversions from the domain types to the wire types. Nothing secret
// (sealed keys, password hashes, token hashes, sealed passwords) is ever
// copied. They are plain field-by-field copies, with no reflection on
// the request path; where a domain type and its wire type have the same
// fields, a Go conversion (client.CheckSpec(v.Check), client.Agent(*ag))
// lets the compiler check them instead. TestWireMirrors checks that
// every field of each domain read model is on the wire or has a recorded
// reason not to be, and TestWireConversions that each converter copies
// every field it should.

func certificateOut(c *inventory.Certificate, st inventory.Status) client.Certificate {
	return client.Certificate{ID: c.ID, SHA256: c.SHA256, SHA1: c.SHA1, Serial: c.Serial, Subject: c.Subject,
		CommonName: c.CommonName, Issuer: c.Issuer, SANs: c.SANs, NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		Status: string(st), IsCA: c.IsCA, SelfSigned: c.SelfSigned, SubjectKeyID: c.SubjectKeyID,
		AuthorityKeyID: c.AuthorityKeyID, KeyAlgorithm: string(c.KeyAlgorithm), KeyBits: c.KeyBits,
		SignatureAlgorithm: c.SignatureAlgorithm, SPKISHA256: c.SPKISHA256, IssuerCertificateID: c.IssuerID,
		KeyID: c.KeyID, KeyHeld: c.KeyID != 0, Source: c.Source, Labels: c.Labels, Internal: c.Internal, RevokedAt: utcPtr(c.RevokedAt),
		CreatedAt: c.CreatedAt.UTC()}
}

func keyOut(k *inventory.Key) client.Key {
	return client.Key{ID: k.ID, SPKISHA256: k.SPKISHA256, Algorithm: string(k.Algorithm), Bits: k.Bits,
		Labels: k.Labels, CreatedAt: k.CreatedAt.UTC()}
}

func definitionOut(d *inventory.Definition) client.Definition {
	return client.Definition{ID: d.ID, Name: d.Name, Subject: client.Subject(d.Subject), SANs: d.SANs, KeyType: d.KeyType,
		Requirements: client.Requirements(d.Requirements), Requester: d.Requester, ContactEmail: d.ContactEmail,
		Targets: d.Targets, Renewal: client.Renewal(d.Renewal), Labels: d.Labels, Notes: d.Notes,
		CurrentCertificateID: d.CurrentCertificateID, Version: d.Version, CreatedAt: d.CreatedAt.UTC(),
		UpdatedAt: d.UpdatedAt.UTC()}
}

// definitionIn copies the fields a client may set onto d.
func definitionIn(in *client.Definition, d *inventory.Definition) {
	d.Name, d.Subject, d.SANs, d.KeyType = in.Name, inventory.Subject(in.Subject), in.SANs, in.KeyType
	d.Requirements, d.Requester, d.ContactEmail = inventory.Requirements(in.Requirements), in.Requester, in.ContactEmail
	d.Targets, d.Renewal, d.Labels, d.Notes = in.Targets, inventory.Renewal(in.Renewal), in.Labels, in.Notes
}

func definitionList(p *inventory.DefinitionPage) client.DefinitionList {
	out := client.DefinitionList{Items: make([]client.Definition, len(p.Items)), Next: p.Next}
	for i := range p.Items {
		out.Items[i] = definitionOut(&p.Items[i])
	}
	return out
}

func issuerOut(i *inventory.Issuer) client.Issuer {
	return client.Issuer{ID: i.ID, Name: i.Name, Kind: string(i.Kind), CAID: i.CAID, URL: i.URL, Notes: i.Notes}
}

func productOut(p *inventory.Product) client.Product {
	return client.Product{ID: p.ID, IssuerID: p.IssuerID, Name: p.Name, ValidationLevel: string(p.ValidationLevel),
		Wildcard: p.Wildcard, MaxNames: p.MaxNames, MaxValidityDays: p.MaxValidityDays, URL: p.URL, Notes: p.Notes}
}

func matchesOut(ms []catalogue.Match) client.ProductMatchList {
	out := client.ProductMatchList{Items: make([]client.ProductMatch, len(ms))}
	for i := range ms {
		out.Items[i] = client.ProductMatch{Issuer: issuerOut(&ms[i].Issuer), Product: productOut(&ms[i].Product)}
	}
	return out
}

func accountOut(a *catalogue.Account) client.VendorAccount {
	return client.VendorAccount{ID: a.ID, IssuerID: a.IssuerID, Name: a.Name, Username: a.Username,
		HasPassword: a.HasPassword, Email: a.Email, URL: a.URL, Notes: a.Notes, CreatedAt: a.CreatedAt.UTC()}
}

func userOut(u *inventory.User) client.User {
	return client.User{ID: u.ID, Username: u.Username, Role: string(u.Role), Disabled: u.Disabled,
		MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

func tokenOut(t *inventory.APIToken) client.Token {
	return client.Token{ID: t.ID, UserID: t.UserID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt.UTC(),
		LastUsedAt: utcPtr(t.LastUsedAt), ExpiresAt: utcPtr(t.ExpiresAt)}
}

func acquisitionOut(q *inventory.Acquisition) client.Acquisition {
	out := client.Acquisition{ID: q.ID, DefinitionID: q.DefinitionID, Kind: string(q.Kind), State: string(q.State),
		IssuerID: q.IssuerID, ProductID: q.ProductID, KeyID: q.KeyID, CSRID: q.CSRID, CertificateID: q.CertificateID,
		Differences: q.Differences, AutoSwitch: q.AutoSwitch, Version: q.Version, CreatedBy: q.CreatedBy,
		CreatedAt: q.CreatedAt.UTC(), UpdatedAt: q.UpdatedAt.UTC()}
	if o := q.Order; o != nil {
		out.Order = &client.Order{VendorAccountID: o.VendorAccountID, Number: o.Number, Date: o.Date.UTC(),
			ProductID: o.ProductID, Notes: o.Notes}
	}
	return out
}

func processOut(p *acquisition.Process) client.Acquisition {
	out := acquisitionOut(&p.Acquisition)
	if p.Definition != nil {
		out.Definition = p.Definition.Name
	}
	for _, s := range p.Steps {
		out.Steps = append(out.Steps, client.Step{Time: s.Time.UTC(), Actor: s.Actor, Action: s.Action, Detail: s.Detail})
	}
	return out
}

func (a *API) validationOut(v *acquisition.Validation) client.Validation {
	out := client.Validation{Differences: v.Differences, Switched: v.Switched}
	if v.Acquisition != nil {
		out.Acquisition = acquisitionOut(v.Acquisition)
	}
	if v.Certificate != nil {
		c := certificateOut(v.Certificate, v.Certificate.StatusAt(a.now()))
		out.Certificate = &c
	}
	for _, x := range v.Chain {
		out.Chain = append(out.Chain, client.ChainCertificate{Subject: x.Subject.String(), Issuer: x.Issuer.String(),
			NotAfter: x.NotAfter.UTC(), SHA256: inventory.SHA256Hex(x.Raw)})
	}
	return out
}

func auditOut(e *inventory.AuditEvent) client.AuditEvent {
	return client.AuditEvent{ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Object: e.Object,
		Summary: e.Summary}
}

// utcPtr copies an optional time in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
