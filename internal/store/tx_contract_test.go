package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// testInTxRollsBack: when fn fails after its change, neither the change
// nor its audit event is kept, whether written by plain methods or by
// ones using the cached statements, and the store works afterwards.
func testInTxRollsBack(t *testing.T, e *env) {
	ctx := context.Background()
	h := newHierarchy(t, "Tx")
	boom := errors.New("boom")
	err := e.s.InTx(ctx, func(tx inventory.Store) error {
		res := putCerts(t, tx, record(h.root))
		if err := tx.AppendAudit(ctx, &inventory.AuditEvent{Actor: "test", Action: "certificate.import",
			Object: inventory.ObjectRef(inventory.KindCertificate, res[0].ID)}); err != nil {
			return err
		}
		if _, err := tx.ImportBatch(ctx, []*inventory.Key{keyRecord(t, h.leaf.key)},
			[]*inventory.Certificate{record(h.leaf)}, importAudit); err != nil {
			return err
		}
		if n, err := tx.CountCertificates(ctx, inventory.CertificateFilter{}); err != nil || n != 2 {
			return fmt.Errorf("inside the transaction: %d certificates, %v; want its own 2", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}
	assertEmpty(t, e.s)
	// The statements the transaction used are still good outside it.
	if _, err := e.s.ImportBatch(ctx, []*inventory.Key{keyRecord(t, h.leaf.key)},
		[]*inventory.Certificate{record(h.leaf)}, importAudit); err != nil {
		t.Fatalf("ImportBatch after a rolled-back InTx: %v", err)
	}
}

func importAudit(k, c []inventory.PutResult) []inventory.AuditEvent {
	return []inventory.AuditEvent{{Actor: "test", Action: "certificate.import", Object: inventory.ObjectCertificates}}
}

// testInTxCommits: what fn writes is stored together when it succeeds;
// InTx inside InTx is the same transaction; a method failing inside fn
// leaves nothing of itself and the rest of the transaction stands.
func testInTxCommits(t *testing.T, e *env) {
	ctx := context.Background()
	var u *inventory.User
	err := e.s.InTx(ctx, func(tx inventory.Store) error {
		u = putUser(t, tx, "ada")
		// The CA's certificate is stored, then the CA insert conflicts:
		// PutCA fails as a whole and the transaction goes on.
		dup := &inventory.CA{Name: "Dup", Status: inventory.CAActive}
		first, _ := newCA(t, tx, "Dup", false)
		dup.KeyID, dup.CertificateID = first.KeyID, first.CertificateID
		if err := tx.PutCA(ctx, dup); !errors.Is(err, inventory.ErrConflict) {
			return fmt.Errorf("second PutCA(Dup) = %v, want ErrConflict", err)
		}
		return tx.InTx(ctx, func(inner inventory.Store) error {
			return inner.AppendAudit(ctx, &inventory.AuditEvent{Actor: "test", Action: "user.create",
				Object: inventory.ObjectRef(inventory.KindUser, u.ID)})
		})
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got, err := e.s.GetUser(ctx, u.ID); err != nil || got.Username != "ada" {
		t.Errorf("GetUser after InTx = %+v, %v; want ada", got, err)
	}
	events, _, err := e.s.ListAudit(ctx, time.Time{}, inventory.Page{})
	if err != nil || len(events) != 1 || events[0].Object != inventory.ObjectRef(inventory.KindUser, u.ID) {
		t.Errorf("audit after InTx = %+v, %v; want the user.create event", events, err)
	}
	cas, err := e.s.ListCAs(ctx)
	if err != nil || len(cas) != 1 {
		t.Errorf("CAs after InTx = %+v, %v; want the first Dup only", cas, err)
	}
}
