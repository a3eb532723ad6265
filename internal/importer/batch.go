package importer

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// batch collects keys and certificates across sources and stores them,
// with their audit events, BatchSize certificates at a time in one
// transaction; it fills in the results of the files it holds once stored.
// An import cut short therefore leaves whole batches, each audited.
type batch struct {
	im    *Importer
	actor string
	sum   *Summary
	// upload marks the batch of one file uploaded through the API (see
	// ImportUpload): its certificates' source and audit events say so.
	upload bool
	// files are the names of the sources in the batch.
	files []string
	// keys wait to be stored with the results they fill in and the file
	// each came from.
	keys       []*inventory.Key
	keyTargets []*KeyResult
	keyFiles   []string
	records    []*inventory.Certificate
	targets    []*CertResult
}

func (b *batch) add(ctx context.Context, src Source, bundle *format.Bundle) error {
	fr := FileResult{Name: src.Name, Kind: bundle.Kind}
	if bundle.Key != nil {
		kr, err := b.addKey(src, bundle)
		if err != nil {
			return fmt.Errorf("%s: %w", src.Name, err)
		}
		fr.Key = kr
	}
	certs := certificates(bundle)
	fr.Certificates = make([]CertResult, len(certs))
	source := "import:" + filepath.Base(src.Name)
	if b.upload {
		source = "api:" + b.actor
	}
	for i, c := range certs {
		rec := inventory.NewCertificate(c, source)
		rec.Labels = src.Labels
		fr.Certificates[i] = CertResult{
			SHA256: rec.SHA256, Subject: rec.Subject, NotAfter: rec.NotAfter,
			InChain:    i < len(bundle.Chain),
			KeyMatches: i == 0 && bundle.KeyMatchesLeaf,
		}
		b.records = append(b.records, rec)
	}
	b.sum.Files = append(b.sum.Files, fr)
	b.files = append(b.files, src.Name)
	idx := len(b.sum.Files) - 1
	for i := range b.sum.Files[idx].Certificates {
		b.targets = append(b.targets, &b.sum.Files[idx].Certificates[i])
	}
	if len(b.records) >= BatchSize {
		return b.flush(ctx)
	}
	return nil
}

// addKey seals a source's key and queues it; its result is filled in when
// the batch is stored.
func (b *batch) addKey(src Source, bundle *format.Bundle) (*KeyResult, error) {
	rec, err := keys.SealPrivateKey(b.im.sealer, bundle.Key, b.im.now())
	if err != nil {
		return nil, err
	}
	rec.Labels = src.Labels
	kr := &KeyResult{Algorithm: rec.Algorithm, Bits: rec.Bits, MatchesLeaf: bundle.KeyMatchesLeaf, SPKISHA256: rec.SPKISHA256}
	b.keys, b.keyTargets, b.keyFiles = append(b.keys, rec), append(b.keyTargets, kr), append(b.keyFiles, src.Name)
	return kr, nil
}

// flush stores the batch and its audit events in one transaction.
func (b *batch) flush(ctx context.Context) error {
	if len(b.records) == 0 && len(b.keys) == 0 {
		return nil
	}
	events := b.auditEvents
	if b.upload {
		events = b.uploadEvents
	}
	res, err := b.im.store.ImportBatch(ctx, b.keys, b.records, events)
	if err != nil {
		return err
	}
	for i, r := range res.Keys {
		b.keyTargets[i].ID, b.keyTargets[i].Added = r.ID, r.Added
		b.sum.KeysAdded, b.sum.KeysExisting = count(r.Added, b.sum.KeysAdded, b.sum.KeysExisting)
	}
	for i, r := range res.Certificates {
		b.targets[i].ID, b.targets[i].Added = r.ID, r.Added
		b.sum.CertsAdded, b.sum.CertsExisting = count(r.Added, b.sum.CertsAdded, b.sum.CertsExisting)
	}
	b.files, b.keys, b.keyTargets, b.keyFiles = b.files[:0], b.keys[:0], b.keyTargets[:0], b.keyFiles[:0]
	b.records, b.targets = b.records[:0], b.targets[:0]
	return nil
}

func count(added bool, a, e int) (int, int) {
	if added {
		return a + 1, e
	}
	return a, e + 1
}

// auditEvents are the batch's audit events, made inside its transaction
// from what was stored: one per key added, and one for the certificates
// when any was added.
func (b *batch) auditEvents(keyRes, certRes []inventory.PutResult) []inventory.AuditEvent {
	now := b.im.now().UTC()
	var out []inventory.AuditEvent
	for i, r := range keyRes {
		if r.Added {
			k := b.keys[i]
			out = append(out, inventory.AuditEvent{Time: now, Actor: b.actor, Action: "key.import",
				Object:  inventory.ObjectRef(inventory.KindKey, r.ID),
				Summary: fmt.Sprintf("%s-%d private key imported from %s", k.Algorithm, k.Bits, filepath.Base(b.keyFiles[i]))})
		}
	}
	if added := addedCount(certRes); added > 0 {
		out = append(out, inventory.AuditEvent{Time: now, Actor: b.actor, Action: "certificate.import",
			Object:  inventory.ObjectCertificates,
			Summary: fmt.Sprintf("%d certificates added (%d already present) from %s", added, len(certRes)-added, fileList(b.files))})
	}
	return out
}

// fileList names the files of a batch: all of them when few, else the
// first and the last.
func fileList(files []string) string {
	base := func(i int) string { return filepath.Base(files[i]) }
	switch n := len(files); {
	case n == 1:
		return base(0)
	case n <= 3:
		s := base(0)
		for i := 1; i < n; i++ {
			s += ", " + base(i)
		}
		return s
	default:
		return fmt.Sprintf("%d files (%s ... %s)", n, base(0), base(n-1))
	}
}
