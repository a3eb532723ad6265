// Package agent is certkeeper's deployment agent, both sides of it.
//
// On the manager, Registry makes one-time enrollment tokens and lists,
// disables and enables agents (the API calls it), and Endpoint is the
// HTTPS listener agents talk to: POST /agent/v1/enroll turns a token and
// a certificate request into a client certificate from the built-in CA;
// GET /agent/v1/jobs and POST /agent/v1/jobs/{id}/result, which need that
// client certificate, hand out the installs queued for the agent and take
// back what they did.
//
// Every request with a client certificate is checked against the
// inventory (Registry.Authenticate): current, unexpired, unrevoked, agent
// enabled.
//
// On the host, Enroll connects to the endpoint trusting only the pinned
// CA public key given with the token, and leaves the agent's key,
// certificate, the CA and its configuration (State: the endpoint's key
// pin, the commands jobs may run) in a directory; Run then fetches jobs
// over mutual TLS, checking that pin, installs them with package deploy
// on the local machine unless they ask for a command not allowed, checks
// the server and reports the outcome.
package agent

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Token limits.
const (
	// TokenPrefix starts every enrollment token.
	TokenPrefix = "cka_"
	// DefaultTokenTTL is how long a token works when no lifetime is asked.
	DefaultTokenTTL = 24 * time.Hour
	// MaxTokenTTL is the longest lifetime a token may have.
	MaxTokenTTL = 30 * 24 * time.Hour
)

// Store is what the registry and the endpoint need from the inventory.
type Store interface {
	GetSetting(ctx context.Context, name string) ([]byte, error)
	PutSetting(ctx context.Context, name string, value []byte) error
	PutAgentToken(ctx context.Context, t *inventory.AgentToken) error
	EnrollAgent(ctx context.Context, tokenHash string, a *inventory.Agent) error
	SetAgentCertificate(ctx context.Context, id int64, sha256 string) error
	GetAgent(ctx context.Context, id int64) (*inventory.Agent, error)
	AgentByCertificate(ctx context.Context, sha256 string) (*inventory.Agent, error)
	AgentByName(ctx context.Context, name string) (*inventory.Agent, error)
	ListAgents(ctx context.Context) ([]inventory.Agent, error)
	TouchAgent(ctx context.Context, id int64, at time.Time, remoteAddr string) error
	SetAgentDisabled(ctx context.Context, id int64, disabled bool) error
	DefaultCA(ctx context.Context) (*inventory.CA, error)
	CertificateBySHA256(ctx context.Context, sha256 string) (*inventory.Certificate, error)
	Chain(ctx context.Context, id int64) ([]inventory.Certificate, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// auditor appends audit events: the store, or a transaction of it.
type auditor interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// Config tunes a Registry. The zero value uses the built-in endpoint
// certificates only, the system clock and crypto/rand.
type Config struct {
	// CertDir holds the custom endpoint certificates (ca.crt, server.crt,
	// server.key), normally DATA-DIR/certs/agent; "" means none.
	CertDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand makes tokens; nil means crypto/rand.
	Rand io.Reader
}

// Registry makes enrollment tokens and manages enrolled agents. It is
// safe for concurrent use.
type Registry struct {
	st   Store
	auth *ca.Authority
	cfg  Config
}

// New returns a Registry over st, issuing agent certificates from auth's
// default CA.
func New(st Store, auth *ca.Authority, cfg Config) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Registry{st: st, auth: auth, cfg: cfg}
}

// NewToken is a token just made; Token is shown once and never stored.
type NewToken struct {
	Name  string
	Token string
	// CAPin is "sha256:HEX" of the SubjectPublicKeyInfo of the CA
	// certificate at the top of the endpoint's chain.
	CAPin     string
	ExpiresAt time.Time
}

// namePattern is what an agent name may look like: it becomes the Common
// Name of the agent's certificate and appears in logs and commands.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// ValidName checks an agent name: 1 to 63 letters, digits, dots,
// hyphens and underscores, starting with a letter or digit.
func ValidName(name string) error {
	if !namePattern.MatchString(name) {
		return inventory.Invalid("name", "agent name %q: want 1 to 63 letters, digits, '.', '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// CreateToken makes a one-time token that enrolls the agent called name
// within ttl (0 means DefaultTokenTTL, at most MaxTokenTTL). The token is
// "cka_" followed by 32 random bytes in unpadded base64url; only its
// SHA-256 is stored, and the audit event never holds it.
func (r *Registry) CreateToken(ctx context.Context, actor, name string, ttl time.Duration) (*NewToken, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	switch {
	case ttl == 0:
		ttl = DefaultTokenTTL
	case ttl < 0 || ttl > MaxTokenTTL:
		return nil, inventory.Invalid("ttl_seconds", "token lifetime must be between 1 second and %d days", int(MaxTokenTTL.Hours()/24))
	}
	pin, err := r.Pin(ctx)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := io.ReadFull(r.cfg.Rand, secret); err != nil {
		return nil, fmt.Errorf("agent: token: %w", err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	now := r.cfg.Now().UTC()
	t := &inventory.AgentToken{Hash: tokenHash(token), Name: name, CreatedBy: actor, CreatedAt: now,
		ExpiresAt: now.Add(ttl)}
	summary := "enrollment token, expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	err = r.st.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutAgentToken(ctx, t); err != nil {
			return err
		}
		return r.audit(ctx, tx, actor, "agent.token_create", inventory.ObjectName(inventory.KindAgent, name), summary)
	})
	if err != nil {
		return nil, err
	}
	return &NewToken{Name: name, Token: token, CAPin: pin, ExpiresAt: t.ExpiresAt}, nil
}

// tokenHash is the lowercase hex SHA-256 of a token, as stored.
func tokenHash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// List returns every enrolled agent by name.
func (r *Registry) List(ctx context.Context) ([]inventory.Agent, error) {
	return r.st.ListAgents(ctx)
}

// SetDisabled disables an agent (its requests are refused from then on)
// or enables it again, and returns it.
func (r *Registry) SetDisabled(ctx context.Context, actor string, id int64, disabled bool) (*inventory.Agent, error) {
	a, err := r.st.GetAgent(ctx, id)
	if err != nil {
		return nil, err
	}
	action := "agent.enable"
	if disabled {
		action = "agent.disable"
	}
	err = r.st.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.SetAgentDisabled(ctx, id, disabled); err != nil {
			return err
		}
		return r.audit(ctx, tx, actor, action, inventory.ObjectRef(inventory.KindAgent, id), a.Name)
	})
	if err != nil {
		return nil, err
	}
	return r.st.GetAgent(ctx, id)
}

// audit records an action on an agent: object is its ObjectRef once it
// has an ID, its ObjectName before (an enrollment token, a refused
// request); summary holds no secret.
func (r *Registry) audit(ctx context.Context, st auditor, actor, action, object, summary string) error {
	return st.AppendAudit(ctx, &inventory.AuditEvent{Time: r.cfg.Now().UTC(), Actor: actor, Action: action,
		Object: object, Summary: summary})
}

// Pin returns the CA pin agents check the endpoint against: "sha256:"
// and the hex SHA-256 of the SubjectPublicKeyInfo of the certificate at
// the top of the chain the endpoint serves (the custom server.crt's, or
// else the built-in default CA's root).
func (r *Registry) Pin(ctx context.Context) (string, error) {
	if cs, ok, err := loadCustom(r.cfg.CertDir); ok {
		if err != nil {
			return "", err
		}
		return SPKIPin(cs.top()), nil
	}
	chain, err := r.caChain(ctx)
	if err != nil {
		return "", err
	}
	return SPKIPin(chain[len(chain)-1]), nil
}

// caChain is the built-in default CA's certificate and its issuers up to
// the root.
func (r *Registry) caChain(ctx context.Context) ([]*x509.Certificate, error) {
	c, err := r.st.DefaultCA(ctx)
	if err != nil {
		return nil, fmt.Errorf("agent: default CA: %w", err)
	}
	chain, err := r.auth.Chain(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("agent: default CA %s has no certificate", c.Name)
	}
	return chain, nil
}

// SPKIPin is "sha256:" and the lowercase hex SHA-256 of c's
// SubjectPublicKeyInfo.
func SPKIPin(c *x509.Certificate) string {
	s := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return pinPrefix + hex.EncodeToString(s[:])
}

const pinPrefix = "sha256:"

// ParsePin checks a pin written "sha256:" and 64 hex digits and returns
// it in lower case.
func ParsePin(pin string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(pin))
	h, ok := strings.CutPrefix(p, pinPrefix)
	if b, err := hex.DecodeString(h); !ok || err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("agent: pin %q: want sha256: and 64 hex digits", pin)
	}
	return p, nil
}
