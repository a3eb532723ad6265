package cli

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/revocation"
)

func (a *app) caRevocationCommands() []*cobra.Command {
	return []*cobra.Command{a.caRevokeCommand(), a.caCRLCommand()}
}

func (a *app) caRevokeCommand() *cobra.Command {
	var (
		reason string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "revoke ID|SHA256 [--reason NAME]",
		Short: "Revoke a certificate issued by a certkeeper CA and publish a new CRL",
		Long: "revoke records the revocation (OCSP answers \"revoked\" from then on) and publishes\n" +
			"a new CRL of the issuing CA at once. Revocation is permanent. Reasons (RFC 5280):\n" +
			strings.Join(revocation.ReasonNames(), ", ") + ".",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := revocation.ParseReason(reason)
			if err != nil {
				return err
			}
			s, err := a.stack(cmd.Context())
			if err != nil {
				return err
			}
			res, err := s.Revocation.Revoke(cmd.Context(), args[0], r, a.actor())
			if err != nil {
				return err
			}
			return a.printRevoked(res, asJSON)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "unspecified", "revocation reason: "+strings.Join(revocation.ReasonNames(), ", "))
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// revokedView is the JSON form of a revocation.
type revokedView struct {
	CertificateID int64     `json:"certificate_id"`
	Serial        string    `json:"serial"`
	Subject       string    `json:"subject"`
	CA            string    `json:"ca"`
	RevokedAt     time.Time `json:"revoked_at"`
	Reason        string    `json:"reason"`
	CRLNumber     int64     `json:"crl_number"`
}

func (a *app) printRevoked(r *revocation.Revoked, asJSON bool) error {
	v := revokedView{
		CertificateID: r.Certificate.ID, Serial: r.Revocation.Serial, Subject: r.Certificate.Subject,
		CA: r.CA.Name, RevokedAt: r.Revocation.RevokedAt, Reason: revocation.Reason(r.Revocation.Reason).String(),
		CRLNumber: r.CRL.Number,
	}
	if asJSON {
		enc := json.NewEncoder(a.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintf(a.env.Stdout, "revoked certificate %d (%s, serial %s), reason %s; CA %q published CRL number %d\n",
		v.CertificateID, v.Subject, colonHex(v.Serial), v.Reason, v.CA, v.CRLNumber)
	return err
}

func (a *app) caCRLCommand() *cobra.Command {
	var (
		caName, out string
		asPEM       bool
	)
	cmd := &cobra.Command{
		Use:   "crl [--ca NAME] --out FILE [--pem]",
		Short: "Write a CA's current CRL (DER, or PEM with --pem)",
		Long: "crl writes the CA's latest published CRL, publishing one first when there is none\n" +
			"or the latest has passed its nextUpdate. FILE is replaced; \"-\" writes PEM to stdout.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out FILE is required")
			}
			s, err := a.stack(cmd.Context())
			if err != nil {
				return err
			}
			c, err := namedCA(cmd.Context(), s.Authority, caName)
			if err != nil {
				return err
			}
			crl, err := s.Revocation.CurrentCRL(cmd.Context(), c.ID)
			if err != nil {
				return err
			}
			return a.writeCRL(crl, out, asPEM)
		},
	}
	cmd.Flags().StringVar(&caName, "ca", "", "CA name (default: the default CA)")
	cmd.Flags().StringVar(&out, "out", "", "output file, replaced if it exists; - for standard output (PEM)")
	cmd.Flags().BoolVar(&asPEM, "pem", false, "write PEM (\"X509 CRL\") instead of DER")
	return cmd
}

func (a *app) writeCRL(crl *inventory.CRL, out string, asPEM bool) error {
	data := crl.DER
	if asPEM || out == "-" {
		data = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.DER})
	}
	if out == "-" {
		_, err := a.env.Stdout.Write(data)
		return err
	}
	return writeFileAtomic(out, data, 0o644, true)
}

// namedCA finds a CA by name, or the default CA when name is "".
func namedCA(ctx context.Context, auth *ca.Authority, name string) (*inventory.CA, error) {
	c, err := auth.Named(ctx, name)
	switch {
	case !errors.Is(err, inventory.ErrNotFound):
		return c, err
	case name == "":
		return nil, errors.New("there is no default CA yet: \"certkeeper serve\" creates one at first start")
	}
	return nil, fmt.Errorf("no CA named %q", name)
}

// crlSettings resolves the CRL validity and refresh interval: a flag
// (non-zero) wins over CERTKEEPER_CRL_VALIDITY / CERTKEEPER_CRL_REFRESH,
// which win over the defaults (zero, resolved by revocation.New).
func crlSettings(getenv func(string) string, validity, refresh time.Duration) (time.Duration, time.Duration, error) {
	var err error
	if validity == 0 {
		if validity, err = envDuration(getenv, "CERTKEEPER_CRL_VALIDITY"); err != nil {
			return 0, 0, err
		}
	}
	if refresh == 0 {
		if refresh, err = envDuration(getenv, "CERTKEEPER_CRL_REFRESH"); err != nil {
			return 0, 0, err
		}
	}
	return validity, refresh, nil
}

func envDuration(getenv func(string) string, name string) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 24h", name, v)
	}
	return d, nil
}
