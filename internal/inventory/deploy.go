package inventory

import (
	"context"
	"time"
)

// TargetMethod is how certificates reach a target.
type TargetMethod string

// Target methods.
const (
	// MethodDirectory writes the files into a directory of the machine
	// certkeeper runs on and runs the reload command there.
	MethodDirectory TargetMethod = "directory"
	// MethodSSH writes the files over SFTP and runs the commands over SSH,
	// with the server's host key pinned.
	MethodSSH TargetMethod = "ssh"
	// MethodAgent hands the job to `certkeeper agent` on the host, over
	// mutual TLS.
	MethodAgent TargetMethod = "agent"
	// MethodManual installs nothing itself: the target's administrator
	// receives an install request with an encrypted one-click package or
	// a conventional zip.
	MethodManual TargetMethod = "manual"
)

// Valid reports whether m is a known method.
func (m TargetMethod) Valid() bool {
	switch m {
	case MethodDirectory, MethodSSH, MethodAgent, MethodManual:
		return true
	}
	return false
}

// Automated reports whether certkeeper installs by itself (directory,
// SSH or agent).
func (m TargetMethod) Automated() bool { return m != MethodManual }

// CheckSpec is the "server name for check": where the deploy check
// connects and what it asks for.
type CheckSpec struct {
	// Host is a host name or IP address; "" means the target is not
	// checked from the manager (a report file made on site is uploaded
	// instead).
	Host string `json:"host,omitempty"`
	// Port is the TCP port; 0 means 443.
	Port int `json:"port,omitempty"`
	// SNI is the server name sent; "" means Host (none for an IP).
	SNI string `json:"sni,omitempty"`
	// ClientCertificateID is a certificate of the inventory, with its
	// key, presented to servers that demand mutual TLS; 0 means none.
	ClientCertificateID int64 `json:"client_certificate_id,omitempty"`
	// StartTLS is the plain-text protocol upgraded before the handshake
	// (a probe.StartTLS value: smtp, imap, ldap, ...); "" starts TLS at
	// once and "auto" picks the protocol by port.
	StartTLS string `json:"starttls,omitempty"`
}

// SSHAccess is how an SSH target is reached. The password or private key
// is sealed in Target.SealedSecrets, never here.
type SSHAccess struct {
	Host string `json:"host"`
	// Port is the TCP port; 0 means 22.
	Port int    `json:"port,omitempty"`
	User string `json:"user"`
	// HostKey is the server's public host key in authorized_keys form
	// ("ssh-ed25519 AAAA..."); the connection is refused when the server
	// presents another.
	HostKey string `json:"host_key"`
}

// Target is a server certificates are deployed to.
type Target struct {
	ID int64
	// Name is unique.
	Name string
	// Preset names the software preset or user layout: which files are
	// written, in which formats (see package deploy).
	Preset string
	Method TargetMethod
	// Directory is where the preset's files go on the target.
	Directory string
	// Owner is "user", "user:group" or "" (files keep the writer's
	// owner).
	Owner string
	// TestCommand checks the server's configuration before a reload
	// ("nginx -t"); ReloadCommand makes the server use the new files.
	// "" means none. ReloadTimeout bounds each; 0 means 60 seconds.
	TestCommand   string
	ReloadCommand string
	ReloadTimeout time.Duration
	// SSH is set for MethodSSH.
	SSH *SSHAccess
	// AgentID is the agent that serves the target (MethodAgent).
	AgentID int64
	Check   CheckSpec
	// AdminEmail receives install requests.
	AdminEmail string
	// RollbackOnFailure restores the replaced files (and reloads) when
	// the check after an automated install fails.
	RollbackOnFailure bool
	// SealedSecrets is the sealed JSON of the target's secrets (SSH
	// password or private key, key-store password); nil when none.
	SealedSecrets []byte
	Notes         string
	// Version counts changes, starting at 1.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DeploymentState is where a deployment process stands.
//
//	prepared ──install (automated)──> installed ──check passes──> confirmed
//	    │                                 │
//	    └──request (manual, agent)──> install_requested ──installed / report──┘
//
// A failed install or check gives failed (after an automatic roll back
// when the target asks for one); roll back gives rolled_back. failed and
// rolled_back may be retried; confirmed is final for its certificate
// until a new install is asked for.
type DeploymentState string

// Deployment states.
const (
	DeployPrepared         DeploymentState = "prepared"
	DeployInstallRequested DeploymentState = "install_requested"
	DeployInstalled        DeploymentState = "installed"
	DeployConfirmed        DeploymentState = "confirmed"
	DeployFailed           DeploymentState = "failed"
	DeployRolledBack       DeploymentState = "rolled_back"
)

// DeploymentStates lists every state in process order.
var DeploymentStates = []DeploymentState{DeployPrepared, DeployInstallRequested,
	DeployInstalled, DeployConfirmed, DeployFailed, DeployRolledBack}

// Valid reports whether s is a known state.
func (s DeploymentState) Valid() bool {
	for _, v := range DeploymentStates {
		if s == v {
			return true
		}
	}
	return false
}

// Ongoing reports whether the process still waits for something
// (prepared, install requested or installed).
func (s DeploymentState) Ongoing() bool {
	return s == DeployPrepared || s == DeployInstallRequested || s == DeployInstalled
}

// CheckResult is one deploy check of a served certificate.
type CheckResult struct {
	Time time.Time `json:"time"`
	// Source is "probe" (certkeeper connected), "agent" (the agent on the
	// host connected) or "report" (a report file made on site).
	Source string `json:"source"`
	// Address is host:port probed; ServerName the SNI sent or the IP.
	Address    string `json:"address"`
	ServerName string `json:"server_name,omitempty"`
	// Passed: the served leaf is the expected certificate, the
	// intermediates are served, the chain verifies and the certificate
	// is within its validity.
	Passed bool `json:"passed"`
	// Error is why the server could not be observed at all; then the
	// fields below are empty.
	Error string `json:"error,omitempty"`
	// ExpectedSHA256 is the certificate that should be served;
	// ServedSHA256 and ServedSHA1 the leaf actually served.
	ExpectedSHA256 string `json:"expected_sha256"`
	ServedSHA256   string `json:"served_sha256,omitempty"`
	ServedSHA1     string `json:"served_sha1,omitempty"`
	ServedSubject  string `json:"served_subject,omitempty"`
	Match          bool   `json:"match"`
	// IntermediatesServed is false when an intermediate the certificate
	// needs is missing from what the server sends.
	IntermediatesServed bool `json:"intermediates_served"`
	ChainVerifies       bool `json:"chain_verifies"`
	NameMatches         bool `json:"name_matches"`
	// DaysLeft is the served leaf's whole days until expiry (negative
	// once expired).
	DaysLeft int `json:"days_left"`
	// Revocation is the served leaf's OCSP status when the check could
	// learn it (stapled, or from the responder the certificate names):
	// "good", "revoked" (fails the check) or "unknown"; "" when not
	// learnt.
	Revocation string `json:"revocation,omitempty"`
	// Problems explain every failed point in plain words, one line each.
	Problems []string `json:"problems,omitempty"`
	// Protocol and CipherSuite are what the handshake negotiated.
	Protocol    string `json:"protocol,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
}

// Deployment is the process that puts one certificate on one target.
// There is at most one per certificate and target; a retry continues it.
type Deployment struct {
	ID            int64
	CertificateID int64
	TargetID      int64
	// DefinitionID is the definition the certificate is current for when
	// the process started; 0 for a certificate without one.
	DefinitionID int64
	State        DeploymentState
	// Attempts counts install attempts.
	Attempts int
	// Backup is where the last install saved the files it replaced, on
	// the target ("" when it replaced nothing or did not install).
	Backup string
	// LastCheck is the latest deploy check; nil before the first.
	LastCheck *CheckResult
	// Unchecked is set when someone continued without checking.
	Unchecked bool
	Version   int64
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DeploymentStep records one step of a deployment: who did what, when,
// and what the commands printed.
type DeploymentStep struct {
	ID           int64
	DeploymentID int64
	Time         time.Time
	Actor        string
	// Action is a short verb: "prepared", "install_requested",
	// "installed", "install_failed", "checked", "check_failed",
	// "rolled_back", "continued_unchecked", "package_created",
	// "email_sent", "report_accepted", "agent_fetched".
	Action string
	// Detail is a one-line summary; Output is what the test and reload
	// commands printed (bounded, never secret).
	Detail string
	Output string
}

// DeploymentFilter selects deployments. The zero value selects all.
type DeploymentFilter struct {
	CertificateID int64
	TargetID      int64
	DefinitionID  int64
	// AgentID keeps deployments to the targets of one agent.
	AgentID int64
	States  []DeploymentState
	// CheckFailed keeps deployments whose last check did not pass.
	CheckFailed bool
	// Newest lists the newest first (descending ID).
	Newest bool
	// Latest keeps each target's newest deployment only: the certificate
	// the target should be serving now.
	Latest bool
}

// DeploymentPage is one page of deployments ordered by ID.
type DeploymentPage struct {
	Items []Deployment
	Next  string
}

// DeployLayout is a user-defined preset: a named set of files and the
// commands that make a server use them. Files holds the JSON of the
// files ([]kit.File as in a kit layout file).
type DeployLayout struct {
	ID            int64
	Name          string
	Files         []byte
	TestCommand   string
	ReloadCommand string
	Instructions  string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Agent is a `certkeeper agent` enrolled with this manager.
type Agent struct {
	ID int64
	// Name is unique; it is the Common Name of the agent's certificate.
	Name string
	// CertificateSHA256 is the agent's current client certificate.
	CertificateSHA256 string
	EnrolledAt        time.Time
	LastSeenAt        time.Time
	// RemoteAddr is where the agent last connected from.
	RemoteAddr string
	Disabled   bool
}

// AgentToken is a one-time enrollment token; only its SHA-256 is stored.
type AgentToken struct {
	ID int64
	// Hash is the lowercase hex SHA-256 of the token; unique.
	Hash string
	// Name is the agent name the token enrolls.
	Name      string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is zero until the token enrolled an agent.
	UsedAt time.Time
}

// DeployStore is the part of the Store contract that keeps targets,
// deployment processes, user layouts and agents.
type DeployStore interface {
	// PutTarget stores a new target and sets t.ID, t.Version (1),
	// t.CreatedAt and t.UpdatedAt. A name in use gives ErrConflict.
	PutTarget(ctx context.Context, t *Target) error
	// UpdateTarget writes every field of t when the stored version equals
	// t.Version, then increments t.Version and sets t.UpdatedAt. Another
	// version gives ErrConflict, an unknown ID ErrNotFound, a name in use
	// ErrConflict.
	UpdateTarget(ctx context.Context, t *Target) error
	GetTarget(ctx context.Context, id int64) (*Target, error)
	TargetByName(ctx context.Context, name string) (*Target, error)
	// ListTargets returns targets ordered by name, then ID.
	ListTargets(ctx context.Context, p Page) ([]Target, string, error)
	// DeleteTarget removes a target and its deployments and their steps.
	DeleteTarget(ctx context.Context, id int64) error
	// RewrapTargetSecrets replaces every non-empty SealedSecrets, one
	// transaction, and returns how many.
	RewrapTargetSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error)

	// PutDeployment stores a new process with its first steps in one
	// transaction and sets d.ID, d.Version (1), the times and each step's
	// IDs. An unknown certificate or target gives ErrNotFound; a process
	// for the same certificate and target, ErrConflict.
	PutDeployment(ctx context.Context, d *Deployment, steps ...DeploymentStep) error
	// UpdateDeployment writes every mutable field (state, attempts,
	// backup, last check, unchecked) when the stored version equals
	// d.Version, appends steps, increments d.Version and sets
	// d.UpdatedAt; one transaction. Another version gives ErrConflict.
	UpdateDeployment(ctx context.Context, d *Deployment, steps ...DeploymentStep) error
	GetDeployment(ctx context.Context, id int64) (*Deployment, error)
	// DeploymentFor finds the process of a certificate and target.
	DeploymentFor(ctx context.Context, certificateID, targetID int64) (*Deployment, error)
	ListDeployments(ctx context.Context, f DeploymentFilter, p Page) (*DeploymentPage, error)
	DeploymentSteps(ctx context.Context, id int64) ([]DeploymentStep, error)

	// PutDeployLayout stores a new user layout; a name in use gives
	// ErrConflict. UpdateDeployLayout replaces one by ID.
	PutDeployLayout(ctx context.Context, l *DeployLayout) error
	UpdateDeployLayout(ctx context.Context, l *DeployLayout) error
	DeployLayoutByName(ctx context.Context, name string) (*DeployLayout, error)
	ListDeployLayouts(ctx context.Context) ([]DeployLayout, error)
	// DeleteDeployLayout removes a layout; a target using it gives
	// ErrConflict.
	DeleteDeployLayout(ctx context.Context, name string) error

	// PutAgentToken stores a token; a hash in use gives ErrConflict.
	PutAgentToken(ctx context.Context, t *AgentToken) error
	// EnrollAgent, in one transaction, marks the unused, unexpired token
	// with hash tokenHash used at a.EnrolledAt and stores a (or, when an
	// agent with a.Name exists, replaces its certificate and enrollment
	// time and sets a.ID). A token that is unknown, used or expired at
	// a.EnrolledAt gives ErrNotFound.
	EnrollAgent(ctx context.Context, tokenHash string, a *Agent) error
	// SetAgentCertificate records the agent's current client certificate
	// (after EnrollAgent, once the certificate is issued); an unknown ID
	// gives ErrNotFound.
	SetAgentCertificate(ctx context.Context, id int64, sha256 string) error
	GetAgent(ctx context.Context, id int64) (*Agent, error)
	AgentByCertificate(ctx context.Context, sha256 string) (*Agent, error)
	AgentByName(ctx context.Context, name string) (*Agent, error)
	ListAgents(ctx context.Context) ([]Agent, error)
	// TouchAgent records that the agent connected.
	TouchAgent(ctx context.Context, id int64, at time.Time, remoteAddr string) error
	// SetAgentDisabled disables (or enables) an agent.
	SetAgentDisabled(ctx context.Context, id int64, disabled bool) error
}
