package web_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
)

// TestDashboardStuck lets 15 days pass over an open process and wants the
// dashboard to list it with what it waits for, as the API answers it.
func TestDashboardStuck(t *testing.T) {
	var offset atomic.Int64
	s := newSiteWith(t, func(cfg *stack.Config, _ inventory.Store) {
		cfg.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	ctx, c := s.adminAPI()
	cas, err := c.ListCAs(ctx)
	if err != nil || len(cas.Items) == 0 {
		t.Fatalf("ListCAs = %+v, %v", cas, err)
	}
	d, err := c.CreateDefinition(ctx, &client.Definition{Name: "slow", Subject: client.Subject{CommonName: "slow.example.com"},
		SANs: []string{"slow.example.com"}, Renewal: client.Renewal{DaysBefore: 30}, Requirements: client.Requirements{Issuer: cas.Items[0].Name}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(15 * 24 * time.Hour))
	dash, err := c.Dashboard(ctx)
	if err != nil || len(dash.Stuck) != 1 {
		t.Fatalf("Dashboard stuck = %+v, %v; want process %d", dash.Stuck, err, p.ID)
	}
	s.signInOwn("bob").page("/", 200, "Stuck processes", fmt.Sprintf(`href="/acquisitions/%d">#%d</a>`, p.ID, p.ID),
		dash.Stuck[0].Reason)
}
