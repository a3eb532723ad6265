package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/catalogue"
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
			// The secrets sealed under the master key outside the keys and
			// targets: vendor-account passwords and the SMTP password.
			rot, err := keys.Rotate(cmd.Context(), a.store, a.cfg.resolvedMasterKeyFile(), a.actor(), a.env.Now,
				func(ctx context.Context, rewrap func([]byte) ([]byte, error)) error {
					_, err := catalogue.New(a.store, a.sealer, a.env.Now).RewrapPasswords(ctx, rewrap)
					return err
				},
				settings.New(a.store, a.sealer, a.env.Now).Rewrap)
			if rot == nil {
				return err
			}
			a.sealer = rot.Sealer
			fmt.Fprintf(a.env.Stdout, "%d keys re-encrypted under master key %s\n", rot.Keys, rot.Sealer.KeyID())
			return err
		},
	}
}
