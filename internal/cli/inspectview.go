package cli

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/trust"
)

// inspectView is the stable JSON shape of "inspect --json".
type inspectView struct {
	Source         string        `json:"source"`
	Kind           string        `json:"kind"`
	TLS            *tlsView      `json:"tls,omitempty"`
	Certificates   []certView    `json:"certificates"`
	Key            *keyView      `json:"key"`
	Findings       []trust.Code  `json:"findings"`
	FindingDetails []findingView `json:"finding_details"`
}

type tlsView struct {
	ServerName  string `json:"server_name"`
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	StartTLS    string `json:"starttls,omitempty"`
}

type certView struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"`
	SHA256             string    `json:"sha256"`
	SHA1               string    `json:"sha1"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DaysLeft           int       `json:"days_left"`
	SANs               []string  `json:"sans"`
	IsCA               bool      `json:"is_ca"`
	SelfSigned         bool      `json:"self_signed"`
	KeyType            string    `json:"key_type"`
	KeyBits            int       `json:"key_bits"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	InChain            bool      `json:"in_chain"`
}

type keyView struct {
	Type        string `json:"type"`
	Bits        int    `json:"bits"`
	MatchesLeaf bool   `json:"matches_leaf"`
}

type findingView struct {
	Code    trust.Code `json:"code"`
	Message string     `json:"message"`
}

func newInspectView(source, kind string, now time.Time, chain, others []*x509.Certificate) *inspectView {
	v := &inspectView{Source: source, Kind: kind, Certificates: []certView{},
		Findings: []trust.Code{}, FindingDetails: []findingView{}}
	for i, c := range append(append([]*x509.Certificate{}, chain...), others...) {
		v.Certificates = append(v.Certificates, newCertView(c, now, i < len(chain)))
	}
	return v
}

func newCertView(c *x509.Certificate, now time.Time, inChain bool) certView {
	r := inventory.NewCertificate(c, "")
	return certView{
		Subject: r.Subject, Issuer: r.Issuer, Serial: r.Serial, SHA256: r.SHA256, SHA1: r.SHA1,
		NotBefore: r.NotBefore, NotAfter: r.NotAfter, DaysLeft: daysLeft(now, r.NotAfter),
		SANs: r.SANs, IsCA: r.IsCA, SelfSigned: r.SelfSigned, KeyType: string(r.KeyAlgorithm),
		KeyBits: r.KeyBits, SignatureAlgorithm: r.SignatureAlgorithm, InChain: inChain,
	}
}

func (v *inspectView) setKey(b *format.Bundle) {
	if b.Key == nil {
		return
	}
	alg, bits := inventory.PublicKeyInfo(b.Key.Public())
	v.Key = &keyView{Type: string(alg), Bits: bits, MatchesLeaf: b.KeyMatchesLeaf}
}

func (v *inspectView) setFindings(fs []trust.Finding) {
	v.Findings = append(v.Findings, trust.Codes(fs)...)
	for _, f := range fs {
		v.FindingDetails = append(v.FindingDetails, findingView{Code: f.Code, Message: f.Message})
	}
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (v *inspectView) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s (%s)\n", v.Source, v.Kind)
	if v.TLS != nil {
		fmt.Fprintf(w, "  Connection:  %s, %s, server name %q", v.TLS.Version, v.TLS.CipherSuite, v.TLS.ServerName)
		if v.TLS.StartTLS != "" {
			fmt.Fprintf(w, ", after %s STARTTLS", v.TLS.StartTLS)
		}
		fmt.Fprintln(w)
	}
	for i, c := range v.Certificates {
		writeCertText(w, i, c)
	}
	switch {
	case v.Key == nil:
		fmt.Fprintln(w, "  Private key: none")
	case len(v.Certificates) == 0:
		fmt.Fprintf(w, "  Private key: %s %d (no certificate in the input)\n", v.Key.Type, v.Key.Bits)
	case v.Key.MatchesLeaf:
		fmt.Fprintf(w, "  Private key: %s %d, matches the leaf certificate\n", v.Key.Type, v.Key.Bits)
	default:
		fmt.Fprintf(w, "  Private key: %s %d, DOES NOT match the leaf certificate\n", v.Key.Type, v.Key.Bits)
	}
	if len(v.FindingDetails) == 0 {
		fmt.Fprintln(w, "  Findings:    none")
		return
	}
	fmt.Fprintln(w, "  Findings:")
	for _, f := range v.FindingDetails {
		fmt.Fprintf(w, "    %-18s %s\n", f.Code, f.Message)
	}
}

func writeCertText(w io.Writer, i int, c certView) {
	role := "not in the chain"
	switch {
	case !c.InChain:
	case i == 0:
		role = "leaf"
	case c.SelfSigned:
		role = "root"
	default:
		role = "intermediate"
	}
	fmt.Fprintf(w, "  Certificate %d (%s)\n", i+1, role)
	fmt.Fprintf(w, "    Subject:   %s\n    Issuer:    %s\n", c.Subject, c.Issuer)
	if len(c.SANs) > 0 {
		fmt.Fprintf(w, "    Names:     %s\n", strings.Join(c.SANs, ", "))
	}
	fmt.Fprintf(w, "    Valid:     %s to %s (%s)\n", c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), daysText(c.DaysLeft))
	fmt.Fprintf(w, "    Key:       %s %d, signed with %s\n", c.KeyType, c.KeyBits, c.SignatureAlgorithm)
	fmt.Fprintf(w, "    Serial:    %s\n    SHA-256:   %s\n    SHA-1:     %s\n", c.Serial, colonHex(c.SHA256), colonHex(c.SHA1))
}

func daysText(d int) string {
	switch {
	case d < 0:
		return fmt.Sprintf("expired %d days ago", -d)
	case d == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", d)
}
