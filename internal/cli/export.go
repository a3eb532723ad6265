package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

func (a *app) exportCommand() *cobra.Command {
	var (
		out   outputOptions
		noKey bool
	)
	cmd := &cobra.Command{
		Use:   "export ID|SHA256 --to FORMAT --out FILE",
		Short: "Export a certificate, its chain and (where the format holds one) its private key",
		Long: "export writes a stored certificate with its known chain. Formats that hold a key\n" +
			"(key, combined-pem, pfx, pfx-legacy, jks) include the private key when the inventory\n" +
			"has it; every key export is recorded in the audit trail. Files with a key are mode 0600.\n" +
			"With --server the certificate, its chain and its key come from the server's API (the\n" +
			"key export needs an admin token and is audited by the server).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := format.ParseTarget(out.to)
			if err != nil {
				return err
			}
			withKey := carriesKey(target) && !noKey
			if a.remote() {
				b, err := a.remoteExportBundle(cmd.Context(), args[0], withKey)
				if err != nil {
					return err
				}
				return a.writeOutput(cmd, b, target, &out)
			}
			return a.exportLocal(cmd, args[0], target, &out, withKey)
		},
	}
	out.bind(cmd)
	cmd.Flags().BoolVar(&noKey, "no-key", false, "never include the private key")
	return cmd
}

// exportLocal writes a certificate of the local inventory and audits a
// key export.
func (a *app) exportLocal(cmd *cobra.Command, ref string, target format.Target, out *outputOptions, withKey bool) error {
	if err := a.open(cmd.Context()); err != nil {
		return err
	}
	b, keyID, err := a.exportBundle(cmd.Context(), ref, withKey)
	if err != nil {
		return err
	}
	if err := a.writeOutput(cmd, b, target, out); err != nil {
		return err
	}
	if b.Key == nil {
		return nil
	}
	return a.store.AppendAudit(cmd.Context(), &inventory.AuditEvent{
		Time: a.env.Now().UTC(), Actor: a.actor(), Action: "key.export",
		Object:  fmt.Sprintf("key/%d", keyID),
		Summary: fmt.Sprintf("private key exported with certificate %s as %s", ref, target),
	})
}

// exportBundle loads a certificate, its chain and, when withKey is set and
// the key is held, the unsealed private key.
func (a *app) exportBundle(ctx context.Context, ref string, withKey bool) (*format.Bundle, int64, error) {
	c, err := a.findCertificate(ctx, ref)
	if err != nil {
		return nil, 0, err
	}
	chain, err := a.store.Chain(ctx, c.ID)
	if err != nil {
		return nil, 0, err
	}
	b := &format.Bundle{}
	for _, rec := range chain {
		xc, err := x509.ParseCertificate(rec.DER)
		if err != nil {
			return nil, 0, fmt.Errorf("certificate %d: stored DER does not parse: %w", rec.ID, err)
		}
		b.Chain = append(b.Chain, xc)
	}
	if !withKey || c.KeyID == 0 {
		return b, 0, nil
	}
	k, err := a.store.GetKey(ctx, c.KeyID)
	if err != nil {
		return nil, 0, err
	}
	if b.Key, err = keys.OpenPrivateKey(a.sealer, k); err != nil {
		return nil, 0, err
	}
	b.KeyMatchesLeaf = true
	return b, k.ID, nil
}

func (a *app) findCertificate(ctx context.Context, ref string) (*inventory.Certificate, error) {
	if len(ref) == 64 {
		return a.store.CertificateBySHA256(ctx, ref)
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%q is neither a certificate ID nor a SHA-256 fingerprint", ref)
	}
	return a.store.GetCertificate(ctx, id)
}
