package engine

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Run applies j.Plan on h, then, when j.Check names a host, checks what
// the server presents with check, and when the check fails and
// j.RollbackOnFailure is set, rolls the install back. It never panics;
// the Outcome says what happened, with a one-line Error.
func Run(ctx context.Context, h Host, j Job, check CheckFunc, now time.Time) *Outcome {
	return RunTurns(ctx, h, j, check, now, soloTurns{h})
}

// Turns is how an install shares its server with installs to the other
// sites of that server: Install applies a plan (possibly grouped with
// the others queued for the server, see ApplyGroup) and Alone runs fn
// (a roll back) while nothing else touches the server.
type Turns interface {
	Install(ctx context.Context, p Plan, now time.Time) (*InstallReport, error)
	Alone(fn func())
}

// soloTurns is the turns of an install that shares nothing.
type soloTurns struct{ h Host }

func (s soloTurns) Install(ctx context.Context, p Plan, now time.Time) (*InstallReport, error) {
	return Apply(ctx, s.h, p, now)
}

func (soloTurns) Alone(fn func()) { fn() }

// RunTurns is Run with the install and a roll back taken through turns;
// the check, which waits for the server, runs outside them.
func RunTurns(ctx context.Context, h Host, j Job, check CheckFunc, now time.Time, turns Turns) (out *Outcome) {
	out = &Outcome{}
	defer func() {
		if r := recover(); r != nil {
			out.Error = OneLine(fmt.Sprintf("deploy: internal error: %v", r))
		}
	}()
	rep, err := turns.Install(ctx, j.Plan, now)
	out.Install = rep
	if rep != nil {
		out.RolledBack = rep.RolledBack
	}
	if err != nil {
		out.Error = OneLine(err.Error())
		return out
	}
	out.Installed = true
	if j.Check.Host == "" {
		return out
	}
	runCheck(ctx, h, j, check, out, turns)
	return out
}

// runCheck checks the install and rolls it back when asked to.
func runCheck(ctx context.Context, h Host, j Job, check CheckFunc, out *Outcome, turns Turns) {
	if check == nil {
		out.Error = "deploy: no check function"
		return
	}
	want, err := j.Want()
	if err != nil {
		out.Error = OneLine(fmt.Sprintf("deploy: check: %v", err))
		return
	}
	out.Check = settle(ctx, check, j.Check, want, j.Settle.orDefault())
	if out.Check.Passed {
		return
	}
	msg := "deploy: check failed: " + checkProblem(out.Check)
	if j.RollbackOnFailure {
		turns.Alone(func() { msg += rollBackAfterCheck(ctx, h, j.Plan, out) })
	}
	out.Error = OneLine(msg)
}

// settle runs check until the served leaf matches twice in a row or
// st.Timeout passes, and returns the last result. A reload is
// asynchronous (nginx -s reload returns before the new workers serve, and
// a large configuration on a busy machine takes seconds to load), so a
// check that does not see the new certificate yet is tried again. One match is not
// enough: right after a reload, the server's old workers may still take a
// connection or two with the old certificate.
func settle(ctx context.Context, check CheckFunc, spec inventory.CheckSpec, want Want, st Settle) *inventory.CheckResult {
	deadline := time.Now().Add(st.Timeout)
	matched := false
	for {
		res := check(ctx, spec, want)
		if res == nil {
			res = &inventory.CheckResult{Error: "the check returned no result"}
		}
		if (res.Match && matched) || !time.Now().Add(st.Interval).Before(deadline) {
			return res
		}
		matched = res.Match
		select {
		case <-ctx.Done():
			return res
		case <-time.After(st.Interval):
		}
	}
}

// checkProblem says in one line why a check did not pass.
func checkProblem(r *inventory.CheckResult) string {
	switch {
	case r.Error != "":
		return r.Error
	case len(r.Problems) > 0:
		return r.Problems[0]
	case !r.Match:
		return fmt.Sprintf("served certificate %s, want %s", r.ServedSHA256, r.ExpectedSHA256)
	}
	return "the served certificate did not pass"
}

// rollBackAfterCheck restores the install's backup and returns what to
// add to the error.
func rollBackAfterCheck(ctx context.Context, h Host, p Plan, out *Outcome) string {
	if out.Install == nil {
		return "; nothing to roll back"
	}
	if out.Install.Backup == "" {
		return removeCreated(ctx, h, p, out)
	}
	cmdOut, err := Rollback(ctx, h, p, out.Install.Backup)
	if cmdOut != "" {
		out.Install.ReloadOutput += "\n[after roll back]\n" + cmdOut
	}
	if err != nil {
		return fmt.Sprintf("; roll back failed: %v", err)
	}
	out.RolledBack = true
	return "; rolled back"
}

// removeCreated undoes a first install, which replaced nothing: the files
// it created are removed. The server is not reloaded: its configuration
// named files that did not exist before, so it was not serving them.
func removeCreated(ctx context.Context, h Host, p Plan, out *Outcome) string {
	for _, rel := range out.Install.Created {
		if err := h.Remove(ctx, path.Join(p.Directory, rel)); err != nil {
			return fmt.Sprintf("; removing the files this install created failed: %v", err)
		}
	}
	out.RolledBack = true
	return fmt.Sprintf("; nothing was replaced, so the %d files this install created were removed", len(out.Install.Created))
}
