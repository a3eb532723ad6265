package api

import (
	"net/http"
	"reflect"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// route is one API operation. The table drives the ServeMux, the role
// check and the OpenAPI document alike.
type route struct {
	method  string
	pattern string // ServeMux pattern path, "/api/v1/..."
	op      string // OpenAPI operationId
	role    inventory.Role
	summary string
	query   []param
	header  []param
	// in and out are the JSON request and response types; nil means none
	// (or a raw body when inMedia or outMedia is set).
	in, out           reflect.Type
	inMedia, outMedia string
	// status is the success status; 0 means 200.
	status int
	// limit caps the request body; 0 means maxJSON.
	limit  int64
	handle func(http.ResponseWriter, *http.Request) error
}

// param is a query parameter or request header.
type param struct {
	name, typ, desc string
}

// Request body limits.
const (
	maxJSON = 1 << 20
	// maxImport fits an 8 MiB file (format.MaxInputSize) in base64.
	maxImport = 12 << 20
	// maxUpload fits a 1 MiB certificate file and intermediates in base64.
	maxUpload = 4 << 20
)

func (rt route) maxBody() int64 {
	if rt.limit > 0 {
		return rt.limit
	}
	return maxJSON
}

func (rt route) successStatus() int {
	if rt.status != 0 {
		return rt.status
	}
	return http.StatusOK
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

var (
	pageParams = []param{
		{"limit", "integer", "page size, 1 to 1000; default 100"},
		{"after", "string", "the next cursor of the previous page"},
	}
	certificateParams = append([]param{
		{"status", "string", "valid, expired, not_yet_valid or revoked"},
		{"issuer", "string", "text the issuer DN contains"},
		{"label", "string", "label the certificate carries"},
		{"expiring_within", "string", "days (30) or a Go duration (720h): still valid, expiring within it"},
		{"q", "string", "text in the subject, SANs, serial or fingerprint"},
		{"ca", "boolean", "true: CA certificates only; false: leaf certificates only"},
		{"internal", "boolean", "true: only the certificates certkeeper issued for itself (web UI, agents, OCSP responders); false: all others"},
		{"key_id", "integer", "certificates of this stored key"},
	}, pageParams...)
	definitionParams = append([]param{{"label", "string", "label"}, {"q", "string", "text"},
		{"name", "string", "exact name: only the definition of that name, if any (the other parameters are then ignored)"}}, pageParams...)
	acquisitionParams = append([]param{
		{"state", "string", "comma-separated states, or open"},
		{"definition_id", "integer", "definition"}, {"issuer_id", "integer", "issuer"}, {"key_id", "integer", "key"},
	}, pageParams...)
	attentionParams = append([]param{{"days", "integer", "look-ahead in days; default 60"}}, pageParams...)
	selectParams    = []param{
		{"validation_level", "string", "private, DV, OV or EV"}, {"wildcard", "boolean", "wildcard names needed"},
		{"names", "integer", "number of names"}, {"validity_days", "integer", "validity wanted"},
		{"issuer", "string", "issuer name"},
	}
	downloadParams = []param{{"format", "string", "pem (default), der or p7b"}}
	userParams     = []param{{"username", "string", "exact username (letter case ignored): only that user, if any"}}
	auditParams    = append([]param{{"since", "string", "RFC 3339 time: events at or after it"},
		{"order", "string", "oldest (default) or newest first"}}, pageParams...)
	ifMatch = []param{{"If-Match", "string", `the definition's ETag, "VERSION" (required)`}}
)

const (
	user  = inventory.RoleUser
	admin = inventory.RoleAdmin
)

// table lists every route.
func (a *API) table() []route {
	var rs []route
	for _, group := range [][]route{a.certificateRoutes(), a.keyRoutes(), a.definitionRoutes(), a.documentRoutes(),
		a.acquisitionRoutes(), a.catalogueRoutes(), a.userRoutes(), a.auditRoutes(),
		a.caRoutes(), a.dashboardRoutes(), a.settingsRoutes(), a.deploymentRoutes(), a.agentRoutes(), a.trustRoutes(),
		a.outboundRoutes(), a.policyRoutes(), a.channelRoutes(), a.alertRoutes(), a.digestRoutes(), a.monitorRoutes(), a.jobRoutes()} {
		rs = append(rs, group...)
	}
	return rs
}

func (a *API) certificateRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/certificates", op: "listCertificates", role: user, summary: "List certificates",
			query: certificateParams, out: typeOf[client.CertificateList](), handle: a.listCertificates},
		{method: "POST", pattern: "/api/v1/certificates", op: "importCertificates", role: user,
			summary: "Import a file of certificates and possibly a key", in: typeOf[client.CertificateImport](),
			out: typeOf[client.ImportResult](), limit: maxImport, handle: a.importCertificates},
		{method: "GET", pattern: "/api/v1/certificates/{id}", op: "getCertificate", role: user,
			summary: "Get a certificate with its PEM and chain", out: typeOf[client.Certificate](), handle: a.getCertificate},
		{method: "GET", pattern: "/api/v1/certificates/{id}/chain", op: "getCertificateChain", role: user,
			summary: "Get the certificate and its known issuers", out: typeOf[client.CertificateList](), handle: a.getChain},
		{method: "GET", pattern: "/api/v1/certificates/{id}/download", op: "downloadCertificate", role: user,
			summary: "Download the certificate and chain, without key", query: downloadParams,
			outMedia: "application/octet-stream", handle: a.downloadCertificate},
	}
}

func (a *API) keyRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/keys", op: "listKeys", role: user, summary: "List private keys (never their material)",
			query: pageParams, out: typeOf[client.KeyList](), handle: a.listKeys},
		{method: "GET", pattern: "/api/v1/keys/{id}", op: "getKey", role: user, summary: "Get a key and what uses it",
			out: typeOf[client.Key](), handle: a.getKey},
		{method: "POST", pattern: "/api/v1/keys/{id}/export", op: "exportKey", role: admin,
			summary: "Export a private key (audited)", in: typeOf[client.KeyExport](),
			outMedia: "application/octet-stream", handle: a.exportKey},
	}
}

func (a *API) definitionRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/definitions", op: "listDefinitions", role: user, summary: "List definitions",
			query: definitionParams, out: typeOf[client.DefinitionList](), handle: a.listDefinitions},
		{method: "POST", pattern: "/api/v1/definitions", op: "createDefinition", role: user, summary: "Create a definition",
			in: typeOf[client.Definition](), out: typeOf[client.Definition](), status: http.StatusCreated, handle: a.createDefinition},
		{method: "POST", pattern: "/api/v1/definitions/import", op: "importDefinition", role: user,
			summary: "Make a definition from a stored certificate", in: typeOf[client.DefinitionImport](),
			out: typeOf[client.ImportedDefinition](), status: http.StatusCreated, handle: a.importDefinition},
		{method: "GET", pattern: "/api/v1/definitions/{id}", op: "getDefinition", role: user,
			summary: "Get a definition (ETag: its version)", out: typeOf[client.Definition](), handle: a.getDefinition},
		{method: "PUT", pattern: "/api/v1/definitions/{id}", op: "updateDefinition", role: user,
			summary: "Replace a definition (If-Match required)", header: ifMatch, in: typeOf[client.Definition](),
			out: typeOf[client.Definition](), handle: a.updateDefinition},
		{method: "POST", pattern: "/api/v1/definitions/{id}/clone", op: "cloneDefinition", role: user,
			summary: "Copy a definition under a new name", in: typeOf[client.DefinitionClone](),
			out: typeOf[client.Definition](), status: http.StatusCreated, handle: a.cloneDefinition},
		{method: "GET", pattern: "/api/v1/definitions/{id}/products", op: "definitionProducts", role: user,
			summary: "Products meeting the definition's requirements", out: typeOf[client.ProductMatchList](),
			handle: a.definitionProducts},
	}
}

func (a *API) documentRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/definitions/{id}/documents", op: "listDocuments", role: user,
			summary: "List a definition's documents", out: typeOf[client.DocumentList](), handle: a.listDocuments},
		{method: "GET", pattern: "/api/v1/definitions/{id}/documents/{name}", op: "getDocument", role: user,
			summary: "Download a document", outMedia: "application/octet-stream", handle: a.getDocument},
		{method: "PUT", pattern: "/api/v1/definitions/{id}/documents/{name}", op: "putDocument", role: user,
			summary: "Store a document (replacing one of that name)", inMedia: "application/octet-stream",
			out: typeOf[client.Document](), limit: definitions.MaxDocumentSize, handle: a.putDocument},
		{method: "DELETE", pattern: "/api/v1/definitions/{id}/documents/{name}", op: "deleteDocument", role: user,
			summary: "Delete a document", status: http.StatusNoContent, handle: a.deleteDocument},
	}
}

func (a *API) acquisitionRoutes() []route {
	acq, val := typeOf[client.Acquisition](), typeOf[client.Validation]()
	return []route{
		{method: "GET", pattern: "/api/v1/acquisitions", op: "listAcquisitions", role: user, summary: "List acquisitions",
			query: acquisitionParams, out: typeOf[client.AcquisitionList](), handle: a.listAcquisitions},
		{method: "GET", pattern: "/api/v1/acquisitions/attention", op: "attention", role: user,
			summary: "Definitions expiring without an open acquisition", query: attentionParams,
			out: typeOf[client.DefinitionList](), handle: a.attention},
		{method: "POST", pattern: "/api/v1/acquisitions", op: "startAcquisition", role: user, summary: "Start an acquisition",
			in: typeOf[client.AcquisitionStart](), out: acq, status: http.StatusCreated, handle: a.startAcquisition},
		{method: "GET", pattern: "/api/v1/acquisitions/{id}", op: "getAcquisition", role: user,
			summary: "Get an acquisition with its steps", out: acq, handle: a.getAcquisition},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/issuer", op: "chooseIssuer", role: user,
			summary: "Change the issuer and product", in: typeOf[client.IssuerChoice](), out: acq, handle: a.chooseIssuer},
		{method: "GET", pattern: "/api/v1/acquisitions/{id}/csr", op: "acquisitionCSR", role: user,
			summary: "Download the request (PEM)", outMedia: "application/pkcs10", handle: a.acquisitionCSR},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/issue", op: "issue", role: user,
			summary: "Have the built-in CA issue", out: val, handle: a.issue},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/order", op: "recordOrder", role: user,
			summary: "Record the vendor order", in: typeOf[client.OrderInput](), out: acq, handle: a.recordOrder},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/certificate", op: "uploadCertificate", role: user,
			summary: "Upload the certificate received from the vendor", in: typeOf[client.Upload](), out: val,
			limit: maxUpload, handle: a.uploadCertificate},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/switch", op: "switchCertificate", role: user,
			summary: "Make the certificate the definition's current one", out: acq, handle: a.switchCertificate},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/cancel", op: "cancelAcquisition", role: user,
			summary: "Cancel an open acquisition", in: typeOf[client.Cancel](), out: acq, handle: a.cancelAcquisition},
	}
}

func (a *API) catalogueRoutes() []route {
	iss, prod, acct := typeOf[client.Issuer](), typeOf[client.Product](), typeOf[client.VendorAccount]()
	acctIn := typeOf[client.VendorAccountInput]()
	return []route{
		{method: "GET", pattern: "/api/v1/issuers", op: "listIssuers", role: user, summary: "List issuers",
			out: typeOf[client.IssuerList](), handle: a.listIssuers},
		{method: "POST", pattern: "/api/v1/issuers", op: "createIssuer", role: admin, summary: "Add an issuer",
			in: iss, out: iss, status: http.StatusCreated, handle: a.createIssuer},
		{method: "GET", pattern: "/api/v1/issuers/{id}", op: "getIssuer", role: user, summary: "Get an issuer",
			out: iss, handle: a.getIssuer},
		{method: "PUT", pattern: "/api/v1/issuers/{id}", op: "updateIssuer", role: admin,
			summary: "Change an issuer's name, URL and notes", in: iss, out: iss, handle: a.updateIssuer},
		{method: "GET", pattern: "/api/v1/issuers/{id}/products", op: "listProducts", role: user,
			summary: "List an issuer's products", out: typeOf[client.ProductList](), handle: a.listProducts},
		{method: "POST", pattern: "/api/v1/issuers/{id}/products", op: "createProduct", role: admin,
			summary: "Add a product", in: prod, out: prod, status: http.StatusCreated, handle: a.createProduct},
		{method: "PUT", pattern: "/api/v1/products/{id}", op: "updateProduct", role: admin, summary: "Change a product",
			in: prod, out: prod, handle: a.updateProduct},
		{method: "GET", pattern: "/api/v1/products/select", op: "selectProducts", role: user,
			summary: "Products meeting requirements, closest fit first", query: selectParams,
			out: typeOf[client.ProductMatchList](), handle: a.selectProducts},
		{method: "GET", pattern: "/api/v1/vendor-accounts", op: "listVendorAccounts", role: user,
			summary: "List vendor accounts (never passwords)", out: typeOf[client.VendorAccountList](), handle: a.listAccounts},
		{method: "POST", pattern: "/api/v1/vendor-accounts", op: "createVendorAccount", role: admin,
			summary: "Add a vendor account", in: acctIn, out: acct, status: http.StatusCreated, handle: a.createAccount},
		{method: "GET", pattern: "/api/v1/vendor-accounts/{id}", op: "getVendorAccount", role: user,
			summary: "Get a vendor account (never its password)", out: acct, handle: a.getAccount},
		{method: "PUT", pattern: "/api/v1/vendor-accounts/{id}", op: "updateVendorAccount", role: admin,
			summary: "Change a vendor account; an absent password is kept", in: acctIn, out: acct, handle: a.updateAccount},
	}
}

func (a *API) userRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/me", op: "getMe", role: user, summary: "The calling user",
			out: typeOf[client.User](), handle: a.getMe},
		{method: "GET", pattern: "/api/v1/users", op: "listUsers", role: admin, summary: "List users",
			query: userParams, out: typeOf[client.UserList](), handle: a.listUsers},
		{method: "POST", pattern: "/api/v1/users", op: "createUser", role: admin,
			summary: "Create a user (a generated password is shown once)", in: typeOf[client.NewUser](),
			out: typeOf[client.CreatedUser](), status: http.StatusCreated, handle: a.createUser},
		{method: "PUT", pattern: "/api/v1/users/{id}", op: "updateUser", role: admin, summary: "Change a user's role or state",
			in: typeOf[client.UserUpdate](), out: typeOf[client.User](), handle: a.updateUser},
		{method: "POST", pattern: "/api/v1/users/{id}/reset-password", op: "resetPassword", role: admin,
			summary: "Give a user a one-time password", out: typeOf[client.PasswordReset](), handle: a.resetPassword},
		{method: "GET", pattern: "/api/v1/users/{id}/tokens", op: "listUserTokens", role: admin,
			summary: "List a user's API tokens", out: typeOf[client.TokenList](), handle: a.listUserTokens},
		{method: "POST", pattern: "/api/v1/users/{id}/tokens", op: "createUserToken", role: admin,
			summary: "Create an API token for a user (the secret is shown once)", in: typeOf[client.NewToken](),
			out: typeOf[client.CreatedToken](), status: http.StatusCreated, handle: a.createUserToken},
		{method: "GET", pattern: "/api/v1/tokens", op: "listTokens", role: user, summary: "List the caller's API tokens",
			out: typeOf[client.TokenList](), handle: a.listTokens},
		{method: "POST", pattern: "/api/v1/tokens", op: "createToken", role: user,
			summary: "Create an API token (the secret is shown once)", in: typeOf[client.NewToken](),
			out: typeOf[client.CreatedToken](), status: http.StatusCreated, handle: a.createToken},
		{method: "DELETE", pattern: "/api/v1/tokens/{id}", op: "deleteToken", role: user,
			summary: "Revoke a token (own tokens; admins any)", status: http.StatusNoContent, handle: a.deleteToken},
		{method: "POST", pattern: "/api/v1/users/{id}/unlock", op: "unlockUser", role: admin,
			summary: "End a user's sign-in backoff", out: typeOf[client.Unlocked](), handle: a.unlockUser},
		{method: "GET", pattern: "/api/v1/token-policy", op: "getTokenPolicy", role: user,
			summary: "The API token policy (maximum lifetime)", out: typeOf[client.TokenPolicy](), handle: a.getTokenPolicy},
		{method: "PUT", pattern: "/api/v1/token-policy", op: "setTokenPolicy", role: admin,
			summary: "Change the API token policy", in: typeOf[client.TokenPolicy](), out: typeOf[client.TokenPolicy](),
			handle: a.setTokenPolicy},
	}
}

func (a *API) auditRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/audit", op: "listAudit", role: user, summary: "Read the audit trail",
			query: auditParams, out: typeOf[client.AuditList](), handle: a.listAudit},
		{method: "GET", pattern: "/api/v1/cas", op: "listCAs", role: user, summary: "List certkeeper's CAs",
			out: typeOf[client.CAList](), handle: a.listCAs},
	}
}
