package api

import (
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

// trustRoutes: the trust store. Everyone reads it; only admins change
// what is trusted.
func (a *API) trustRoutes() []route {
	store := typeOf[client.TrustStore]()
	return []route{
		{method: "GET", pattern: "/api/v1/trust-store", op: "getTrustStore", role: user,
			summary: "Get the trust store: whether system roots are trusted, and the trusted roots", out: store,
			handle: a.getTrustStore},
		{method: "PUT", pattern: "/api/v1/trust-store/system-roots", op: "setSystemRoots", role: admin,
			summary: "Trust the system roots, or not (audited)", in: typeOf[client.SystemRoots](), out: store,
			handle: a.setSystemRoots},
		{method: "POST", pattern: "/api/v1/trust-store/roots", op: "addTrustRoot", role: admin,
			summary: "Mark a self-signed CA certificate of the inventory as a trusted root (audited)",
			in:      typeOf[client.TrustRootAdd](), out: typeOf[client.TrustRoot](), status: http.StatusCreated,
			handle: a.addTrustRoot},
		{method: "DELETE", pattern: "/api/v1/trust-store/roots/{id}", op: "removeTrustRoot", role: admin,
			summary: "Unmark a trusted root by its certificate ID (audited)", status: http.StatusNoContent,
			handle: a.removeTrustRoot},
	}
}

func (a *API) getTrustStore(w http.ResponseWriter, r *http.Request) error {
	anchors, err := a.Trust.Anchors(r.Context())
	if err != nil {
		return err
	}
	out := client.TrustStore{SystemRoots: anchors.SystemRoots, Roots: make([]client.TrustRoot, 0, len(anchors.Roots))}
	for i := range anchors.Roots {
		out.Roots = append(out.Roots, a.trustRootOut(&anchors.Roots[i]))
	}
	return ok(w, out)
}

func (a *API) trustRootOut(t *truststore.Root) client.TrustRoot {
	return client.TrustRoot{Certificate: certificateOut(&t.Certificate, t.Certificate.StatusAt(a.Now())),
		Source: t.Source, CA: t.CA, AddedBy: t.AddedBy, AddedAt: t.AddedAt.UTC()}
}

func (a *API) setSystemRoots(w http.ResponseWriter, r *http.Request) error {
	var in client.SystemRoots
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.Trust.SetSystemRoots(r.Context(), actor(r), in.Enabled); err != nil {
		return err
	}
	return a.getTrustStore(w, r)
}

func (a *API) addTrustRoot(w http.ResponseWriter, r *http.Request) error {
	var in client.TrustRootAdd
	if err := decode(r, &in); err != nil {
		return err
	}
	root, err := a.Trust.Add(r.Context(), actor(r), in.CertificateID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a.trustRootOut(root))
}

func (a *API) removeTrustRoot(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.Trust.Remove(r.Context(), actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
