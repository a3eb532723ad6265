package stack

import (
	"context"
	"strings"

	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/dashboard"
	"github.com/certkeeper/certkeeper/internal/digest"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// newDigest makes the digest service of s: open alerts, failing
// endpoints and stuck processes, sent through s.Notify to the admin
// e-mail and the digest channels of the settings. externalURL is the
// links' base when the settings name none.
func (s *Stack) newDigest(externalURL string) *digest.Service {
	src := digest.Sources{
		Options:   func(ctx context.Context) (digest.Options, error) { return digestOptions(ctx, s.Settings, externalURL) },
		Alerts:    func(ctx context.Context) ([]digest.Alert, error) { return openAlerts(ctx, s.Alerts) },
		Endpoints: s.Store.AllEndpoints,
		Stuck:     func(ctx context.Context) ([]dashboard.Stuck, error) { return s.Dashboard.Stuck(ctx) },
	}
	return digest.New(s.Store, src, s.Notify, s.now)
}

// digestOptions reads the digest's options from the settings in force.
func digestOptions(ctx context.Context, set *settings.Service, externalURL string) (digest.Options, error) {
	cur, err := set.Get(ctx)
	if err != nil {
		return digest.Options{}, err
	}
	o := digest.Options{Channels: cur.Digest.Channels, Always: cur.Digest.Always,
		BaseURL: strings.TrimSuffix(cmpOr(cur.ExternalURL, externalURL), "/")}
	if cur.AdminEmail != "" {
		o.Emails = []string{cur.AdminEmail}
	}
	o.Hour, o.Minute = cur.Digest.DailyAt()
	return o, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// openAlerts lists the open alerts as the digest shows them.
func openAlerts(ctx context.Context, a *alert.Service) ([]digest.Alert, error) {
	open, err := a.Open(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]digest.Alert, len(open))
	for i, x := range open {
		subject := x.SubjectName
		if subject == "" {
			subject = x.Subject
		}
		out[i] = digest.Alert{ID: x.ID, Rule: x.Rule, Severity: x.Severity, Subject: subject, Summary: x.Summary,
			Since: x.FiredAt, Acknowledged: x.State == inventory.AlertAcknowledged}
	}
	return out, nil
}

// sendDigest runs the scheduled digest when it is due and logs what it
// did.
func (p *Process) sendDigest(ctx context.Context) error {
	res, err := p.Digest.RunDue(ctx)
	if err != nil || res == nil {
		return err
	}
	if res.Sent {
		p.log.Info("digest sent", "subject", res.Digest.Subject(), "recipients", res.Recipients)
	} else {
		p.log.Info("digest not sent", "reason", res.Reason)
	}
	return nil
}
