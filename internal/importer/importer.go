// Package importer brings files of certificates and keys into the
// inventory: it decodes each file with package format, seals private keys
// with package keys and stores everything in batches.
//
// An import is all or nothing with respect to bad input: every file is
// decoded once before anything is stored, and the first file that does not
// decode ends the import with nothing stored.
package importer

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// BatchSize is how many certificates go to the store in one transaction.
const BatchSize = 500

// Source is one input to import.
type Source struct {
	// Name is shown in results and recorded as the certificates' source;
	// for files, the path.
	Name string
	// Password decrypts the file; nil when it is not encrypted.
	Password []byte
	// Labels are put on every key and certificate stored from the
	// source; nil puts none.
	Labels []string
}

// Store is what an import needs from the inventory; inventory.Store is
// one.
type Store interface {
	// ImportBatch stores keys, certificates and their audit events in one
	// transaction.
	ImportBatch(ctx context.Context, keys []*inventory.Key, certs []*inventory.Certificate,
		audit func(keys, certs []inventory.PutResult) []inventory.AuditEvent) (inventory.ImportResults, error)
}

// Importer imports files into a store. Its zero value is not usable; make
// one with New.
type Importer struct {
	store  Store
	sealer *keys.Sealer
	now    func() time.Time
	read   func(name string) ([]byte, error)
}

// New returns an Importer. now nil means time.Now; read nil means reading
// the named file from disk, refusing files over format.MaxInputSize.
func New(st Store, s *keys.Sealer, now func() time.Time, read func(string) ([]byte, error)) *Importer {
	if now == nil {
		now = time.Now
	}
	if read == nil {
		read = ReadFile
	}
	return &Importer{store: st, sealer: s, now: now, read: read}
}

// ReadFile reads a file of at most format.MaxInputSize bytes without ever
// holding more than that in memory.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, format.MaxInputSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > format.MaxInputSize {
		return nil, format.ErrTooLarge
	}
	return data, nil
}

// Progress is called as work advances: stage is "checking" or "storing",
// done of total sources.
type Progress func(stage string, done, total int)

// Summary reports what an import did.
type Summary struct {
	Files         []FileResult
	CertsAdded    int
	CertsExisting int
	KeysAdded     int
	KeysExisting  int
}

// FileResult is what one source held and what became of it.
type FileResult struct {
	Name         string
	Kind         format.Kind
	Certificates []CertResult
	Key          *KeyResult
}

// CertResult is one certificate of a source.
type CertResult struct {
	ID         int64
	SHA256     string
	Subject    string
	NotAfter   time.Time
	Added      bool
	InChain    bool
	KeyMatches bool
}

// KeyResult is the private key of a source.
type KeyResult struct {
	ID          int64
	Algorithm   inventory.KeyAlgorithm
	Bits        int
	Added       bool
	MatchesLeaf bool
	SPKISHA256  string
}

// Import decodes every source, then stores keys and certificates in
// batches of BatchSize certificates, each batch in one transaction with
// its audit events (actor is recorded as who acted). On a decoding error
// nothing is stored and the error names the source. An import cut short
// (ctx cancelled, process killed) keeps the batches stored before, each
// with its audit events; importing the same sources again completes it.
func (im *Importer) Import(ctx context.Context, actor string, srcs []Source, progress Progress) (*Summary, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	if err := im.check(ctx, srcs, progress); err != nil {
		return nil, err
	}
	sum := &Summary{Files: make([]FileResult, 0, len(srcs))}
	b := &batch{im: im, actor: actor, sum: sum}
	for i, src := range srcs {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		bundle, err := im.decode(src)
		if err != nil {
			return sum, err
		}
		if err := b.add(ctx, src, bundle); err != nil {
			return sum, err
		}
		progress("storing", i+1, len(srcs))
	}
	return sum, b.flush(ctx)
}

func (im *Importer) check(ctx context.Context, srcs []Source, progress Progress) error {
	for i, src := range srcs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := im.decode(src); err != nil {
			return err
		}
		progress("checking", i+1, len(srcs))
	}
	return nil
}

func (im *Importer) decode(src Source) (*format.Bundle, error) {
	data, err := im.read(src.Name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	}
	b, err := format.Decode(data, src.Password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	}
	if len(b.Chain) == 0 && len(b.Others) == 0 && b.Key == nil {
		return nil, fmt.Errorf("%s: no certificate or key found", src.Name)
	}
	return b, nil
}

// certificates lists a bundle's certificates: the chain, leaf first, then
// the others.
func certificates(b *format.Bundle) []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(b.Chain)+len(b.Others))
	out = append(out, b.Chain...)
	return append(out, b.Others...)
}
