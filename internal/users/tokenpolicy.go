package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TokenPolicy is the instance's rule for API tokens, set by an admin.
type TokenPolicy struct {
	// MaxLifetime caps every token's life, counted from its creation: new
	// tokens may not ask for more, and older, longer-lived ones stop
	// working at CreatedAt+MaxLifetime. Zero means no cap.
	MaxLifetime time.Duration
}

// MinTokenLifetime is the shortest MaxLifetime a policy may set.
const MinTokenLifetime = time.Minute

// tokenPolicyName is the SettingsStore name of the policy document.
const tokenPolicyName = "token-policy"

// tokenPolicyDoc is the stored JSON form of a TokenPolicy.
type tokenPolicyDoc struct {
	MaxLifetimeSeconds int64 `json:"max_lifetime_seconds,omitempty"`
}

// Expiry is when t stops working under p: its own ExpiresAt or
// CreatedAt+MaxLifetime, whichever comes first; nil for never.
func (p TokenPolicy) Expiry(t *inventory.APIToken) *time.Time {
	exp := t.ExpiresAt
	if p.MaxLifetime > 0 {
		capped := t.CreatedAt.Add(p.MaxLifetime)
		if exp == nil || capped.Before(*exp) {
			exp = &capped
		}
	}
	return exp
}

// TokenPolicy returns the policy in force; none stored is no cap.
func (s *Service) TokenPolicy(ctx context.Context) (TokenPolicy, error) {
	b, err := s.store.GetSetting(ctx, tokenPolicyName)
	if errors.Is(err, inventory.ErrNotFound) {
		return TokenPolicy{}, nil
	}
	if err != nil {
		return TokenPolicy{}, err
	}
	var d tokenPolicyDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return TokenPolicy{}, fmt.Errorf("users: stored token policy: %w", err)
	}
	return TokenPolicy{MaxLifetime: time.Duration(d.MaxLifetimeSeconds) * time.Second}, nil
}

// SetTokenPolicy stores p and audits the change. MaxLifetime must be zero
// or whole seconds of at least MinTokenLifetime (inventory.FieldError
// "max_lifetime" otherwise).
func (s *Service) SetTokenPolicy(ctx context.Context, actor string, p TokenPolicy) error {
	if p.MaxLifetime != 0 && (p.MaxLifetime < MinTokenLifetime || p.MaxLifetime%time.Second != 0) {
		return invalid("max_lifetime", fmt.Errorf("users: maximum token lifetime %s: use 0 (none) or whole seconds of at least %s",
			p.MaxLifetime, MinTokenLifetime))
	}
	b, err := json.Marshal(tokenPolicyDoc{MaxLifetimeSeconds: int64(p.MaxLifetime / time.Second)})
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	summary := "no maximum API token lifetime"
	if p.MaxLifetime > 0 {
		summary = "maximum API token lifetime " + p.MaxLifetime.String()
	}
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutSetting(ctx, tokenPolicyName, b); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor,
			Action: "settings.token_policy", Object: inventory.ObjectName(inventory.KindSettings, tokenPolicyName), Summary: summary})
	})
}
