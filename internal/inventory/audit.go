package inventory

import "strconv"

// Audit object kinds. An audit event's Object names what it describes as
// KIND:ID, with the numeric ID of the row (ObjectRef), or, for an object
// without one, KIND alone (the trust store, the outbound policy) or
// KIND:NAME (a settings document, a preset). Actors are not objects and
// keep their own names ("user:NAME", "cli:NAME", "agent:NAME").
const (
	KindCertificate   = "certificate"
	KindKey           = "key"
	KindCA            = "ca"
	KindDefinition    = "definition"
	KindAcquisition   = "acquisition"
	KindUser          = "user"
	KindToken         = "token"
	KindTarget        = "target"
	KindDeployment    = "deployment"
	KindAgent         = "agent"
	KindIssuer        = "issuer"
	KindProduct       = "product"
	KindVendorAccount = "vendor-account"
	KindEmail         = "email"
	KindPreset        = "preset"
	KindSettings      = "settings"
	KindChannel       = "channel"
	KindAlert         = "alert"
	KindAlertRule     = "alert-rule"
	KindEndpoint      = "endpoint"
	// KindJob names a scheduler job by its name ("job:crl-refresh").
	KindJob = "job"
	// KindRoute names an API operation (its operationId) a request was
	// refused for.
	KindRoute = "route"
)

// Singleton audit objects.
const (
	ObjectTrustStore     = "trust-store"
	ObjectOutboundPolicy = "outbound-policy"
	ObjectAllowlist      = "allowlist"
	ObjectMasterKey      = "master-key"
	// ObjectCertificates names the certificate inventory as a whole (an
	// import's summary event).
	ObjectCertificates = "certificates"
)

// ObjectRef names the object of kind with row ID id: "certificate:42".
func ObjectRef(kind string, id int64) string {
	return kind + ":" + strconv.FormatInt(id, 10)
}

// ObjectName names an object of kind known by name rather than by ID:
// a settings document ("settings:smtp"), a preset, or an agent before it
// enrolled.
func ObjectName(kind, name string) string { return kind + ":" + name }

// NamedSummary prefixes an audit summary with the name of the object it
// is about ("web: version 3; ..."), so that a trail read without the
// objects' rows still says which one; summary may be empty.
func NamedSummary(name, summary string) string {
	if summary == "" {
		return name
	}
	return name + ": " + summary
}
