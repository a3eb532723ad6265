package catalogue

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Account is a vendor account as the service shows it: never the
// password, sealed or not.
type Account struct {
	ID       int64
	IssuerID int64
	Name     string
	Username string
	// HasPassword tells whether a password is stored.
	HasPassword bool
	Email       string
	URL         string
	Notes       string
	CreatedAt   time.Time
}

// NewAccount is what AddVendorAccount needs. Password may be empty.
type NewAccount struct {
	Name, Username, Password, Email, URL, Notes string
}

// AddVendorAccount adds an account at the issuer called issuer, a
// manual-vendor or ACME issuer. The password is sealed, bound to the
// account name (so a sealed password copied to another account does not
// open); account names therefore never change.
func (s *Service) AddVendorAccount(ctx context.Context, actor, issuer string, n NewAccount) (*Account, error) {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		return nil, invalid("name", "vendor account name is empty")
	}
	if err := checkAccountFields(n.Username, n.Email, n.URL, n.Notes); err != nil {
		return nil, err
	}
	i, err := s.Issuer(ctx, issuer)
	if err != nil {
		return nil, err
	}
	if i.Kind == inventory.IssuerBuiltinCA {
		return nil, invalid("issuer_id", "issuer %q is a built-in CA and has no accounts", i.Name)
	}
	a := &inventory.VendorAccount{IssuerID: i.ID, Name: n.Name, Username: n.Username, Email: n.Email,
		URL: n.URL, Notes: n.Notes, CreatedAt: s.now().UTC()}
	if n.Password != "" {
		if a.SealedPassword, err = s.sealer.Seal([]byte(n.Password), sealContext(n.Name)); err != nil {
			return nil, fmt.Errorf("catalogue: seal password: %w", err)
		}
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutVendorAccount(ctx, a); err != nil {
			return conflict(err, "vendor account %q exists", a.Name)
		}
		summary := fmt.Sprintf("issuer %s, username %q, password stored %t", i.Name, a.Username, n.Password != "")
		return s.audit(ctx, tx, actor, "vendor_account.create", inventory.KindVendorAccount, a.ID, a.Name, summary)
	})
	if err != nil {
		return nil, err
	}
	return view(a), nil
}

// AccountChange is what EditVendorAccount changes. Username, Email, URL
// and Notes replace the stored values.
type AccountChange struct {
	// Name and IssuerID, when not "" and 0, must be the account's own: an
	// account's name (to which its sealed password is bound) and issuer
	// never change.
	Name     string
	IssuerID int64
	Username string
	// Password nil keeps the stored password, "" removes it, anything
	// else replaces it (sealed).
	Password *string
	Email    string
	URL      string
	Notes    string
}

// EditVendorAccount changes the account with the given ID. The audit
// summary says whether the password was kept, changed or removed, never
// what it is.
func (s *Service) EditVendorAccount(ctx context.Context, actor string, id int64, c AccountChange) (*Account, error) {
	a, err := s.store.GetVendorAccount(ctx, id)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("catalogue: no vendor account %d: %w", id, inventory.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if c.Name != "" && strings.TrimSpace(c.Name) != a.Name {
		return nil, invalid("name", "a vendor account's name cannot change (its password is bound to it)")
	}
	if c.IssuerID != 0 && c.IssuerID != a.IssuerID {
		return nil, invalid("issuer_id", "a vendor account's issuer cannot change")
	}
	if err := checkAccountFields(c.Username, c.Email, c.URL, c.Notes); err != nil {
		return nil, err
	}
	a.Username, a.Email, a.URL, a.Notes = c.Username, c.Email, c.URL, c.Notes
	password := "kept"
	switch {
	case c.Password == nil:
	case *c.Password == "":
		a.SealedPassword, password = nil, "removed"
	default:
		if a.SealedPassword, err = s.sealer.Seal([]byte(*c.Password), sealContext(a.Name)); err != nil {
			return nil, fmt.Errorf("catalogue: seal password: %w", err)
		}
		password = "changed"
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.UpdateVendorAccount(ctx, a); err != nil {
			return conflict(err, "vendor account %q exists", a.Name)
		}
		summary := fmt.Sprintf("username %q, password %s", a.Username, password)
		return s.audit(ctx, tx, actor, "vendor_account.update", inventory.KindVendorAccount, a.ID, a.Name, summary)
	})
	if err != nil {
		return nil, err
	}
	return view(a), nil
}

// checkAccountFields refuses an e-mail that is not one address, a page
// that is not an http(s) URL, and overlong or multi-line values.
func checkAccountFields(username, email, page, notes string) error {
	switch {
	case len(username) > 256 || strings.ContainsAny(username, "\r\n"):
		return invalid("username", "username must be one line of at most 256 characters")
	case len(notes) > 4000:
		return invalid("notes", "notes are longer than 4000 characters")
	}
	if email != "" {
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
			return invalid("email", "e-mail %q is not one plain address like pki@example.com", email)
		}
	}
	if page != "" {
		if u, err := url.Parse(page); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("url", "page %q is not an http:// or https:// URL", page)
		}
	}
	return nil
}

// sealContext binds a sealed password to its account.
func sealContext(name string) []byte { return []byte("vendor_account:" + name) }

// VendorAccounts returns every account in ID order, without passwords.
func (s *Service) VendorAccounts(ctx context.Context) ([]Account, error) {
	list, err := s.store.ListVendorAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Account, len(list))
	for k := range list {
		out[k] = *view(&list[k])
	}
	return out, nil
}

// VendorAccount returns the account with the given ID, without its
// password.
func (s *Service) VendorAccount(ctx context.Context, id int64) (*Account, error) {
	a, err := s.store.GetVendorAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	return view(a), nil
}

// Password opens the password of the account with the given ID, for the
// one place that logs in to the vendor, and audits the read. An account
// without a password gives inventory.ErrNotFound.
func (s *Service) Password(ctx context.Context, actor string, id int64) (string, error) {
	a, err := s.store.GetVendorAccount(ctx, id)
	if err != nil {
		return "", err
	}
	if a.SealedPassword == nil {
		return "", fmt.Errorf("catalogue: vendor account %q has no password: %w", a.Name, inventory.ErrNotFound)
	}
	pw, err := s.sealer.Open(a.SealedPassword, sealContext(a.Name))
	if err != nil {
		return "", fmt.Errorf("catalogue: vendor account %q: open password: %w", a.Name, err)
	}
	if err := s.audit(ctx, s.store, actor, "vendor_account.password_read", inventory.KindVendorAccount, a.ID, a.Name, "password opened"); err != nil {
		return "", err
	}
	return string(pw), nil
}

func view(a *inventory.VendorAccount) *Account {
	return &Account{ID: a.ID, IssuerID: a.IssuerID, Name: a.Name, Username: a.Username,
		HasPassword: a.SealedPassword != nil, Email: a.Email, URL: a.URL, Notes: a.Notes, CreatedAt: a.CreatedAt}
}

// RewrapPasswords re-encrypts every stored vendor-account password with
// rewrap (a master-key rotation: see "certkeeper rekey") and returns how
// many there were. Run again after an interruption: rewrap leaves a
// password already under the new key as it is.
func (s *Service) RewrapPasswords(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error) {
	list, err := s.store.ListVendorAccounts(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range list {
		a := &list[i]
		if len(a.SealedPassword) == 0 {
			continue
		}
		if a.SealedPassword, err = rewrap(a.SealedPassword); err != nil {
			return n, fmt.Errorf("catalogue: vendor account %q: rewrap password: %w", a.Name, err)
		}
		if err := s.store.UpdateVendorAccount(ctx, a); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
