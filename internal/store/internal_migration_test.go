package store

import (
	"context"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestInternalMigrationMarksOwnCertificates checks that 0017 marks the
// certificates stored before it by certkeeper's own issuers (recognised by
// their labels) as internal, and nothing else.
func TestInternalMigrationMarksOwnCertificates(t *testing.T) {
	onEmptyDatabases(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		all := migrateBefore(t, d, 17)
		ca := &inventory.Certificate{Subject: "CN=Old CA"}
		labels := map[string][]string{
			"web":       {"certkeeper-web"},
			"endpoint":  {"certkeeper-agent-endpoint"},
			"agent":     {"certkeeper-agent", "site-a"},
			"ocsp":      {"ocsp-responder:ca-3"},
			"user":      {"prod"},
			"lookalike": {"certkeeper-webby", "ocsp-responder"},
			"none":      nil,
		}
		ids := make(map[string]int64)
		i := 0
		for name, l := range labels {
			c := fakeCertificate(100+i, ca, time.Now().Add(40*24*time.Hour))
			c.Labels = l
			ids[name] = insertOldCertificate(t, d, c)
			i++
		}
		if err := d.apply(ctx, all); err != nil {
			t.Fatal(err)
		}
		for name, id := range ids {
			c, err := d.GetCertificate(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := name == "web" || name == "endpoint" || name == "agent" || name == "ocsp"
			if c.Internal != want {
				t.Errorf("%s (labels %v): Internal = %v, want %v", name, labels[name], c.Internal, want)
			}
		}
	})
}
