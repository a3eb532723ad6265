package outbound_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// directConnectionFiles may connect without the outbound policy: they
// connect for the operator, from the operator's own machine, to a place
// the operator named, or not over the network at all. Every other
// connection the program makes goes through an outbound.Dialer (a nil one
// where a local command has no policy to apply). Add a file here only
// with its reason, and say so in docs/outbound.md.
var directConnectionFiles = map[string]string{
	"client/client.go":                 "the public API client: the caller chooses its http.Client",
	"internal/agent/host.go":           "the agent on its host enrolling with the manager the operator named",
	"internal/agent/run.go":            "the agent on its host polling the manager it enrolled with",
	"internal/cli/inspect.go":          "certkeeper inspect, run by an operator for themself (AIA caIssuers fetch)",
	"internal/cli/remote.go":           "the command line talking to the certkeeper server given by --server",
	"internal/web/web.go":              "the UI's in-process client of the API: no network",
	"internal/testenv/nginx.go":        "test helper",
	"internal/testenv/sshd.go":         "test helper",
	"internal/testenv/postfix.go":      "test helper",
	"internal/testenv/starttls.go":     "test helper",
	"internal/testenv/tlsfarm.go":      "test helper: the bare handshake loop over the loopback TLS farm the test started",
	"internal/testenv/tlsfarm_test.go": "test and benchmark: handshakes with the loopback TLS farm the test started",
	"internal/stack/watch_test.go":     "end-to-end test: scrapes the metrics listener of the process it started on loopback",
}

// directCalls are the functions and types that open connections outside
// an outbound.Dialer, by import path.
var directCalls = map[string][]string{
	"net":                         {"Dial", "DialTimeout", "DialTCP", "DialIP", "DialUDP", "DialUnix", "Dialer"},
	"net/http":                    {"Client", "DefaultClient", "DefaultTransport", "Transport", "Get", "Post", "Head", "PostForm"},
	"crypto/tls":                  {"Dial", "DialWithDialer", "Dialer"},
	"golang.org/x/crypto/ssh":     {"Dial"},
	"github.com/emersion/go-smtp": {"Dial", "DialTLS", "DialStartTLS"},
	"github.com/wneessen/go-mail": {"NewClient"},
}

// TestNoDirectConnections fails when code outside package outbound and
// the files above uses a dialer, an HTTP client or transport, or a dial
// function of its own: a connection the outbound policy would not see.
// go-mail's client is allowed where its dial function is the outbound
// Dialer's (internal/mail/smtp.go).
func TestNoDirectConnections(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "internal/outbound" || (rel != "." && strings.HasPrefix(d.Name(), ".")) || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || directConnectionFiles[rel] != "" {
			return nil
		}
		for _, hit := range directUses(t, path) {
			if rel == "internal/mail/smtp.go" && hit == "gomail.NewClient" {
				continue
			}
			t.Errorf("%s uses %s: connect through an outbound.Dialer (or list the file, with its reason, in directConnectionFiles)", rel, hit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// directUses lists the direct connection calls and types file uses.
func directUses(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if _, watched := directCalls[path]; !watched {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = path
	}
	var hits []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok || names[x.Name] == "" {
			return true
		}
		for _, name := range directCalls[names[x.Name]] {
			if sel.Sel.Name == name && !typeOnly(f, sel) {
				hits = append(hits, x.Name+"."+name)
			}
		}
		return true
	})
	return hits
}

// typeOnly reports whether sel is only named as a type (a field, a
// parameter, a pointer), which makes no connection: *http.Client in a
// signature is fine, http.Client{...} or var d net.Dialer is not.
func typeOnly(f *ast.File, sel *ast.SelectorExpr) bool {
	only := false
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.StarExpr:
			if n.X == sel {
				only = true
			}
		case *ast.Field:
			if n.Type == sel {
				only = true
			}
		case *ast.TypeAssertExpr:
			if n.Type == sel {
				only = true
			}
		}
		return !only
	})
	return only
}
