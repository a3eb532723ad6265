package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Reasons the endpoint refuses an agent's client certificate; they are
// the "refusal" member of the problem document the agent receives.
const (
	// RefusedUnknown: the certificate belongs to no enrolled agent.
	RefusedUnknown = "unknown_certificate"
	// RefusedNotCurrent: the certificate was an agent's, but a renewal or
	// a new enrollment has replaced it.
	RefusedNotCurrent = "not_current"
	// RefusedRevoked: the certificate, or a CA certificate above it, is
	// revoked.
	RefusedRevoked = "revoked"
	// RefusedExpired: the certificate is not valid at this time.
	RefusedExpired = "expired"
	// RefusedDisabled: the agent is disabled.
	RefusedDisabled = "disabled"
)

// RefusedError is an agent request refused because of the client
// certificate it presented. It never holds a secret.
type RefusedError struct {
	// Reason is one of the Refused constants.
	Reason string
	// Agent is the name in the certificate's Common Name.
	Agent string
	// SHA256 is the lowercase hex SHA-256 of the certificate presented.
	SHA256 string
	// Detail is one line for the agent's operator.
	Detail string
}

func (e *RefusedError) Error() string { return "agent: " + e.Detail }

// Authenticate finds the agent a verified client chain (leaf first)
// belongs to, and refuses it with a *RefusedError unless the leaf is
// valid at this time, neither it nor a CA certificate above it is
// revoked, it is the agent's current certificate (the one Enroll or Renew
// recorded last), and the agent is enabled. Everything is read from the
// inventory on each call, so a revocation takes effect at the next
// request.
func (r *Registry) Authenticate(ctx context.Context, chain []*x509.Certificate) (*inventory.Agent, error) {
	leaf := chain[0]
	sum := inventory.SHA256Hex(leaf.Raw)
	name := leaf.Subject.CommonName
	if now := r.cfg.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return nil, &RefusedError{Reason: RefusedExpired, Agent: name, SHA256: sum, Detail: fmt.Sprintf(
			"this agent's certificate is valid from %s to %s only; enroll the agent again with a new token",
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))}
	}
	if err := r.notRevoked(ctx, chain, name, sum); err != nil {
		return nil, err
	}
	a, err := r.st.AgentByCertificate(ctx, sum)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, r.notCurrent(ctx, leaf, sum)
	}
	if err != nil {
		return nil, err
	}
	if a.Disabled {
		return nil, &RefusedError{Reason: RefusedDisabled, Agent: a.Name, SHA256: sum,
			Detail: fmt.Sprintf("agent %q is disabled", a.Name)}
	}
	return a, nil
}

// notRevoked refuses the chain when the inventory records a revocation of
// any of its certificates but the top one (a root is not revoked by its
// own CA).
func (r *Registry) notRevoked(ctx context.Context, chain []*x509.Certificate, name, sum string) error {
	for i, c := range chain[:max(len(chain)-1, 1)] {
		rec, err := r.st.CertificateBySHA256(ctx, inventory.SHA256Hex(c.Raw))
		if errors.Is(err, inventory.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if rec.RevokedAt == nil {
			continue
		}
		what := "this agent's certificate"
		if i > 0 {
			what = fmt.Sprintf("the CA certificate %q above this agent's certificate", c.Subject.CommonName)
		}
		return &RefusedError{Reason: RefusedRevoked, Agent: name, SHA256: sum, Detail: fmt.Sprintf(
			"%s was revoked on %s; enroll the agent again with a new token", what, rec.RevokedAt.UTC().Format(time.RFC3339))}
	}
	return nil
}

// notCurrent tells a superseded agent certificate from an unknown one.
func (r *Registry) notCurrent(ctx context.Context, leaf *x509.Certificate, sum string) error {
	name := leaf.Subject.CommonName
	rec, err := r.st.CertificateBySHA256(ctx, sum)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return err
	}
	if rec != nil && slices.Contains(rec.Labels, Label) {
		a, err := r.st.AgentByName(ctx, name)
		if err != nil && !errors.Is(err, inventory.ErrNotFound) {
			return err
		}
		if a != nil {
			return &RefusedError{Reason: RefusedNotCurrent, Agent: name, SHA256: sum, Detail: fmt.Sprintf(
				"this certificate is no longer agent %q's current one (a renewal or a new enrollment replaced it); enroll the agent again with a new token", name)}
		}
	}
	return &RefusedError{Reason: RefusedUnknown, Agent: name, SHA256: sum,
		Detail: "this client certificate belongs to no enrolled agent; enroll the agent again with a new token"}
}

// refusalLog logs and audits refusals without a flood: the first refusal
// of a certificate for a reason is logged and audited, later ones are
// logged at most once per refusalQuiet with their count. It is safe for
// concurrent use.
type refusalLog struct {
	mu   sync.Mutex
	seen map[string]*refusalSeen
}

type refusalSeen struct {
	logged time.Time
	count  int
}

// Bounds of refusalLog.
const (
	refusalQuiet   = time.Hour
	maxRefusalKeys = 1024
)

// note reports whether the refusal is new (to be audited), and how many
// refusals to log now: 0 means none.
func (l *refusalLog) note(e *RefusedError, now time.Time) (first bool, log int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil || len(l.seen) >= maxRefusalKeys {
		l.seen = map[string]*refusalSeen{}
	}
	k := e.SHA256 + "/" + e.Reason
	s, ok := l.seen[k]
	if !ok {
		l.seen[k] = &refusalSeen{logged: now}
		return true, 1
	}
	s.count++
	if now.Sub(s.logged) < refusalQuiet {
		return false, 0
	}
	n := s.count
	s.logged, s.count = now, 0
	return false, n
}

// refused logs and, the first time, audits a refusal.
func (e *Endpoint) refused(ctx context.Context, re *RefusedError, remote string) error {
	first, n := e.refusals.note(re, e.reg.cfg.Now())
	if n > 0 {
		e.log.Warn("agent refused", "reason", re.Reason, "agent", re.Agent, "certificate_sha256", re.SHA256,
			"remote", remote, "refusals", n)
	}
	if !first {
		return nil
	}
	summary := fmt.Sprintf("refused (%s) from %s: certificate %s", re.Reason, remote, re.SHA256)
	return e.reg.audit(ctx, e.reg.st, "agent:"+re.Agent, "agent.refused", inventory.ObjectName(inventory.KindAgent, re.Agent), summary)
}
