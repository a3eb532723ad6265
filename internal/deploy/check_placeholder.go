package deploy

// PLACEHOLDER: replaced by check.go, sitereport.go, package.go, conventional.go.

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
)

// Check probes spec and judges what is served against want.
func Check(ctx context.Context, spec inventory.CheckSpec, want Want, o CheckOptions) *inventory.CheckResult {
	panic("not implemented")
}

// Evaluate judges a served chain against want.
func Evaluate(served []*x509.Certificate, serverName string, want Want, now time.Time) *inventory.CheckResult {
	panic("not implemented")
}

// Want turns the job's expectations into a Want.
func (j Job) Want() (Want, error) { panic("not implemented") }

// SiteReport is a check made on site by `certkeeper check --report`.
type SiteReport struct{}

// MakeSiteReport probes addr and records what was served.
func MakeSiteReport(ctx context.Context, addr string, o probe.Options, now time.Time) (*SiteReport, error) {
	panic("not implemented")
}

// Marshal encodes the report file.
func (r *SiteReport) Marshal() ([]byte, error) { panic("not implemented") }

// ParseSiteReport reads a report file.
func ParseSiteReport(data []byte) (*SiteReport, error) { panic("not implemented") }

// Evaluate judges the report against want.
func (r *SiteReport) Evaluate(want Want, now time.Time) *inventory.CheckResult {
	panic("not implemented")
}

// ErrWrongPassword: the package does not open with that password (or was altered).
var ErrWrongPassword = errors.New("deploy: package: wrong password or damaged file")

// Package is what a one-click package holds.
type Package struct {
	Created      time.Time
	Target       string
	Preset       string
	Certificate  string
	Instructions string
	Job          Job
}

// SealPackage encrypts p under password.
func SealPackage(p *Package, password string) ([]byte, error) { panic("not implemented") }

// OpenPackage decrypts and verifies a package.
func OpenPackage(data []byte, password string) (*Package, error) { panic("not implemented") }

// WriteConventional writes the conventional zip.
func WriteConventional(w io.Writer, pr Preset, p Plan, title string) error { panic("not implemented") }
