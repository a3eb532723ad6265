package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/mail"
)

// KindCheckFailedEmail is the Sent E-mails kind of the mail that tells a
// target's admin a deploy check failed.
const KindCheckFailedEmail = "deploy_check_failed"

// mailFailedCheck e-mails the result of a failed deploy check (after an
// install, a re-check or a report made on site) to the target's admin,
// once per check. Nothing is sent for a passed check, a target without
// an admin e-mail, or an instance without e-mail. The check is already
// recorded: a delivery that fails is logged (and, by the mail service,
// recorded in Sent E-mails), never an error of the check.
func (s *Service) mailFailedCheck(ctx context.Context, p *deployProcess, res *inventory.CheckResult) {
	if res == nil || res.Passed || p.t.AdminEmail == "" || s.o.Mail == nil {
		return
	}
	subject := fmt.Sprintf("Deploy check failed: certificate %s on %s", certDisplayName(p.cert), p.t.Name)
	_, err := s.o.Mail.SendWithAttachments(ctx, KindCheckFailedEmail, []string{p.t.AdminEmail}, subject,
		checkFailedBody(p, res), nil)
	switch {
	case errors.Is(err, mail.ErrNotSetUp):
		s.o.Log.Info("deploy check failed; e-mail is not set up, the target's admin was not told",
			"deployment", p.d.ID, "target", p.t.Name)
	case err != nil:
		s.o.Log.Warn("deploy check failed; the e-mail to the target's admin failed", "deployment", p.d.ID,
			"target", p.t.Name, "error", err)
	}
}

// checkFailedBody is the failed-check e-mail's text: what was checked,
// what was wrong, and what to do.
func checkFailedBody(p *deployProcess, res *inventory.CheckResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The check of certificate %s on server %s failed.\n\n", certDisplayName(p.cert), p.t.Name)
	fmt.Fprintf(&b, "Deployment: %d (state %s)\n", p.d.ID, p.d.State)
	fmt.Fprintf(&b, "Checked:    %s", orText(res.Address, p.t.Check.Host))
	if res.ServerName != "" {
		fmt.Fprintf(&b, " (server name %s)", res.ServerName)
	}
	fmt.Fprintf(&b, " at %s\n", res.Time.UTC().Format("2006-01-02 15:04 MST"))
	if res.ExpectedSHA256 != "" {
		fmt.Fprintf(&b, "Expected:   SHA-256 %s\n", res.ExpectedSHA256)
	}
	if res.ServedSHA256 != "" {
		fmt.Fprintf(&b, "Served:     SHA-256 %s\n", res.ServedSHA256)
	}
	b.WriteString("\nWhat is wrong:\n")
	if res.Error != "" {
		fmt.Fprintf(&b, "- %s\n", engine.OneLine(res.Error))
	}
	for _, pr := range res.Problems {
		fmt.Fprintf(&b, "- %s\n", engine.OneLine(pr))
	}
	if res.Error == "" && len(res.Problems) == 0 {
		b.WriteString("- the check failed\n")
	}
	fmt.Fprintf(&b, "\nOnce the server serves the certificate with its chain, check again: "+
		"certkeeper deployment check %d\n", p.d.ID)
	return b.String()
}
