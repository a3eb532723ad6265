package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
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
			s, err := a.stack(cmd.Context())
			if err != nil {
				return err
			}
			rot, err := s.Rekey(cmd.Context(), a.cfg.resolvedMasterKeyFile(), a.actor())
			if rot == nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "%d keys re-encrypted under master key %s\n", rot.Keys, rot.Sealer.KeyID())
			return err
		},
	}
}
