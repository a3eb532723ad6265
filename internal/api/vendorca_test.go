package api_test

import (
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// The stand-in vendor CA of the flow tests, played by openssl.
const (
	opensslCAName         = "API Vendor Test"
	opensslRootCN         = opensslCAName + " Root"
	opensslIntermediateCN = opensslCAName + " Issuing CA"
)

func newOpensslCA(t *testing.T) *testenv.OpenSSLCA { return testenv.NewOpenSSLCA(t, opensslCAName) }
