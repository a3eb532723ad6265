package engine_test

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/kit"
)

// The Tomcat presets' instructions name the key alias the key store
// really has, and none when it has none: Tomcat refuses a
// certificateKeyAlias that names no key entry (see TestDeployTomcatPresets
// in cmd/certkeeper for the real server).
func TestTomcatInstructionsNameTheKeyStoreAlias(t *testing.T) {
	ca := newEngCA(t)
	leaf, key := ca.leaf(t, engSiteName)
	m := kit.Material{Leaf: leaf, Chain: []*x509.Certificate{ca.cert}, Key: key, Password: "changeit"}
	for _, name := range []string{"tomcat-pkcs12", "tomcat-jks"} {
		pr, err := engine.FindPreset(engine.Builtin(), name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := kit.Render(pr.Layout, m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := format.Decode(out[0].Data, []byte(m.Password))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		named := strings.Contains(pr.Instructions, `certificateKeyAlias="`)
		switch {
		case b.Alias == "" && named:
			t.Errorf("%s: the instructions name a certificateKeyAlias, but the key entry has no alias", name)
		case b.Alias != "" && !strings.Contains(pr.Instructions, `certificateKeyAlias="`+b.Alias+`"`):
			t.Errorf("%s: the key entry's alias is %q; the instructions do not name it:\n%s", name, b.Alias, pr.Instructions)
		}
	}
}
