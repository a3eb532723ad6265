package users

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Backoff slows down repeated failures: after Free failures in a row,
// each further attempt must wait Base, then twice as long after every
// further failure, up to Max.
type Backoff struct {
	Free int
	Base time.Duration
	Max  time.Duration
}

// Wait is how long after the last of failures failures the next attempt
// must wait: 0 below Free, then Base doubled per failure past Free, at
// most Max.
func (b Backoff) Wait(failures int) time.Duration {
	if failures < b.Free || b.Base <= 0 {
		return 0
	}
	d := b.Base
	for range failures - b.Free {
		if d >= b.Max/2 {
			return b.Max
		}
		d *= 2
	}
	return min(d, b.Max)
}

// ErrBackoff is matched by every *BackoffError.
var ErrBackoff = errors.New("users: too many failed sign-ins from this address")

// BackoffError refuses a sign-in, before the password is looked at,
// because of recent failures from the same address (for that name, or
// for all names together). It reads the same whether the name exists or
// not.
type BackoffError struct {
	// Wait is how long until the next attempt is looked at.
	Wait time.Duration
}

func (e *BackoffError) Error() string {
	return "users: too many failed sign-ins from this address; try again in " + e.Wait.String()
}

// Is makes a *BackoffError match ErrBackoff.
func (e *BackoffError) Is(target error) bool { return target == ErrBackoff }

// RetryAfter is Wait in whole seconds, rounded up, for a Retry-After
// header.
func (e *BackoffError) RetryAfter() string {
	return strconv.FormatInt(int64((e.Wait+time.Second-1)/time.Second), 10)
}

// signInKey names the failure records one attempt counts against: the
// name tried from the address, and the address as a whole.
type signInKey struct {
	name, addr string
}

// newSignInKey keys an attempt. The name is kept as the SHA-256 of its
// lower-cased form, so that a password typed into the username field is
// not stored; IPv6 addresses count by their /64, which one host usually
// holds whole.
func newSignInKey(username, remoteAddr string) signInKey {
	return signInKey{name: nameKey(username), addr: addrKey(remoteAddr)}
}

func nameKey(username string) string {
	h := sha256.Sum256([]byte(strings.ToLower(username)))
	return hex.EncodeToString(h[:])
}

func addrKey(remoteAddr string) string {
	a, err := netip.ParseAddr(remoteAddr)
	if err != nil {
		return clip(remoteAddr, 64)
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// checkBackoff refuses the attempt with a *BackoffError while either
// record of k is waiting out its backoff.
func (s *Service) checkBackoff(ctx context.Context, k signInKey, now time.Time) error {
	records, err := s.store.SignInFailures(ctx, k.name, k.addr)
	if err != nil {
		return err
	}
	var wait time.Duration
	for _, r := range records {
		b := s.Sessions.PerAddress
		if r.Name != "" {
			b = s.Sessions.PerName
		}
		d := b.Wait(r.Failures)
		if d == 0 || r.Last.Before(now.Add(-s.Sessions.Forget)) {
			continue
		}
		// The store keeps whole seconds: count from the end of the
		// second of the last failure, never before the failure itself.
		last := r.Last.Truncate(time.Second).Add(time.Second)
		wait = max(wait, last.Add(d).Sub(now))
	}
	if wait > 0 {
		return &BackoffError{Wait: wait}
	}
	return nil
}

// countFailure counts a failed attempt against both records of k.
func (s *Service) countFailure(ctx context.Context, k signInKey, now time.Time) error {
	forget := now.Add(-s.Sessions.Forget)
	if _, err := s.store.AddSignInFailure(ctx, k.name, k.addr, now, forget); err != nil {
		return err
	}
	_, err := s.store.AddSignInFailure(ctx, "", k.addr, now, forget)
	return err
}

// Unlock ends the sign-in backoff of a user: it forgets the failures of
// their name from every address, and those addresses' failures for all
// names, and returns how many records it removed.
func (s *Service) Unlock(ctx context.Context, actor, username string) (int, error) {
	u, err := s.user(ctx, username)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		var err error
		if n, err = tx.ClearSignInFailures(ctx, nameKey(u.Username)); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "user.unlock", u, fmt.Sprintf("%d sign-in failure records cleared", n))
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
