package api_test

import (
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

func TestDashboardStuckSQLite(t *testing.T) { testDashboardStuck(t, openSQLite) }

func TestDashboardStuckPostgres(t *testing.T) {
	if os.Getenv("CERTKEEPER_TEST_POSTGRES") == "" {
		testenv.Missing(t, "CERTKEEPER_TEST_POSTGRES is not set")
	}
	testDashboardStuck(t, openPostgres)
}

// testDashboardStuck opens a process, lets 15 days pass on the stack's
// clock and wants the dashboard to list it as stuck.
func testDashboardStuck(t *testing.T, open opener) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e := newEnv(t, open, func(_ inventory.Store, cfg *stack.Config) { cfg.Now = now })
	c := defaultCA(t, e)
	if err := e.catalogue.SyncBuiltin(ctx); err != nil {
		t.Fatal(err)
	}
	def := newDefinition("slow")
	def.Requirements.Issuer = c.Name
	d, err := e.user.CreateDefinition(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.user.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.user.Dashboard(ctx); err != nil || got.Stuck == nil || len(got.Stuck) != 0 {
		t.Fatalf("Dashboard at once: stuck %+v, %v; want an empty list", got.Stuck, err)
	}
	offset.Store(int64(15 * day))
	got, err := e.user.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Stuck) != 1 {
		t.Fatalf("stuck = %+v, want process %d", got.Stuck, p.ID)
	}
	s := got.Stuck[0]
	if s.Acquisition.ID != p.ID || s.Acquisition.State != p.State || s.Days != 15 || !strings.Contains(s.Reason, "15 days") ||
		!s.Since.Equal(p.UpdatedAt) {
		t.Errorf("stuck = %+v; want process %d (%s) since %v, 15 days, a reason saying so", s, p.ID, p.State, p.UpdatedAt)
	}
}
