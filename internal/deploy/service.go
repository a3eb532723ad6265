package deploy

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/bundle"
	"github.com/certkeeper/certkeeper/internal/deploy/archive"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

// Store is what the service needs from the inventory: targets,
// deployments and user layouts, certificates with their chains and keys,
// the definition a certificate is current for, agents, and transactions
// that write a change with its audit event.
type Store interface {
	bundle.Store
	GetTarget(ctx context.Context, id int64) (*inventory.Target, error)
	ListTargets(ctx context.Context, p inventory.Page) ([]inventory.Target, string, error)
	RewrapTargetSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error)
	GetDeployment(ctx context.Context, id int64) (*inventory.Deployment, error)
	DeploymentFor(ctx context.Context, certificateID, targetID int64) (*inventory.Deployment, error)
	DeploymentSteps(ctx context.Context, id int64) ([]inventory.DeploymentStep, error)
	ListDeployments(ctx context.Context, f inventory.DeploymentFilter, p inventory.Page) (*inventory.DeploymentPage, error)
	UpdateDeployment(ctx context.Context, d *inventory.Deployment, steps ...inventory.DeploymentStep) error
	DeployLayoutByName(ctx context.Context, name string) (*inventory.DeployLayout, error)
	ListDeployLayouts(ctx context.Context) ([]inventory.DeployLayout, error)
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	ListDefinitions(ctx context.Context, f inventory.DefinitionFilter, p inventory.Page) (*inventory.DefinitionPage, error)
	GetAgent(ctx context.Context, id int64) (*inventory.Agent, error)
	// InTx runs fn in one transaction: a change and its audit event are
	// stored together or not at all.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// auditor appends audit events: a transaction of the store.
type auditor interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// Mailer sends an e-mail with files attached; *mail.Service is one.
type Mailer interface {
	SendWithAttachments(ctx context.Context, kind string, to []string, subject, body string,
		files []mail.Attachment) (*inventory.Email, error)
}

// ServiceOptions tune a Service. The zero value works (without e-mail).
type ServiceOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what the service does; nil discards.
	Log *slog.Logger
	// Mail sends install requests; nil means they are refused as not set
	// up.
	Mail Mailer
	// CheckTimeout bounds one deploy check; 0 means 15 seconds.
	CheckTimeout time.Duration
	// SSHTimeout bounds connecting to an SSH target; 0 means 20 seconds.
	SSHTimeout time.Duration
	// SSHIdleTimeout bounds how long an SSH target's server may stop
	// answering during an install before the install fails; 0 means
	// sshhost's default (60 seconds).
	SSHIdleTimeout time.Duration
	// Trust gives the roots deploy checks trust, here and in the jobs
	// and packages sent to agents and installers; nil means the system
	// roots alone.
	Trust Anchors
	// Outbound carries the checks' and SSH deployments' connections under
	// the outbound policy; nil means a dialer with the built-in denials
	// only. The service never connects directly.
	Outbound *outbound.Dialer
	// PackageKDF is the key derivation encrypted packages are sealed
	// with; the zero value means archive's defaults (RFC 9106).
	PackageKDF archive.KDF
}

// Anchors gives the trust store's roots, read per call;
// *truststore.Service is one.
type Anchors interface {
	Anchors(ctx context.Context) (*truststore.Anchors, error)
}

// Service keeps targets and runs deployment processes: installs on the
// local machine or over SSH, jobs for agents, packages and install
// requests for manual targets, and deploy checks. Every change is
// recorded as steps of its process and in the audit trail, without
// secrets. It is safe for concurrent use.
type Service struct {
	store  Store
	sealer *keys.Sealer
	o      ServiceOptions
	locks  *keyedMutex
	// batches gives the sites of one server their turns (see serverKey).
	batches *batcher
}

// NewService returns the deployment service over st; target secrets are
// sealed with sealer.
func NewService(st Store, sealer *keys.Sealer, o ServiceOptions) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 15 * time.Second
	}
	if o.SSHTimeout <= 0 {
		o.SSHTimeout = 20 * time.Second
	}
	if o.Outbound == nil {
		o.Outbound = outbound.NewDialer(nil)
	}
	return &Service{store: st, sealer: sealer, o: o, locks: newKeyedMutex(),
		batches: newBatcher()}
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// auditIn appends one audit event through st, a transaction.
func auditIn(ctx context.Context, st auditor, at time.Time, actor, action, object, summary string) error {
	return st.AppendAudit(ctx, &inventory.AuditEvent{Time: at, Actor: actor, Action: action,
		Object: object, Summary: summary})
}

// updateAudited stores d with steps and the audit event of action on
// object, in one transaction.
func (s *Service) updateAudited(ctx context.Context, actor, action, object, summary string, d *inventory.Deployment,
	steps ...inventory.DeploymentStep) error {
	return s.audited(ctx, func(tx inventory.Store) error { return tx.UpdateDeployment(ctx, d, steps...) },
		actor, action, func() string { return object }, summary)
}

// audited runs write and then appends the audit event describing it, in
// one transaction: neither is stored without the other. object is called
// after write, so that it can name a row write created.
func (s *Service) audited(ctx context.Context, write func(tx inventory.Store) error, actor, action string,
	object func() string, summary string) error {
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := write(tx); err != nil {
			return err
		}
		return auditIn(ctx, tx, s.now(), actor, action, object(), summary)
	})
}

func deploymentObject(id int64) string { return inventory.ObjectRef(inventory.KindDeployment, id) }

// keyedMutex is one mutex per deployment ID, dropped when nobody holds
// or waits for it.
type keyedMutex struct {
	mu   sync.Mutex
	held map[int64]*lockEntry
}

type lockEntry struct {
	mu    sync.Mutex
	users int
}

func newKeyedMutex() *keyedMutex {
	return &keyedMutex{held: map[int64]*lockEntry{}}
}

// lock takes the mutex of key, waiting for it; the result releases it.
func (k *keyedMutex) lock(key int64) func() {
	e := k.enter(key)
	e.mu.Lock()
	return func() { e.mu.Unlock(); k.leave(key, e) }
}

// tryLock takes the mutex of key when it is free.
func (k *keyedMutex) tryLock(key int64) (func(), bool) {
	e := k.enter(key)
	if !e.mu.TryLock() {
		k.leave(key, e)
		return nil, false
	}
	return func() { e.mu.Unlock(); k.leave(key, e) }, true
}

func (k *keyedMutex) enter(key int64) *lockEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.held[key]
	if e == nil {
		e = &lockEntry{}
		k.held[key] = e
	}
	e.users++
	return e
}

func (k *keyedMutex) leave(key int64, e *lockEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e.users--; e.users == 0 {
		delete(k.held, key)
	}
}
