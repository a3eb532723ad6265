package importer

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// batch collects certificates across sources and stores them BatchSize at
// a time; it fills in the results of the files it holds once stored.
type batch struct {
	im      *Importer
	sum     *Summary
	records []*inventory.Certificate
	targets []*CertResult
}

func (b *batch) add(ctx context.Context, src Source, bundle *format.Bundle) error {
	fr := FileResult{Name: src.Name, Kind: bundle.Kind}
	if bundle.Key != nil {
		kr, err := b.storeKey(ctx, bundle)
		if err != nil {
			return fmt.Errorf("%s: %w", src.Name, err)
		}
		fr.Key = kr
	}
	certs := certificates(bundle)
	fr.Certificates = make([]CertResult, len(certs))
	source := "import:" + filepath.Base(src.Name)
	for i, c := range certs {
		rec := inventory.NewCertificate(c, source)
		fr.Certificates[i] = CertResult{
			SHA256: rec.SHA256, Subject: rec.Subject, NotAfter: rec.NotAfter,
			InChain:    i < len(bundle.Chain),
			KeyMatches: i == 0 && bundle.KeyMatchesLeaf,
		}
		b.records = append(b.records, rec)
	}
	b.sum.Files = append(b.sum.Files, fr)
	idx := len(b.sum.Files) - 1
	for i := range b.sum.Files[idx].Certificates {
		b.targets = append(b.targets, &b.sum.Files[idx].Certificates[i])
	}
	if len(b.records) >= BatchSize {
		return b.flush(ctx)
	}
	return nil
}

func (b *batch) storeKey(ctx context.Context, bundle *format.Bundle) (*KeyResult, error) {
	rec, err := keys.SealPrivateKey(b.im.sealer, bundle.Key, b.im.now())
	if err != nil {
		return nil, err
	}
	id, added, err := b.im.store.PutKey(ctx, rec)
	if err != nil {
		return nil, err
	}
	if added {
		b.sum.KeysAdded++
	} else {
		b.sum.KeysExisting++
	}
	return &KeyResult{
		ID: id, Algorithm: rec.Algorithm, Bits: rec.Bits, Added: added,
		MatchesLeaf: bundle.KeyMatchesLeaf, SPKISHA256: rec.SPKISHA256,
	}, nil
}

func (b *batch) flush(ctx context.Context) error {
	if len(b.records) == 0 {
		return nil
	}
	res, err := b.im.store.PutCertificates(ctx, b.records)
	if err != nil {
		return err
	}
	for i, r := range res {
		b.targets[i].ID = r.ID
		b.targets[i].Added = r.Added
		if r.Added {
			b.sum.CertsAdded++
		} else {
			b.sum.CertsExisting++
		}
	}
	b.records = b.records[:0]
	b.targets = b.targets[:0]
	return nil
}
