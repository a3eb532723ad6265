package archive

import (
	"context"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/localhost"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// InstallOptions tune Install. The zero value works.
type InstallOptions struct {
	// CheckTimeout bounds the check's connection; zero means the check's
	// default.
	CheckTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Install runs the package's job on the machine it runs on, as
// "certkeeper install" does where the manager cannot reach: back up,
// write, test, reload, check what the server serves and, when the job
// asks, roll back a failed check. The Outcome says what happened.
func (p *Package) Install(ctx context.Context, o InstallOptions) *engine.Outcome {
	if o.Now == nil {
		o.Now = time.Now
	}
	served := func(ctx context.Context, spec inventory.CheckSpec, want engine.Want) *inventory.CheckResult {
		return check.Run(ctx, spec, want, check.Options{Timeout: o.CheckTimeout, Now: o.Now})
	}
	return engine.Run(ctx, localhost.New(), p.Job, served, o.Now())
}
