package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// remoteFlags choose a certkeeper server to work against instead of the
// local data directory.
type remoteFlags struct {
	server    string
	token     string
	tokenFile string
	serverCA  string
}

func (r *remoteFlags) bind(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&r.server, "server", "", "work against this certkeeper server (e.g. https://127.0.0.1:8443, the HTTPS address of \"certkeeper serve\") instead of the local data directory (env CERTKEEPER_SERVER)")
	f.StringVar(&r.token, "token", "", "API token for --server (env CERTKEEPER_TOKEN; better: --token-file)")
	f.StringVar(&r.tokenFile, "token-file", "", "read the API token for --server from the first line of this file")
	f.StringVar(&r.serverCA, "server-ca", "", "PEM file of the CA that issued --server's HTTPS certificate, trusted besides the system roots (env CERTKEEPER_SERVER_CA; default DATA-DIR/certs/"+caFileName+" when present)")
}

// remote reports whether commands go to a server rather than the local
// data directory.
func (a *app) remote() bool {
	return first(a.cfg.remote.server, a.env.Getenv("CERTKEEPER_SERVER")) != ""
}

// client returns the API client the lifecycle commands use: over HTTP to
// --server with a token, or, without --server, in process against the
// local inventory acting as the local administrator (audited as
// "cli:USER"), so both paths run the same code and checks.
func (a *app) client(ctx context.Context) (*client.Client, error) {
	if a.api != nil {
		return a.api, nil
	}
	c, err := a.newClient(ctx)
	if err != nil {
		return nil, err
	}
	a.api = c
	return c, nil
}

func (a *app) newClient(ctx context.Context) (*client.Client, error) {
	ua := client.WithUserAgent("certkeeper-cli/" + a.env.Version)
	if server := first(a.cfg.remote.server, a.env.Getenv("CERTKEEPER_SERVER")); server != "" {
		token, err := a.token()
		if err != nil {
			return nil, err
		}
		hc, err := a.serverHTTPClient()
		if err != nil {
			return nil, err
		}
		return client.New(server, token, ua, client.WithHTTPClient(hc))
	}
	s, err := a.stack(ctx)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: s.LocalAdmin(a.actor())}
	return client.New("http://certkeeper.invalid", "", ua, client.WithHTTPClient(hc))
}

// serverHTTPClient trusts the system roots plus --server-ca, or the local
// data directory's copy of the default CA when there is one.
func (a *app) serverHTTPClient() (*http.Client, error) {
	file := first(a.cfg.remote.serverCA, a.env.Getenv("CERTKEEPER_SERVER_CA"))
	explicit := file != ""
	if !explicit {
		file = filepath.Join(a.cfg.resolvedDataDir(), "certs", caFileName)
	}
	pemBytes, err := os.ReadFile(file)
	if err != nil {
		if explicit {
			return nil, fmt.Errorf("--server-ca: %w", err)
		}
		return &http.Client{Timeout: 5 * time.Minute}, nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--server-ca %s: no PEM certificate in it", file)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}, nil
}

// token returns the API token from --token-file, --token or
// CERTKEEPER_TOKEN.
func (a *app) token() (string, error) {
	r := &a.cfg.remote
	if r.tokenFile != "" {
		b, err := os.ReadFile(r.tokenFile)
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSpace(line), nil
	}
	if t := first(r.token, a.env.Getenv("CERTKEEPER_TOKEN")); t != "" {
		return t, nil
	}
	return "", fmt.Errorf("--server needs an API token: give --token-file FILE, --token or CERTKEEPER_TOKEN (make one with \"certkeeper token create\")")
}

// localCommands work on the local data directory (or on files) only;
// every other command goes through the API client.
var localCommands = map[string]bool{
	"timeline": true, "rekey": true,
	"serve": true, "ca": true, "kit": true,
}

// localOnly refuses, when --server is given, a command that works on the
// local data directory only, rather than let it quietly use local data.
func (a *app) localOnly(cmd *cobra.Command) error {
	top := cmd
	for top.HasParent() && top.Parent().HasParent() {
		top = top.Parent()
	}
	if a.remote() && localCommands[top.Name()] {
		return fmt.Errorf("%q works on the local data directory only; drop --server", cmd.CommandPath())
	}
	return nil
}
