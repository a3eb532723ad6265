package audit

import (
	"context"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// fake keeps events in order and says which listing was asked for.
type fake struct {
	events []inventory.AuditEvent
	asked  string
}

func (f *fake) AppendAudit(_ context.Context, e *inventory.AuditEvent) error {
	e.ID = int64(len(f.events) + 1)
	f.events = append(f.events, *e)
	return nil
}

func (f *fake) ListAudit(context.Context, time.Time, inventory.Page) ([]inventory.AuditEvent, string, error) {
	f.asked = "oldest"
	return f.events, "", nil
}

func (f *fake) ListAuditNewest(context.Context, time.Time, inventory.Page) ([]inventory.AuditEvent, string, error) {
	f.asked = "newest"
	return f.events, "", nil
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		o    Order
		want string
	}{{Oldest, "oldest"}, {Newest, "newest"}, {Order(0), "oldest"}} {
		f := &fake{}
		if _, _, err := New(f).List(context.Background(), time.Time{}, tc.o, inventory.Page{}); err != nil {
			t.Fatal(err)
		}
		if f.asked != tc.want {
			t.Errorf("order %d listed %s, want %s", tc.o, f.asked, tc.want)
		}
	}
}

func TestRecord(t *testing.T) {
	f := &fake{}
	e := &inventory.AuditEvent{Actor: "user:alice", Action: "access.denied"}
	if err := New(f).Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if e.ID != 1 || len(f.events) != 1 || f.events[0].Action != "access.denied" {
		t.Errorf("recorded %+v (ID %d), want the one event with ID 1", f.events, e.ID)
	}
}
