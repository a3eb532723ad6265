package cli

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/deploy/sitereport"
	"github.com/certkeeper/certkeeper/internal/probe"
)

type checkOptions struct {
	report, sni string
	startTLS    string
	timeout     time.Duration
}

func (a *app) checkCommand() *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check --report FILE HOST[:PORT] [--sni NAME] [--starttls PROTO] [--timeout 10s]",
		Short: "Record on site what a server serves, for a manager that cannot reach it",
		Long: "check connects to HOST:PORT (port 443 by default), records the chain the server\n" +
			"serves in a report file and prints a summary. It needs no data directory: run it on\n" +
			"a machine that reaches the server, then hand the file in on the deployment with\n" +
			"\"certkeeper deployment upload-report ID FILE\" (or in the web UI).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.remote() {
				return errors.New("\"certkeeper check\" runs on site and does not use --server; drop it")
			}
			return a.runCheck(cmd, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.report, "report", "", "report file to write (JSON)")
	f.StringVar(&o.sni, "sni", "", "server name to send (default: the host; none for an IP address)")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "time limit of the connection and handshake")
	f.StringVar(&o.startTLS, "starttls", "", startTLSUsage)
	_ = cmd.MarkFlagRequired("report")
	return cmd
}

func (a *app) runCheck(cmd *cobra.Command, addr string, o *checkOptions) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "443")
	}
	startTLS, err := probe.ParseStartTLS(o.startTLS)
	if err != nil {
		return fmt.Errorf("--starttls: %w", err)
	}
	opts := probe.Options{ServerName: o.sni, Timeout: o.timeout, StartTLS: startTLS}
	r, probeErr := sitereport.Make(cmd.Context(), addr, opts, a.env.Now())
	if r == nil {
		return probeErr
	}
	r.Tool = "certkeeper " + a.env.Version
	data, err := r.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(o.report, data, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if probeErr != nil {
		return fmt.Errorf("%s could not be observed (%v); %s records the failure", addr, probeErr, o.report)
	}
	return writeReportSummary(a.env.Stdout, r, o.report)
}

// writeReportSummary prints what a site report recorded: the served leaf
// and the length of the chain.
func writeReportSummary(w io.Writer, r *sitereport.Report, file string) error {
	if len(r.Chain) == 0 {
		return fmt.Errorf("%s: no certificate served", r.Address)
	}
	leaf, err := x509.ParseCertificate(r.Chain[0])
	if err != nil {
		return fmt.Errorf("%s served a certificate that does not parse: %w", r.Address, err)
	}
	s256, s1 := sha256.Sum256(leaf.Raw), sha1.Sum(leaf.Raw)
	fmt.Fprintf(w, "%s (SNI %s), %s: report written to %s\n", r.Address, orDash(r.ServerName), orDash(r.Protocol), file)
	fmt.Fprintf(w, "  served:    %s\n", leaf.Subject)
	fmt.Fprintf(w, "  SHA-256:   %s\n", colonHex(hex.EncodeToString(s256[:])))
	fmt.Fprintf(w, "  SHA-1:     %s\n", colonHex(hex.EncodeToString(s1[:])))
	fmt.Fprintf(w, "  not after: %s\n", leaf.NotAfter.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  chain:     %d certificate(s) served\n", len(r.Chain))
	return nil
}

// readReportFile reads a site report file through its size limit.
func readReportFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, sitereport.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > sitereport.MaxSize {
		return nil, fmt.Errorf("%s is larger than a site report can be (%d bytes)", name, sitereport.MaxSize)
	}
	return data, nil
}
