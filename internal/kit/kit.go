// Package kit makes and checks mutual-TLS kits: a server and its clients
// with certificates from one CA, written into named directory layouts
// (the license server's ca.crt, server.crt, server.key, web-server.pem,
// web-ca.cer and its clients' ca.crt, charon.crt, charon.key), and a
// compatibility check of a server/client pair that ends in a real TLS
// handshake and explains every failure in plain words.
package kit

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
)

// Issuer issues certificates with generated keys; *ca.Authority is one.
type Issuer interface {
	Issue(ctx context.Context, r ca.Request) (*ca.Issued, error)
}

// Spec says what kit to make.
type Spec struct {
	// CA names the signing CA; "" means the default CA.
	CA string
	// ServerNames and ServerIPs are the names the server certificate is
	// valid for; at least one is needed unless ClientsOnly.
	ServerNames []string
	ServerIPs   []net.IP
	// ClientsOnly adds clients to an existing kit: no server certificate
	// is issued, and Root, when set, is the kit's root every client must
	// chain to.
	ClientsOnly bool
	Root        *x509.Certificate
	// ServerProfile is ca.TLSServer or ca.TLSServerClient (for servers
	// that also connect to peers); "" means ca.TLSServer.
	ServerProfile ca.Profile
	// Clients names one client certificate each (its common name and
	// directory name). None makes a server-only kit (a server for peers
	// that have their own kits from the same CA).
	Clients []string
	// ServerLayout and ClientLayout shape the directories; a zero Layout
	// means LicenseServer and LicenseClient.
	ServerLayout, ClientLayout Layout
	// Validity of the certificates; 0 means the profile default.
	Validity time.Duration
	// KeySpec is the key type of every certificate; "" means ecdsa-p256.
	KeySpec ca.KeySpec
	// Requester is who asks for the kit; its role's issuance policy
	// applies (see docs/ca.md).
	Requester ca.Requester
}

// Kit is a made kit, not yet written.
type Kit struct {
	Parts []Part
	// Root is the root CA certificate every part chains to.
	Root *x509.Certificate
}

// Part is one directory of a kit.
type Part struct {
	// Dir is "server" or "clients/NAME", relative to the kit directory.
	Dir string
	// Role is "server" or "client"; Name is the client's name.
	Role, Name string
	Layout     string
	Issued     *ca.Issued
	Files      []Output
}

// clientName is what a client name may look like: it becomes a directory.
var clientName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Create issues the server certificate (unless ClientsOnly) and one
// client certificate per client from one CA, and renders every file.
// Nothing is written: see Write. When any issuance fails, Create returns
// the error and no kit.
func Create(ctx context.Context, iss Issuer, s Spec) (*Kit, error) {
	if err := s.normalize(); err != nil {
		return nil, err
	}
	k := &Kit{Root: s.Root}
	if !s.ClientsOnly {
		server, err := issuePart(ctx, iss, s.serverRequest(), "server", "", s.ServerLayout)
		if err != nil {
			return nil, err
		}
		k.Parts, k.Root = []Part{*server}, root(server.Issued)
	}
	for _, name := range s.Clients {
		p, err := issuePart(ctx, iss, s.clientRequest(name), "client", name, s.ClientLayout)
		if err != nil {
			return nil, err
		}
		switch r := root(p.Issued); {
		case k.Root == nil:
			k.Root = r
		case !r.Equal(k.Root):
			return nil, fmt.Errorf("kit: client %s was issued under root %s, the kit's certificates under %s", name, r.Subject, k.Root.Subject)
		}
		k.Parts = append(k.Parts, *p)
	}
	return k, nil
}

func (s *Spec) normalize() error {
	hasServer := len(s.ServerNames) > 0 || len(s.ServerIPs) > 0
	switch {
	case s.ClientsOnly && hasServer:
		return errors.New("kit: adding clients issues no server certificate: leave out --server-name and --server-ip")
	case s.ClientsOnly && len(s.Clients) == 0:
		return errors.New("kit: name the clients to add (--client)")
	case !s.ClientsOnly && !hasServer:
		return errors.New("kit: the server needs at least one name or IP address (--server-name, --server-ip)")
	}
	seen := map[string]bool{}
	for _, c := range s.Clients {
		if !clientName.MatchString(c) {
			return fmt.Errorf("kit: client name %q: use letters, digits, '.', '_' and '-' (it names a directory)", c)
		}
		if seen[c] {
			return fmt.Errorf("kit: client %q is named twice", c)
		}
		seen[c] = true
	}
	switch s.ServerProfile {
	case "":
		s.ServerProfile = ca.TLSServer
	case ca.TLSServer, ca.TLSServerClient:
	default:
		return fmt.Errorf("kit: server profile %q: use %s or %s", s.ServerProfile, ca.TLSServer, ca.TLSServerClient)
	}
	if s.ServerLayout.Name == "" {
		s.ServerLayout = LicenseServer
	}
	if s.ClientLayout.Name == "" {
		s.ClientLayout = LicenseClient
	}
	return nil
}

func (s *Spec) serverRequest() ca.Request {
	return ca.Request{CA: s.CA, Profile: s.ServerProfile, DNSNames: s.ServerNames, IPAddresses: s.ServerIPs,
		Validity: s.Validity, KeySpec: s.KeySpec, Labels: []string{"kit", "kit-server"}, Requester: s.Requester}
}

func (s *Spec) clientRequest(name string) ca.Request {
	return ca.Request{CA: s.CA, Profile: ca.TLSClient, CommonName: name,
		Validity: s.Validity, KeySpec: s.KeySpec, Labels: []string{"kit", "kit-client"}, Requester: s.Requester}
}

func issuePart(ctx context.Context, iss Issuer, r ca.Request, role, name string, l Layout) (*Part, error) {
	what := role
	if name != "" {
		what = "client " + name
	}
	in, err := iss.Issue(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("kit: %s: %w", what, err)
	}
	if in.Key == nil || len(in.Chain) == 0 {
		return nil, fmt.Errorf("kit: %s: the CA returned no key or no chain", what)
	}
	files, err := Render(l, Material{Leaf: in.Certificate, Chain: in.Chain, Key: in.Key})
	if err != nil {
		return nil, err
	}
	dir := "server"
	if role == "client" {
		dir = "clients/" + name
	}
	return &Part{Dir: dir, Role: role, Name: name, Layout: l.Name, Issued: in, Files: files}, nil
}

func root(in *ca.Issued) *x509.Certificate { return in.Chain[len(in.Chain)-1] }

// paths lists the files of k under dir.
func (k *Kit) paths(dir string) []string {
	var out []string
	for _, p := range k.Parts {
		for _, f := range p.Files {
			out = append(out, filepath.Join(dir, filepath.FromSlash(p.Dir), filepath.FromSlash(f.Path)))
		}
	}
	return out
}
