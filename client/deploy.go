package client

import (
	"context"
	"strconv"
	"time"
)

// SSHAccess is how an SSH target is reached.
type SSHAccess struct {
	Host string `json:"host"`
	// Port is 22 when 0.
	Port int    `json:"port,omitempty"`
	User string `json:"user"`
	// HostKey is the server's host key in authorized_keys form; the
	// connection is refused when the server presents another.
	HostKey string `json:"host_key"`
}

// CheckSpec is the server name for check: where the deploy check
// connects.
type CheckSpec struct {
	// Host is a name or IP; "" means no check from the manager.
	Host string `json:"host,omitempty"`
	// Port is 443 when 0.
	Port int `json:"port,omitempty"`
	// SNI is the name sent; "" means Host.
	SNI string `json:"sni,omitempty"`
	// ClientCertificateID is presented to servers that demand mutual
	// TLS (the inventory must hold its key).
	ClientCertificateID int64 `json:"client_certificate_id,omitempty"`
	// StartTLS is the plain-text protocol upgraded before the handshake
	// (smtp, imap, pop3, ftp, ldap, xmpp, postgres, mysql); "" starts
	// TLS at once and "auto" picks the protocol by port.
	StartTLS string `json:"starttls,omitempty"`
}

// Target is a server certificates are deployed to. Secrets are never
// returned, only whether they are set.
type Target struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Preset string `json:"preset"`
	// Method is directory, ssh, agent or manual.
	Method    string `json:"method"`
	Directory string `json:"directory"`
	Owner     string `json:"owner,omitempty"`
	// TestCommand and ReloadCommand run on the target before and after
	// the files change ("" for none).
	TestCommand          string     `json:"test_command,omitempty"`
	ReloadCommand        string     `json:"reload_command,omitempty"`
	ReloadTimeoutSeconds int        `json:"reload_timeout_seconds,omitempty"`
	SSH                  *SSHAccess `json:"ssh,omitempty"`
	AgentID              int64      `json:"agent_id,omitempty"`
	Agent                string     `json:"agent,omitempty"`
	Check                CheckSpec  `json:"check"`
	AdminEmail           string     `json:"admin_email,omitempty"`
	RollbackOnFailure    bool       `json:"rollback_on_failure"`
	HasSSHPassword       bool       `json:"has_ssh_password"`
	HasSSHKey            bool       `json:"has_ssh_key"`
	HasKeystorePassword  bool       `json:"has_keystore_password"`
	Notes                string     `json:"notes,omitempty"`
	Version              int64      `json:"version"`
	CreatedAt            time.Time  `json:"created_at"`
	UpdatedAt            time.Time  `json:"updated_at"`
}

// TargetInput creates or replaces a target. For the commands and
// rollback, nil means the preset's default on create and "unchanged" on
// update; for the secrets, nil keeps the stored one and "" removes it.
type TargetInput struct {
	Name                 string     `json:"name"`
	Preset               string     `json:"preset"`
	Method               string     `json:"method"`
	Directory            string     `json:"directory,omitempty"`
	Owner                string     `json:"owner,omitempty"`
	TestCommand          *string    `json:"test_command,omitempty"`
	ReloadCommand        *string    `json:"reload_command,omitempty"`
	ReloadTimeoutSeconds int        `json:"reload_timeout_seconds,omitempty"`
	SSH                  *SSHAccess `json:"ssh,omitempty"`
	AgentID              int64      `json:"agent_id,omitempty"`
	Check                CheckSpec  `json:"check"`
	AdminEmail           string     `json:"admin_email,omitempty"`
	RollbackOnFailure    *bool      `json:"rollback_on_failure,omitempty"`
	SSHPassword          *string    `json:"ssh_password,omitempty"`
	// SSHPrivateKey is an OpenSSH or PEM private key, unencrypted.
	SSHPrivateKey    *string `json:"ssh_private_key,omitempty"`
	KeystorePassword *string `json:"keystore_password,omitempty"`
	Notes            string  `json:"notes,omitempty"`
}

// Input is the input that leaves t as it is when sent to UpdateTarget:
// every field t shows, with the commands and RollbackOnFailure nil
// (unchanged) and the secrets nil (kept). Change what should change and
// send it.
func (t *Target) Input() TargetInput {
	in := TargetInput{Name: t.Name, Preset: t.Preset, Method: t.Method, Directory: t.Directory,
		Owner: t.Owner, ReloadTimeoutSeconds: t.ReloadTimeoutSeconds, AgentID: t.AgentID, Check: t.Check,
		AdminEmail: t.AdminEmail, Notes: t.Notes}
	if t.SSH != nil {
		s := *t.SSH
		in.SSH = &s
	}
	return in
}

// TargetList is one page of targets by name.
type TargetList struct {
	Items []Target `json:"items"`
	Next  string   `json:"next,omitempty"`
}

// PresetFile is one file a preset writes.
type PresetFile struct {
	Path string `json:"path"`
	// Content is ca-cert, ca-cert-der, cert, chain, fullchain, key,
	// combined, pkcs12 or jks.
	Content  string `json:"content"`
	Encoding string `json:"encoding,omitempty"`
	// Mode is octal, "0600"; "" means the default (0600 for keys, 0644
	// otherwise).
	Mode string `json:"mode,omitempty"`
}

// Preset is a built-in software preset or a user layout.
type Preset struct {
	Name          string       `json:"name"`
	Files         []PresetFile `json:"files"`
	TestCommand   string       `json:"test_command,omitempty"`
	ReloadCommand string       `json:"reload_command,omitempty"`
	Instructions  string       `json:"instructions,omitempty"`
	Builtin       bool         `json:"builtin"`
	NeedsPassword bool         `json:"needs_password"`
}

// PresetList is every preset, built-in ones first.
type PresetList struct {
	Items []Preset `json:"items"`
}

// CheckResult is one deploy check.
type CheckResult struct {
	Time time.Time `json:"time"`
	// Source is probe, agent or report.
	Source              string   `json:"source"`
	Address             string   `json:"address"`
	ServerName          string   `json:"server_name,omitempty"`
	Passed              bool     `json:"passed"`
	Error               string   `json:"error,omitempty"`
	ExpectedSHA256      string   `json:"expected_sha256"`
	ServedSHA256        string   `json:"served_sha256,omitempty"`
	ServedSHA1          string   `json:"served_sha1,omitempty"`
	ServedSubject       string   `json:"served_subject,omitempty"`
	Match               bool     `json:"match"`
	IntermediatesServed bool     `json:"intermediates_served"`
	ChainVerifies       bool     `json:"chain_verifies"`
	NameMatches         bool     `json:"name_matches"`
	DaysLeft            int      `json:"days_left"`
	Revocation          string   `json:"revocation,omitempty"`
	Problems            []string `json:"problems,omitempty"`
	Protocol            string   `json:"protocol,omitempty"`
	CipherSuite         string   `json:"cipher_suite,omitempty"`
}

// DeploymentStep is one recorded step of a deployment.
type DeploymentStep struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
	// Output is what the test and reload commands printed.
	Output string `json:"output,omitempty"`
}

// Deployment is the process that puts a certificate on a target.
type Deployment struct {
	ID            int64  `json:"id"`
	CertificateID int64  `json:"certificate_id"`
	Certificate   string `json:"certificate,omitempty"` // subject CN
	TargetID      int64  `json:"target_id"`
	Target        string `json:"target,omitempty"`
	Method        string `json:"method,omitempty"`
	DefinitionID  int64  `json:"definition_id,omitempty"`
	// State is prepared, install_requested, installed, confirmed, failed
	// or rolled_back.
	State     string       `json:"state"`
	Attempts  int          `json:"attempts"`
	Backup    string       `json:"backup,omitempty"`
	LastCheck *CheckResult `json:"last_check,omitempty"`
	Unchecked bool         `json:"unchecked"`
	Version   int64        `json:"version"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	// Steps is the history; set by GetDeployment and the actions.
	Steps []DeploymentStep `json:"steps,omitempty"`
}

// DeploymentList is one page of deployments in ID order.
type DeploymentList struct {
	Items []Deployment `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// DeploymentCounts sums up a certificate's deployments by outcome: each
// target's newest deployment, which is what the target should serve.
type DeploymentCounts struct {
	// Total is the deployments counted: Confirmed, Failed (failed or
	// rolled back) and Ongoing (any other state).
	Total     int `json:"total"`
	Confirmed int `json:"confirmed"`
	Failed    int `json:"failed"`
	Ongoing   int `json:"ongoing"`
	// More says the certificate has more targets than were counted.
	More bool `json:"more,omitempty"`
}

// DeploymentQuery filters ListDeployments.
type DeploymentQuery struct {
	// State is a comma-separated list of states, or "ongoing"; "" means
	// any.
	State         string
	CertificateID int64
	TargetID      int64
	DefinitionID  int64
	// CheckFailed keeps deployments whose last check did not pass.
	CheckFailed bool
	// Newest lists the newest first.
	Newest bool
	// Latest keeps each target's newest deployment only: what the target
	// should serve now.
	Latest bool
	Page
}

// DeploymentStart starts (or returns the existing) process of a
// certificate and a target.
type DeploymentStart struct {
	CertificateID int64 `json:"certificate_id"`
	TargetID      int64 `json:"target_id"`
}

// ContinueInput records why a deployment continues without a check.
type ContinueInput struct {
	Reason string `json:"reason"`
}

// PackageInput is the password that encrypts a one-click package (at
// least 12 characters).
type PackageInput struct {
	Password string `json:"password"`
}

// InstallRequest e-mails the target's administrator the encrypted
// package; the password is never in the e-mail.
type InstallRequest struct {
	Password string `json:"password"`
	// To overrides the target's admin e-mail.
	To      string `json:"to,omitempty"`
	Message string `json:"message,omitempty"`
}

// Agent is an enrolled `certkeeper agent`.
type Agent struct {
	ID                int64     `json:"id"`
	Name              string    `json:"name"`
	CertificateSHA256 string    `json:"certificate_sha256"`
	EnrolledAt        time.Time `json:"enrolled_at"`
	LastSeenAt        time.Time `json:"last_seen_at,omitzero"`
	RemoteAddr        string    `json:"remote_addr,omitempty"`
	Disabled          bool      `json:"disabled"`
}

// AgentList is every agent by name.
type AgentList struct {
	Items []Agent `json:"items"`
}

// AgentTokenInput asks for a one-time enrollment token.
type AgentTokenInput struct {
	Name string `json:"name"`
	// TTLSeconds is how long the token works; 0 means one day.
	TTLSeconds int `json:"ttl_seconds,omitempty"`
}

// AgentToken is a new enrollment token, shown once.
type AgentToken struct {
	Name  string `json:"name"`
	Token string `json:"token"`
	// CAPin is "sha256:HEX" of the agent endpoint's CA public key; the
	// agent checks the endpoint against it while enrolling.
	CAPin     string    `json:"ca_pin"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ListTargets returns one page of targets.
func (c *Client) ListTargets(ctx context.Context, p Page) (*TargetList, error) {
	var out TargetList
	return &out, c.do(ctx, call{method: "GET", path: path("targets"), query: p.values(), out: &out})
}

// CreateTarget adds a target.
func (c *Client) CreateTarget(ctx context.Context, in TargetInput) (*Target, error) {
	var out Target
	return &out, c.do(ctx, call{method: "POST", path: path("targets"), in: in, out: &out})
}

// GetTarget returns one target.
func (c *Client) GetTarget(ctx context.Context, id int64) (*Target, error) {
	var out Target
	return &out, c.do(ctx, call{method: "GET", path: path("targets", id), out: &out})
}

// UpdateTarget replaces a target when its version is still version.
func (c *Client) UpdateTarget(ctx context.Context, id, version int64, in TargetInput) (*Target, error) {
	var out Target
	return &out, c.do(ctx, call{method: "PUT", path: path("targets", id), in: in, out: &out,
		ifMatch: strconv.Quote(strconv.FormatInt(version, 10))})
}

// DeleteTarget removes a target and its deployment history.
func (c *Client) DeleteTarget(ctx context.Context, id int64) error {
	return c.do(ctx, call{method: "DELETE", path: path("targets", id)})
}

// ListPresets returns the built-in presets and the user layouts.
func (c *Client) ListPresets(ctx context.Context) (*PresetList, error) {
	var out PresetList
	return &out, c.do(ctx, call{method: "GET", path: path("presets"), out: &out})
}

// PutPreset creates or replaces a user layout.
func (c *Client) PutPreset(ctx context.Context, in Preset) (*Preset, error) {
	var out Preset
	return &out, c.do(ctx, call{method: "PUT", path: path("presets", in.Name), in: in, out: &out})
}

// DeletePreset removes a user layout no target uses.
func (c *Client) DeletePreset(ctx context.Context, name string) error {
	return c.do(ctx, call{method: "DELETE", path: path("presets", name)})
}

// ListDeployments returns one page of the deployments q selects.
func (c *Client) ListDeployments(ctx context.Context, q DeploymentQuery) (*DeploymentList, error) {
	v := q.Page.values()
	setNonZero(v, "state", q.State)
	setNonZero(v, "certificate_id", strconv.FormatInt(q.CertificateID, 10))
	setNonZero(v, "target_id", strconv.FormatInt(q.TargetID, 10))
	setNonZero(v, "definition_id", strconv.FormatInt(q.DefinitionID, 10))
	if q.CheckFailed {
		v.Set("check_failed", "true")
	}
	if q.Newest {
		v.Set("order", "newest")
	}
	if q.Latest {
		v.Set("latest", "true")
	}
	var out DeploymentList
	return &out, c.do(ctx, call{method: "GET", path: path("deployments"), query: v, out: &out})
}

// StartDeployment prepares the process of a certificate and a target, or
// returns the one that exists.
func (c *Client) StartDeployment(ctx context.Context, in DeploymentStart) (*Deployment, error) {
	return c.deploymentCall(ctx, "POST", path("deployments"), in)
}

// GetDeployment returns a deployment with its steps.
func (c *Client) GetDeployment(ctx context.Context, id int64) (*Deployment, error) {
	return c.deploymentCall(ctx, "GET", path("deployments", id), nil)
}

// InstallDeployment installs now (directory and SSH targets: write,
// test, reload, check, roll back on failure) or queues the job for the
// target's agent.
func (c *Client) InstallDeployment(ctx context.Context, id int64) (*Deployment, error) {
	return c.deploymentCall(ctx, "POST", path("deployments", id, "install"), nil)
}

// CheckDeployment probes the target's server name for check.
func (c *Client) CheckDeployment(ctx context.Context, id int64) (*Deployment, error) {
	return c.deploymentCall(ctx, "POST", path("deployments", id, "check"), nil)
}

// ContinueDeployment confirms a deployment without a passing check.
func (c *Client) ContinueDeployment(ctx context.Context, id int64, in ContinueInput) (*Deployment, error) {
	return c.deploymentCall(ctx, "POST", path("deployments", id, "continue"), in)
}

// RollbackDeployment restores the files the last install replaced and
// reloads the server.
func (c *Client) RollbackDeployment(ctx context.Context, id int64) (*Deployment, error) {
	return c.deploymentCall(ctx, "POST", path("deployments", id, "rollback"), nil)
}

// DeploymentPackage returns the encrypted one-click package for
// `certkeeper install`.
func (c *Client) DeploymentPackage(ctx context.Context, id int64, in PackageInput) ([]byte, error) {
	var out []byte
	return out, c.do(ctx, call{method: "POST", path: path("deployments", id, "package"), in: in, rawOut: &out})
}

// DeploymentZip returns the conventional package: a zip of the preset's
// files and a README of install steps.
func (c *Client) DeploymentZip(ctx context.Context, id int64) ([]byte, error) {
	var out []byte
	return out, c.do(ctx, call{method: "GET", path: path("deployments", id, "zip"), rawOut: &out})
}

// RequestInstall e-mails the install request with the package attached.
func (c *Client) RequestInstall(ctx context.Context, id int64, in InstallRequest) (*Deployment, error) {
	return c.deploymentCall(ctx, "POST", path("deployments", id, "request"), in)
}

// UploadCheckReport hands in a report file made on site by `certkeeper
// check --report`; it is accepted only when it shows this deployment's
// certificate.
func (c *Client) UploadCheckReport(ctx context.Context, id int64, report []byte) (*Deployment, error) {
	var out Deployment
	return &out, c.do(ctx, call{method: "POST", path: path("deployments", id, "report"), raw: report,
		rawType: "application/json", out: &out})
}

func (c *Client) deploymentCall(ctx context.Context, method, p string, in any) (*Deployment, error) {
	var out Deployment
	return &out, c.do(ctx, call{method: method, path: p, in: in, out: &out})
}

// ListAgents returns every enrolled agent.
func (c *Client) ListAgents(ctx context.Context) (*AgentList, error) {
	var out AgentList
	return &out, c.do(ctx, call{method: "GET", path: path("agents"), out: &out})
}

// CreateAgentToken makes a one-time enrollment token.
func (c *Client) CreateAgentToken(ctx context.Context, in AgentTokenInput) (*AgentToken, error) {
	var out AgentToken
	return &out, c.do(ctx, call{method: "POST", path: path("agents", "tokens"), in: in, out: &out})
}

// SetAgentDisabled disables or enables an agent.
func (c *Client) SetAgentDisabled(ctx context.Context, id int64, disabled bool) (*Agent, error) {
	action := "enable"
	if disabled {
		action = "disable"
	}
	var out Agent
	return &out, c.do(ctx, call{method: "POST", path: path("agents", id, action), out: &out})
}

// TargetByName returns the target called name, paging through the
// targets; none (as for "") is an error that IsNotFound reports.
func (c *Client) TargetByName(ctx context.Context, name string) (*Target, error) {
	for p := (Page{Limit: 1000}); ; {
		list, err := c.ListTargets(ctx, p)
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			if list.Items[i].Name == name {
				return &list.Items[i], nil
			}
		}
		if list.Next == "" {
			return nil, notFound("no target %q", name)
		}
		p.After = list.Next
	}
}

// CountDeployments counts the deployments q selects, paging through them
// (q.Page.Limit 0 means pages of 1000; q.Page.After is where counting
// starts).
func (c *Client) CountDeployments(ctx context.Context, q DeploymentQuery) (int, error) {
	if q.Page.Limit == 0 {
		q.Page.Limit = 1000
	}
	n := 0
	for {
		list, err := c.ListDeployments(ctx, q)
		if err != nil {
			return 0, err
		}
		n += len(list.Items)
		if list.Next == "" {
			return n, nil
		}
		q.After = list.Next
	}
}

// AgentByName returns the enrolled agent called name; none (as for "")
// is an error that IsNotFound reports.
func (c *Client) AgentByName(ctx context.Context, name string) (*Agent, error) {
	list, err := c.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].Name == name {
			return &list.Items[i], nil
		}
	}
	return nil, notFound("no agent %q", name)
}
