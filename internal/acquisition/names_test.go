package acquisition

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestDifferences(t *testing.T) {
	for _, tc := range []struct {
		name string
		cn   string
		sans []string
		have []string
		want []string
	}{
		{"same", "a.example.test", []string{"a.example.test", "10.0.0.1"}, []string{"a.example.test", "10.0.0.1"}, nil},
		{"common name counts", "a.example.test", []string{"b.example.test"}, []string{"b.example.test"},
			[]string{"missing: a.example.test"}},
		{"free-text common name ignored", "Shop Server", []string{"b.example.test"}, []string{"b.example.test"}, nil},
		{"case and trailing dot", "A.Example.Test.", nil, []string{"a.example.test"}, nil},
		{"IPv6 canonical", "", []string{"2001:DB8:0::1"}, []string{"2001:db8::1"}, nil},
		{"both ways", "", []string{"a.example.test", "b.example.test"}, []string{"a.example.test", "www.example.test"},
			[]string{"missing: b.example.test", "extra: www.example.test"}},
		{"wildcard as written", "", []string{"*.example.test"}, []string{"a.example.test"},
			[]string{"missing: *.example.test", "extra: a.example.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &inventory.Definition{Subject: inventory.Subject{CommonName: tc.cn}, SANs: tc.sans}
			if diff := cmp.Diff(tc.want, differences(wanted(d), tc.have)); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}
