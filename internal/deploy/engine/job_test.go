package engine_test

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestJobWant(t *testing.T) {
	p := deploytest.NewPKI(t, "Job")
	leaf := p.Good(t)
	sum := inventory.SHA256Hex(leaf.Cert.Raw)
	w, err := engine.Job{ExpectedSHA256: strings.ToUpper(sum), Chain: deploytest.CertsPEM(p.Inter, p.Root), Roots: deploytest.CertsPEM(p.Root)}.Want()
	if err != nil {
		t.Fatal(err)
	}
	if w.Leaf != nil || w.ExpectedSHA256 != sum {
		t.Errorf("Leaf %v, ExpectedSHA256 %q: want nil and %q", w.Leaf, w.ExpectedSHA256, sum)
	}
	if len(w.Intermediates) != 1 || !w.Intermediates[0].Equal(p.Inter.Cert) {
		t.Errorf("Intermediates = %d certificates, want the intermediate alone", len(w.Intermediates))
	}
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: w.Roots, Intermediates: deploytest.CertPool(w.Intermediates...)}); err != nil {
		t.Errorf("the job's root is not among Roots: %v", err)
	}
	if r := check.Evaluate([]*x509.Certificate{leaf.Cert, p.Inter.Cert}, deploytest.Name, w, time.Now()); !r.Passed {
		t.Errorf("Evaluate with the job's engine.Want: problems %q, want passed", r.Problems)
	}
}

// TestJobWantTrustsOnlyItsRoots: a self-signed certificate of the chain
// is not trusted because it is there; only the job's Roots are.
func TestJobWantTrustsOnlyItsRoots(t *testing.T) {
	p := deploytest.NewPKI(t, "JobTrust")
	leaf := p.Good(t)
	served := []*x509.Certificate{leaf.Cert, p.Inter.Cert}
	for _, tc := range []struct {
		name string
		job  engine.Job
	}{
		{"root in the chain only", engine.Job{Chain: deploytest.CertsPEM(p.Inter, p.Root)}},
		{"root in the chain, no system roots", engine.Job{Chain: deploytest.CertsPEM(p.Inter, p.Root), NoSystemRoots: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.job.Want()
			if err != nil {
				t.Fatal(err)
			}
			r := check.Evaluate(served, deploytest.Name, w, time.Now())
			if r.Passed || r.ChainVerifies {
				t.Errorf("Evaluate: passed %t, chain verifies %t; want the chain untrusted", r.Passed, r.ChainVerifies)
			}
		})
	}
}

func TestJobWantErrors(t *testing.T) {
	p := deploytest.NewPKI(t, "JobErr")
	sum := inventory.SHA256Hex(p.Root.Cert.Raw)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	badCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})
	tests := []struct {
		name string
		job  engine.Job
		want string
	}{
		{"short hash", engine.Job{ExpectedSHA256: "abcd"}, "64 hex"},
		{"not hex", engine.Job{ExpectedSHA256: strings.Repeat("zz", 32)}, "64 hex"},
		{"key in chain", engine.Job{ExpectedSHA256: sum, Chain: append(deploytest.CertsPEM(p.Inter), keyPEM...)}, `"PRIVATE KEY"`},
		{"bad certificate", engine.Job{ExpectedSHA256: sum, Chain: badCert}, "certificate 1"},
		{"garbage", engine.Job{ExpectedSHA256: sum, Chain: []byte("not pem at all")}, "not PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.job.Want()
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tt.want)
			}
		})
	}
	if _, err := (engine.Job{}).Want(); err != nil {
		t.Errorf("empty job: %v, want no error", err)
	}
}
