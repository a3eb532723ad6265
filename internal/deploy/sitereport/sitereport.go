// Package sitereport reads and writes site reports: what a TLS server
// presented, recorded on site by `certkeeper check --report FILE
// HOST:PORT` where the manager cannot connect. The manager reads a report
// as hostile input (Parse) and judges it as a check of its own
// (Report.Evaluate, with check.Evaluate).
package sitereport

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode"

	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
)

// Site report limits: a report file is uploaded by anyone who can reach
// the manager's upload form, so it is read as hostile input.
const (
	// Format marks a site report file.
	Format = "certkeeper-site-report"
	// Version is the only version written and read.
	Version = 1
	// MaxSize bounds a report file.
	MaxSize = 1 << 20
	// MaxCerts bounds the served chain of a report.
	MaxCerts = 20
	// maxReportField bounds each text field of a report.
	maxReportField = 1024
)

// Report is a check made on site by `certkeeper check --report FILE
// HOST:PORT`: what the server presented, recorded where certkeeper cannot
// connect from the manager. Its file is the indented JSON of this struct.
type Report struct {
	// Format is Format; Version is Version.
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Tool is "certkeeper VERSION" of the program that made the report;
	// "" when unknown.
	Tool string `json:"tool,omitempty"`
	// Time is when the server was probed (UTC).
	Time time.Time `json:"time"`
	// Address is the host:port probed; ServerName the SNI sent or the IP
	// literal probed.
	Address    string `json:"address"`
	ServerName string `json:"server_name,omitempty"`
	// Protocol and CipherSuite are what the handshake negotiated.
	Protocol    string `json:"protocol,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
	// Chain is the DER of the served certificates, in served order (base64
	// in the file).
	Chain [][]byte `json:"chain,omitempty"`
	// Error is why the server could not be observed (one line); then Chain
	// is empty.
	Error string `json:"error,omitempty"`
}

// Make probes addr with o and records what was served at now. A
// failed probe still gives a report, with Error set, returned along with
// the probe's error.
func Make(ctx context.Context, addr string, o probe.Options, now time.Time) (*Report, error) {
	r := &Report{Format: Format, Version: Version, Time: now.UTC(), Address: addr,
		ServerName: reportServerName(addr, o.ServerName)}
	res, err := probe.TLS(ctx, addr, o)
	if err != nil {
		r.Error = engine.OneLine(err.Error())
		return r, err
	}
	r.ServerName, r.Protocol, r.CipherSuite = res.ServerName, res.Version, res.CipherSuite
	for _, c := range res.Chain {
		r.Chain = append(r.Chain, c.Raw)
	}
	return r, nil
}

// reportServerName is the name a probe of addr checks: serverName, else
// the host part of addr.
func reportServerName(addr, serverName string) string {
	if serverName != "" {
		return serverName
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return ""
}

// Marshal encodes the report file: indented JSON, ending with a newline.
func (r *Report) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("deploy: report: %w", err)
	}
	return append(data, '\n'), nil
}

// Parse reads a report file. It refuses files over
// MaxSize, another format or version, more than
// MaxCerts certificates, a certificate that does not parse, and
// text fields that are long or hold control characters.
func Parse(data []byte) (*Report, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("deploy: report: file of %d bytes exceeds the limit of %d", len(data), MaxSize)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("deploy: report: not a certkeeper site report: %s", engine.OneLine(err.Error()))
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	if _, err := r.certificates(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Report) validate() error {
	switch {
	case r.Format != Format:
		return fmt.Errorf("deploy: report: format %q is not %q", clipText(r.Format), Format)
	case r.Version != Version:
		return fmt.Errorf("deploy: report: unknown version %d (this certkeeper reads version %d)", r.Version, Version)
	case r.Time.IsZero():
		return errors.New("deploy: report: no time")
	case r.Address == "":
		return errors.New("deploy: report: no address")
	case len(r.Chain) > MaxCerts:
		return fmt.Errorf("deploy: report: %d certificates exceed the limit of %d", len(r.Chain), MaxCerts)
	case len(r.Chain) == 0 && r.Error == "":
		return errors.New("deploy: report: neither a served chain nor an error")
	case len(r.Chain) > 0 && r.Error != "":
		return errors.New("deploy: report: both a served chain and an error")
	}
	return r.validateText()
}

func (r *Report) validateText() error {
	fields := []struct{ name, value string }{{"tool", r.Tool}, {"address", r.Address}, {"server_name", r.ServerName},
		{"protocol", r.Protocol}, {"cipher_suite", r.CipherSuite}, {"error", r.Error}}
	for _, f := range fields {
		if len(f.value) > maxReportField {
			return fmt.Errorf("deploy: report: field %s is longer than %d bytes", f.name, maxReportField)
		}
		if strings.ContainsFunc(f.value, unicode.IsControl) {
			return fmt.Errorf("deploy: report: field %s holds control characters", f.name)
		}
	}
	return nil
}

// clipText shortens s for an error message.
func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (r *Report) certificates() ([]*x509.Certificate, error) {
	certs := make([]*x509.Certificate, 0, len(r.Chain))
	for i, der := range r.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("deploy: report: certificate %d: %s", i+1, engine.OneLine(err.Error()))
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// Evaluate judges the report against want as check.Evaluate does. The result's
// Time is the report's; validity and trust are judged at now (when the
// report is accepted), so a certificate expired since the report fails.
func (r *Report) Evaluate(want engine.Want, now time.Time) *inventory.CheckResult {
	res := r.evaluate(want, now)
	res.Time, res.Source, res.Address = r.Time, check.SourceReport, r.Address
	res.Protocol, res.CipherSuite = r.Protocol, r.CipherSuite
	return res
}

func (r *Report) evaluate(want engine.Want, now time.Time) *inventory.CheckResult {
	if r.Error != "" {
		return check.Unobserved(r.Address, r.ServerName, r.Error, want, now)
	}
	certs, err := r.certificates()
	if err != nil {
		return check.Unobserved(r.Address, r.ServerName, err.Error(), want, now)
	}
	return check.Evaluate(certs, r.ServerName, want, now)
}

// MakeServing is Make for a server that was just reloaded: it may still
// answer a connection or two with its old certificate, so while the
// report does not show the leaf with SHA-256 expected it is made again
// every interval, for up to settle. It returns the last report (nil only
// when ctx ended before any) and the last probe's error.
func MakeServing(ctx context.Context, addr string, o probe.Options, expected string, settle, interval time.Duration,
	now func() time.Time) (*Report, error) {
	deadline := time.Now().Add(settle)
	for {
		r, err := Make(ctx, addr, o, now())
		if r.Shows(expected) || !time.Now().Add(interval).Before(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, err
		case <-time.After(interval):
		}
	}
}

// Shows reports whether r saw the leaf with SHA-256 (hex) expected.
func (r *Report) Shows(expected string) bool {
	return len(r.Chain) > 0 && strings.EqualFold(inventory.SHA256Hex(r.Chain[0]), expected)
}
