package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what the service needs from the inventory.
type Store interface {
	GetSetting(ctx context.Context, name string) ([]byte, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// documentName is the SettingsStore name of the stored policy.
const documentName = "outbound_policy"

// maxRules bounds each list of a stored policy.
const maxRules = 256

// document is the stored JSON form: the rules as ParseRule reads them.
type document struct {
	Allow []string `json:"allow"`
	Deny  []string `json:"deny"`
}

// Service keeps the Admin-set policy in the inventory and puts it in
// force on its Dialer the moment it changes. It is safe for concurrent
// use.
type Service struct {
	store  Store
	dialer *Dialer
	now    func() time.Time
	// mu orders changes, so that the dialer ends with the stored policy.
	mu sync.Mutex
}

// NewService returns the service over st driving dialer; a nil now means
// time.Now. Call Load once before serving to put the stored policy in
// force.
func NewService(st Store, dialer *Dialer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, dialer: dialer, now: now}
}

// Dialer returns the dialer the service drives.
func (s *Service) Dialer() *Dialer { return s.dialer }

// Load reads the stored policy and puts it in force; none stored is the
// zero Policy.
func (s *Service) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.read(ctx)
	if err != nil {
		return err
	}
	s.dialer.SetPolicy(p)
	return nil
}

// Get returns the policy in force.
func (s *Service) Get(context.Context) *Policy {
	return s.dialer.Policy()
}

func (s *Service) read(ctx context.Context) (*Policy, error) {
	b, err := s.store.GetSetting(ctx, documentName)
	if errors.Is(err, inventory.ErrNotFound) {
		return &Policy{}, nil
	}
	if err != nil {
		return nil, err
	}
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("outbound: stored policy: %w", err)
	}
	p, err := Parse(d.Allow, d.Deny)
	if err != nil {
		return nil, fmt.Errorf("outbound: stored policy: %w", err)
	}
	return p, nil
}

// Parse reads allow and deny rules (see ParseRule). A bad rule is an
// inventory.FieldError naming "allow" or "deny".
func Parse(allow, deny []string) (*Policy, error) {
	p := &Policy{}
	var err error
	if p.Allow, err = parseList("allow", allow); err != nil {
		return nil, err
	}
	if p.Deny, err = parseList("deny", deny); err != nil {
		return nil, err
	}
	return p, nil
}

func parseList(field string, texts []string) ([]Rule, error) {
	if len(texts) > maxRules {
		return nil, fmt.Errorf("outbound: %w", inventory.Invalid(field, "at most %d rules", maxRules))
	}
	rules := make([]Rule, 0, len(texts))
	for _, t := range texts {
		r, err := ParseRule(t)
		if err != nil {
			return nil, fmt.Errorf("outbound: %w", inventory.Invalid(field, "%s", err.Error()))
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// Set replaces the policy with p, stores it, audits the change (the
// rules before and after) and puts it in force at once. An unchanged
// policy is neither stored nor audited.
func (s *Service) Set(ctx context.Context, actor string, p *Policy) (*Policy, error) {
	if p == nil {
		p = &Policy{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	before, after := describe(old), describe(p)
	if before == after {
		s.dialer.SetPolicy(old)
		return old, nil
	}
	b, err := json.Marshal(p.document())
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutSetting(ctx, documentName, b); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor,
			Action: "outbound.update", Object: inventory.ObjectOutboundPolicy, Summary: after + " (was: " + before + ")"})
	})
	if err != nil {
		return nil, err
	}
	s.dialer.SetPolicy(p)
	return p, nil
}

// document is p's stored form.
func (p *Policy) document() document {
	return document{Allow: Texts(p.Allow), Deny: Texts(p.Deny)}
}

// describe is one line for the audit trail: "allow [...] deny [...]".
func describe(p *Policy) string {
	allow := "everything not denied"
	if len(p.Allow) > 0 {
		allow = strings.Join(Texts(p.Allow), " ")
	}
	deny := "nothing"
	if len(p.Deny) > 0 {
		deny = strings.Join(Texts(p.Deny), " ")
	}
	return "allow " + allow + "; deny " + deny
}

// Texts writes rules as ParseRule reads them.
func Texts(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.String()
	}
	return out
}

// Refresh puts the stored policy in force every interval until ctx ends,
// so that a change made by another process (the local command line on
// the same inventory, another instance sharing PostgreSQL) takes effect
// within interval. A failed read keeps the policy in force and is logged.
func (s *Service) Refresh(ctx context.Context, interval time.Duration, log *slog.Logger) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.Load(ctx); err != nil && ctx.Err() == nil {
			log.Warn("reading the outbound policy", "err", err)
		}
	}
}
