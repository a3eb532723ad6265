package definitions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestChangeNotKeptWithoutItsAudit: a change whose audit event cannot be
// stored is not stored either.
func TestChangeNotKeptWithoutItsAudit(t *testing.T) {
	ctx := context.Background()
	svc, st := newService(t)
	d := valid()
	if err := svc.Create(ctx, "cli:root", d); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddDocument(ctx, "cli:root", d.Name, "kept.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	refusing := New(testenv.RefusingAudit{Store: st}, func() time.Time { return now })
	changed := *d
	changed.Subject.Organization = "Changed"
	for name, do := range map[string]func() error{
		"create": func() error {
			other := valid()
			other.Name = "other"
			return refusing.Create(ctx, "cli:root", other)
		},
		"update": func() error { return refusing.Update(ctx, "cli:root", &changed) },
		"clone": func() error {
			_, err := refusing.Clone(ctx, "cli:root", d.Name, "copy", nil)
			return err
		},
		"add document": func() error {
			_, err := refusing.AddDocument(ctx, "cli:root", d.Name, "new.txt", []byte("y"))
			return err
		},
		"delete document": func() error { return refusing.DeleteDocument(ctx, "cli:root", d.Name, "kept.txt") },
	} {
		if err := do(); !errors.Is(err, testenv.ErrAuditRefused) {
			t.Errorf("%s with the audit refused = %v, want the refusal", name, err)
		}
	}
	page, err := st.ListDefinitions(ctx, inventory.DefinitionFilter{}, inventory.Page{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Version != 1 || page.Items[0].Subject.Organization != "" {
		t.Errorf("definitions after refused audits = %+v, %v; want the first one unchanged", page, err)
	}
	docs, err := st.ListDocuments(ctx, d.ID)
	if err != nil || len(docs) != 1 || docs[0].Name != "kept.txt" {
		t.Errorf("documents after refused audits = %+v, %v; want kept.txt only", docs, err)
	}
}
