package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
)

// Files an enrolled agent keeps in its directory.
const (
	// CAFile is the CA certificate the endpoint is trusted by (the pinned
	// one).
	CAFile = "ca.crt"
	// CertFile is the agent's client certificate with its chain; KeyFile
	// its private key (mode 0600).
	CertFile = "agent.crt"
	KeyFile  = "agent.key"
	// StateFile is the endpoint's URL and the agent's name (State).
	StateFile = "agent.json"
)

// EnrollConfig is how an agent enrolls.
type EnrollConfig struct {
	// Server is the endpoint's base URL, https://HOST:PORT.
	Server string
	Token  string
	// CAPin is "sha256:HEX" from the token: the endpoint must present a
	// certificate with this public key that its leaf chains up to.
	CAPin string
	// Name is the agent's name; "" means the one the token was made for.
	Name string
	// Dir receives the agent's files; it is created (mode 0700) when
	// missing.
	Dir string
	// Timeout bounds the enrollment; 0 means 30 seconds.
	Timeout time.Duration
	// AllowPresets and AllowCommands start the agent's allow lists of
	// test and reload commands (State); none means jobs may run no
	// command.
	AllowPresets  []string
	AllowCommands []string
	// AllowDirs starts allowed_directories (absolute paths).
	AllowDirs []string
}

// Enroll makes a P-256 key and a certificate request, has the endpoint
// certify it with the token, and writes the agent's files into c.Dir.
func Enroll(ctx context.Context, c EnrollConfig) (*State, error) {
	pin, err := ParsePin(c.CAPin)
	if err != nil {
		return nil, err
	}
	base, err := endpointURL(c.Server)
	if err != nil {
		return nil, err
	}
	if c.Name != "" {
		if err := ValidName(c.Name); err != nil {
			return nil, err
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	st := &State{AllowedPresets: c.AllowPresets, AllowedCommands: c.AllowCommands, AllowedDirectories: c.AllowDirs}
	if err := st.checkAllowed(); err != nil {
		return nil, fmt.Errorf("agent: enroll: %w", err)
	}
	key, csr, err := newKeyAndCSR(c.Name)
	if err != nil {
		return nil, err
	}
	var anchor *x509.Certificate
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The endpoint is verified against the pinned CA below, not
		// against the system roots.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			var err error
			anchor, err = verifyPinned(cs.PeerCertificates, pin, base.Hostname())
			st.ManagerKeyPin = leafPin(cs.PeerCertificates)
			return err
		},
	}
	hc := &http.Client{Timeout: c.Timeout, Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	var out EnrollResponse
	in := EnrollRequest{Token: c.Token, Name: c.Name, CSR: string(csr)}
	if err := call(ctx, hc, "POST", base.JoinPath("agent/v1/enroll").String(), in, &out); err != nil {
		return nil, fmt.Errorf("agent: enroll: %w", err)
	}
	st.Server, st.Name = base.String(), out.Name
	if err := writeEnrolled(c.Dir, st, key, &out, anchor); err != nil {
		return nil, err
	}
	return st, nil
}

// endpointURL checks an https:// base URL without query or fragment.
func endpointURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("agent: server %q: want https://HOST:PORT of the manager's agent endpoint", s)
	}
	u.Path = ""
	return u, nil
}

// verifyPinned checks a presented chain: one of its certificates has the
// pinned public key, and the leaf verifies up to that certificate for
// host. It returns the pinned certificate.
func verifyPinned(certs []*x509.Certificate, pin, host string) (*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, errors.New("the endpoint presented no certificate")
	}
	var anchor *x509.Certificate
	inter := x509.NewCertPool()
	for _, c := range certs {
		if anchor == nil && SPKIPin(c) == pin {
			anchor = c
		} else {
			inter.AddCert(c)
		}
	}
	if anchor == nil {
		return nil, fmt.Errorf("no certificate the endpoint presented has the pinned CA key %s: wrong server, or the token's pin is for other certificates", pin)
	}
	roots := x509.NewCertPool()
	roots.AddCert(anchor)
	_, err := certs[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return nil, fmt.Errorf("the endpoint's certificate does not verify up to the pinned CA: %w", err)
	}
	return anchor, nil
}

func newKeyAndCSR(name string) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// writeEnrolled checks the certificate received and writes the agent's
// files; the state file, written last, marks a complete enrollment.
func writeEnrolled(dir string, st *State, key *ecdsa.PrivateKey, out *EnrollResponse, anchor *x509.Certificate) error {
	certs, err := parseCerts([]byte(out.Certificate))
	if err != nil {
		return fmt.Errorf("agent: enroll: certificate received: %w", err)
	}
	if !key.PublicKey.Equal(certs[0].PublicKey) {
		return errors.New("agent: enroll: the certificate received is not for this agent's key")
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("agent: directory: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600},
		{CertFile, []byte(out.Certificate + out.Chain), 0o644},
		{CAFile, pemCert(anchor), 0o644},
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("agent: write %s: %w", f.name, err)
		}
	}
	return writeState(dir, st)
}

// call sends in as JSON (none when nil) and decodes the JSON answer into
// out; an error answer becomes an error with its message and status.
func call(ctx context.Context, hc *http.Client, method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return &HTTPError{Status: resp.StatusCode, Message: e.Error, Refusal: e.Refusal}
	}
	return json.Unmarshal(data, out)
}

// HTTPError is an error answer of the endpoint.
type HTTPError struct {
	Status  int
	Message string
	// Refusal is set when the endpoint refused the agent's certificate:
	// one of the Refused constants.
	Refusal string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }
