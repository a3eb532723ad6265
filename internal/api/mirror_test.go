package api

import (
	"slices"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/mirror"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/scheduler"
)

// TestTargetMirrors keeps the domain, service and wire copies of a
// target in step (the web form and the CLI flags are checked by their
// own packages against the same rules, mirror.Target).
func TestTargetMirrors(t *testing.T) {
	const convert = "targetIn and targetOut in internal/api/deploy.go"
	msgs := mirror.Target().Check(
		mirror.Layer{Name: mirror.TargetStore, Fields: mirror.Of[inventory.Target](),
			Where: "inventory.Target in internal/inventory/deploy.go (and the store's target columns)"},
		mirror.Layer{Name: mirror.TargetView, Fields: mirror.Of[deploy.TargetView](),
			Where: "deploy.TargetView in internal/deploy/service_targets.go"},
		mirror.Layer{Name: mirror.TargetInput, Fields: mirror.Of[deploy.TargetInput](),
			Where: "deploy.TargetInput and applyInput in internal/deploy/service_targets.go, and " + convert},
		mirror.Layer{Name: mirror.TargetWire, Fields: mirror.Of[client.Target](),
			Where: "client.Target in client/deploy.go, and " + convert},
		mirror.Layer{Name: mirror.TargetWireInput, Fields: mirror.Of[client.TargetInput](),
			Where: "client.TargetInput and Target.Input in client/deploy.go, and " + convert},
	)
	if len(msgs) > 0 {
		t.Errorf("the copies of a target disagree:\n%s", strings.Join(msgs, "\n"))
	}
}

// TestTargetConversions fills every field of one side and checks that the
// API's conversion sets every field of the other: a field added to both
// sides but not copied fails here.
func TestTargetConversions(t *testing.T) {
	var view deploy.TargetView
	mirror.Fill(&view)
	out := targetOut(&view)
	if z := mirror.Zero(out); len(z) > 0 {
		t.Errorf("targetOut leaves client.Target fields %q zero: copy them in internal/api/deploy.go", z)
	}
	var wire client.TargetInput
	mirror.Fill(&wire)
	in, err := targetIn(&wire)
	if err != nil {
		t.Fatal(err)
	}
	if z := mirror.Zero(in); len(z) > 0 {
		t.Errorf("targetIn leaves deploy.TargetInput fields %q zero: copy them in internal/api/deploy.go", z)
	}
}

// wirePair is a domain read model and the wire type the API converts it
// to.
type wirePair struct {
	concept      string
	domain, wire string
	domainFields []string
	wireFields   []string
	// where is what to change when the wire lacks a field.
	where string
	// rules are the fields not on both sides under one name, with why.
	rules []mirror.Rule
}

func (p wirePair) check() []string {
	c := mirror.Concept{Name: p.concept, Layers: []string{p.domain, p.wire}, Rules: p.rules,
		Table: "wirePairs in internal/api/mirror_test.go"}
	return c.Check(mirror.Layer{Name: p.domain, Fields: p.domainFields, Where: p.domain},
		mirror.Layer{Name: p.wire, Fields: p.wireFields, Where: p.where})
}

// TestWireMirrors checks every domain read model the API converts
// against its wire type: every exported field of one is in the other (by
// JSON name) or has a rule saying why not. A field added to the domain
// and forgotten on the wire fails here, naming the converter.
func TestWireMirrors(t *testing.T) {
	for _, p := range wirePairs() {
		t.Run(p.concept, func(t *testing.T) {
			if msgs := p.check(); len(msgs) > 0 {
				t.Errorf("%s and %s disagree:\n%s", p.domain, p.wire, strings.Join(msgs, "\n"))
			}
		})
	}
}

func wirePairs() []wirePair {
	only := func(layer, field, why string) mirror.Rule {
		return mirror.Rule{Field: field, In: []string{layer}, Why: why}
	}
	const (
		cert, dep, ca = "inventory.Certificate", "deploy.DeploymentView", "inventory.CA"
		acq, acqStep  = "acquisition.Process", "inventory.AcquisitionStep"
	)
	return []wirePair{
		{concept: "certificate", domain: cert, wire: "client.Certificate",
			domainFields: mirror.Of[inventory.Certificate](), wireFields: mirror.Collapse(mirror.Of[client.Certificate](), "deployments"),
			where: "client.Certificate in client/certificates.go and certificateOut in internal/api/convert.go",
			rules: []mirror.Rule{
				only(cert, "DER", "the wire carries the certificate as pem, from GetCertificate only"),
				{Field: "issuer_certificate_id", As: map[string]string{cert: "IssuerID"},
					Why: "on the wire issuer is the issuer's name, so the issuing certificate's ID is named apart"},
				only("client.Certificate", "status", "computed when asked (Certificate.StatusAt)"),
				only("client.Certificate", "key_held", "whether KeyID is set"),
				only("client.Certificate", "pem", "DER in PEM, from GetCertificate only"),
				only("client.Certificate", "chain_ids", "the chain as the inventory knows it, looked up by GetCertificate"),
				only("client.Certificate", "issued_by_ca_id", "whether one of certkeeper's CAs issued it, looked up by GetCertificate (certificates.Service.IssuingCA)"),
				only("client.Certificate", "deployments", "the certificate's deployments by outcome, counted for GetCertificate (deploy.Service.CountByState)"),
			}},
		{concept: "key", domain: "inventory.Key", wire: "client.Key",
			domainFields: mirror.Of[inventory.Key](), wireFields: mirror.Collapse(mirror.Of[client.Key](), "usage"),
			where: "client.Key in client/keys.go and keyOut in internal/api/convert.go",
			rules: []mirror.Rule{
				only("inventory.Key", "Sealed", "the sealed private key never leaves the service (exports go through ExportKey)"),
				only("client.Key", "usage", "what refers to the key, looked up by GetKey"),
			}},
		{concept: "definition", domain: "inventory.Definition", wire: "client.Definition",
			domainFields: mirror.Of[inventory.Definition](), wireFields: mirror.Of[client.Definition](),
			where: "client.Definition in client/definitions.go and definitionOut and definitionIn in internal/api/convert.go"},
		{concept: "document", domain: "inventory.Document", wire: "client.Document",
			domainFields: mirror.Of[inventory.Document](), wireFields: mirror.Of[client.Document](),
			where: "client.Document in client/definitions.go and documentOut in internal/api/documents.go",
			rules: []mirror.Rule{
				only("inventory.Document", "ID", "a document is named by its definition and its name, in the URL"),
				only("inventory.Document", "DefinitionID", "a document is named by its definition and its name, in the URL"),
				only("inventory.Document", "Content", "downloaded on its own, not in JSON"),
			}},
		{concept: "issuer", domain: "inventory.Issuer", wire: "client.Issuer",
			domainFields: mirror.Of[inventory.Issuer](), wireFields: mirror.Of[client.Issuer](),
			where: "client.Issuer in client/catalogue.go and issuerOut in internal/api/convert.go"},
		{concept: "product", domain: "inventory.Product", wire: "client.Product",
			domainFields: mirror.Of[inventory.Product](), wireFields: mirror.Of[client.Product](),
			where: "client.Product in client/catalogue.go, productOut in internal/api/convert.go and productIn in internal/api/catalogue.go"},
		{concept: "vendor account", domain: "catalogue.Account", wire: "client.VendorAccount",
			domainFields: mirror.Of[catalogue.Account](), wireFields: mirror.Of[client.VendorAccount](),
			where: "client.VendorAccount in client/catalogue.go and accountOut in internal/api/convert.go"},
		{concept: "acquisition", domain: acq, wire: "client.Acquisition",
			domainFields: mirror.Collapse(mirror.Of[acquisition.Process](), "Definition", "Issuer", "Product", "Certificate"),
			wireFields:   mirror.Of[client.Acquisition](),
			where:        "client.Acquisition in client/acquisitions.go and acquisitionOut and processOut in internal/api/convert.go",
			rules: []mirror.Rule{
				{Field: "definition", Why: "the process holds the definition; the wire gives its name"},
				only(acq, "Issuer", "looked up for the web pages; the wire gives issuer_id"),
				only(acq, "Product", "looked up for the web pages; the wire gives product_id"),
				only(acq, "Certificate", "looked up for the web pages; the wire gives certificate_id"),
			}},
		{concept: "acquisition step", domain: acqStep, wire: "client.Step",
			domainFields: mirror.Of[inventory.AcquisitionStep](), wireFields: mirror.Of[client.Step](),
			where: "client.Step in client/acquisitions.go and processOut in internal/api/convert.go",
			rules: []mirror.Rule{
				only(acqStep, "ID", "steps are shown in order inside their acquisition"),
				only(acqStep, "AcquisitionID", "steps are shown inside their acquisition"),
			}},
		{concept: "user", domain: "inventory.User", wire: "client.User",
			domainFields: mirror.Of[inventory.User](), wireFields: mirror.Of[client.User](),
			where: "client.User in client/users.go and userOut in internal/api/convert.go",
			rules: []mirror.Rule{
				only("inventory.User", "PasswordHash", "secret: never leaves the users service"),
				only("inventory.User", "CredentialGen", "ends older sessions and tokens when credentials change; internal"),
			}},
		{concept: "token", domain: "inventory.APIToken", wire: "client.Token",
			domainFields: mirror.Of[inventory.APIToken](), wireFields: mirror.Of[client.Token](),
			where: "client.Token in client/users.go and tokenOut in internal/api/convert.go",
			rules: []mirror.Rule{
				only("inventory.APIToken", "Hash", "the SHA-256 of the secret, which is shown once when made"),
				only("inventory.APIToken", "Gen", "the owner's credential generation when made; internal"),
			}},
		{concept: "channel", domain: "notify.ChannelView", wire: "client.Channel",
			domainFields: mirror.Of[notify.ChannelView](), wireFields: mirror.Of[client.Channel](),
			where: "client.Channel in client/channels.go and channelOut in internal/api/channels.go"},
		{concept: "notification", domain: "inventory.Notification", wire: "client.Notification",
			domainFields: mirror.Of[inventory.Notification](), wireFields: mirror.Of[client.Notification](),
			where: "client.Notification in client/channels.go and notificationOut in internal/api/channels.go"},
		{concept: "audit event", domain: "inventory.AuditEvent", wire: "client.AuditEvent",
			domainFields: mirror.Of[inventory.AuditEvent](), wireFields: mirror.Of[client.AuditEvent](),
			where: "client.AuditEvent in client/audit.go and auditOut in internal/api/convert.go"},
		{concept: "CA", domain: ca, wire: "client.CA",
			domainFields: mirror.Collapse(mirror.Of[inventory.CA](), "Issuance"), wireFields: mirror.Of[client.CA](),
			where: "client.CA in client/cas.go and caOut in internal/api/cas.go",
			rules: []mirror.Rule{
				only(ca, "KeyID", "the CA's sealed private key stays in the service"),
				only(ca, "CSRID", "the request of a subordinate CA; internal"),
				only(ca, "Issuance", "served on its own as client.CAPolicy (/api/v1/cas/{id}/policy)"),
				{Field: "permitted_dns_domains", As: map[string]string{ca: "Policy.permitted_dns_domains"},
					Why: "the name policy is flattened on the wire"},
				{Field: "permitted_ip_ranges", As: map[string]string{ca: "Policy.permitted_ip_ranges"},
					Why: "the name policy is flattened on the wire"},
				only("client.CA", "subject", "from the CA certificate"),
				only("client.CA", "issuer", "from the CA certificate"),
				only("client.CA", "root", "from the CA certificate: self-signed"),
				only("client.CA", "not_before", "from the CA certificate"),
				only("client.CA", "not_after", "from the CA certificate"),
				only("client.CA", "key_algorithm", "from the CA certificate"),
				only("client.CA", "key_bits", "from the CA certificate"),
				only("client.CA", "certificate_url", "where certkeeper serve publishes it, computed from the ID"),
				only("client.CA", "crl_url", "where certkeeper serve publishes it, computed from the ID"),
				only("client.CA", "ocsp_url", "where certkeeper serve publishes it, computed from the ID"),
				only("client.CA", "chain", "the CA certificate and its issuers, looked up by GetCA"),
			}},
		{concept: "agent", domain: "inventory.Agent", wire: "client.Agent",
			domainFields: mirror.Of[inventory.Agent](), wireFields: mirror.Of[client.Agent](),
			where: "client.Agent in client/deploy.go and agentOut in internal/api/agents.go"},
		{concept: "deployment", domain: dep, wire: "client.Deployment",
			domainFields: mirror.Of[deploy.DeploymentView](), wireFields: mirror.Of[client.Deployment](),
			where: "client.Deployment in client/deploy.go and deploymentOut in internal/api/deploy.go"},
		{concept: "deployment counts", domain: "deploy.DeploymentCounts", wire: "client.DeploymentCounts",
			domainFields: mirror.Of[deploy.DeploymentCounts](), wireFields: mirror.Of[client.DeploymentCounts](),
			where: "client.DeploymentCounts in client/deploy.go and deploymentCountsOut in internal/api/deploy.go"},
		{concept: "deployment step", domain: "inventory.DeploymentStep", wire: "client.DeploymentStep",
			domainFields: mirror.Of[inventory.DeploymentStep](), wireFields: mirror.Of[client.DeploymentStep](),
			where: "client.DeploymentStep in client/deploy.go and deploymentOut in internal/api/deploy.go",
			rules: []mirror.Rule{
				only("inventory.DeploymentStep", "ID", "steps are shown in order inside their deployment"),
				only("inventory.DeploymentStep", "DeploymentID", "steps are shown inside their deployment"),
			}},
		{concept: "alert", domain: "inventory.Alert", wire: "client.Alert",
			domainFields: mirror.Of[inventory.Alert](), wireFields: mirror.Of[client.Alert](),
			where: "client.Alert in client/alerts.go and alertOut in internal/api/alerts.go"},
		{concept: "alert rule", domain: "alert.Rule", wire: "client.AlertRule",
			domainFields: mirror.Of[alert.Rule](), wireFields: mirror.Of[client.AlertRule](),
			where: "client.AlertRule in client/alerts.go and alertRuleOut in internal/api/alerts.go",
			rules: []mirror.Rule{
				{Field: "repeat_seconds", As: map[string]string{"alert.Rule": "Repeat"},
					Why: "a duration travels as whole seconds"},
			}},
		{concept: "endpoint", domain: "inventory.Endpoint", wire: "client.Endpoint",
			domainFields: mirror.Collapse(mirror.Of[inventory.Endpoint](), "Last"),
			wireFields:   mirror.Collapse(mirror.Of[client.Endpoint](), "last"),
			where:        "client.Endpoint in client/monitor.go and endpointOut in internal/api/monitor.go",
			rules: []mirror.Rule{
				only("client.Endpoint", "status", "computed from the latest result (EndpointResult.Status)"),
			}},
		{concept: "endpoint result", domain: "inventory.EndpointResult", wire: "client.EndpointResult",
			domainFields: mirror.Of[inventory.EndpointResult](), wireFields: mirror.Of[client.EndpointResult](),
			where: "client.EndpointResult in client/monitor.go and endpointResultOut in internal/api/monitor.go",
			rules: []mirror.Rule{
				only("client.EndpointResult", "status", "computed (EndpointResult.Status)"),
			}},
		{concept: "job", domain: "scheduler.Status", wire: "client.Job",
			domainFields: mirror.Of[scheduler.Status](), wireFields: mirror.Of[client.Job](),
			where: "client.Job in client/jobs.go and jobOut in internal/api/jobs.go",
			rules: []mirror.Rule{{Field: "last_duration_ms", As: map[string]string{"scheduler.Status": "LastDuration"},
				Why: "a duration travels as milliseconds"}}},
		{concept: "job run", domain: "inventory.JobRunRecord", wire: "client.JobRun",
			domainFields: mirror.Of[inventory.JobRunRecord](), wireFields: mirror.Of[client.JobRun](),
			where: "client.JobRun in client/jobs.go and listJobRuns in internal/api/jobs.go",
			rules: []mirror.Rule{
				{Field: "instance", As: map[string]string{"inventory.JobRunRecord": "Owner"},
					Why: "the owner of a run is the instance that ran it"},
				{Field: "duration_ms", As: map[string]string{"inventory.JobRunRecord": "Duration"},
					Why: "a duration travels as milliseconds"},
			}},
	}
}

// filled is a T with every field set (mirror.Fill).
func filled[T any]() *T {
	var v T
	mirror.Fill(&v)
	return &v
}

// TestWireConversions fills every field of each domain read model and
// checks which fields of the wire value its converter leaves zero: only
// those the handler sets itself may be, so a field added to both types
// but not copied fails here.
func TestWireConversions(t *testing.T) {
	tests := []struct {
		name string
		out  any
		// unset are the wire fields the handler, not the converter, sets.
		unset []string
	}{
		{"certificateOut", certificateOut(filled[inventory.Certificate](), inventory.StatusValid), []string{"pem", "chain_ids", "issued_by_ca_id", "deployments"}},
		{"keyOut", keyOut(filled[inventory.Key]()), []string{"usage"}},
		{"definitionOut", definitionOut(filled[inventory.Definition]()), nil},
		{"documentOut", documentOut(filled[inventory.Document]()), nil},
		{"issuerOut", issuerOut(filled[inventory.Issuer]()), nil},
		{"productOut", productOut(filled[inventory.Product]()), nil},
		{"accountOut", accountOut(filled[catalogue.Account]()), nil},
		{"processOut", processOut(filled[acquisition.Process]()), nil},
		{"userOut", userOut(filled[inventory.User]()), nil},
		{"tokenOut", tokenOut(filled[inventory.APIToken]()), nil},
		{"auditOut", auditOut(filled[inventory.AuditEvent]()), nil},
		{"caOut", caOut(filled[inventory.CA](), filled[inventory.Certificate]()), []string{"chain"}},
		{"agentOut", agentOut(filled[inventory.Agent]()), nil},
		{"deploymentOut", deploymentOut(filled[deploy.DeploymentView]()), nil},
		{"deploymentCountsOut", deploymentCountsOut(filled[deploy.DeploymentCounts]()), nil},
		{"endpointOut", endpointOut(filled[inventory.Endpoint]()), nil},
	}
	for _, tt := range tests {
		if got := mirror.Zero(tt.out); !slices.Equal(got, tt.unset) {
			t.Errorf("%s leaves %q zero, want only %q (set by the handler): copy the rest", tt.name, got, tt.unset)
		}
	}
}

// TestAlertConversions fills every field of an alert and a rule and
// checks that the API's conversions set every field of the wire types.
func TestAlertConversions(t *testing.T) {
	var al inventory.Alert
	mirror.Fill(&al)
	if z := mirror.Zero(alertOut(&al)); len(z) > 0 {
		t.Errorf("alertOut leaves client.Alert fields %q zero: copy them in internal/api/alerts.go", z)
	}
	var r alert.Rule
	mirror.Fill(&r)
	if z := mirror.Zero(alertRuleOut(&r)); len(z) > 0 {
		t.Errorf("alertRuleOut leaves client.AlertRule fields %q zero: copy them in internal/api/alerts.go", z)
	}
}

// TestJobConversion: jobOut copies every field of the scheduler's read
// model to the wire.
func TestJobConversion(t *testing.T) {
	var st scheduler.Status
	mirror.Fill(&st)
	if z := mirror.Zero(jobOut(st)); len(z) > 0 {
		t.Errorf("jobOut leaves client.Job fields %q zero: copy them in internal/api/jobs.go", z)
	}
}
