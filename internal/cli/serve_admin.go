package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
)

// firstAdmin is the user made at first start.
const firstAdmin = "admin"

// ensureAdmin makes the first admin when there are no users: a generated
// password, printed once and written to DATA-DIR/initial-admin-password
// (mode 0600), that must be changed at the first sign-in. It returns the
// password file's path while the password is still the generated one, so
// the web UI can delete the file once it is changed; "" otherwise.
func (a *app) ensureAdmin(ctx context.Context, st *stack.Stack, dataDir string, log *slog.Logger) (string, error) {
	file := filepath.Join(dataDir, "initial-admin-password")
	all, err := st.Users.List(ctx)
	if err != nil {
		return "", err
	}
	if len(all) > 0 {
		return pendingPasswordFile(ctx, st, file, log)
	}
	password, err := st.Users.Create(ctx, "certkeeper", firstAdmin, inventory.RoleAdmin, "")
	if errors.Is(err, inventory.ErrConflict) {
		return "", nil // another instance made it at the same moment
	}
	if err != nil {
		return "", err
	}
	if err := atomicfile.Write(file, []byte(password+"\n"), 0o600); err != nil {
		return "", err
	}
	fmt.Fprintf(a.env.Stdout, "First start: sign in as %q with the password %s (also in %s); you will choose a new one.\n",
		firstAdmin, password, file)
	log.Info("first admin created; the one-time password is in the file", "user", firstAdmin, "file", file)
	return file, nil
}

// pendingPasswordFile keeps the first-start password file while its user
// has not changed the password yet, and deletes it afterwards.
func pendingPasswordFile(ctx context.Context, st *stack.Stack, file string, log *slog.Logger) (string, error) {
	if _, err := os.Stat(file); err != nil {
		return "", nil
	}
	u, err := st.Store.UserByName(ctx, firstAdmin)
	if err == nil && u.MustChangePassword {
		return file, nil
	}
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("first-start password file: %w", err)
	}
	log.Info("first-start password file deleted: its password was changed", "file", file)
	return "", nil
}
