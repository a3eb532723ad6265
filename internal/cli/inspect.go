package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/importer"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
	"github.com/certkeeper/certkeeper/internal/trust"
)

type inspectOptions struct {
	password    secretFlag
	json        bool
	serverName  string
	caFile      string
	timeout     time.Duration
	expiresSoon string
	noFetch     bool
	startTLS    string
}

func (a *app) inspectCommand() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [flags] FILE... | HOST:PORT",
		Short: "Show what a file holds or what a TLS server serves, with findings",
		Long: "inspect reads certificate and key files in any format (PEM, DER, PKCS#7, PKCS#12, JKS)\n" +
			"or connects to HOST:PORT, and prints each certificate, the private key, and findings:\n" +
			"expired, not_yet_valid, expires_soon, self_signed, untrusted_root, hostname_mismatch,\n" +
			"incomplete_chain, weak_key, weak_signature. With --json, one JSON object per input.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runInspect(cmd, args, &o)
		},
	}
	o.password.bind(cmd, "password", "password of encrypted files")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON (one object per input)")
	cmd.Flags().StringVar(&o.serverName, "servername", "", "SNI name to send and check (default: the host)")
	cmd.Flags().StringVar(&o.caFile, "ca-file", "", "trust these CA certificates instead of the system roots (any format)")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 10*time.Second, "connect and handshake timeout")
	cmd.Flags().StringVar(&o.expiresSoon, "expires-soon", "30d", "report expires_soon below this many days")
	cmd.Flags().StringVar(&o.startTLS, "starttls", "", startTLSUsage)
	cmd.Flags().BoolVar(&o.noFetch, "no-fetch", false, "never fetch missing intermediates from the AIA URL of a certificate")
	return cmd
}

func (a *app) runInspect(cmd *cobra.Command, args []string, o *inspectOptions) error {
	policy, err := a.trustPolicy(o)
	if err != nil {
		return err
	}
	password, err := o.password.bytes(cmd)
	if err != nil {
		return err
	}
	views := make([]*inspectView, 0, len(args))
	for _, arg := range args {
		v, err := a.inspectOne(cmd.Context(), arg, password, policy, o)
		if err != nil {
			return err
		}
		views = append(views, v)
	}
	for _, v := range views {
		if o.json {
			if err := writeJSON(a.env.Stdout, v); err != nil {
				return err
			}
			continue
		}
		v.writeText(a.env.Stdout)
	}
	return nil
}

func (a *app) inspectOne(ctx context.Context, arg string, password []byte, p *trust.Policy, o *inspectOptions) (*inspectView, error) {
	if _, err := os.Stat(arg); err == nil || !isHostPort(arg) {
		return a.inspectFile(ctx, arg, password, p)
	}
	if !o.noFetch {
		p.FetchIssuer = fetchIssuer
	}
	return a.inspectEndpoint(ctx, arg, p, o)
}

func (a *app) inspectFile(ctx context.Context, name string, password []byte, p *trust.Policy) (*inspectView, error) {
	data, err := importer.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b, err := format.Decode(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v := newInspectView(name, string(b.Kind), a.env.Now(), b.Chain, b.Others)
	v.setKey(b)
	v.setFindings(p.Judge(ctx, b.Chain, ""))
	return v, nil
}

func (a *app) inspectEndpoint(ctx context.Context, addr string, p *trust.Policy, o *inspectOptions) (*inspectView, error) {
	startTLS, err := probe.ParseStartTLS(o.startTLS)
	if err != nil {
		return nil, fmt.Errorf("--starttls: %w", err)
	}
	res, err := probe.TLS(ctx, addr, probe.Options{ServerName: o.serverName, Timeout: o.timeout, StartTLS: startTLS})
	if err != nil {
		return nil, err
	}
	v := newInspectView(addr, "tls", a.env.Now(), res.Chain, nil)
	v.TLS = &tlsView{ServerName: res.ServerName, Version: res.Version, CipherSuite: res.CipherSuite, StartTLS: string(res.StartTLS)}
	v.setFindings(p.Judge(ctx, res.Chain, res.ServerName))
	return v, nil
}

func (a *app) trustPolicy(o *inspectOptions) (*trust.Policy, error) {
	soon, err := parseDays(o.expiresSoon)
	if err != nil {
		return nil, fmt.Errorf("--expires-soon: %w", err)
	}
	p := &trust.Policy{ExpiresSoon: soon, Now: a.env.Now}
	if o.caFile == "" {
		return p, nil
	}
	data, err := importer.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	b, err := format.Decode(data, nil)
	if err != nil {
		return nil, fmt.Errorf("--ca-file %s: %w", o.caFile, err)
	}
	p.Roots, p.Intermediates = x509.NewCertPool(), x509.NewCertPool()
	for _, c := range append(append([]*x509.Certificate{}, b.Chain...), b.Others...) {
		if inventory.IsSelfSigned(c) {
			p.Roots.AddCert(c)
		} else {
			p.Intermediates.AddCert(c)
		}
	}
	return p, nil
}

func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536
}

// fetchIssuer downloads an issuer certificate from an AIA caIssuers URL
// (RFC 5280, section 4.2.2.1), at most 1 MiB, within 5 seconds.
func fetchIssuer(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, errors.New("caIssuers URL is not http or https")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("caIssuers URL answered %s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// startTLSUsage documents --starttls for inspect and check.
const startTLSUsage = "upgrade a plain-text protocol first: smtp, imap, pop3, ftp, ldap, xmpp, postgres, mysql,\n" +
	"or auto (by port: 25/587 smtp, 143 imap, 110 pop3, 21 ftp, 389 ldap, 5222 xmpp, 5432 postgres, 3306 mysql)"
