package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Delivery limits.
const (
	// MaxAttempts is how many requests one message gets at most.
	MaxAttempts = 3
	// maxResponse caps what is read of a receiver's answer.
	maxResponse = 64 << 10
	// maxErrorBody is how much of a refusal's body goes into the error.
	maxErrorBody = 200
)

// outcome is the result of one message: what the record keeps.
type outcome struct {
	attempts   int
	httpStatus int
	// failures are the failed attempts' errors, in order.
	failures []string
	failed   bool
}

// err is the outcome's error text: every failed attempt, numbered when
// there were several requests.
func (o outcome) errText() string {
	if len(o.failures) == 1 && o.attempts <= 1 {
		return o.failures[0]
	}
	parts := make([]string, len(o.failures))
	for i, f := range o.failures {
		parts[i] = fmt.Sprintf("attempt %d: %s", i+1, f)
	}
	return strings.Join(parts, "; ")
}

// deliver posts m to u, retrying network errors, 429 and 5xx answers with
// backoff up to MaxAttempts times; any other answer but 2xx fails at
// once. The errors kept never hold u's path or query, nor secret.
func (s *Service) deliver(ctx context.Context, u string, m *message, secret string) outcome {
	var out outcome
	wait := s.o.Backoff
	for out.attempts < MaxAttempts {
		out.attempts++
		status, retry, err := s.attempt(ctx, u, m)
		out.httpStatus, out.failed = status, err != nil
		if err == nil {
			break
		}
		out.failures = append(out.failures, oneLine(redact(err.Error(), u, secret)))
		if !retry || out.attempts == MaxAttempts {
			break
		}
		if !sleep(ctx, wait) {
			out.failures[len(out.failures)-1] += " (gave up: " + context.Cause(ctx).Error() + ")"
			break
		}
		wait *= 2
	}
	return out
}

// attempt makes one request. It returns the response status (0 when none
// came), whether a failure is worth retrying, and the failure.
func (s *Service) attempt(ctx context.Context, u string, m *message) (int, bool, error) {
	actx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u, bytes.NewReader(m.body))
	if err != nil {
		return 0, false, fmt.Errorf("bad request: %w", err)
	}
	req.Header.Set("Content-Type", m.contentType)
	req.Header.Set("User-Agent", userAgent)
	for k, v := range m.header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, ctx.Err() == nil, transportError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, false, nil
	}
	retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return resp.StatusCode, retry, fmt.Errorf("HTTP %d%s", resp.StatusCode, bodyNote(body))
}

// transportError drops the URL that *url.Error prints: a webhook URL's
// path or query may hold its token.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer in time")
	}
	return err
}

// bodyNote is the start of a refusal's body, on one line, for the error.
func bodyNote(body []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
	if s == "" {
		return ""
	}
	return ": " + truncate(s, maxErrorBody)
}

// redact removes the channel's URL, its path and query, and the secret
// from text.
func redact(text, u, secret string) string {
	var parts []string
	if secret != "" {
		parts = append(parts, secret)
	}
	parts = append(parts, u)
	if p, err := url.Parse(u); err == nil {
		if p.RawQuery != "" {
			parts = append(parts, p.RawQuery)
		}
		if len(p.Path) > 1 {
			parts = append(parts, p.Path)
		}
	}
	for _, part := range parts {
		text = strings.ReplaceAll(text, part, "[redacted]")
	}
	return text
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// record makes the notification record of n sent on ch.
func record(ch string, n inventory.Notice, now time.Time, o outcome) *inventory.Notification {
	rec := &inventory.Notification{Time: now.UTC(), Channel: ch, Kind: n.Kind, Key: n.Key,
		Subject: n.Subject, Status: inventory.NotificationSent, Attempts: o.attempts, HTTPStatus: o.httpStatus}
	rec.Error = o.errText()
	if o.failed {
		rec.Status = inventory.NotificationFailed
	}
	return rec
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
