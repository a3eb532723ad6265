package users

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TokenPrefix starts every API token secret.
const TokenPrefix = "ck_"

// tokenDisplayLen is how many characters of a secret are kept as
// APIToken.Prefix: "ck_" and eight more, 48 bits, too few to guess the rest.
const tokenDisplayLen = len(TokenPrefix) + 8

// ErrInvalidToken is returned by AuthenticateToken for an unknown, expired
// or revoked token, one past the maximum lifetime, one ended with its
// user's credentials, or one whose user is disabled.
var ErrInvalidToken = errors.New("users: invalid api token")

// CreateToken makes an API token named name for the user. The secret is
// "ck_" followed by 32 random bytes in unpadded base64url; it is returned
// once and only its SHA-256 is stored. A ttl of zero means the token does
// not expire, or, under a TokenPolicy with a MaxLifetime, expires after
// it; a ttl above that maximum is refused.
func (s *Service) CreateToken(ctx context.Context, actor, username, name string, ttl time.Duration) (string, *inventory.APIToken, error) {
	if strings.TrimSpace(name) == "" || len(name) > 100 {
		return "", nil, invalid("name", errors.New("users: token name must be 1 to 100 characters"))
	}
	ttl, err := s.tokenTTL(ctx, ttl)
	if err != nil {
		return "", nil, err
	}
	u, err := s.user(ctx, username)
	if err != nil {
		return "", nil, err
	}
	secret, err := s.tokenSecret()
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC()
	t := &inventory.APIToken{UserID: u.ID, Name: name, Hash: TokenHash(secret), Prefix: secret[:tokenDisplayLen],
		CreatedAt: now, Gen: u.CredentialGen}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutToken(ctx, t); err != nil {
			return err
		}
		return s.auditToken(ctx, tx, actor, "token.create", t, tokenSummary(t, u.Username))
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// tokenTTL checks a requested token lifetime against the policy and
// returns the one to use.
func (s *Service) tokenTTL(ctx context.Context, ttl time.Duration) (time.Duration, error) {
	if ttl < 0 {
		return 0, invalid("ttl", errors.New("users: token lifetime must not be negative"))
	}
	p, err := s.TokenPolicy(ctx)
	if err != nil || p.MaxLifetime == 0 {
		return ttl, err
	}
	if ttl > p.MaxLifetime {
		return 0, invalid("ttl", fmt.Errorf("users: token lifetime %s is longer than the maximum of %s", ttl, p.MaxLifetime))
	}
	if ttl == 0 {
		ttl = p.MaxLifetime
	}
	return ttl, nil
}

// tokenSummary describes a new token for the audit trail.
func tokenSummary(t *inventory.APIToken, username string) string {
	exp := "never"
	if t.ExpiresAt != nil {
		exp = t.ExpiresAt.Format(time.RFC3339)
	}
	return fmt.Sprintf("token %q (%s...) for %s, expires %s", t.Name, t.Prefix, username, exp)
}

func (s *Service) tokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("users: token secret: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenHash is the stored form of a token secret: lowercase hex SHA-256.
// A secret of 256 random bits needs no slow hash.
func TokenHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// ListTokens returns the user's tokens in ID order.
func (s *Service) ListTokens(ctx context.Context, username string) ([]inventory.APIToken, error) {
	u, err := s.user(ctx, username)
	if err != nil {
		return nil, err
	}
	return s.store.ListTokens(ctx, u.ID)
}

// Tokens returns the tokens of user userID in ID order; none for an
// unknown user (such as the local command line's admin, who has no ID).
func (s *Service) Tokens(ctx context.Context, userID int64) ([]inventory.APIToken, error) {
	return s.store.ListTokens(ctx, userID)
}

// RevokeToken deletes the token with the given ID.
func (s *Service) RevokeToken(ctx context.Context, actor string, id int64) error {
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.DeleteToken(ctx, id); err != nil {
			return err
		}
		return s.auditToken(ctx, tx, actor, "token.revoke", &inventory.APIToken{ID: id}, "")
	})
	if errors.Is(err, inventory.ErrNotFound) {
		return fmt.Errorf("users: no token %d: %w", id, inventory.ErrNotFound)
	}
	return err
}

// RevokeOwnToken is RevokeToken for a user revoking one of their own
// tokens: another user's token is not found, as an unknown one is.
func (s *Service) RevokeOwnToken(ctx context.Context, actor string, owner *inventory.User, id int64) error {
	own, err := s.store.ListTokens(ctx, owner.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(own, func(t inventory.APIToken) bool { return t.ID == id }) {
		return fmt.Errorf("users: you have no token %d: %w", id, inventory.ErrNotFound)
	}
	return s.RevokeToken(ctx, actor, id)
}

// TouchInterval is how stale a token's LastUsedAt may get: a use is
// written only when the stored one is older, so that a busy API client
// does not turn every read into a database write.
const TouchInterval = time.Minute

// AuthenticateToken returns the user owning secret and the token, and
// records the use (to within TouchInterval). Unknown tokens, expired ones
// (by their own expiry or the policy's MaxLifetime), ones ended with their
// user's credentials and tokens of disabled users give ErrInvalidToken.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (*inventory.User, *inventory.APIToken, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, nil, ErrInvalidToken
	}
	t, err := s.store.TokenByHash(ctx, TokenHash(secret))
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, nil, ErrInvalidToken
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := s.TokenPolicy(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	if exp := p.Expiry(t); exp != nil && !now.Before(*exp) {
		return nil, nil, ErrInvalidToken
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled || t.Gen != u.CredentialGen {
		return nil, nil, ErrInvalidToken
	}
	if t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < TouchInterval {
		return u, t, nil
	}
	if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
		return nil, nil, err
	}
	t.LastUsedAt = &now
	return u, t, nil
}

// auditToken records an action on t. The summary must hold no secret.
func (s *Service) auditToken(ctx context.Context, st auditor, actor, action string, t *inventory.APIToken, summary string) error {
	return st.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: action,
		Object: inventory.ObjectRef(inventory.KindToken, t.ID), Summary: summary})
}
