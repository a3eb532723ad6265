package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// authority returns the CA service of the local inventory's stack.
func (a *app) authority(ctx context.Context) (*ca.Authority, error) {
	s, err := a.stack(ctx)
	if err != nil {
		return nil, err
	}
	return s.Authority, nil
}

func (a *app) caAuthorityCommands() []*cobra.Command {
	return []*cobra.Command{
		a.caInitCommand(), a.caListCommand(), a.caImportCommand(), a.caActivateCommand(),
		a.caDefaultCommand(), a.caIssueCommand(), a.caSignCommand(), a.caBatchIssueCommand(),
	}
}

// policyFlags are the name-policy flags of init and import.
type policyFlags struct{ dns, ips []string }

func (p *policyFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&p.dns, "permit-dns", nil, "DNS domains the CA may sign for (repeatable; default any)")
	cmd.Flags().StringSliceVar(&p.ips, "permit-ip", nil, "IP ranges (CIDR) the CA may sign for (repeatable; default any)")
}

func (p *policyFlags) policy() inventory.NamePolicy {
	return inventory.NamePolicy{PermittedDNSDomains: p.dns, PermittedIPRanges: p.ips}
}

func (a *app) caInitCommand() *cobra.Command {
	var o ca.InitOptions
	var rootKey, out string
	var pol policyFlags
	cmd := &cobra.Command{
		Use:   "init [--name N] [--root-key ecdsa-p384|rsa-4096] [--org O] | --subordinate --name N --out req.csr",
		Short: "Create a root and an issuing CA, or a subordinate CA's request",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Subordinate && out == "" {
				return errors.New("ca init --subordinate needs --out FILE for the certificate request")
			}
			auth, err := a.authority(cmd.Context())
			if err != nil {
				return err
			}
			o.RootKey, o.Policy, o.Actor = ca.KeySpec(rootKey), pol.policy(), a.actor()
			c, err := auth.Init(cmd.Context(), o)
			if err != nil {
				return err
			}
			if o.Subordinate {
				return a.writeCSR(cmd.Context(), auth, c, out)
			}
			fmt.Fprintf(a.env.Stdout, "created CA %s (root %s-root)%s\n", c.Name, c.Name, defaultMark(c))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "CA name (default ORGANISATION-YYYYMMDD-HHMMSS)")
	f.StringVar(&rootKey, "root-key", "", "root key type: ecdsa-p384 (default) or rsa-4096; with --subordinate the CA key type (default ecdsa-p256)")
	f.StringVar(&o.Organization, "org", "", "subject organisation (default certkeeper)")
	f.BoolVar(&o.Subordinate, "subordinate", false, "create a key and a request for an outside PKI; activate later with \"ca activate\"")
	f.StringVar(&out, "out", "", "with --subordinate: where to write the certificate request (PEM)")
	f.BoolVar(&o.Default, "default", false, "make it the default CA (the first CA is anyway)")
	pol.bind(cmd)
	return cmd
}

func defaultMark(c *inventory.CA) string {
	if c.Default {
		return ", the default CA"
	}
	return ""
}

// writeCSR writes a pending CA's request as PEM.
func (a *app) writeCSR(ctx context.Context, auth *ca.Authority, c *inventory.CA, out string) error {
	data, err := auth.RequestPEM(ctx, c)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(out, data, 0o644, false); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "subordinate CA %s pending: have %s signed, then run \"certkeeper ca activate %s --cert FILE\"\n", c.Name, out, c.Name)
	return nil
}

func (a *app) caListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the certificate authorities",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			auth, err := a.authority(cmd.Context())
			if err != nil {
				return err
			}
			cas, err := auth.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return a.caListJSON(cas)
			}
			w := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tSTATUS\tDEFAULT\tSUBJECT\tEXPIRES")
			for _, l := range cas {
				c := l.CA
				subject, expires := caCertSummary(l)
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Status, yes(c.Default), subject, expires)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// caCertSummary returns a CA certificate's subject and expiry date.
func caCertSummary(l ca.Listed) (string, string) {
	if l.Certificate == nil {
		return "-", "-"
	}
	return l.Certificate.Subject, l.Certificate.NotAfter.Format("2006-01-02")
}

// caJSON is the stable JSON form of "ca list --json".
type caJSON struct {
	ID            int64                `json:"id"`
	Name          string               `json:"name"`
	Status        string               `json:"status"`
	Default       bool                 `json:"default"`
	ParentID      int64                `json:"parent_id,omitempty"`
	CertificateID int64                `json:"certificate_id,omitempty"`
	Subject       string               `json:"subject,omitempty"`
	NotAfter      string               `json:"not_after,omitempty"`
	Policy        inventory.NamePolicy `json:"policy"`
}

func (a *app) caListJSON(cas []ca.Listed) error {
	out := make([]caJSON, 0, len(cas))
	for _, l := range cas {
		c := l.CA
		j := caJSON{ID: c.ID, Name: c.Name, Status: string(c.Status), Default: c.Default, ParentID: c.ParentID,
			CertificateID: c.CertificateID, Policy: c.Policy}
		if c.CertificateID != 0 {
			j.Subject, j.NotAfter = caCertSummary(l)
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(a.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func (a *app) caImportCommand() *cobra.Command {
	var certFile, keyFile, name string
	var password secretFlag
	var pol policyFlags
	var def bool
	cmd := &cobra.Command{
		Use:   "import --cert ca.crt --key ca.key | import FILE.pfx --password-file F",
		Short: "Import an existing CA certificate and its private key",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := password.bytes(cmd)
			if err != nil {
				return err
			}
			o, err := importInputs(args, certFile, keyFile, pw)
			if err != nil {
				return err
			}
			auth, err := a.authority(cmd.Context())
			if err != nil {
				return err
			}
			o.Name, o.Policy, o.Default, o.Actor = name, pol.policy(), def, a.actor()
			c, err := auth.Import(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "imported CA %s%s\n", c.Name, defaultMark(c))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&certFile, "cert", "", "CA certificate file (any format; may hold the chain)")
	f.StringVar(&keyFile, "key", "", "CA private key file")
	f.StringVar(&name, "name", "", "CA name (default the certificate's common name)")
	f.BoolVar(&def, "default", false, "make it the default CA")
	password.bind(cmd, "password", "password of the key or PFX file")
	pol.bind(cmd)
	return cmd
}

// importInputs decodes the CA certificate, chain and key from a PFX
// (args) or a certificate and key file pair.
func importInputs(args []string, certFile, keyFile string, pw []byte) (ca.ImportOptions, error) {
	var o ca.ImportOptions
	files := args
	if len(args) == 0 {
		if certFile == "" || keyFile == "" {
			return o, errors.New("ca import needs --cert and --key, or a PFX file")
		}
		files = []string{certFile, keyFile}
	}
	var certs []*x509.Certificate
	for _, f := range files {
		b, err := decodeFile(f, pw)
		if err != nil {
			return o, err
		}
		certs = append(certs, b.Chain...)
		if b.Key != nil {
			o.Key = b.Key
		}
	}
	if len(certs) == 0 {
		return o, errors.New("ca import: no certificate in the input")
	}
	if o.Key == nil {
		return o, errors.New("ca import: no private key in the input")
	}
	o.Cert, o.Chain = certs[0], certs[1:]
	return o, nil
}

// decodeFile reads and decodes one input file.
func decodeFile(name string, pw []byte) (*format.Bundle, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	b, err := format.Decode(data, pw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

func (a *app) caActivateCommand() *cobra.Command {
	var certFile, chainFile string
	cmd := &cobra.Command{
		Use:   "activate NAME --cert FILE [--chain FILE]",
		Short: "Complete a subordinate CA with the certificate the outside PKI signed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if certFile == "" {
				return errors.New("ca activate needs --cert FILE")
			}
			certs, err := certsOf(certFile)
			if err != nil {
				return err
			}
			var roots []*x509.Certificate
			if chainFile != "" {
				if roots, err = certsOf(chainFile); err != nil {
					return err
				}
			}
			auth, err := a.authority(cmd.Context())
			if err != nil {
				return err
			}
			c, err := auth.Activate(cmd.Context(), args[0], certs, roots, a.actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "activated CA %s%s\n", c.Name, defaultMark(c))
			return nil
		},
	}
	cmd.Flags().StringVar(&certFile, "cert", "", "the signed CA certificate (may hold its chain)")
	cmd.Flags().StringVar(&chainFile, "chain", "", "the outside PKI's chain and root, when not in --cert")
	return cmd
}

func (a *app) caDefaultCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "default NAME",
		Short: "Make a CA the default CA",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			auth, err := a.authority(cmd.Context())
			if err != nil {
				return err
			}
			c, err := auth.SetDefault(cmd.Context(), args[0], a.actor())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "%s is the default CA\n", c.Name)
			return nil
		},
	}
}

// certsOf returns every certificate of a file.
func certsOf(name string) ([]*x509.Certificate, error) {
	b, err := decodeFile(name, nil)
	if err != nil {
		return nil, err
	}
	return append(append([]*x509.Certificate(nil), b.Chain...), b.Others...), nil
}

// issueFlags are shared by issue and sign.
type issueFlags struct {
	caName, profile, keyType, days, cn string
	names                              []string
	ips                                []string
	labels                             []string
	out                                outputOptions
}

func (f *issueFlags) bind(cmd *cobra.Command, withKey bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.caName, "ca", "", "signing CA (default: the default CA)")
	fl.StringVar(&f.profile, "profile", string(ca.TLSServer), "profile: tls-server, tls-client, tls-server-client, sub-ca, ocsp-responder")
	fl.StringVar(&f.days, "days", "", "validity in days (default and maximum per profile; see docs/ca.md)")
	fl.StringVar(&f.cn, "cn", "", "subject common name (default the first name)")
	fl.StringSliceVar(&f.names, "name", nil, "DNS name (repeatable)")
	fl.StringSliceVar(&f.ips, "ip", nil, "IP address (repeatable)")
	fl.StringSliceVar(&f.labels, "label", nil, "label stored with the certificate (repeatable)")
	if withKey {
		fl.StringVar(&f.keyType, "key-type", string(ca.ECDSAP256), "key type: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, ed25519")
	}
	f.out.bind(cmd)
}

// request builds the CA request from the flags.
func (f *issueFlags) request(actor string) (ca.Request, error) {
	r := ca.Request{CA: f.caName, Profile: ca.Profile(f.profile), CommonName: f.cn, DNSNames: f.names,
		KeySpec: ca.KeySpec(f.keyType), Labels: f.labels, Requester: ca.Admin(actor)}
	for _, s := range f.ips {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			return r, fmt.Errorf("--ip %q is not an IP address", s)
		}
		r.IPAddresses = append(r.IPAddresses, ip)
	}
	if f.days != "" {
		d, err := parseDays(f.days)
		if err != nil {
			return r, fmt.Errorf("--days %w", err)
		}
		r.Validity = d
	}
	return r, nil
}

func (a *app) caIssueCommand() *cobra.Command {
	var f issueFlags
	cmd := &cobra.Command{
		Use:   "issue --profile P --name DNS... [--ip IP...] --to FORMAT --out FILE",
		Short: "Generate a key and issue a certificate for it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.issueAndWrite(cmd, &f, nil)
		},
	}
	f.bind(cmd, true)
	return cmd
}

func (a *app) caSignCommand() *cobra.Command {
	var f issueFlags
	cmd := &cobra.Command{
		Use:   "sign CSR --profile P --to FORMAT --out FILE",
		Short: "Sign an outside certificate signing request",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			csr, err := readCSR(args[0])
			if err != nil {
				return err
			}
			return a.issueAndWrite(cmd, &f, csr)
		},
	}
	f.bind(cmd, false)
	return cmd
}

// readCSR reads a PEM or DER certificate request.
func readCSR(name string) (*x509.CertificateRequest, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(data); blk != nil {
		data = blk.Bytes
	}
	csr, err := x509.ParseCertificateRequest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a certificate request: %w", name, err)
	}
	return csr, nil
}

// issueAndWrite issues (or signs csr) and writes the result through the
// format engine.
func (a *app) issueAndWrite(cmd *cobra.Command, f *issueFlags, csr *x509.CertificateRequest) error {
	target, err := format.ParseTarget(f.out.to)
	if err != nil {
		return err
	}
	r, err := f.request(a.actor())
	if err != nil {
		return err
	}
	r.CSR = csr
	auth, err := a.authority(cmd.Context())
	if err != nil {
		return err
	}
	iss, err := auth.Issue(cmd.Context(), r)
	if err != nil {
		return err
	}
	b := &format.Bundle{Chain: append([]*x509.Certificate{iss.Certificate}, iss.Chain...), Key: iss.Key, KeyMatchesLeaf: iss.Key != nil}
	if err := a.writeOutput(cmd, b, target, &f.out); err != nil {
		return fmt.Errorf("certificate %d stored, but writing it failed: %w", iss.Record.ID, err)
	}
	fmt.Fprintf(a.env.Stderr, "issued certificate %d, serial %s, until %s\n", iss.Record.ID, iss.Record.Serial, iss.Record.NotAfter.Format("2006-01-02"))
	return nil
}

// caBatchIssueCommand is a hidden load and crash-test driver: workers
// issue tls-server certificates in a loop and print each serial only after
// Issue returned (so after it was stored).
func (a *app) caBatchIssueCommand() *cobra.Command {
	var workers, count int
	cmd := &cobra.Command{
		Use:    "batch-issue [--workers N] [--count N]",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			auth, err := a.authority(cmd.Context())
			if err != nil {
				return err
			}
			if _, _, err := auth.EnsureDefault(cmd.Context()); err != nil {
				return err
			}
			return a.batchIssue(cmd.Context(), auth, workers, count)
		},
	}
	cmd.Flags().IntVar(&workers, "workers", 8, "concurrent requesters")
	cmd.Flags().IntVar(&count, "count", 0, "certificates per worker (0: until killed)")
	return cmd
}

func (a *app) batchIssue(ctx context.Context, auth *ca.Authority, workers, count int) error {
	var mu sync.Mutex
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := 0; count == 0 || i < count; i++ {
				iss, err := auth.Issue(ctx, ca.Request{Profile: ca.TLSServer, Requester: ca.Admin("batch"),
					DNSNames: []string{fmt.Sprintf("w%d-%d.batch.test", w, i)}})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				fmt.Fprintln(a.env.Stdout, iss.Record.Serial)
				mu.Unlock()
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
