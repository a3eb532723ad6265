package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Upload is one file received through the API.
type Upload struct {
	// Data is the file's content.
	Data []byte
	// Password decrypts the file; nil when it is not encrypted.
	Password []byte
	// Labels are put on every key and certificate stored from the file;
	// nil puts none.
	Labels []string
}

// ImportUpload decodes one uploaded file and stores its key and
// certificates, with their audit events, in one transaction. The
// certificates' source is "api:" followed by actor. A file that does not
// decode gives an inventory.InvalidError naming the field at fault (data
// or password), or an error wrapping format.ErrTooLarge.
//
// Its audit events are those of an import through the API: one per key
// added, and one for the certificates whenever the file held any, even
// when all were already present.
func (im *Importer) ImportUpload(ctx context.Context, actor string, up Upload) (*FileResult, error) {
	bundle, err := decodeUpload(up)
	if err != nil {
		return nil, err
	}
	sum := &Summary{}
	b := &batch{im: im, actor: actor, sum: sum, upload: true}
	if err := b.add(ctx, Source{Password: up.Password, Labels: up.Labels}, bundle); err != nil {
		return nil, err
	}
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	return &sum.Files[0], nil
}

// decodeUpload decodes an uploaded file, telling which field is at fault
// when it does not decode.
func decodeUpload(up Upload) (*format.Bundle, error) {
	if len(up.Data) == 0 {
		return nil, inventory.Invalid("data", "the file is empty")
	}
	b, err := format.Decode(up.Data, up.Password)
	switch {
	case errors.Is(err, format.ErrTooLarge):
		return nil, err
	case errors.Is(err, format.ErrWrongPassword), errors.Is(err, format.ErrPasswordNeeded):
		return nil, inventory.Invalid("password", "%v", err)
	case err != nil:
		return nil, inventory.Invalid("data", "%v", err)
	case len(b.Chain) == 0 && len(b.Others) == 0 && b.Key == nil:
		return nil, inventory.Invalid("data", "no certificate or key found")
	}
	return b, nil
}

// uploadEvents are the audit events of an upload: the key when it was
// added, and the certificates when the file had any.
func (b *batch) uploadEvents(keyRes, certRes []inventory.PutResult) []inventory.AuditEvent {
	now := b.im.now().UTC()
	var out []inventory.AuditEvent
	for i, r := range keyRes {
		if r.Added {
			k := b.keys[i]
			out = append(out, inventory.AuditEvent{Time: now, Actor: b.actor, Action: "key.import",
				Object:  inventory.ObjectRef(inventory.KindKey, r.ID),
				Summary: fmt.Sprintf("%s-%d private key imported through the API", k.Algorithm, k.Bits)})
		}
	}
	if len(certRes) == 0 {
		return out
	}
	added := addedCount(certRes)
	return append(out, inventory.AuditEvent{Time: now, Actor: b.actor, Action: "certificate.import",
		Object: inventory.ObjectCertificates, Summary: fmt.Sprintf("%d certificates added (%d already present) through the API",
			added, len(certRes)-added)})
}

// addedCount counts the results that were added.
func addedCount(res []inventory.PutResult) int {
	n := 0
	for _, r := range res {
		if r.Added {
			n++
		}
	}
	return n
}
