package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// FirstAdmin is the user a process makes at its first start.
const FirstAdmin = "admin"

// InitialPasswordFile is the file in the data directory holding the first
// admin's one-time password until it is changed.
const InitialPasswordFile = "initial-admin-password"

// ensureAdmin makes the first admin when there are no users: a generated
// password, printed once and written to DATA-DIR/initial-admin-password
// (mode 0600), that must be changed at the first sign-in. It returns the
// password file's path while the password is still the generated one, so
// the web UI can delete the file once it is changed; "" otherwise.
func (p *Process) ensureAdmin(ctx context.Context) (string, error) {
	file := filepath.Join(p.dataDir, InitialPasswordFile)
	all, err := p.Users.List(ctx)
	if err != nil {
		return "", err
	}
	if len(all) > 0 {
		return p.pendingPasswordFile(ctx, file)
	}
	password, err := p.Users.Create(ctx, "certkeeper", FirstAdmin, inventory.RoleAdmin, "")
	if errors.Is(err, inventory.ErrConflict) {
		return "", nil // another instance made it at the same moment
	}
	if err != nil {
		return "", err
	}
	if err := atomicfile.Write(file, []byte(password+"\n"), 0o600); err != nil {
		return "", err
	}
	fmt.Fprintf(p.stdout, "First start: sign in as %q with the password %s (also in %s); you will choose a new one.\n",
		FirstAdmin, password, file)
	p.log.Info("first admin created; the one-time password is in the file", "user", FirstAdmin, "file", file)
	return file, nil
}

// pendingPasswordFile keeps the first-start password file while its user
// has not changed the password yet, and deletes it afterwards.
func (p *Process) pendingPasswordFile(ctx context.Context, file string) (string, error) {
	if _, err := os.Stat(file); err != nil {
		return "", nil
	}
	u, err := p.Store.UserByName(ctx, FirstAdmin)
	if err == nil && u.MustChangePassword {
		return file, nil
	}
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("first-start password file: %w", err)
	}
	p.log.Info("first-start password file deleted: its password was changed", "file", file)
	return "", nil
}
