package definitions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// MaxDocumentSize is the largest document a folder accepts: 10 MiB.
const MaxDocumentSize = 10 << 20

// ErrTooLarge is wrapped by the error for a document over MaxDocumentSize.
var ErrTooLarge = errors.New("definitions: document too large")

// DocumentName checks a document name and returns it without surrounding
// spaces: 1 to 255 characters, no path separators, no control characters,
// not "." or "..".
func DocumentName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || name == "." || name == "..":
		return "", invalid(inventory.Invalid("name", "document name %q: give a file name", name))
	case len(name) > 255:
		return "", invalid(inventory.Invalid("name", "document name is longer than 255 bytes"))
	case strings.ContainsAny(name, `/\`):
		return "", invalid(inventory.Invalid("name", "document name %q: must not contain path separators", name))
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", invalid(inventory.Invalid("name", "document name %q: must not contain control characters", name))
	}
	return name, nil
}

// AddDocument stores content as the document docName in the folder of
// the definition named defName.
func (s *Service) AddDocument(ctx context.Context, actor, defName, docName string, content []byte) (*inventory.Document, error) {
	if len(content) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d (10 MiB)", ErrTooLarge, len(content), MaxDocumentSize)
	}
	docName, err := DocumentName(docName)
	if err != nil {
		return nil, err
	}
	d, err := s.Get(ctx, defName)
	if err != nil {
		return nil, err
	}
	doc := &inventory.Document{DefinitionID: d.ID, Name: docName, Content: content, CreatedAt: s.now().UTC()}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutDocument(ctx, doc); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "document.add", d, fmt.Sprintf("document %q, %d bytes", docName, doc.Size))
	})
	if errors.Is(err, inventory.ErrConflict) {
		return nil, fmt.Errorf("definitions: %q already has a document %q: %w", defName, docName, inventory.ErrConflict)
	}
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// Documents lists the documents of the definition named defName, without
// their content.
func (s *Service) Documents(ctx context.Context, defName string) ([]inventory.Document, error) {
	d, err := s.Get(ctx, defName)
	if err != nil {
		return nil, err
	}
	return s.store.ListDocuments(ctx, d.ID)
}

// Document returns one document with its content.
func (s *Service) Document(ctx context.Context, defName, docName string) (*inventory.Document, error) {
	d, err := s.Get(ctx, defName)
	if err != nil {
		return nil, err
	}
	doc, err := s.store.GetDocument(ctx, d.ID, docName)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("definitions: %q has no document %q: %w", defName, docName, inventory.ErrNotFound)
	}
	return doc, err
}

// DeleteDocument removes one document.
func (s *Service) DeleteDocument(ctx context.Context, actor, defName, docName string) error {
	d, err := s.Get(ctx, defName)
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.DeleteDocument(ctx, d.ID, docName); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "document.delete", d, fmt.Sprintf("document %q", docName))
	})
	if errors.Is(err, inventory.ErrNotFound) {
		return fmt.Errorf("definitions: %q has no document %q: %w", defName, docName, inventory.ErrNotFound)
	}
	return err
}
