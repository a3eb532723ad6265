package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/settings"
)

func (a *app) rekeyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rekey",
		Short: "Re-encrypt every private key and stored password under a new master key",
		Long: "rekey creates a new master key, re-wraps every stored key under it in one\n" +
			"transaction, then the vendor-account and SMTP passwords and the deploy targets'\n" +
			"secrets, and then replaces the master key file. If it is interrupted, run it\n" +
			"again: until it finishes, both keys open the inventory.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.env.Getenv("CERTKEEPER_MASTER_KEY") != "" {
				return errors.New("rekey needs a master key file; unset CERTKEEPER_MASTER_KEY and use --master-key-file")
			}
			if err := a.open(cmd.Context()); err != nil {
				return err
			}
			path := a.cfg.resolvedMasterKeyFile()
			ring, err := keys.BeginRekey(path)
			if err != nil {
				return err
			}
			n, err := a.store.RewrapKeys(cmd.Context(), ring.Rewrap)
			if err != nil {
				return err
			}
			// The other secrets sealed under the master key: vendor-account
			// passwords, the SMTP password and the deploy targets' secrets.
			if _, err := catalogue.New(a.store, ring, a.env.Now).RewrapPasswords(cmd.Context(), ring.Rewrap); err != nil {
				return err
			}
			if err := settings.New(a.store, ring, a.env.Now).Rewrap(cmd.Context(), ring.Rewrap); err != nil {
				return err
			}
			if _, err := a.store.RewrapTargetSecrets(cmd.Context(), ring.Rewrap); err != nil {
				return err
			}
			if err := keys.CommitRekey(path); err != nil {
				return err
			}
			a.sealer = ring
			fmt.Fprintf(a.env.Stdout, "%d keys re-encrypted under master key %s\n", n, ring.KeyID())
			return a.store.AppendAudit(cmd.Context(), &inventory.AuditEvent{
				Time: a.env.Now().UTC(), Actor: a.actor(), Action: "masterkey.rotate", Object: inventory.ObjectMasterKey,
				Summary: fmt.Sprintf("%d keys re-encrypted under master key %s", n, ring.KeyID()),
			})
		},
	}
}
