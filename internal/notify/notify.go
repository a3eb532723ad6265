package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Notify sends n to every channel named in n.Channels, at once, and
// mails every address in n.Emails, one message each (recorded in Sent
// E-mails with kind n.Kind). Every channel message is recorded, sent or
// failed, an unknown channel name included. It returns nil when all got
// through, else the failures joined, each wrapping ErrFailed (or
// ErrNoMail, or the mailer's error).
func (s *Service) Notify(ctx context.Context, n inventory.Notice) error {
	errs := make([]error, len(n.Channels))
	var wg sync.WaitGroup
	for i, name := range n.Channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.notifyChannel(ctx, name, n)
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, s.mail(ctx, n)...)...)
}

// notifyChannel sends n on the channel of that name and records it.
func (s *Service) notifyChannel(ctx context.Context, name string, n inventory.Notice) error {
	var rec *inventory.Notification
	c, err := s.store.ChannelByName(ctx, name)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		rec = record(name, n, s.now(), outcome{failed: true, failures: []string{"no such channel"}})
	case err != nil:
		return fmt.Errorf("notify: channel %q: %w", name, err)
	default:
		rec = s.send(ctx, c, n)
	}
	// The outcome is recorded even when the caller has gone away.
	if err := s.store.PutNotification(context.WithoutCancel(ctx), rec); err != nil {
		return fmt.Errorf("notify: record notification on %s: %w", name, err)
	}
	if rec.Status == inventory.NotificationFailed {
		return fmt.Errorf("%w: channel %s: %s", ErrFailed, name, rec.Error)
	}
	return nil
}

// send delivers n on c and returns the record of it (not yet stored).
func (s *Service) send(ctx context.Context, c *inventory.Channel, n inventory.Notice) *inventory.Notification {
	now := s.now()
	secret, err := s.openSecret(c)
	if err != nil {
		return record(c.Name, n, now, outcome{failed: true, failures: []string{err.Error()}})
	}
	m, err := build(c.Format, secret, n, now)
	if err != nil {
		return record(c.Name, n, now, outcome{failed: true, failures: []string{err.Error()}})
	}
	rec := record(c.Name, n, now, s.deliver(ctx, c.URL, m, secret))
	log := s.o.Log.With("channel", c.Name, "kind", n.Kind, "key", n.Key, "status", rec.Status,
		"attempts", rec.Attempts, "http_status", rec.HTTPStatus)
	if rec.Status == inventory.NotificationFailed {
		log.Warn("notification not sent", "err", rec.Error)
	} else {
		log.Info("notification sent")
	}
	return rec
}

// openSecret unseals c's secret; none gives "".
func (s *Service) openSecret(c *inventory.Channel) (string, error) {
	if len(c.SealedSecret) == 0 {
		return "", nil
	}
	plain, err := s.sealer.Open(c.SealedSecret, channelContext(c.Name))
	if err != nil {
		return "", fmt.Errorf("the channel's secret cannot be opened: %w", err)
	}
	return string(plain), nil
}

// mail sends n to each address of n.Emails.
func (s *Service) mail(ctx context.Context, n inventory.Notice) []error {
	if len(n.Emails) == 0 {
		return nil
	}
	if s.o.Mail == nil {
		return []error{fmt.Errorf("%w: cannot mail %s", ErrNoMail, strings.Join(n.Emails, ", "))}
	}
	body := n.Text
	if n.Link != "" {
		body += "\n\n" + n.Link + "\n"
	}
	var errs []error
	for _, to := range n.Emails {
		if _, err := s.o.Mail.Send(ctx, n.Kind, []string{to}, n.Subject, body); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
